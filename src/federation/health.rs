//! Which remote hosts are known to be alive, remembered in memory.
//!
//! Every activity a host sends and every delivery it accepts is a sign of
//! life, and the `hosts` row must then say so (no failures, not dead) so that
//! deliveries waiting for it are revived. Writing that row each time costs
//! three statements on the hot paths of the inbox and the delivery workers,
//! and on SQLite every one of them queues for the single write lock. A host
//! recorded alive in the last minute is therefore not written again until a
//! delivery to it fails (which forgets it here first) or the minute is over.
//! The delivery workers and the inbox run in the one server process, so this
//! memory sees every failure. Depends on `db` only.

use crate::db::queries;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use std::time::Duration;

/// How long a recorded sign of life stands before the row is written again
/// (`hosts.last_success_at` is kept to this precision).
const RECORDED_FOR: Duration = Duration::from_secs(60);

pub struct HostHealth {
    alive: moka::sync::Cache<String, ()>,
}

impl Default for HostHealth {
    fn default() -> Self {
        Self {
            alive: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(RECORDED_FOR)
                .build(),
        }
    }
}

impl HostHealth {
    /// The host answered or sent something. Returns true if it had been
    /// failing or dead, i.e. its waiting deliveries should be revived.
    pub async fn alive(
        &self,
        db: &impl ConnectionTrait,
        host: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, DbErr> {
        if self.alive.contains_key(host) {
            return Ok(false);
        }
        let revived = queries::delivery::host_alive(db, host, now).await?;
        self.alive.insert(host.to_string(), ());
        Ok(revived)
    }

    /// A delivery to the host failed: its next success must reach the row.
    /// Called before the failure is written, so a success racing with it
    /// writes the row rather than trusting a stale memory.
    pub fn failed(&self, host: &str) {
        self.alive.invalidate(host);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::entities::hosts;
    use sea_orm::{ConnectOptions, Database, EntityTrait};

    async fn db() -> sea_orm::DatabaseConnection {
        // One connection: each SQLite connection has its own memory database.
        let mut options = ConnectOptions::new("sqlite::memory:");
        options.max_connections(1).min_connections(1);
        let db = Database::connect(options).await.unwrap();
        crate::db::migrate(&db).await.unwrap();
        db
    }

    #[tokio::test]
    async fn a_failure_is_cleared_by_the_next_success_even_within_the_minute() {
        let db = db().await;
        let health = HostHealth::default();
        let now = Utc::now();
        assert!(!health.alive(&db, "peer.example", now).await.unwrap());
        health.failed("peer.example");
        queries::delivery::host_failed(&db, "peer.example", now, 1)
            .await
            .unwrap();
        assert!(health.alive(&db, "peer.example", now).await.unwrap());
        let row = hosts::Entity::find_by_id("peer.example".to_string())
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((row.failure_count, row.dead_since), (0, None));
    }

    #[tokio::test]
    async fn a_recent_success_is_not_written_again() {
        let db = db().await;
        let health = HostHealth::default();
        let first = Utc::now();
        health.alive(&db, "peer.example", first).await.unwrap();
        let later = first + chrono::Duration::seconds(5);
        health.alive(&db, "peer.example", later).await.unwrap();
        let row = hosts::Entity::find_by_id("peer.example".to_string())
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.last_success_at, Some(first));
    }
}
