//! Background tasks that run beside the HTTP server and stop with it:
//! housekeeping now; the delivery queue and inbox processing as federation
//! lands. Each worker watches the shutdown token and finishes its current
//! item before returning.

use crate::{app::AppState, db::queries, domain::sessions::SESSION_IDLE_DAYS};
use activitypub_federation::config::FederationConfig;
use std::time::Duration;
use tokio::task::JoinSet;

pub struct Workers {
    set: JoinSet<()>,
}

impl Workers {
    /// Wait for every worker to finish (after shutdown was requested).
    pub async fn join(mut self) {
        while self.set.join_next().await.is_some() {}
    }
}

pub fn start(state: &AppState, fed: &FederationConfig<AppState>) -> Workers {
    let mut set = JoinSet::new();
    set.spawn(housekeeping(state.clone()));
    set.spawn(crate::federation::delivery::run(state.clone(), fed.clone()));
    set.spawn(crate::federation::inbox::run(state.clone(), fed.clone()));
    set.spawn(event_reminders(state.clone()));
    set.spawn(crate::federation::pending::run(state.clone()));
    set.spawn(crate::federation::trust::run(state.clone(), fed.clone()));
    Workers { set }
}

/// Forget idle sessions once an hour.
async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now = chrono::Utc::now();
        if let Err(e) =
            queries::delivery::prune_inbox(&state.db, now - chrono::Duration::days(30)).await
        {
            tracing::warn!(error = %e, "inbox pruning failed");
        }
        let cutoff = now - chrono::Duration::days(SESSION_IDLE_DAYS);
        match queries::sessions::delete_older_than(&state.db, cutoff).await {
            Ok(n) if n > 0 => tracing::info!(removed = n, "expired sessions removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "session cleanup failed"),
        }
    }
}

/// Remind participants of events starting within a day, every five minutes.
async fn event_reminders(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(300));
    loop {
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        match crate::domain::calendar::reminders::send_due(&state, chrono::Utc::now()).await {
            Ok(n) if n > 0 => tracing::info!(events = n, "event reminders sent"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "event reminders failed"),
        }
    }
}
