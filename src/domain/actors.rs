//! Actors as the rest of the domain sees them: lookups by handle, counts for
//! profiles, and what happens when a remote account is deleted.

use crate::db::queries::notifications::About;
use crate::{
    app::AppState,
    db::{entities::actors, queries},
    error::AppResult,
};
use sea_orm::{ActiveValue::Set, IntoActiveModel};

#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub statuses: u64,
    pub followers: u64,
    pub following: u64,
    pub last_status_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub async fn counts(state: &AppState, actor: &actors::Model) -> AppResult<Counts> {
    Ok(Counts {
        statuses: queries::statuses::count_by_actor(&state.db, actor.id).await?,
        followers: queries::follows::count_followers(&state.db, actor.id).await?,
        following: queries::follows::count_following(&state.db, actor.id).await?,
        last_status_at: queries::statuses::last_by_actor(&state.db, actor.id)
            .await?
            .map(|s| s.published),
    })
}

/// Is this actor visible to the public (an active member, a group, a known remote)?
pub async fn visible(state: &AppState, actor: &actors::Model) -> AppResult<bool> {
    if actor.deleted_at.is_some() || actor.kind == "Application" && actor.local {
        return Ok(false);
    }
    match actor.account_id {
        Some(id) => Ok(queries::accounts::by_id(&state.db, id)
            .await?
            .is_some_and(|a| a.status == "active")),
        None => Ok(true),
    }
}

/// A remote account was deleted at its home server: its posts, follows and
/// notifications go; the row stays as a tombstone so the handle is not reused.
pub async fn mark_remote_deleted(state: &AppState, actor: &actors::Model) -> AppResult<()> {
    if actor.local || actor.deleted_at.is_some() {
        return Ok(());
    }
    let now = chrono::Utc::now();
    let txn = crate::db::TransactionTrait::begin(&state.db).await?;
    queries::statuses::mark_deleted_by_actor(&txn, actor.id, now).await?;
    let follows = queries::follows::followers(
        &txn,
        actor.id,
        "accepted",
        queries::Page {
            limit: 100_000,
            ..Default::default()
        },
    )
    .await?;
    for f in follows {
        queries::follows::delete(&txn, f.id).await?;
    }
    for f in queries::follows::following(
        &txn,
        actor.id,
        queries::Page {
            limit: 100_000,
            ..Default::default()
        },
    )
    .await?
    {
        queries::follows::delete(&txn, f.id).await?;
    }
    queries::notifications::delete_about(
        &txn,
        About {
            from: Some(actor.id),
            ..About::default()
        },
    )
    .await?;
    let mut a = actor.clone().into_active_model();
    a.deleted_at = Set(Some(now));
    a.display_name = Set(String::new());
    a.summary = Set(String::new());
    a.avatar_url = Set(None);
    a.header_url = Set(None);
    queries::actors::update(&txn, a).await?;
    txn.commit().await?;
    Ok(())
}
