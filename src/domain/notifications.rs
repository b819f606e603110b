//! Notifications for local members: follows, follow requests, mentions,
//! replies, likes, boosts, edits of posts they interacted with.

use crate::{
    app::AppState,
    db::{
        entities::{actors, notifications},
        ids,
        queries::{self, Page},
    },
    error::{AppError, AppResult},
};
use sea_orm::{ActiveValue::Set, ConnectionTrait};

pub const KINDS: &[&str] = &[
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "group_request",
    "group_invite",
    "event_update",
    "event_cancelled",
    "event_request",
    "event_approved",
    "event_rejected",
    "event_seat",
    "event_invite",
    "event_reminder",
    "admin.report",
];

/// Notify `recipient` (only if local, never about oneself, never twice).
pub async fn notify(
    db: &impl ConnectionTrait,
    recipient: &actors::Model,
    kind: &str,
    from_actor: i64,
    status: Option<i64>,
) -> AppResult<()> {
    insert(db, recipient, kind, from_actor, status, None).await
}

/// A notification about a group: a request to join it (to its moderators),
/// an invitation to it (to the invitee).
pub async fn notify_about_group(
    db: &impl ConnectionTrait,
    recipient: &actors::Model,
    kind: &str,
    from_actor: i64,
    group: i64,
) -> AppResult<()> {
    insert(db, recipient, kind, from_actor, None, Some(group)).await
}

async fn insert(
    db: &impl ConnectionTrait,
    recipient: &actors::Model,
    kind: &str,
    from_actor: i64,
    status: Option<i64>,
    group: Option<i64>,
) -> AppResult<()> {
    if !recipient.local || recipient.id == from_actor || recipient.account_id.is_none() {
        return Ok(());
    }
    // Someone blocked or muted by the recipient does not reach them.
    if queries::relations::block(db, recipient.id, from_actor)
        .await?
        .is_some()
        || queries::relations::mute(db, recipient.id, from_actor)
            .await?
            .is_some()
    {
        return Ok(());
    }
    if queries::notifications::exists(db, recipient.id, kind, from_actor, status, group).await? {
        return Ok(());
    }
    queries::notifications::insert(
        db,
        notifications::ActiveModel {
            id: Set(ids::next_id()),
            recipient_id: Set(recipient.id),
            kind: Set(kind.to_string()),
            from_actor_id: Set(from_actor),
            status_id: Set(status),
            created_at: Set(chrono::Utc::now()),
            read_at: Set(None),
            group_id: Set(group),
        },
    )
    .await?;
    Ok(())
}

pub async fn notify_id(
    db: &impl ConnectionTrait,
    recipient_id: i64,
    kind: &str,
    from_actor: i64,
    status: Option<i64>,
) -> AppResult<()> {
    if let Some(r) = queries::actors::by_id(db, recipient_id).await? {
        notify(db, &r, kind, from_actor, status).await?;
    }
    Ok(())
}

pub struct Filter {
    pub types: Vec<String>,
    pub exclude_types: Vec<String>,
    pub account_id: Option<i64>,
}

pub async fn list(
    state: &AppState,
    me: &actors::Model,
    filter: &Filter,
    page: Page,
) -> AppResult<Vec<notifications::Model>> {
    Ok(queries::notifications::list(
        &state.db,
        me.id,
        &filter.types,
        &filter.exclude_types,
        filter.account_id,
        page,
    )
    .await?)
}

pub async fn get(state: &AppState, me: &actors::Model, id: i64) -> AppResult<notifications::Model> {
    queries::notifications::get(&state.db, me.id, id)
        .await?
        .ok_or_else(AppError::not_found)
}

pub async fn dismiss(state: &AppState, me: &actors::Model, id: i64) -> AppResult<()> {
    if queries::notifications::delete(&state.db, me.id, id).await? == 0 {
        return Err(AppError::not_found());
    }
    Ok(())
}

pub async fn clear(state: &AppState, me: &actors::Model) -> AppResult<()> {
    Ok(queries::notifications::clear(&state.db, me.id).await?)
}

pub async fn unread(state: &AppState, me: &actors::Model) -> AppResult<u64> {
    Ok(queries::notifications::count_unread(&state.db, me.id).await?)
}

pub async fn mark_read(state: &AppState, me: &actors::Model) -> AppResult<()> {
    Ok(queries::notifications::mark_read(&state.db, me.id, chrono::Utc::now()).await?)
}
