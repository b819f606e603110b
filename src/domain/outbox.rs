//! The transactional outbox. A use case that has something to tell other
//! servers writes its events into `pending_publications` in the same
//! transaction as the change itself, so that a change which committed is
//! never left unannounced because the process stopped before
//! `federation::publish` ran. The caller then publishes at once (and deletes
//! the rows); anything left over — the process died, or queueing failed —
//! is picked up by the retry worker in `federation::pending` once
//! `GRACE` has passed. Depends on `db` only.

use crate::{
    db::{DatabaseTransaction, entities::pending_publications, ids, queries},
    domain::events::Event,
    error::AppResult,
};
use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait};

/// How long a freshly recorded event belongs to the request that recorded
/// it before the retry worker may take it over. Publishing an event takes
/// milliseconds; the margin keeps the worker from racing a slow request.
pub const GRACE: chrono::Duration = chrono::Duration::seconds(60);

/// Events that have been recorded durably and still have to be published.
/// Only this module makes one with content, so a use case cannot hand out
/// events it forgot to record.
#[must_use = "recorded events must be handed to federation::publish"]
#[derive(Debug, Default)]
pub struct Outbox {
    entries: Vec<(i64, Event)>,
}

impl Outbox {
    /// Nothing to tell anyone.
    pub fn none() -> Self {
        Self::default()
    }

    /// Record `events` inside `txn`, then commit it.
    pub async fn commit(txn: DatabaseTransaction, events: Vec<Event>) -> AppResult<Self> {
        let outbox = Self::record(&txn, events).await?;
        txn.commit().await?;
        Ok(outbox)
    }

    /// Record `events` through `db`: inside the caller's transaction, or on
    /// their own where the change they announce is already durable (an
    /// inbox item, which is processed again if this fails).
    pub async fn record(db: &impl ConnectionTrait, events: Vec<Event>) -> AppResult<Self> {
        let now = Utc::now();
        let mut entries = Vec::with_capacity(events.len());
        for event in events {
            let id = ids::next_id();
            queries::publications::insert(
                db,
                pending_publications::ActiveModel {
                    id: Set(id),
                    event: Set(
                        serde_json::to_string(&event).map_err(crate::error::AppError::internal)?
                    ),
                    attempts: Set(0),
                    last_error: Set(None),
                    next_attempt_at: Set(now + GRACE),
                    created_at: Set(now),
                },
            )
            .await?;
            entries.push((id, event));
        }
        Ok(Self { entries })
    }

    /// Take over another use case's recorded events, after these.
    pub fn extend(&mut self, other: Outbox) {
        self.entries.extend(other.entries);
    }

    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.entries.iter().map(|(_, e)| e)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// For `federation::publish`: each row id with its event.
    pub(crate) fn into_entries(self) -> Vec<(i64, Event)> {
        self.entries
    }
}
