//! Relationships between actors: follows (with manual approval for locked
//! profiles), blocks and mutes, in both directions: a local member acting, and
//! a remote actor's activity being applied.

use crate::db::queries::notifications::About;
use crate::domain::outbox::Outbox;
use crate::{
    app::AppState,
    db::{
        entities::{actors, blocks, follows, mutes},
        ids,
        queries::{self, Page},
    },
    domain::{
        events::Event,
        groups::{self, Admission},
        notifications,
    },
    error::{AppError, AppResult},
    msg,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait};

pub const PENDING: &str = "pending";
pub const ACCEPTED: &str = "accepted";

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Relationship {
    pub following: bool,
    pub requested: bool,
    pub followed_by: bool,
    pub requested_by: bool,
    pub blocking: bool,
    pub blocked_by: bool,
    pub muting: bool,
}

pub async fn relationship(state: &AppState, me: i64, other: i64) -> AppResult<Relationship> {
    let out = queries::follows::get(&state.db, me, other).await?;
    let inc = queries::follows::get(&state.db, other, me).await?;
    Ok(Relationship {
        following: out.as_ref().is_some_and(|f| f.state == ACCEPTED),
        requested: out.as_ref().is_some_and(|f| f.state == PENDING),
        followed_by: inc.as_ref().is_some_and(|f| f.state == ACCEPTED),
        requested_by: inc.as_ref().is_some_and(|f| f.state == PENDING),
        blocking: queries::relations::block(&state.db, me, other)
            .await?
            .is_some(),
        blocked_by: queries::relations::block(&state.db, other, me)
            .await?
            .is_some(),
        muting: queries::relations::mute(&state.db, me, other)
            .await?
            .is_some(),
    })
}

/// The id of a new activity of ours.
pub fn activity_id(state: &AppState) -> String {
    format!("{}/activities/{}", state.urls.base(), ids::next_id())
}

/// A local actor follows `target`. Local targets are answered at once
/// (accepted, or pending when locked); remote ones stay pending until their
/// server sends Accept.
pub async fn follow(
    state: &AppState,
    me: &actors::Model,
    target: &actors::Model,
) -> AppResult<(follows::Model, Outbox)> {
    if me.id == target.id {
        return Err(AppError::Unprocessable(msg!("error-follow-self")));
    }
    if target.deleted_at.is_some() {
        return Err(AppError::not_found());
    }
    if queries::relations::blocked_either_way(&state.db, me.id, target.id).await? {
        return Err(AppError::Forbidden(msg!("error-blocked")));
    }
    if let Some(existing) = queries::follows::get(&state.db, me.id, target.id).await? {
        return Ok((existing, Outbox::none()));
    }
    let state_value = match admission(&state.db, me, target).await? {
        Admission::Accept => ACCEPTED,
        Admission::Pending => PENDING,
        Admission::Refuse(m) => return Err(AppError::Forbidden(m)),
    };
    let now = chrono::Utc::now();
    let txn = crate::db::begin(&state.db).await?;
    let row = queries::follows::insert(
        &txn,
        follows::ActiveModel {
            id: Set(ids::next_id()),
            follower_id: Set(me.id),
            followee_id: Set(target.id),
            ap_id: Set(Some(activity_id(state))),
            state: Set(state_value.into()),
            created_at: Set(now),
            updated_at: Set(now),
        },
    )
    .await?;
    if target.local {
        tell_followee(&txn, target, me.id, state_value).await?;
    }
    let events = if target.local {
        Vec::new()
    } else {
        vec![Event::Followed(row.clone())]
    };
    let outbox = Outbox::commit(txn, events).await?;
    Ok((row, outbox))
}

pub async fn unfollow(
    state: &AppState,
    me: &actors::Model,
    target: &actors::Model,
) -> AppResult<Outbox> {
    let Some(row) = queries::follows::get(&state.db, me.id, target.id).await? else {
        return Ok(Outbox::none());
    };
    if target.local
        && target.kind == "Group"
        && let Some(g) = groups::of_actor(&state.db, target.clone()).await?
    {
        groups::check_leave(&state.db, &g, me.id).await?;
    }
    let txn = crate::db::begin(&state.db).await?;
    queries::follows::delete(&txn, row.id).await?;
    if row.state == PENDING {
        withdraw_request_notification(&txn, me.id, target.id).await?;
    }
    let mut events = left_group(&txn, me, target).await?;
    if !target.local {
        events.push(Event::Unfollowed(row));
    }
    Outbox::commit(txn, events).await
}

