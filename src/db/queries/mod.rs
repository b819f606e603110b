//! Typed queries, grouped by table. Each takes `&impl ConnectionTrait`, so the
//! same function runs on the pool or inside a caller's transaction.

pub mod accounts;
pub mod actors;
pub mod delivery;
pub mod follows;
pub mod groups;
pub mod invites;
pub mod media;
pub mod notifications;
pub mod oauth;
pub mod password_resets;
pub mod polls;
pub mod portal;
pub mod relations;
pub mod resources;
pub mod sessions;
pub mod settings;
pub mod statuses;
pub mod tokens;

/// A page request in Mastodon's style: ids strictly below `max_id`, strictly
/// above `since_id`/`min_id`; `min_id` pages upwards from the oldest.
#[derive(Debug, Clone, Copy, Default)]
pub struct Page {
    pub max_id: Option<i64>,
    pub since_id: Option<i64>,
    pub min_id: Option<i64>,
    pub limit: u64,
}
pub mod calendar;
