//! What a group's moderators do: remove posts and replies, lock and pin
//! threads, remove and ban members. Every action lands in the group's
//! moderation log, which members can read, and is federated so that copies
//! on other servers follow.

use super::{Group, after_leaving, require_staff, role_of, write_log};
use crate::domain::outbox::Outbox;
use crate::{
    app::AppState,
    db::{
        entities::{actors, group_bans, pins, statuses},
        ids, queries,
    },
    domain::{accounts::Member, events::Event, posts, validate},
    error::{AppError, AppResult},
    msg,
};
use sea_orm::{ActiveValue::Set, IntoActiveModel};

pub const REASON_MAX: usize = 500;

fn reason(raw: Option<&str>) -> AppResult<String> {
    Ok(validate::optional("reason", raw, REASON_MAX)?.unwrap_or_default())
}

/// A post of this group, or 404.
async fn group_post(state: &AppState, group: &Group, status_id: i64) -> AppResult<statuses::Model> {
    queries::statuses::by_id(&state.db, status_id)
        .await?
        .filter(|s| s.group_id == Some(group.id()) && s.deleted_at.is_none())
        .ok_or_else(AppError::not_found)
}

/// Remove a post or reply from the group: it becomes a tombstone here, and
/// other servers are told to delete their copies.
pub async fn remove_post(
    state: &AppState,
    me: &Member,
    group: &Group,
    status_id: i64,
    why: Option<&str>,
) -> AppResult<Outbox> {
    require_staff(state, group, me).await?;
    let why = reason(why)?;
    let s = group_post(state, group, status_id).await?;
    let txn = crate::db::begin(&state.db).await?;
    posts::tombstone_in(&txn, &s).await?;
    write_log(
        &txn,
        group.id(),
        Some(me.actor.id),
        "remove",
        Some(s.actor_id),
        Some(s.id),
        &why,
    )
    .await?;
    let events = vec![Event::GroupPostRemoved {
        status_id: s.id,
        moderator_id: me.actor.id,
        reason: why,
    }];
    Outbox::commit(txn, events).await
}

/// Lock a thread (no new replies) or unlock it.
pub async fn set_locked(
    state: &AppState,
    me: &Member,
    group: &Group,
    status_id: i64,
    locked: bool,
) -> AppResult<Outbox> {
    require_staff(state, group, me).await?;
    let s = group_post(state, group, status_id).await?;
    let root = super::thread_root(&state.db, &s).await?;
    if root.locked == locked {
        return Ok(Outbox::none());
    }
    let txn = crate::db::begin(&state.db).await?;
    let mut a = root.clone().into_active_model();
    a.locked = Set(locked);
    queries::statuses::update(&txn, a).await?;
    write_log(
        &txn,
        group.id(),
        Some(me.actor.id),
        if locked { "lock" } else { "unlock" },
        Some(root.actor_id),
        Some(root.id),
        "",
    )
    .await?;
    let events = vec![Event::GroupThreadLocked {
        status_id: root.id,
        moderator_id: me.actor.id,
        locked,
    }];
    Outbox::commit(txn, events).await
}

/// Pin a thread to the top of the group (its `featured` collection).
pub async fn set_pinned(
    state: &AppState,
    me: &Member,
    group: &Group,
    status_id: i64,
    pinned: bool,
) -> AppResult<Outbox> {
    require_staff(state, group, me).await?;
    let s = group_post(state, group, status_id).await?;
    let root = super::thread_root(&state.db, &s).await?;
    let already = queries::groups::pinned_ids(&state.db, group.id())
        .await?
        .contains(&root.id);
    if already == pinned {
        return Ok(Outbox::none());
    }
    let txn = crate::db::begin(&state.db).await?;
    if pinned {
        queries::groups::pin(
            &txn,
            pins::ActiveModel {
                id: Set(ids::next_id()),
                actor_id: Set(group.id()),
                status_id: Set(root.id),
                created_at: Set(chrono::Utc::now()),
            },
        )
        .await?;
    } else {
        queries::groups::unpin(&txn, group.id(), root.id).await?;
    }
    write_log(
        &txn,
        group.id(),
        Some(me.actor.id),
        if pinned { "pin" } else { "unpin" },
        Some(root.actor_id),
        Some(root.id),
        "",
    )
    .await?;
    let events = vec![Event::GroupPinned {
        group_id: group.id(),
        status_id: root.id,
        pinned,
    }];
    Outbox::commit(txn, events).await
}

async fn target(state: &AppState, id: i64) -> AppResult<actors::Model> {
    queries::actors::by_id(&state.db, id)
        .await?
        .filter(|a| a.deleted_at.is_none())
        .ok_or_else(AppError::not_found)
}