/// How a follow of `target` starts. Our groups apply their own rules (bans,
/// the parent rule, the join policy); our people accept at once unless they
/// approve followers; remote actors answer for themselves.
async fn admission(
    db: &impl ConnectionTrait,
    follower: &actors::Model,
    target: &actors::Model,
) -> AppResult<Admission> {
    if target.local
        && target.kind == "Group"
        && let Some(g) = groups::of_actor(db, target.clone()).await?
    {
        return groups::admission(db, &g, follower).await;
    }
    Ok(if target.local && !target.manually_approves_followers {
        Admission::Accept
    } else {
        Admission::Pending
    })
}

/// Inside the transaction that made the follow: a person is notified; a
/// group's moderators hear of a request, and an invitation is used up.
async fn tell_followee(
    db: &impl ConnectionTrait,
    target: &actors::Model,
    follower: i64,
    state: &str,
) -> AppResult<()> {
    if target.kind == "Group"
        && let Some(g) = groups::of_actor(db, target.clone()).await?
    {
        return groups::after_request(db, &g, follower, state).await;
    }
    let kind = if state == ACCEPTED {
        "follow"
    } else {
        "follow_request"
    };
    notifications::notify(db, target, kind, follower, None).await
}

/// Leaving one of our groups also ends memberships of its members-only
/// sub-groups; the Rejects owed to remote members are returned.
async fn left_group(
    db: &impl ConnectionTrait,
    member: &actors::Model,
    group: &actors::Model,
) -> AppResult<Vec<Event>> {
    if group.local
        && group.kind == "Group"
        && let Some(g) = groups::of_actor(db, group.clone()).await?
    {
        return groups::after_leaving(db, &g, member).await;
    }
    Ok(Vec::new())
}

/// A request that was withdrawn or decided no longer asks for anything.
async fn withdraw_request_notification(
    db: &impl sea_orm::ConnectionTrait,
    follower_id: i64,
    followee_id: i64,
) -> AppResult<()> {
    queries::notifications::delete_about(
        db,
        About {
            kind: Some("follow_request"),
            from: Some(follower_id),
            to: Some(followee_id),
            ..About::default()
        },
    )
    .await?;
    Ok(())
}

/// Pending requests to follow `me`, newest first.
pub async fn requests(
    state: &AppState,
    me: &actors::Model,
    page: Page,
) -> AppResult<Vec<(follows::Model, actors::Model)>> {
    let rows = queries::follows::followers(&state.db, me.id, PENDING, page).await?;
    let mut out = Vec::new();
    for r in rows {
        if let Some(a) = queries::actors::by_id(&state.db, r.follower_id).await? {
            out.push((r, a));
        }
    }
    Ok(out)
}

pub async fn authorize(
    state: &AppState,
    me: &actors::Model,
    follower_id: i64,
) -> AppResult<Outbox> {
    let row = queries::follows::get(&state.db, follower_id, me.id)
        .await?
        .filter(|f| f.state == PENDING)
        .ok_or_else(AppError::not_found)?;
    let txn = crate::db::begin(&state.db).await?;
    queries::follows::set_state(&txn, row.id, ACCEPTED).await?;
    withdraw_request_notification(&txn, follower_id, me.id).await?;
    notifications::notify(&txn, me, "follow", follower_id, None).await?;
    let follower = queries::actors::by_id(&txn, follower_id).await?;
    let events = match follower {
        Some(f) if !f.local => vec![Event::FollowAccepted(follows::Model {
            state: ACCEPTED.into(),
            ..row
        })],
        _ => Vec::new(),
    };
    Outbox::commit(txn, events).await
}

