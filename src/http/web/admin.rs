//! Staff pages over the private registry: applications to approve or
//! reject, suspensions, roles, registry corrections, password reset links,
//! invites and instance settings. Moderators handle members; admins also
//! handle staff, roles, invites and settings.

use super::{StaffCtx, public::public_profile};
use crate::{
    app::AppState,
    db::queries::{self, Page},
    domain::{
        accounts::{self, Decision, Role, Status},
        instance, invites,
    },
    error::{AppError, AppResult},
    http::extract::{Form, Path, Query},
    msg,
};
use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::{Redirect, Response},
    routing::{get, post},
};
use minijinja::{Value, context};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin",
            get(|| async { Redirect::to("/admin/accounts?status=pending") }),
        )
        .route("/admin/accounts", get(accounts_list))
        .route("/admin/accounts/{id}", get(account_detail))
        .route("/admin/accounts/{id}/decide", post(decide))
        .route("/admin/accounts/{id}/role", post(set_role))
        .route("/admin/accounts/{id}/registry", post(update_registry))
        .route("/admin/accounts/{id}/reset-password", post(reset_password))
        .route("/admin/invites", get(invites_page).post(create_invite))
        .route("/admin/invites/{id}/revoke", post(revoke_invite))
        .route("/admin/settings", get(settings_page).post(save_settings))
}

fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}

fn registry_row(m: &accounts::Member) -> Value {
    let a = &m.account;
    context! {
        id => a.id.to_string(),
        username => a.username.clone(),
        display_name => m.actor.display_name.clone(),
        email => a.email.clone(),
        real_name => a.real_name.clone(),
        school => a.school.clone(),
        membership_number => a.membership_number.clone(),
        role => a.role.clone(),
        status => a.status.clone(),
        reason => a.signup_reason.clone(),
        locale => a.locale.clone(),
        created_at => when(Some(a.created_at)),
        approved_at => when(a.approved_at),
        last_seen_at => when(a.last_seen_at),
    }
}

#[derive(Deserialize, Default)]
struct ListQuery {
    status: Option<String>,
    max_id: Option<i64>,
}

const PAGE_SIZE: u64 = 50;

async fn accounts_list(
    State(state): State<AppState>,
    StaffCtx(ctx, _): StaffCtx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let filter = q.status.as_deref().unwrap_or("pending");
    let status = match filter {
        "all" => None,
        s => Some(
            Status::parse(s)
                .ok_or_else(|| AppError::BadRequest(msg!("error-invalid-query", detail = s)))?,
        ),
    };
    let members = accounts::list(
        &state,
        status,
        Page {
            max_id: q.max_id,
            limit: PAGE_SIZE,
            ..Default::default()
        },
    )
    .await?;
    let next = (members.len() as u64 == PAGE_SIZE)
        .then(|| members.last().map(|m| m.account.id.to_string()))
        .flatten();
    let counts = context! {
        pending => queries::accounts::count_by_status(&state.db, "pending").await?,
        active => queries::accounts::count_by_status(&state.db, "active").await?,
        suspended => queries::accounts::count_by_status(&state.db, "suspended").await?,
        rejected => queries::accounts::count_by_status(&state.db, "rejected").await?,
    };
    let rows: Vec<Value> = members.iter().map(registry_row).collect();
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "admin_accounts.html",
        context! { accounts => rows, filter => filter, counts => counts, next_max_id => next },
    ))
}

async fn load_member(state: &AppState, id: i64) -> AppResult<accounts::Member> {
    accounts::member_by_account_id(state, id)
        .await?
        .ok_or_else(AppError::not_found)
}

fn render_detail(
    state: &AppState,
    ctx: &super::Ctx,
    m: &accounts::Member,
    status: StatusCode,
    error: Option<String>,
    reset_link: Option<String>,
) -> Response {
    ctx.render(
        state,
        status,
        "admin_account.html",
        context! {
            account => registry_row(m),
            profile => public_profile(&m.actor),
            roles => ["member", "moderator", "admin"],
            error => error,
            reset_link => reset_link,
        },
    )
}

async fn account_detail(
    State(state): State<AppState>,
    StaffCtx(ctx, _): StaffCtx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let m = load_member(&state, id).await?;
    Ok(render_detail(&state, &ctx, &m, StatusCode::OK, None, None))
}