/// End someone's membership (they may ask to join again).
pub async fn remove_member(
    state: &AppState,
    me: &Member,
    group: &Group,
    member_id: i64,
    why: Option<&str>,
) -> AppResult<Outbox> {
    require_staff(state, group, me).await?;
    let why = reason(why)?;
    let member = target(state, member_id).await?;
    guard_staff_target(state, me, group, &member).await?;
    let Some(row) = queries::follows::get(&state.db, member.id, group.id()).await? else {
        return Err(AppError::NotFound(msg!("error-group-not-member")));
    };
    let txn = crate::db::begin(&state.db).await?;
    queries::follows::delete(&txn, row.id).await?;
    queries::groups::delete_role(&txn, group.id(), member.id).await?;
    let mut events = after_leaving(&txn, group, &member).await?;
    write_log(
        &txn,
        group.id(),
        Some(me.actor.id),
        "kick",
        Some(member.id),
        None,
        &why,
    )
    .await?;
    if !member.local {
        events.push(Event::FollowRejected(row));
    }
    Outbox::commit(txn, events).await
}

/// A moderator cannot remove or ban an owner, nor someone of their own rank
/// unless they own the group.
async fn guard_staff_target(
    state: &AppState,
    me: &Member,
    group: &Group,
    target: &actors::Model,
) -> AppResult<()> {
    if target.id == me.actor.id {
        return Err(AppError::Forbidden(msg!("error-group-self")));
    }
    let mine = require_staff(state, group, me).await?;
    if let Some(theirs) = role_of(&state.db, group, target.id).await?
        && theirs.is_staff()
        && theirs >= mine
    {
        return Err(AppError::Forbidden(msg!("error-group-owner-only")));
    }
    Ok(())
}

/// Ban someone: their membership ends, they cannot join again, and their
/// later posts to the group are refused.
pub async fn ban(
    state: &AppState,
    me: &Member,
    group: &Group,
    target_id: i64,
    why: Option<&str>,
) -> AppResult<Outbox> {
    require_staff(state, group, me).await?;
    let why = reason(why)?;
    let who = target(state, target_id).await?;
    guard_staff_target(state, me, group, &who).await?;
    if queries::groups::ban(&state.db, group.id(), who.id)
        .await?
        .is_some()
    {
        return Ok(Outbox::none());
    }
    let membership = queries::follows::get(&state.db, who.id, group.id()).await?;
    let txn = crate::db::begin(&state.db).await?;
    let row = queries::groups::insert_ban(
        &txn,
        group_bans::ActiveModel {
            id: Set(ids::next_id()),
            group_id: Set(group.id()),
            actor_id: Set(who.id),
            reason: Set(why.clone()),
            banned_by: Set(Some(me.actor.id)),
            ap_id: Set(Some(crate::domain::follows::activity_id(state))),
            created_at: Set(chrono::Utc::now()),
        },
    )
    .await?;
    let mut events = Vec::new();
    if let Some(f) = &membership {
        queries::follows::delete(&txn, f.id).await?;
        events.extend(after_leaving(&txn, group, &who).await?);
    }
    queries::groups::delete_role(&txn, group.id(), who.id).await?;
    queries::groups::delete_invitation(&txn, group.id(), who.id).await?;
    write_log(
        &txn,
        group.id(),
        Some(me.actor.id),
        "ban",
        Some(who.id),
        None,
        &why,
    )
    .await?;
    if !who.local {
        events.push(Event::GroupBanned(Box::new(row)));
    }
    Outbox::commit(txn, events).await
}

pub async fn unban(
    state: &AppState,
    me: &Member,
    group: &Group,
    target_id: i64,
) -> AppResult<Outbox> {
    require_staff(state, group, me).await?;
    let Some(row) = queries::groups::ban(&state.db, group.id(), target_id).await? else {
        return Ok(Outbox::none());
    };
    let txn = crate::db::begin(&state.db).await?;
    queries::groups::delete_ban(&txn, group.id(), target_id).await?;
    write_log(
        &txn,
        group.id(),
        Some(me.actor.id),
        "unban",
        Some(target_id),
        None,
        "",
    )
    .await?;
    let who = queries::actors::by_id(&txn, target_id).await?;
    let events = match who {
        Some(w) if !w.local && w.deleted_at.is_none() => {
            vec![Event::GroupUnbanned(Box::new(row))]
        }
        _ => Vec::new(),
    };
    Outbox::commit(txn, events).await
}

/// Bans with the banned accounts, newest first (moderators only).
pub async fn bans(
    state: &AppState,
    me: &Member,
    group: &Group,
) -> AppResult<Vec<(group_bans::Model, actors::Model)>> {
    require_staff(state, group, me).await?;
    let rows = queries::groups::bans(&state.db, group.id()).await?;
    let ids: Vec<i64> = rows.iter().map(|b| b.actor_id).collect();
    let actors = queries::actors::by_ids(&state.db, &ids).await?;
    Ok(rows
        .into_iter()
        .filter_map(|b| {
            let a = actors.iter().find(|a| a.id == b.actor_id)?.clone();
            Some((b, a))
        })
        .collect())
}
