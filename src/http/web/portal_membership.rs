//! An association instance's side of the national portal, for its admins:
//! which portals it belongs to or applied to, joining one by its handle and
//! leaving. The same domain functions back `staffroom admin portal join`
//! and `leave`.

use super::{Ctx, StaffCtx, views};
use crate::{
    app::AppState,
    config::InstanceRole,
    db::queries,
    domain::{accounts::Member, portal},
    error::{AppError, AppResult},
    federation::{actors::ensure_instance_actor, publish, resolve},
    http::extract::Form,
    msg,
};
use activitypub_federation::config::Data;
use axum::{
    Router,
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use minijinja::{Value, context};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/portal", get(page))
        .route("/admin/portal/join", post(join))
        .route("/admin/portal/leave", post(leave))
}

fn require_admin(staff: &Member) -> AppResult<()> {
    if staff.is_admin() {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    handle: &str,
    error: Option<String>,
) -> AppResult<Response> {
    let portals: Vec<Value> = portal::standings(state)
        .await?
        .into_iter()
        .map(|(a, standing)| {
            context! {
                ap_id => a.ap_id.clone(),
                handle => views::full_handle(&a),
                name => views::display_name(&a),
                url => views::web_url(a.url.as_deref()).or_else(|| views::web_url(Some(&a.ap_id))),
                member => standing == portal::Standing::Member,
            }
        })
        .collect();
    Ok(ctx.render(
        state,
        status,
        "admin_portal.html",
        context! {
            portals => portals,
            is_portal => state.config.instance.role == InstanceRole::Portal,
            handle => handle,
            error => error,
        },
    ))
}

async fn page(data: Data<AppState>, StaffCtx(ctx, staff): StaffCtx) -> AppResult<Response> {
    require_admin(&staff)?;
    render(&data, &ctx, StatusCode::OK, "", None).await
}

#[derive(Deserialize)]
struct JoinForm {
    portal: String,
}

async fn join(
    data: Data<AppState>,
    StaffCtx(ctx, staff): StaffCtx,
    Form(form): Form<JoinForm>,
) -> AppResult<Response> {
    require_admin(&staff)?;
    let handle = form.portal.trim().to_string();
    match join_portal(&data, &handle).await {
        Ok(portal::Standing::Member) => {
            Ok(ctx.redirect_with(&data, "/admin/portal", "flash-portal-member"))
        }
        Ok(portal::Standing::Applied) => {
            Ok(ctx.redirect_with(&data, "/admin/portal", "flash-portal-applied"))
        }
        Err(AppError::Internal(e)) => Err(AppError::Internal(e)),
        Err(e) => {
            let text = e.public_message().render(ctx.locale);
            render(&data, &ctx, e.status(), &handle, Some(text)).await
        }
    }
}

async fn join_portal(data: &Data<AppState>, handle: &str) -> AppResult<portal::Standing> {
    if data.config.instance.role == InstanceRole::Portal {
        return Err(AppError::Unprocessable(msg!("error-portal-is-portal")));
    }
    if crate::config::portal_handle(handle).is_none() {
        return Err(AppError::Unprocessable(msg!("error-portal-handle")));
    }
    let portal_actor = match resolve::handle(data, handle, true).await {
        Ok(Some(a)) => a,
        Ok(None) | Err(_) => {
            return Err(AppError::Unprocessable(msg!(
                "error-portal-unreachable",
                handle = handle.to_string()
            )));
        }
    };
    let me = ensure_instance_actor(data).await?;
    let (standing, events) = portal::join(data, &me, &portal_actor)
        .await
        .map_err(|e| match e {
            AppError::Internal(e) => AppError::Internal(e),
            _ => AppError::Unprocessable(msg!(
                "error-portal-not-a-portal",
                handle = handle.to_string()
            )),
        })?;
    publish::publish(data, events).await;
    Ok(standing)
}

#[derive(Deserialize)]
struct LeaveForm {
    /// The portal actor's id.
    portal: String,
}

async fn leave(
    data: Data<AppState>,
    StaffCtx(ctx, staff): StaffCtx,
    Form(form): Form<LeaveForm>,
) -> AppResult<Response> {
    require_admin(&staff)?;
    let Some(portal_actor) = queries::actors::by_ap_id(&data.db, form.portal.trim()).await? else {
        return Err(AppError::not_found());
    };
    let me = ensure_instance_actor(&data).await?;
    let events = portal::leave(&data, &me, &portal_actor).await?;
    if events.is_empty() {
        return Err(AppError::not_found());
    }
    publish::publish(&data, events).await;
    Ok(ctx.redirect_with(&data, "/admin/portal", "flash-portal-left"))
}
