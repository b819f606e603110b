//! Publications that failed when their use case finished wait in the
//! database and are tried again, so that a post the member saw accepted is
//! not left undelivered because the queue could not be written at that
//! moment. Retries back off from 30 seconds to an hour and stop after
//! `federation.delivery_give_up_hours`, as deliveries do.

use crate::{
    app::AppState,
    db::{entities::pending_publications, ids, queries},
    domain::events::Event,
    error::{AppError, AppResult},
    federation::publish::publish_one,
};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use std::time::Duration;

/// Keep `event` for a later try. Only if even this fails is it lost (and
/// logged as such): the database is then refusing every write.
pub async fn keep(state: &AppState, event: &Event, error: &AppError) {
    let now = Utc::now();
    let stored = match serde_json::to_string(event) {
        Ok(json) => queries::publications::insert(
            &state.db,
            pending_publications::ActiveModel {
                id: Set(ids::next_id()),
                event: Set(json),
                attempts: Set(0),
                last_error: Set(Some(error.to_string())),
                next_attempt_at: Set(now + backoff(0)),
                created_at: Set(now),
            },
        )
        .await
        .map(|_| ())
        .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match stored {
        Ok(()) => tracing::warn!(%error, ?event, "publication postponed; it will be tried again"),
        Err(e) => tracing::error!(%error, store_error = %e, ?event, "publication lost"),
    }
}

fn backoff(attempts: i32) -> chrono::Duration {
    let secs = 30i64.saturating_mul(1i64 << attempts.clamp(0, 7));
    chrono::Duration::seconds(secs.min(3600))
}

/// One pass over the publications due by `now`; how many went out.
pub async fn retry_due(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    let give_up = chrono::Duration::hours(state.config.federation.delivery_give_up_hours as i64);
    let mut published = 0;
    for row in queries::publications::due(&state.db, now, 50).await? {
        let event: Event = match serde_json::from_str(&row.event) {
            Ok(e) => e,
            Err(e) => {
                // Written by an older version whose events differ.
                tracing::error!(id = row.id, error = %e, "unreadable pending publication dropped");
                queries::publications::delete(&state.db, row.id).await?;
                continue;
            }
        };
        match publish_one(state, &event).await {
            Ok(()) => {
                queries::publications::delete(&state.db, row.id).await?;
                published += 1;
            }
            Err(e) if now - row.created_at > give_up => {
                tracing::error!(error = %e, ?event, attempts = row.attempts + 1, "publication given up");
                queries::publications::delete(&state.db, row.id).await?;
            }
            Err(e) => {
                let next = now + backoff(row.attempts + 1);
                queries::publications::reschedule(&state.db, row, next, e.to_string()).await?;
            }
        }
    }
    Ok(published)
}

/// The worker: a pass every ten seconds until shutdown.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    loop {
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        match retry_due(&state, Utc::now()).await {
            Ok(n) if n > 0 => tracing::info!(published = n, "postponed publications sent"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retrying postponed publications failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_grows_to_an_hour() {
        assert_eq!(backoff(0).num_seconds(), 30);
        assert_eq!(backoff(1).num_seconds(), 60);
        assert_eq!(backoff(5).num_seconds(), 960);
        assert_eq!(backoff(7).num_seconds(), 3600);
        assert_eq!(backoff(40).num_seconds(), 3600);
    }
}