/// Run an action; on a refusal show the account page again with the reason.
async fn act<T>(
    state: &AppState,
    ctx: &super::Ctx,
    id: i64,
    result: AppResult<T>,
    flash: &'static str,
    back: &str,
) -> AppResult<Response> {
    match result {
        Ok(_) => Ok(ctx.redirect_with(state, back, flash)),
        Err(AppError::Internal(e)) => Err(AppError::Internal(e)),
        Err(AppError::NotFound(m)) => Err(AppError::NotFound(m)),
        Err(e) => {
            let m = load_member(state, id).await?;
            let text = e.public_message().render(ctx.locale);
            Ok(render_detail(state, ctx, &m, e.status(), Some(text), None))
        }
    }
}

#[derive(Deserialize)]
struct DecideForm {
    #[serde(default)]
    action: String,
    back: Option<String>,
}

async fn decide(
    State(state): State<AppState>,
    StaffCtx(ctx, staff): StaffCtx,
    Path(id): Path<i64>,
    Form(form): Form<DecideForm>,
) -> AppResult<Response> {
    let decision = match form.action.as_str() {
        "approve" => Decision::Approve,
        "reject" => Decision::Reject,
        "suspend" => Decision::Suspend,
        "unsuspend" => Decision::Unsuspend,
        other => {
            return Err(AppError::Unprocessable(msg!(
                "error-unknown-action",
                action = other
            )));
        }
    };
    let flash = match decision {
        Decision::Approve => "flash-approved",
        Decision::Reject => "flash-rejected",
        Decision::Suspend => "flash-suspended",
        Decision::Unsuspend => "flash-unsuspended",
    };
    let back = super::safe_next(
        form.back
            .as_deref()
            .or(Some(&format!("/admin/accounts/{id}"))),
    );
    let result = accounts::decide(&state, &staff, id, decision).await;
    act(&state, &ctx, id, result, flash, &back).await
}

#[derive(Deserialize)]
struct RoleForm {
    #[serde(default)]
    role: String,
}

async fn set_role(
    State(state): State<AppState>,
    StaffCtx(ctx, staff): StaffCtx,
    Path(id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> AppResult<Response> {
    let role = Role::parse(&form.role).ok_or_else(|| {
        AppError::Unprocessable(msg!("error-role-unknown", role = form.role.clone()))
    })?;
    let result = accounts::set_role(&state, &staff, id, role).await;
    act(
        &state,
        &ctx,
        id,
        result,
        "flash-role-changed",
        &format!("/admin/accounts/{id}"),
    )
    .await
}

#[derive(Deserialize)]
struct RegistryForm {
    real_name: Option<String>,
    school: Option<String>,
    membership_number: Option<String>,
}

async fn update_registry(
    State(state): State<AppState>,
    StaffCtx(ctx, staff): StaffCtx,
    Path(id): Path<i64>,
    Form(form): Form<RegistryForm>,
) -> AppResult<Response> {
    let result = accounts::update_registry(
        &state,
        &staff,
        id,
        accounts::RegistryUpdate {
            real_name: form.real_name,
            school: form.school,
            membership_number: form.membership_number,
        },
    )
    .await;
    act(
        &state,
        &ctx,
        id,
        result,
        "flash-saved",
        &format!("/admin/accounts/{id}"),
    )
    .await
}

async fn reset_password(
    State(state): State<AppState>,
    StaffCtx(ctx, staff): StaffCtx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    match accounts::create_password_reset(&state, &staff, id).await {
        Ok(token) => {
            let m = load_member(&state, id).await?;
            let link = format!("{}/reset-password/{token}", state.urls.base());
            Ok(render_detail(
                &state,
                &ctx,
                &m,
                StatusCode::OK,
                None,
                Some(link),
            ))
        }
        Err(e) => act::<()>(&state, &ctx, id, Err(e), "flash-saved", "/").await,
    }
}

fn invite_rows(state: &AppState, list: &[crate::db::entities::invites::Model]) -> Vec<Value> {
    let now = chrono::Utc::now();
    list.iter()
        .map(|i| {
            context! {
                id => i.id.to_string(),
                code => i.code.clone(),
                link => format!("{}/signup?invite={}", state.urls.base(), i.code),
                comment => i.comment.clone(),
                uses => i.uses,
                max_uses => i.max_uses,
                expires_at => when(i.expires_at),
                valid => invites::is_valid(i, now),
                revoked => i.revoked_at.is_some(),
            }
        })
        .collect()
}

async fn render_invites(
    state: &AppState,
    ctx: &super::Ctx,
    staff: &accounts::Member,
    status: StatusCode,
    error: Option<String>,
) -> AppResult<Response> {
    let list = invites::list(state, staff).await?;
    Ok(ctx.render(
        state,
        status,
        "admin_invites.html",
        context! { invites => invite_rows(state, &list), error => error },
    ))
}

async fn invites_page(
    State(state): State<AppState>,
    StaffCtx(ctx, staff): StaffCtx,
) -> AppResult<Response> {
    render_invites(&state, &ctx, &staff, StatusCode::OK, None).await
}

#[derive(Deserialize)]
struct InviteForm {
    max_uses: Option<String>,
    expires_in_hours: Option<String>,
    comment: Option<String>,
}

fn optional_number<T: std::str::FromStr>(
    field: &'static str,
    v: Option<&str>,
) -> AppResult<Option<T>> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| AppError::Unprocessable(msg!("error-not-a-number", field = field))),
    }
}

