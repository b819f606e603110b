//! A group's settings page for its moderators: the same fields as the
//! create form, plus the avatar and banner uploads (a multipart form, like
//! the profile settings page, with the CSRF token in the query string).

use super::{Standing, directory::GroupForm, render_tab};
use crate::{
    app::AppState,
    domain::groups::{self, Group, GroupInput},
    error::{AppError, AppResult},
    federation::publish,
    http::{
        extract::Path,
        web::{MemberCtx, views},
    },
    msg,
};
use axum::{
    extract::{Multipart, State},
    http::StatusCode,
    response::Response,
};
use minijinja::context;

async fn render(
    state: &AppState,
    ctx: &crate::http::web::Ctx,
    group: &Group,
    standing: &Standing,
    form: &GroupForm,
    status: StatusCode,
    error: Option<String>,
) -> AppResult<Response> {
    let page = context! {
        form => form.value(),
        error => error,
        creating => false,
        max_upload_mb => state.config.http.max_upload_bytes / (1024 * 1024),
    };
    render_tab(state, ctx, group, standing, "settings", status, page).await
}

async fn staff_only(
    state: &AppState,
    group: &Group,
    me: &crate::domain::accounts::Member,
) -> AppResult<Standing> {
    let standing = Standing::of(state, group, Some(me)).await?;
    if !standing.staff {
        return Err(AppError::Forbidden(msg!("error-group-staff-only")));
    }
    Ok(standing)
}

pub(super) async fn form(
    State(state): State<AppState>,
    MemberCtx(ctx, me): MemberCtx,
    Path(name): Path<String>,
) -> AppResult<Response> {
    let group = groups::by_name(&state, &name).await?;
    let standing = staff_only(&state, &group, &me).await?;
    let form = GroupForm::of(&group);
    render(&state, &ctx, &group, &standing, &form, StatusCode::OK, None).await
}

fn body_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge(msg!("error-body-too-large"))
    } else {
        AppError::BadRequest(msg!("error-invalid-body", detail = e.body_text()))
    }
}

/// The typed fields, and the input with any uploaded pictures.
async fn read(mut multipart: Multipart) -> AppResult<(GroupForm, GroupInput)> {
    let mut form = GroupForm::default();
    let (mut avatar, mut header) = (None, None);
    while let Some(field) = multipart.next_field().await.map_err(body_error)? {
        let name = field.name().unwrap_or_default().to_string();
        let has_file = field.file_name().is_some_and(|n| !n.is_empty());
        let bytes = field.bytes().await.map_err(body_error)?;
        let text = String::from_utf8_lossy(&bytes).to_string();
        match name.as_str() {
            "display_name" => form.display_name = text,
            "description" => form.description = text,
            "subjects" => form.subjects = text,
            "languages" => form.languages = text,
            "members_only" => form.members_only = Some(text),
            "join_policy" => form.join_policy = text,
            "posting_policy" => form.posting_policy = text,
            "avatar" if has_file && !bytes.is_empty() => avatar = Some(bytes),
            "header" if has_file && !bytes.is_empty() => header = Some(bytes),
            _ => {}
        }
    }
    let mut input = form.input();
    input.avatar = avatar;
    input.header = header;
    Ok((form, input))
}

pub(super) async fn save(
    State(state): State<AppState>,
    MemberCtx(mut ctx, me): MemberCtx,
    Path(name): Path<String>,
    multipart: Multipart,
) -> AppResult<Response> {
    let group = groups::by_name(&state, &name).await?;
    let standing = staff_only(&state, &group, &me).await?;
    let here = format!("{}/settings", views::group_path(&group.actor));
    let (form, result) = match read(multipart).await {
        Ok((form, input)) => {
            let r = groups::update(&state, &me, &group, input).await;
            (form, r)
        }
        Err(e) => (GroupForm::of(&group), Err(e)),
    };
    match result {
        Ok((_, events)) => {
            publish::publish(&state, events).await;
            Ok(ctx.redirect_with(&state, &here, "flash-group-saved"))
        }
        Err(AppError::Internal(e)) => Err(AppError::Internal(e)),
        Err(e) => {
            let message = e.public_message().render(ctx.locale);
            ctx.here = here;
            let mut form = form;
            form.name = group.actor.username.clone();
            render(
                &state,
                &ctx,
                &group,
                &standing,
                &form,
                e.status(),
                Some(message),
            )
            .await
        }
    }
}
