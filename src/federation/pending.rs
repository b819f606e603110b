//! Recorded events (`domain::outbox`) that were not published when their
//! use case finished — queueing failed, or the process stopped first — are
//! published here. Retries back off from 30 seconds to an hour and stop
//! after `federation.delivery_give_up_hours`, as deliveries do.

use crate::{
    app::AppState,
    db::queries,
    domain::events::Event,
    error::{AppError, AppResult},
    federation::publish::publish_one,
};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// How long a worker owns a row it took; another worker (another process
/// on the same database) may take it over after that.
const CLAIM: chrono::Duration = chrono::Duration::minutes(10);

/// The first try of recorded event `id` failed: try again after the first
/// back-off. If even this write fails the row keeps its original time and
/// is still retried.
pub async fn postpone(state: &AppState, id: i64, event: &Event, error: &AppError) {
    let next = Utc::now() + backoff(0);
    match queries::publications::postpone(&state.db, id, next, error.to_string()).await {
        Ok(()) => tracing::warn!(%error, ?event, "publication postponed; it will be tried again"),
        Err(e) => {
            tracing::warn!(%error, store_error = %e, ?event, "publication failed; it will be tried again")
        }
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
        if !queries::publications::claim(&state.db, row.id, now, now + CLAIM).await? {
            continue; // another worker took it
        }
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
