//! Typed queries, grouped by table. Each takes `&impl ConnectionTrait`, so the
//! same function runs on the pool or inside a caller's transaction.

pub mod accounts;
pub mod actors;
pub mod delivery;
pub mod follows;
pub mod groups;
pub mod idempotency;
pub mod invites;
pub mod media;
pub mod notifications;
pub mod oauth;
pub mod password_resets;
pub mod polls;
pub mod portal;
pub mod publications;
pub mod relations;
pub mod reports;
pub mod resources;
pub mod sessions;
pub mod settings;
pub mod statuses;
pub mod tokens;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};

/// A page request in Mastodon's style: ids strictly below `max_id`, strictly
/// above `since_id`/`min_id`; `min_id` pages upwards from the oldest.
#[derive(Debug, Clone, Copy, Default)]
pub struct Page {
    pub max_id: Option<i64>,
    pub since_id: Option<i64>,
    pub min_id: Option<i64>,
    pub limit: u64,
}

impl Page {
    /// Newest first: ids below `max_id` and above `since_id` (or `min_id`,
    /// which lists here treat the same way), at most `cap` rows.
    pub fn newest_first<E: EntityTrait>(self, q: Select<E>, id: E::Column, cap: u64) -> Select<E> {
        self.bounded(q, id, self.since_id.or(self.min_id))
            .order_by_desc(id)
            .limit(self.limit.clamp(1, cap))
    }

    /// Mastodon's timeline paging: like `newest_first`, except that `min_id`
    /// pages forward from the oldest (ascending; the caller reverses).
    pub fn scroll<E: EntityTrait>(self, q: Select<E>, id: E::Column, cap: u64) -> Select<E> {
        let q = self.bounded(q, id, self.since_id);
        let q = match self.min_id {
            Some(min) => q.filter(id.gt(min)).order_by_asc(id),
            None => q.order_by_desc(id),
        };
        q.limit(self.limit.clamp(1, cap))
    }

    fn bounded<E: EntityTrait>(
        self,
        mut q: Select<E>,
        id: E::Column,
        above: Option<i64>,
    ) -> Select<E> {
        if let Some(max) = self.max_id {
            q = q.filter(id.lt(max));
        }
        if let Some(min) = above {
            q = q.filter(id.gt(min));
        }
        q
    }
}

pub mod calendar;
