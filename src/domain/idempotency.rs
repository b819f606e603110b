//! Idempotency-Key for posts from client apps: the same key from the same
//! member within an hour (Mastodon's window) means the same post. Kept in
//! the database, so a retry after a restart does not post twice; the lock
//! in `AppState::idempotency` covers a retry sent while the first runs.

use crate::{app::AppState, db::queries, error::AppResult};
use chrono::{Duration, Utc};

const WINDOW_SECS: i64 = 3600;

/// The post an earlier request with this key made, if any.
pub async fn earlier(state: &AppState, actor_id: i64, key: &str) -> AppResult<Option<i64>> {
    let since = Utc::now() - Duration::seconds(WINDOW_SECS);
    Ok(queries::idempotency::status_of(&state.db, actor_id, key, since).await?)
}

/// Remember the post a key made. A failure only costs the protection, not
/// the post, so it is logged rather than returned.
pub async fn remember(state: &AppState, actor_id: i64, key: &str, status_id: i64) {
    let expired = Utc::now() - Duration::seconds(WINDOW_SECS);
    if let Err(e) =
        queries::idempotency::remember(&state.db, actor_id, key, status_id, expired).await
    {
        tracing::warn!(error = %e, "could not store an Idempotency-Key");
    }
}
