//! Likes (favourites), boosts (reblogs) and bookmarks, by local members and
//! from other servers.

use crate::db::queries::notifications::About;
use crate::domain::outbox::Outbox;
use crate::{
    app::AppState,
    db::{
        entities::{actors, bookmarks, favourites, statuses},
        ids, queries,
    },
    domain::{
        events::Event,
        follows::activity_id,
        notifications,
        posts::{self, Visibility},
    },
    error::{AppError, AppResult},
    federation::protocol::PUBLIC,
    msg,
};
use sea_orm::ActiveValue::Set;
use serde_json::json;

pub async fn favourite(
    state: &AppState,
    me: &actors::Model,
    status_id: i64,
) -> AppResult<(statuses::Model, Outbox)> {
    let s = posts::visible(state, Some(me), status_id).await?;
    if s.reblog_of_id.is_some() {
        return Err(AppError::not_found());
    }
    if queries::relations::favourite(&state.db, me.id, s.id)
        .await?
        .is_some()
    {
        return Ok((s, Outbox::none()));
    }
    let txn = crate::db::begin(&state.db).await?;
    let row = queries::relations::insert_favourite(
        &txn,
        favourites::ActiveModel {
            id: Set(ids::next_id()),
            actor_id: Set(me.id),
            status_id: Set(s.id),
            ap_id: Set(Some(activity_id(state))),
            created_at: Set(chrono::Utc::now()),
        },
    )
    .await?;
    queries::statuses::adjust_counter(&txn, s.id, statuses::Column::FavouritesCount, 1).await?;
    notifications::notify_id(&txn, s.actor_id, "favourite", me.id, Some(s.id)).await?;
    let events = if s.local {
        Vec::new()
    } else {
        vec![Event::Liked(row)]
    };
    let outbox = Outbox::commit(txn, events).await?;
    Ok((refreshed(state, s.id).await?, outbox))
}

pub async fn unfavourite(
    state: &AppState,
    me: &actors::Model,
    status_id: i64,
) -> AppResult<(statuses::Model, Outbox)> {
    let s = posts::visible(state, Some(me), status_id).await?;
    let Some(row) = queries::relations::favourite(&state.db, me.id, s.id).await? else {
        return Ok((s, Outbox::none()));
    };
    let txn = crate::db::begin(&state.db).await?;
    queries::relations::delete_favourite(&txn, row.id).await?;
    queries::statuses::adjust_counter(&txn, s.id, statuses::Column::FavouritesCount, -1).await?;
    queries::notifications::delete_about(
        &txn,
        About {
            kind: Some("favourite"),
            from: Some(me.id),
            status: Some(s.id),
            ..About::default()
        },
    )
    .await?;
    let events = if s.local {
        Vec::new()
    } else {
        vec![Event::Unliked(row)]
    };
    let outbox = Outbox::commit(txn, events).await?;
    Ok((refreshed(state, s.id).await?, outbox))
}

async fn refreshed(state: &AppState, id: i64) -> AppResult<statuses::Model> {
    queries::statuses::by_id(&state.db, id)
        .await?
        .ok_or_else(AppError::not_found)
}