async fn create_invite(
    State(state): State<AppState>,
    StaffCtx(ctx, staff): StaffCtx,
    Form(form): Form<InviteForm>,
) -> AppResult<Response> {
    let input = (|| {
        Ok::<_, AppError>(invites::NewInvite {
            max_uses: optional_number("max_uses", form.max_uses.as_deref())?,
            expires_in_hours: optional_number(
                "expires_in_hours",
                form.expires_in_hours.as_deref(),
            )?,
            comment: form.comment.clone(),
        })
    })();
    let result = match input {
        Ok(i) => invites::create(&state, &staff, i).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(ctx.redirect_with(&state, "/admin/invites", "flash-invite-created")),
        Err(AppError::Internal(e)) => Err(AppError::Internal(e)),
        Err(e) => {
            let text = e.public_message().render(ctx.locale);
            render_invites(&state, &ctx, &staff, e.status(), Some(text)).await
        }
    }
}

async fn revoke_invite(
    State(state): State<AppState>,
    StaffCtx(ctx, staff): StaffCtx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    invites::revoke(&state, &staff, id).await?;
    Ok(ctx.redirect_with(&state, "/admin/invites", "flash-invite-revoked"))
}

fn render_settings(
    state: &AppState,
    ctx: &super::Ctx,
    s: &instance::Settings,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    ctx.render(
        state,
        status,
        "admin_settings.html",
        context! {
            settings => context! {
                name => s.name.clone(),
                description => s.description.clone(),
                contact_email => s.contact_email.clone(),
                rules => s.rules.clone(),
                registration_mode => s.registration_mode.as_str(),
            },
            modes => ["open", "approval", "invite", "closed"],
            error => error,
        },
    )
}

async fn settings_page(
    State(state): State<AppState>,
    StaffCtx(ctx, staff): StaffCtx,
) -> AppResult<Response> {
    if !staff.is_admin() {
        return Err(AppError::forbidden());
    }
    let s = instance::load(&state).await?;
    Ok(render_settings(&state, &ctx, &s, StatusCode::OK, None))
}

#[derive(Deserialize)]
struct SettingsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    rules: String,
    #[serde(default)]
    registration_mode: String,
    group_creation: Option<String>,
}

async fn save_settings(
    State(state): State<AppState>,
    StaffCtx(ctx, staff): StaffCtx,
    Form(form): Form<SettingsForm>,
) -> AppResult<Response> {
    if !staff.is_admin() {
        return Err(AppError::forbidden());
    }
    let input = instance::SettingsUpdate {
        name: form.name.clone(),
        description: form.description.clone(),
        contact_email: form.contact_email.clone(),
        rules: form.rules.clone(),
        registration_mode: form.registration_mode.clone(),
        group_creation: form.group_creation.clone(),
    };
    match instance::update(&state, input).await {
        Ok(_) => Ok(ctx.redirect_with(&state, "/admin/settings", "flash-saved")),
        Err(AppError::Internal(e)) => Err(AppError::Internal(e)),
        Err(e) => {
            let text = e.public_message().render(ctx.locale);
            let mut s = instance::load(&state).await?;
            s.name = form.name;
            s.description = form.description;
            s.contact_email = form.contact_email;
            s.rules = form.rules;
            Ok(render_settings(&state, &ctx, &s, e.status(), Some(text)))
        }
    }
}