pub async fn reject(state: &AppState, me: &actors::Model, follower_id: i64) -> AppResult<Outbox> {
    let row = queries::follows::get(&state.db, follower_id, me.id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let txn = crate::db::begin(&state.db).await?;
    queries::follows::delete(&txn, row.id).await?;
    withdraw_request_notification(&txn, follower_id, me.id).await?;
    let follower = queries::actors::by_id(&txn, follower_id).await?;
    let events = match follower {
        Some(f) if !f.local => vec![Event::FollowRejected(row)],
        _ => Vec::new(),
    };
    Outbox::commit(txn, events).await
}

/// Remove a follower (Mastodon's "remove from followers").
pub async fn remove_follower(
    state: &AppState,
    me: &actors::Model,
    follower_id: i64,
) -> AppResult<Outbox> {
    reject(state, me, follower_id).await
}

pub async fn block(
    state: &AppState,
    me: &actors::Model,
    target: &actors::Model,
) -> AppResult<Outbox> {
    if me.id == target.id {
        return Err(AppError::Unprocessable(msg!("error-block-self")));
    }
    if queries::relations::block(&state.db, me.id, target.id)
        .await?
        .is_some()
    {
        return Ok(Outbox::none());
    }
    let txn = crate::db::begin(&state.db).await?;
    let removed = queries::follows::delete_pair(&txn, me.id, target.id).await?;
    let row = queries::relations::insert_block(
        &txn,
        blocks::ActiveModel {
            id: Set(ids::next_id()),
            actor_id: Set(me.id),
            target_id: Set(target.id),
            ap_id: Set(Some(activity_id(state))),
            created_at: Set(chrono::Utc::now()),
        },
    )
    .await?;
    let mut events = Vec::new();
    if !target.local {
        // Our follow of them ends with an Undo; theirs of us simply stops
        // (the Block tells their server).
        for f in removed.into_iter().filter(|f| f.follower_id == me.id) {
            events.push(Event::Unfollowed(f));
        }
        events.push(Event::Blocked(row));
    }
    Outbox::commit(txn, events).await
}

pub async fn unblock(
    state: &AppState,
    me: &actors::Model,
    target: &actors::Model,
) -> AppResult<Outbox> {
    let Some(row) = queries::relations::block(&state.db, me.id, target.id).await? else {
        return Ok(Outbox::none());
    };
    let txn = crate::db::begin(&state.db).await?;
    queries::relations::delete_block(&txn, row.id).await?;
    let events = if target.local {
        Vec::new()
    } else {
        vec![Event::Unblocked(row)]
    };
    Outbox::commit(txn, events).await
}

pub async fn mute(state: &AppState, me: &actors::Model, target: &actors::Model) -> AppResult<()> {
    if me.id == target.id {
        return Err(AppError::Unprocessable(msg!("error-block-self")));
    }
    if queries::relations::mute(&state.db, me.id, target.id)
        .await?
        .is_none()
    {
        queries::relations::insert_mute(
            &state.db,
            mutes::ActiveModel {
                id: Set(ids::next_id()),
                actor_id: Set(me.id),
                target_id: Set(target.id),
                created_at: Set(chrono::Utc::now()),
            },
        )
        .await?;
    }
    Ok(())
}

pub async fn unmute(state: &AppState, me: &actors::Model, target: &actors::Model) -> AppResult<()> {
    if let Some(m) = queries::relations::mute(&state.db, me.id, target.id).await? {
        queries::relations::delete_mute(&state.db, m.id).await?;
    }
    Ok(())
}

// --- applying remote activities ---

/// A remote actor asks to follow a local one. Returns the follow and, when
/// accepted at once (unlocked profile), the Accept to send.
pub async fn receive_follow(
    state: &AppState,
    follower: &actors::Model,
    target: &actors::Model,
    activity_id: &str,
) -> AppResult<Outbox> {
    if !target.local || target.deleted_at.is_some() {
        return Err(AppError::not_found());
    }
    if queries::relations::blocked_either_way(&state.db, follower.id, target.id).await? {
        // A blocked actor's follow is refused: the Reject tells their server.
        let row = follows::Model {
            id: ids::next_id(),
            follower_id: follower.id,
            followee_id: target.id,
            ap_id: Some(activity_id.to_string()),
            state: PENDING.into(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        return Outbox::record(&state.db, vec![Event::FollowRejected(row)]).await;
    }
    let now = chrono::Utc::now();
    let admitted = if target.ap_id == crate::federation::portal::actor_id(state) {
        crate::domain::portal::admission(state, follower).await?
    } else {
        admission(&state.db, follower, target).await?
    };
    if let Admission::Refuse(m) = &admitted {
        tracing::info!(follower = %follower.ap_id, target = %target.ap_id, reason = %m.render(crate::i18n::Locale::En), "follow refused");
        let row = follows::Model {
            id: ids::next_id(),
            follower_id: follower.id,
            followee_id: target.id,
            ap_id: Some(activity_id.to_string()),
            state: PENDING.into(),
            created_at: now,
            updated_at: now,
        };
        return Outbox::record(&state.db, vec![Event::FollowRejected(row)]).await;
    }
    if let Some(existing) = queries::follows::get(&state.db, follower.id, target.id).await? {
        // A repeated Follow (their server lost our Accept): answer again.
        if existing.ap_id.as_deref() != Some(activity_id) {
            let mut a: follows::ActiveModel = existing.clone().into();
            a.ap_id = Set(Some(activity_id.to_string()));
            a.updated_at = Set(now);
            sea_orm::ActiveModelTrait::update(a, &state.db).await?;
        }
        let row = follows::Model {
            ap_id: Some(activity_id.to_string()),
            ..existing
        };
        let events = if row.state == ACCEPTED {
            vec![Event::FollowAccepted(row)]
        } else {
            Vec::new()
        };
        return Outbox::record(&state.db, events).await;
    }
    let accepted = admitted == Admission::Accept;
    let txn = crate::db::begin(&state.db).await?;
    let row = queries::follows::insert(
        &txn,
        follows::ActiveModel {
            id: Set(ids::next_id()),
            follower_id: Set(follower.id),
            followee_id: Set(target.id),
            ap_id: Set(Some(activity_id.to_string())),
            state: Set(if accepted { ACCEPTED } else { PENDING }.into()),
            created_at: Set(now),
            updated_at: Set(now),
        },
    )
    .await?;
    tell_followee(
        &txn,
        target,
        follower.id,
        if accepted { ACCEPTED } else { PENDING },
    )
    .await?;
    let events = if accepted {
        vec![Event::FollowAccepted(row)]
    } else {
        Vec::new()
    };
    Outbox::commit(txn, events).await
}

/// Their server accepted our follow request.
pub async fn receive_accept(
    state: &AppState,
    followee: &actors::Model,
    follower: &actors::Model,
) -> AppResult<()> {
    if let Some(row) = queries::follows::get(&state.db, follower.id, followee.id).await?
        && row.state != ACCEPTED
    {
        queries::follows::set_state(&state.db, row.id, ACCEPTED).await?;
    }
    Ok(())
}

/// Their server refused our follow (or ended it).
pub async fn receive_reject(
    state: &AppState,
    followee: &actors::Model,
    follower: &actors::Model,
) -> AppResult<()> {
    if let Some(row) = queries::follows::get(&state.db, follower.id, followee.id).await? {
        queries::follows::delete(&state.db, row.id).await?;
    }
    Ok(())
}

pub async fn receive_unfollow(
    state: &AppState,
    follower: &actors::Model,
    followee: &actors::Model,
) -> AppResult<Outbox> {
    let Some(row) = queries::follows::get(&state.db, follower.id, followee.id).await? else {
        return Ok(Outbox::none());
    };
    let txn = crate::db::begin(&state.db).await?;
    queries::follows::delete(&txn, row.id).await?;
    withdraw_request_notification(&txn, follower.id, followee.id).await?;
    let events = left_group(&txn, follower, followee).await?;
    Outbox::commit(txn, events).await
}

/// A remote actor blocks a local one: follows between them end.
pub async fn receive_block(
    state: &AppState,
    actor: &actors::Model,
    target: &actors::Model,
    activity_id: &str,
) -> AppResult<()> {
    let txn = crate::db::begin(&state.db).await?;
    queries::follows::delete_pair(&txn, actor.id, target.id).await?;
    if queries::relations::block(&txn, actor.id, target.id)
        .await?
        .is_none()
    {
        queries::relations::insert_block(
            &txn,
            blocks::ActiveModel {
                id: Set(ids::next_id()),
                actor_id: Set(actor.id),
                target_id: Set(target.id),
                ap_id: Set(Some(activity_id.to_string())),
                created_at: Set(chrono::Utc::now()),
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

pub async fn receive_unblock(
    state: &AppState,
    actor: &actors::Model,
    target: &actors::Model,
) -> AppResult<()> {
    if let Some(b) = queries::relations::block(&state.db, actor.id, target.id).await? {
        queries::relations::delete_block(&state.db, b.id).await?;
    }
    Ok(())
}

/// Accounts an actor follows, or that follow it (accepted only), newest first.
pub async fn followers(
    state: &AppState,
    actor: i64,
    page: Page,
) -> AppResult<Vec<(follows::Model, actors::Model)>> {
    let rows = queries::follows::followers(&state.db, actor, ACCEPTED, page).await?;
    with_actors(state, rows, |f| f.follower_id).await
}

pub async fn following(
    state: &AppState,
    actor: i64,
    page: Page,
) -> AppResult<Vec<(follows::Model, actors::Model)>> {
    let rows = queries::follows::following(&state.db, actor, page).await?;
    with_actors(state, rows, |f| f.followee_id).await
}

async fn with_actors(
    state: &AppState,
    rows: Vec<follows::Model>,
    pick: impl Fn(&follows::Model) -> i64,
) -> AppResult<Vec<(follows::Model, actors::Model)>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if let Some(a) = queries::actors::by_id(&state.db, pick(&r)).await?
            && a.deleted_at.is_none()
        {
            out.push((r, a));
        }
    }
    Ok(out)
}