/// Boost a post. Followers-only and direct posts cannot be boosted.
pub async fn reblog(
    state: &AppState,
    me: &actors::Model,
    status_id: i64,
    visibility: Option<Visibility>,
) -> AppResult<(statuses::Model, Outbox)> {
    let mut s = posts::visible(state, Some(me), status_id).await?;
    if let Some(orig) = s.reblog_of_id {
        s = posts::visible(state, Some(me), orig).await?;
    }
    if !matches!(
        Visibility::of(&s),
        Visibility::Public | Visibility::Unlisted
    ) {
        return Err(AppError::Unprocessable(msg!("error-reblog-private")));
    }
    if let Some(existing) = queries::statuses::reblog_by(&state.db, me.id, s.id).await? {
        return Ok((existing, Outbox::none()));
    }
    let visibility = match visibility.unwrap_or(Visibility::Public) {
        Visibility::Unlisted => Visibility::Unlisted,
        Visibility::Private => Visibility::Private,
        _ => Visibility::Public,
    };
    let author = queries::actors::by_id(&state.db, s.actor_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let id = ids::next_id();
    let now = chrono::Utc::now();
    let mut addressing = posts::addressing(
        visibility,
        me.followers_url.as_deref(),
        std::slice::from_ref(&author.ap_id),
    );
    if visibility == Visibility::Public {
        addressing = json!({ "to": [PUBLIC], "cc": [author.ap_id, me.followers_url] });
    }
    let txn = crate::db::begin(&state.db).await?;
    let boost = queries::statuses::insert(
        &txn,
        boost_row(Boost {
            id,
            ap_id: format!("{}/statuses/{id}/activity", me.ap_id),
            actor_id: me.id,
            original_id: s.id,
            visibility,
            addressing,
            local: true,
            published: now,
        }),
    )
    .await?;
    queries::statuses::adjust_counter(&txn, s.id, statuses::Column::ReblogsCount, 1).await?;
    notifications::notify(&txn, &author, "reblog", me.id, Some(s.id)).await?;
    let outbox = Outbox::commit(txn, vec![Event::Boosted(boost.id)]).await?;
    Ok((boost, outbox))
}

pub async fn unreblog(
    state: &AppState,
    me: &actors::Model,
    status_id: i64,
) -> AppResult<(statuses::Model, Outbox)> {
    let s = queries::statuses::by_id(&state.db, status_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let original = s.reblog_of_id.unwrap_or(s.id);
    let Some(boost) = queries::statuses::reblog_by(&state.db, me.id, original).await? else {
        return Ok((refreshed(state, original).await?, Outbox::none()));
    };
    let txn = crate::db::begin(&state.db).await?;
    posts::tombstone_in(&txn, &boost).await?;
    let outbox = Outbox::commit(txn, vec![Event::Unboosted(boost.id)]).await?;
    Ok((refreshed(state, original).await?, outbox))
}

pub async fn bookmark(
    state: &AppState,
    me: &actors::Model,
    status_id: i64,
) -> AppResult<statuses::Model> {
    let s = posts::visible(state, Some(me), status_id).await?;
    if queries::relations::bookmark(&state.db, me.id, s.id)
        .await?
        .is_none()
    {
        queries::relations::insert_bookmark(
            &state.db,
            bookmarks::ActiveModel {
                id: Set(ids::next_id()),
                actor_id: Set(me.id),
                status_id: Set(s.id),
                created_at: Set(chrono::Utc::now()),
            },
        )
        .await?;
    }
    Ok(s)
}

pub async fn unbookmark(
    state: &AppState,
    me: &actors::Model,
    status_id: i64,
) -> AppResult<statuses::Model> {
    let s = queries::statuses::by_id(&state.db, status_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if let Some(b) = queries::relations::bookmark(&state.db, me.id, s.id).await? {
        queries::relations::delete_bookmark(&state.db, b.id).await?;
    }
    Ok(s)
}

// --- from other servers ---

pub async fn receive_like(
    state: &AppState,
    actor: &actors::Model,
    s: &statuses::Model,
    activity_id: &str,
) -> AppResult<()> {
    if queries::relations::favourite(&state.db, actor.id, s.id)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let txn = crate::db::begin(&state.db).await?;
    queries::relations::insert_favourite(
        &txn,
        favourites::ActiveModel {
            id: Set(ids::next_id()),
            actor_id: Set(actor.id),
            status_id: Set(s.id),
            ap_id: Set(Some(activity_id.to_string())),
            created_at: Set(chrono::Utc::now()),
        },
    )
    .await?;
    queries::statuses::adjust_counter(&txn, s.id, statuses::Column::FavouritesCount, 1).await?;
    notifications::notify_id(&txn, s.actor_id, "favourite", actor.id, Some(s.id)).await?;
    txn.commit().await?;
    Ok(())
}

/// Undo of a Like, found by the Like's id or by who liked what.
pub async fn receive_unlike(
    state: &AppState,
    actor: &actors::Model,
    like_id: Option<&str>,
    status: Option<&statuses::Model>,
) -> AppResult<()> {
    let row = match like_id {
        Some(id) => queries::relations::favourite_by_ap_id(&state.db, id).await?,
        None => None,
    };
    let row = match (row, status) {
        (Some(r), _) => Some(r),
        (None, Some(s)) => queries::relations::favourite(&state.db, actor.id, s.id).await?,
        (None, None) => None,
    };
    let Some(row) = row.filter(|r| r.actor_id == actor.id) else {
        return Ok(());
    };
    let txn = crate::db::begin(&state.db).await?;
    queries::relations::delete_favourite(&txn, row.id).await?;
    queries::statuses::adjust_counter(&txn, row.status_id, statuses::Column::FavouritesCount, -1)
        .await?;
    queries::notifications::delete_about(
        &txn,
        About {
            kind: Some("favourite"),
            from: Some(actor.id),
            status: Some(row.status_id),
            ..About::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A remote actor boosted a post we have.
pub async fn receive_announce(
    state: &AppState,
    actor: &actors::Model,
    original: &statuses::Model,
    activity_id: &str,
    visibility: Visibility,
    addressing: serde_json::Value,
    published: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    if queries::statuses::by_ap_id(&state.db, activity_id)
        .await?
        .is_some()
        || queries::statuses::reblog_by(&state.db, actor.id, original.id)
            .await?
            .is_some()
    {
        return Ok(());
    }
    let now = chrono::Utc::now();
    let published = published.min(now);
    let txn = crate::db::begin(&state.db).await?;
    queries::statuses::insert(
        &txn,
        boost_row(Boost {
            id: ids::at(published),
            ap_id: activity_id.to_string(),
            actor_id: actor.id,
            original_id: original.id,
            visibility,
            addressing,
            local: false,
            published,
        }),
    )
    .await?;
    queries::statuses::adjust_counter(&txn, original.id, statuses::Column::ReblogsCount, 1).await?;
    notifications::notify_id(
        &txn,
        original.actor_id,
        "reblog",
        actor.id,
        Some(original.id),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn receive_unannounce(
    state: &AppState,
    actor: &actors::Model,
    announce_id: &str,
) -> AppResult<()> {
    if let Some(boost) = queries::statuses::by_ap_id(&state.db, announce_id).await?
        && boost.actor_id == actor.id
        && boost.reblog_of_id.is_some()
        && boost.deleted_at.is_none()
    {
        posts::tombstone(state, &boost).await?;
    }
    Ok(())
}

/// What makes one boost differ from another; the rest of its row is fixed.
struct Boost {
    id: i64,
    ap_id: String,
    actor_id: i64,
    original_id: i64,
    visibility: Visibility,
    addressing: serde_json::Value,
    local: bool,
    published: chrono::DateTime<chrono::Utc>,
}

/// A boost is stored as an `Announce` status pointing at the original.
fn boost_row(b: Boost) -> statuses::ActiveModel {
    statuses::ActiveModel {
        id: Set(b.id),
        ap_id: Set(b.ap_id),
        url: Set(None),
        actor_id: Set(b.actor_id),
        kind: Set("Announce".into()),
        title: Set(None),
        content: Set(String::new()),
        source: Set(None),
        spoiler_text: Set(String::new()),
        sensitive: Set(false),
        language: Set(None),
        visibility: Set(b.visibility.as_str().into()),
        in_reply_to_id: Set(None),
        in_reply_to_ap_id: Set(None),
        in_reply_to_actor_id: Set(None),
        context: Set(None),
        reblog_of_id: Set(Some(b.original_id)),
        addressing: Set(b.addressing),
        local: Set(b.local),
        replies_count: Set(0),
        reblogs_count: Set(0),
        favourites_count: Set(0),
        published: Set(b.published),
        edited_at: Set(None),
        created_at: Set(chrono::Utc::now()),
        deleted_at: Set(None),
        group_id: Set(None),
        locked: Set(false),
    }
}
