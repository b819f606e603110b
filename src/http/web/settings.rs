//! A member's own settings: profile (with avatar and header uploads),
//! password, language, the data export and account deletion.

use super::{Ctx, MemberCtx, clear_cookie, public::public_profile};
use crate::{
    app::AppState,
    domain::{accounts, profiles},
    error::{AppError, AppResult},
    http::extract::{Form, SESSION_COOKIE},
    msg,
};
use axum::{
    Router,
    extract::{Multipart, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use minijinja::{Value, context};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/settings",
            get(|| async { axum::response::Redirect::to("/settings/profile") }),
        )
        .route("/settings/profile", get(profile_form))
        .route("/settings/account", get(account_page))
        .route("/settings/password", post(change_password))
        .route("/settings/delete", post(delete_account))
        .route("/settings/export", get(export))
}

pub fn upload_routes() -> Router<AppState> {
    Router::new().route("/settings/profile", post(save_profile))
}

fn profile_values(member: &accounts::Member) -> Value {
    let mut fields: Vec<Value> = profiles::fields(&member.actor)
        .into_iter()
        .map(|f| context! { name => f.name, value => f.value })
        .collect();
    while fields.len() < profiles::MAX_FIELDS {
        fields.push(context! { name => "", value => "" });
    }
    context! {
        display_name => member.actor.display_name.clone(),
        bio => member.actor.summary_source.clone().unwrap_or_default(),
        subjects => profiles::string_list(&member.actor.subjects).join(", "),
        languages => profiles::string_list(&member.actor.languages).join(", "),
        fields => fields,
        locked => member.actor.manually_approves_followers,
        discoverable => member.actor.discoverable,
        avatar_url => member.actor.avatar_url.clone(),
        header_url => member.actor.header_url.clone(),
    }
}

fn render_profile_form(
    state: &AppState,
    ctx: &Ctx,
    member: &accounts::Member,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    ctx.render(
        state,
        status,
        "settings_profile.html",
        context! {
            form => profile_values(member),
            preview => public_profile(&member.actor),
            error => error,
            max_upload_mb => state.config.http.max_upload_bytes / (1024 * 1024),
        },
    )
}

async fn profile_form(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
) -> Response {
    render_profile_form(&state, &ctx, &member, StatusCode::OK, None)
}

async fn read_profile_form(mut multipart: Multipart) -> AppResult<profiles::ProfileUpdate> {
    let mut update = profiles::ProfileUpdate {
        locked: Some(false),
        discoverable: Some(false),
        ..Default::default()
    };
    let mut fields = vec![profiles::Field::default(); profiles::MAX_FIELDS];
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::PayloadTooLarge(msg!("error-body-too-large"))
                } else {
                    AppError::BadRequest(msg!("error-invalid-body", detail = e.body_text()))
                });
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        let has_file = field.file_name().is_some_and(|n| !n.is_empty());
        let bytes = field.bytes().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge(msg!("error-body-too-large"))
            } else {
                AppError::BadRequest(msg!("error-invalid-body", detail = e.body_text()))
            }
        })?;
        let text = || String::from_utf8_lossy(&bytes).to_string();
        match name.as_str() {
            "display_name" => update.display_name = Some(text()),
            "bio" => update.bio = Some(text()),
            "subjects" => update.subjects = Some(profiles::split_list(&text())),
            "languages" => update.languages = Some(profiles::split_list(&text())),
            "locked" => update.locked = Some(true),
            "discoverable" => update.discoverable = Some(true),
            "avatar" if has_file && !bytes.is_empty() => update.avatar = Some(bytes),
            "header" if has_file && !bytes.is_empty() => update.header = Some(bytes),
            other => {
                for (prefix, is_name) in [("field_name_", true), ("field_value_", false)] {
                    if let Some(i) = other
                        .strip_prefix(prefix)
                        .and_then(|i| i.parse::<usize>().ok())
                        && let Some(f) = fields.get_mut(i)
                    {
                        if is_name {
                            f.name = text();
                        } else {
                            f.value = text();
                        }
                    }
                }
            }
        }
    }
    update.fields = Some(fields);
    Ok(update)
}

async fn save_profile(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    multipart: Multipart,
) -> AppResult<Response> {
    let result = match read_profile_form(multipart).await {
        Ok(update) => profiles::update(&state, &member, update).await,
        Err(e) => Err(e),
    };
    match result {
        Ok((_, outbox)) => {
            crate::federation::publish::publish(&state, outbox).await;
            Ok(ctx.redirect_with(&state, "/settings/profile", "flash-profile-saved"))
        }
        Err(AppError::Internal(e)) => Err(AppError::Internal(e)),
        Err(e) => {
            let text = e.public_message().render(ctx.locale);
            Ok(render_profile_form(
                &state,
                &ctx,
                &member,
                e.status(),
                Some(text),
            ))
        }
    }
}

fn render_account(
    state: &AppState,
    ctx: &Ctx,
    member: &accounts::Member,
    status: StatusCode,
    password_error: Option<String>,
    delete_error: Option<String>,
) -> Response {
    ctx.render(
        state,
        status,
        "settings_account.html",
        context! {
            password_error => password_error,
            delete_error => delete_error,
            email => member.account.email.clone(),
            username => member.account.username.clone(),
            min_password => state.config.registration.min_password_length,
        },
    )
}

async fn account_page(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
) -> Response {
    render_account(&state, &ctx, &member, StatusCode::OK, None, None)
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

async fn change_password(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let result = if form.password != form.password_confirmation {
        Err(AppError::Unprocessable(msg!("error-password-mismatch")))
    } else {
        accounts::change_password(
            &state,
            &member,
            &form.current_password,
            &form.password,
            ctx.session_cookie(),
        )
        .await
    };
    match result {
        Ok(()) => Ok(ctx.redirect_with(&state, "/settings/account", "flash-password-changed")),
        Err(AppError::Internal(e)) => Err(AppError::Internal(e)),
        Err(e) => {
            let text = e.public_message().render(ctx.locale);
            Ok(render_account(
                &state,
                &ctx,
                &member,
                e.status(),
                Some(text),
                None,
            ))
        }
    }
}

#[derive(Deserialize)]
struct DeleteForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm_username: String,
}

async fn delete_account(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Form(form): Form<DeleteForm>,
) -> AppResult<Response> {
    let result = if form.confirm_username.trim().to_lowercase() != member.account.username {
        Err(AppError::Unprocessable(msg!("error-confirm-username")))
    } else {
        accounts::delete_own(&state, &member, &form.password).await
    };
    match result {
        Ok((_, outbox)) => {
            crate::federation::publish::publish(&state, outbox).await;
            let mut res = ctx.redirect_with(&state, "/", "flash-account-deleted");
            res.headers_mut()
                .append(header::SET_COOKIE, clear_cookie(&state, SESSION_COOKIE));
            Ok(res)
        }
        Err(AppError::Internal(e)) => Err(AppError::Internal(e)),
        Err(e) => {
            let text = e.public_message().render(ctx.locale);
            Ok(render_account(
                &state,
                &ctx,
                &member,
                e.status(),
                None,
                Some(text),
            ))
        }
    }
}

async fn export(
    State(state): State<AppState>,
    MemberCtx(_, member): MemberCtx,
) -> AppResult<Response> {
    let data = accounts::export(&state, &member);
    let body = serde_json::to_vec_pretty(&data).map_err(AppError::internal)?;
    let filename = format!(
        "staffroom-{}-{}.json",
        member.account.username,
        chrono::Utc::now().format("%Y%m%d")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}
