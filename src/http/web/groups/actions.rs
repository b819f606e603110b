//! What the buttons and forms of a group's page do: join, leave, ask to
//! join and withdraw, invite and answer an invitation, and the moderators'
//! tools (requests, posts, members, bans). Every action redirects back to
//! the page it came from with a notice; refusals are the domain's own
//! messages, shown as an error page with their 4xx status.

use super::Standing;
use crate::domain::outbox::Outbox;
use crate::{
    app::AppState,
    domain::{
        follows,
        groups::{self, GroupRole, moderation},
    },
    error::{AppError, AppResult},
    federation::publish,
    http::{
        extract::{Form, Path},
        web::{MemberCtx, views},
    },
    msg,
};
use activitypub_federation::config::Data;
use axum::response::Response;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub(super) struct ActionForm {
    #[serde(default)]
    back: String,
    /// Whom to invite or ban: `name` or `name@server`.
    #[serde(default)]
    handle: String,
    #[serde(default)]
    reason: String,
    /// A new role.
    #[serde(default)]
    role: String,
}

impl ActionForm {
    fn back(&self, fallback: &str) -> String {
        views::back_to(Some(&self.back), fallback)
    }

    fn reason(&self) -> Option<&str> {
        Some(self.reason.as_str()).filter(|r| !r.trim().is_empty())
    }
}

/// `POST /groups/{name}/{action}`: join, leave, accept or decline an
/// invitation, invite someone, ban someone by handle.
pub(super) async fn group_action(
    data: Data<AppState>,
    MemberCtx(ctx, me): MemberCtx,
    Path((name, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> AppResult<Response> {
    let group = groups::by_name(&data, &name).await?;
    let home = views::group_path(&group.actor);
    let (events, flash): (_, &'static str) = match action.as_str() {
        "join" | "accept" => {
            let (row, events) = follows::follow(&data, &me.actor, &group.actor).await?;
            let flash = if row.state == follows::ACCEPTED {
                "flash-group-joined"
            } else {
                "flash-group-requested"
            };
            (events, flash)
        }
        "leave" => {
            let standing = Standing::of(&data, &group, Some(&me)).await?;
            let events = follows::unfollow(&data, &me.actor, &group.actor).await?;
            let flash = if standing.requested {
                "flash-group-withdrawn"
            } else {
                "flash-group-left"
            };
            (events, flash)
        }
        "decline" => {
            groups::decline_invitation(&data, &me.actor, &group).await?;
            (Outbox::none(), "flash-group-declined")
        }
        "invite" => {
            let who = views::by_handle(&data, &form.handle).await?;
            (
                groups::invite(&data, &me, &group, &who).await?,
                "flash-group-invited",
            )
        }
        "ban" => {
            let who = views::by_handle(&data, &form.handle).await?;
            (
                moderation::ban(&data, &me, &group, who.id, form.reason()).await?,
                "flash-group-banned",
            )
        }
        _ => return Err(AppError::not_found()),
    };
    publish::publish(&data, events).await;
    Ok(ctx.redirect_with(&data, &form.back(&home), flash))
}

fn id(raw: &str) -> AppResult<i64> {
    raw.parse().map_err(|_| AppError::not_found())
}

/// `POST /groups/{name}/requests/{id}/{approve|reject}`.
pub(super) async fn decide_request(
    data: Data<AppState>,
    MemberCtx(ctx, me): MemberCtx,
    Path((name, who, action)): Path<(String, String, String)>,
    Form(form): Form<ActionForm>,
) -> AppResult<Response> {
    let group = groups::by_name(&data, &name).await?;
    let who = id(&who)?;
    let (events, flash) = match action.as_str() {
        "approve" => (
            groups::approve(&data, &me, &group, who).await?,
            "flash-group-request-approved",
        ),
        "reject" => (
            groups::reject(&data, &me, &group, who).await?,
            "flash-group-request-rejected",
        ),
        _ => return Err(AppError::not_found()),
    };
    publish::publish(&data, events).await;
    let fallback = format!("{}/moderation", views::group_path(&group.actor));
    Ok(ctx.redirect_with(&data, &form.back(&fallback), flash))
}

/// `POST /groups/{name}/posts/{id}/{remove|lock|unlock|pin|unpin}`.
pub(super) async fn moderate_post(
    data: Data<AppState>,
    MemberCtx(ctx, me): MemberCtx,
    Path((name, post, action)): Path<(String, String, String)>,
    Form(form): Form<ActionForm>,
) -> AppResult<Response> {
    let group = groups::by_name(&data, &name).await?;
    let post = id(&post)?;
    let (events, flash) = match action.as_str() {
        "remove" => (
            moderation::remove_post(&data, &me, &group, post, form.reason()).await?,
            "flash-group-post-removed",
        ),
        "lock" | "unlock" => (
            moderation::set_locked(&data, &me, &group, post, action == "lock").await?,
            if action == "lock" {
                "flash-group-thread-locked"
            } else {
                "flash-group-thread-unlocked"
            },
        ),
        "pin" | "unpin" => (
            moderation::set_pinned(&data, &me, &group, post, action == "pin").await?,
            if action == "pin" {
                "flash-group-thread-pinned"
            } else {
                "flash-group-thread-unpinned"
            },
        ),
        _ => return Err(AppError::not_found()),
    };
    publish::publish(&data, events).await;
    // A removed post's page is gone: back to the group instead.
    let home = views::group_path(&group.actor);
    let back = if action == "remove" && form.back.contains(&format!("/{post}")) {
        home
    } else {
        form.back(&home)
    };
    Ok(ctx.redirect_with(&data, &back, flash))
}

/// `POST /groups/{name}/members/{id}/{remove|ban|unban|role}`.
pub(super) async fn moderate_member(
    data: Data<AppState>,
    MemberCtx(ctx, me): MemberCtx,
    Path((name, who, action)): Path<(String, String, String)>,
    Form(form): Form<ActionForm>,
) -> AppResult<Response> {
    let group = groups::by_name(&data, &name).await?;
    let who = id(&who)?;
    let (events, flash) = match action.as_str() {
        "remove" => (
            moderation::remove_member(&data, &me, &group, who, form.reason()).await?,
            "flash-group-member-removed",
        ),
        "ban" => (
            moderation::ban(&data, &me, &group, who, form.reason()).await?,
            "flash-group-banned",
        ),
        "unban" => (
            moderation::unban(&data, &me, &group, who).await?,
            "flash-group-unbanned",
        ),
        "role" => {
            let role = GroupRole::parse(&form.role).ok_or_else(|| {
                AppError::Unprocessable(msg!("error-group-role", value = form.role.clone()))
            })?;
            (
                groups::set_role(&data, &me, &group, who, role).await?,
                "flash-group-role-changed",
            )
        }
        _ => return Err(AppError::not_found()),
    };
    publish::publish(&data, events).await;
    let fallback = format!("{}/members", views::group_path(&group.actor));
    Ok(ctx.redirect_with(&data, &form.back(&fallback), flash))
}
