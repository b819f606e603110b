//! The persistent federation queues: activities we sent and their pending
//! deliveries, activities we received and are processing, and what we know
//! about remote hosts (health, blocks).

use crate::db::entities::{activities, deliveries, hosts, inbox_items};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict},
};

// --- outgoing activities ---

pub async fn insert_activity(
    db: &impl ConnectionTrait,
    m: activities::ActiveModel,
) -> Result<activities::Model, DbErr> {
    m.insert(db).await
}

pub async fn activity(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<activities::Model>, DbErr> {
    activities::Entity::find_by_id(id).one(db).await
}

pub async fn activity_by_ap_id(
    db: &impl ConnectionTrait,
    ap_id: &str,
) -> Result<Option<activities::Model>, DbErr> {
    activities::Entity::find()
        .filter(activities::Column::ApId.eq(ap_id))
        .one(db)
        .await
}

/// Activities an actor sent of given kinds, newest first (for the outbox).
pub async fn activities_by_actor(
    db: &impl ConnectionTrait,
    actor: i64,
    kinds: &[&str],
    max_id: Option<i64>,
    limit: u64,
) -> Result<Vec<activities::Model>, DbErr> {
    let mut q = activities::Entity::find()
        .filter(activities::Column::ActorId.eq(actor))
        .filter(activities::Column::Kind.is_in(kinds.iter().copied()));
    if let Some(m) = max_id {
        q = q.filter(activities::Column::Id.lt(m));
    }
    q.order_by_desc(activities::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

// --- deliveries ---

pub async fn insert_deliveries(
    db: &impl ConnectionTrait,
    rows: Vec<deliveries::ActiveModel>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    for chunk in rows.chunks(500) {
        deliveries::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([deliveries::Column::ActivityId, deliveries::Column::InboxUrl])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Deliveries whose time has come and that no worker holds, leaving out
/// `busy_hosts` (hosts that have as many requests in flight as they may).
pub async fn due_deliveries(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
    busy_hosts: &[String],
) -> Result<Vec<deliveries::Model>, DbErr> {
    let mut query = deliveries::Entity::find();
    if !busy_hosts.is_empty() {
        query = query.filter(deliveries::Column::Host.is_not_in(busy_hosts.iter().cloned()));
    }
    query
        .filter(deliveries::Column::NextAttemptAt.lte(now))
        .filter(
            Condition::any()
                .add(deliveries::Column::LockedUntil.is_null())
                .add(deliveries::Column::LockedUntil.lt(now)),
        )
        .order_by_asc(deliveries::Column::NextAttemptAt)
        .order_by_asc(deliveries::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Take a lease on deliveries; returns the ids actually claimed (another
/// process may have taken some first).
pub async fn claim_deliveries(
    db: &impl ConnectionTrait,
    ids: &[i64],
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<i64>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    deliveries::Entity::update_many()
        .col_expr(deliveries::Column::LockedUntil, Expr::value(until))
        .filter(deliveries::Column::Id.is_in(ids.iter().copied()))
        .filter(
            Condition::any()
                .add(deliveries::Column::LockedUntil.is_null())
                .add(deliveries::Column::LockedUntil.lt(now)),
        )
        .exec(db)
        .await?;
    deliveries::Entity::find()
        .select_only()
        .column(deliveries::Column::Id)
        .filter(deliveries::Column::Id.is_in(ids.iter().copied()))
        .filter(deliveries::Column::LockedUntil.eq(until))
        .into_tuple::<i64>()
        .all(db)
        .await
}

/// Free one lease without counting an attempt (the delivery was claimed but
/// not started).
pub async fn release_lease(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    deliveries::Entity::update_many()
        .col_expr(
            deliveries::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(deliveries::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Free every lease: called when the (single) worker process starts, since
/// leases held by a process that died will never be released otherwise.
pub async fn release_all_leases(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    Ok(deliveries::Entity::update_many()
        .col_expr(
            deliveries::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(deliveries::Column::LockedUntil.is_not_null())
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn delete_delivery(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    deliveries::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

pub async fn delete_deliveries(db: &impl ConnectionTrait, ids: &[i64]) -> Result<(), DbErr> {
    deliveries::Entity::delete_many()
        .filter(deliveries::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn reschedule_delivery(
    db: &impl ConnectionTrait,
    id: i64,
    attempts: i32,
    next: DateTime<Utc>,
    status: Option<i32>,
    error: &str,
) -> Result<(), DbErr> {
    deliveries::Entity::update_many()
        .col_expr(deliveries::Column::Attempts, Expr::value(attempts))
        .col_expr(deliveries::Column::NextAttemptAt, Expr::value(next))
        .col_expr(
            deliveries::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(deliveries::Column::LastStatus, Expr::value(status))
        .col_expr(
            deliveries::Column::LastError,
            Expr::value(error.chars().take(500).collect::<String>()),
        )
        .filter(deliveries::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Bring forward every waiting delivery to a host (it came back).
pub async fn revive_host_deliveries(
    db: &impl ConnectionTrait,
    host: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(deliveries::Entity::update_many()
        .col_expr(deliveries::Column::NextAttemptAt, Expr::value(now))
        .filter(deliveries::Column::Host.eq(host))
        .filter(deliveries::Column::NextAttemptAt.gt(now))
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn count_deliveries(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    deliveries::Entity::find().count(db).await
}

pub async fn next_delivery_time(db: &impl ConnectionTrait) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(deliveries::Entity::find()
        .order_by_asc(deliveries::Column::NextAttemptAt)
        .one(db)
        .await?
        .map(|d| d.next_attempt_at))
}

pub async fn deliveries_for_activity(
    db: &impl ConnectionTrait,
    activity: i64,
) -> Result<Vec<deliveries::Model>, DbErr> {
    deliveries::Entity::find()
        .filter(deliveries::Column::ActivityId.eq(activity))
        .all(db)
        .await
}

// --- inbox ---

/// Store a received activity; false if its id was seen before.
pub async fn insert_inbox(
    db: &impl ConnectionTrait,
    m: inbox_items::ActiveModel,
) -> Result<bool, DbErr> {
    let result = inbox_items::Entity::insert(m)
        .on_conflict(
            OnConflict::column(inbox_items::Column::ApId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(result == 1)
}

pub async fn inbox_seen(db: &impl ConnectionTrait, ap_id: &str) -> Result<bool, DbErr> {
    Ok(inbox_items::Entity::find()
        .select_only()
        .column(inbox_items::Column::Id)
        .filter(inbox_items::Column::ApId.eq(ap_id))
        .into_tuple::<i64>()
        .one(db)
        .await?
        .is_some())
}

pub async fn due_inbox(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<inbox_items::Model>, DbErr> {
    inbox_items::Entity::find()
        .filter(inbox_items::Column::ProcessedAt.is_null())
        .filter(
            Condition::any()
                .add(inbox_items::Column::NextAttemptAt.is_null())
                .add(inbox_items::Column::NextAttemptAt.lte(now)),
        )
        .order_by_asc(inbox_items::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Is the item still waiting as it was read (not processed since, nor
/// rescheduled)? The queue reader's list can be older than a worker's
/// last write.
pub async fn inbox_unchanged(
    db: &impl ConnectionTrait,
    id: i64,
    attempts: i32,
) -> Result<bool, DbErr> {
    Ok(inbox_items::Entity::find()
        .select_only()
        .column(inbox_items::Column::Id)
        .filter(inbox_items::Column::Id.eq(id))
        .filter(inbox_items::Column::ProcessedAt.is_null())
        .filter(inbox_items::Column::Attempts.eq(attempts))
        .into_tuple::<i64>()
        .one(db)
        .await?
        .is_some())
}

pub async fn finish_inbox(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
    error: Option<&str>,
) -> Result<(), DbErr> {
    inbox_items::Entity::update_many()
        .col_expr(inbox_items::Column::ProcessedAt, Expr::value(now))
        .col_expr(
            inbox_items::Column::LastError,
            Expr::value(error.map(|e| e.chars().take(500).collect::<String>())),
        )
        .filter(inbox_items::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn retry_inbox(
    db: &impl ConnectionTrait,
    id: i64,
    attempts: i32,
    next: DateTime<Utc>,
    error: &str,
) -> Result<(), DbErr> {
    inbox_items::Entity::update_many()
        .col_expr(inbox_items::Column::Attempts, Expr::value(attempts))
        .col_expr(inbox_items::Column::NextAttemptAt, Expr::value(next))
        .col_expr(
            inbox_items::Column::LastError,
            Expr::value(error.chars().take(500).collect::<String>()),
        )
        .filter(inbox_items::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn count_inbox_pending(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    inbox_items::Entity::find()
        .filter(inbox_items::Column::ProcessedAt.is_null())
        .count(db)
        .await
}

/// Forget processed activities older than `before` (their ids stay unique
/// long enough to refuse replays; senders do not retry for weeks).
pub async fn prune_inbox(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(inbox_items::Entity::delete_many()
        .filter(inbox_items::Column::ProcessedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

// --- hosts ---

pub async fn host(db: &impl ConnectionTrait, domain: &str) -> Result<Option<hosts::Model>, DbErr> {
    hosts::Entity::find_by_id(domain.to_string()).one(db).await
}

async fn ensure_host(
    db: &impl ConnectionTrait,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    hosts::Entity::insert(hosts::ActiveModel {
        domain: Set(domain.to_string()),
        first_seen_at: Set(now),
        last_success_at: Set(None),
        last_failure_at: Set(None),
        failure_count: Set(0),
        dead_since: Set(None),
        blocked: Set(false),
        software: Set(None),
    })
    .on_conflict(
        OnConflict::column(hosts::Column::Domain)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// A delivery succeeded or the host sent us something: it is alive.
/// Returns true if it had been marked dead.
pub async fn host_alive(
    db: &impl ConnectionTrait,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    ensure_host(db, domain, now).await?;
    let was_dead = host(db, domain)
        .await?
        .is_some_and(|h| h.dead_since.is_some() || h.failure_count > 0);
    hosts::Entity::update_many()
        .col_expr(hosts::Column::LastSuccessAt, Expr::value(now))
        .col_expr(hosts::Column::FailureCount, Expr::value(0))
        .col_expr(
            hosts::Column::DeadSince,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(hosts::Column::Domain.eq(domain))
        .exec(db)
        .await?;
    Ok(was_dead)
}

/// Count a failed delivery; marks the host dead after `dead_after` failures
/// in a row. Returns the host after the update.
pub async fn host_failed(
    db: &impl ConnectionTrait,
    domain: &str,
    now: DateTime<Utc>,
    dead_after: i32,
) -> Result<Option<hosts::Model>, DbErr> {
    ensure_host(db, domain, now).await?;
    hosts::Entity::update_many()
        .col_expr(
            hosts::Column::FailureCount,
            Expr::col(hosts::Column::FailureCount).add(1),
        )
        .col_expr(hosts::Column::LastFailureAt, Expr::value(now))
        .filter(hosts::Column::Domain.eq(domain))
        .exec(db)
        .await?;
    hosts::Entity::update_many()
        .col_expr(hosts::Column::DeadSince, Expr::value(now))
        .filter(hosts::Column::Domain.eq(domain))
        .filter(hosts::Column::DeadSince.is_null())
        .filter(hosts::Column::FailureCount.gte(dead_after))
        .exec(db)
        .await?;
    host(db, domain).await
}

pub async fn set_host_blocked(
    db: &impl ConnectionTrait,
    domain: &str,
    blocked: bool,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    ensure_host(db, domain, now).await?;
    hosts::Entity::update_many()
        .col_expr(hosts::Column::Blocked, Expr::value(blocked))
        .filter(hosts::Column::Domain.eq(domain))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn blocked_hosts(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    hosts::Entity::find()
        .select_only()
        .column(hosts::Column::Domain)
        .filter(hosts::Column::Blocked.eq(true))
        .into_tuple::<String>()
        .all(db)
        .await
}

pub async fn known_hosts(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    hosts::Entity::find()
        .select_only()
        .column(hosts::Column::Domain)
        .filter(hosts::Column::Blocked.eq(false))
        .order_by_asc(hosts::Column::Domain)
        .into_tuple::<String>()
        .all(db)
        .await
}
