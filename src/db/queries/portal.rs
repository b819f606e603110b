//! The portal's relay subscriptions, hidden items and member-instance
//! records.

use crate::db::{
    entities::{portal_hidden, portal_instances, portal_relays},
    ids,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};

/// Record `actor` as a relay subscriber; a repeat changes nothing.
pub async fn add_relay(db: &impl ConnectionTrait, actor: i64) -> Result<(), DbErr> {
    if is_relay(db, actor).await? {
        return Ok(());
    }
    portal_relays::ActiveModel {
        id: Set(ids::next_id()),
        actor_id: Set(actor),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn remove_relay(db: &impl ConnectionTrait, actor: i64) -> Result<(), DbErr> {
    portal_relays::Entity::delete_many()
        .filter(portal_relays::Column::ActorId.eq(actor))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn is_relay(db: &impl ConnectionTrait, actor: i64) -> Result<bool, DbErr> {
    Ok(portal_relays::Entity::find()
        .filter(portal_relays::Column::ActorId.eq(actor))
        .one(db)
        .await?
        .is_some())
}

pub async fn relay_ids(db: &impl ConnectionTrait) -> Result<Vec<i64>, DbErr> {
    Ok(portal_relays::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.actor_id)
        .collect())
}

/// Hide (or show again) an item in the aggregated feeds.
pub async fn set_hidden(
    db: &impl ConnectionTrait,
    object_ap_id: &str,
    moderator: Option<i64>,
    hidden: bool,
) -> Result<(), DbErr> {
    let existing = portal_hidden::Entity::find()
        .filter(portal_hidden::Column::ObjectApId.eq(object_ap_id))
        .one(db)
        .await?;
    match (existing, hidden) {
        (None, true) => {
            portal_hidden::ActiveModel {
                id: Set(ids::next_id()),
                object_ap_id: Set(object_ap_id.to_string()),
                moderator_id: Set(moderator),
                created_at: Set(Utc::now()),
            }
            .insert(db)
            .await?;
        }
        (Some(row), false) => {
            portal_hidden::Entity::delete_by_id(row.id).exec(db).await?;
        }
        _ => {}
    }
    Ok(())
}

/// The ids of every hidden item.
pub async fn hidden(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    Ok(portal_hidden::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|h| h.object_ap_id)
        .collect())
}

pub async fn instance(
    db: &impl ConnectionTrait,
    domain: &str,
) -> Result<Option<portal_instances::Model>, DbErr> {
    portal_instances::Entity::find()
        .filter(portal_instances::Column::Domain.eq(domain))
        .one(db)
        .await
}

async fn instance_or_new(
    db: &impl ConnectionTrait,
    domain: &str,
) -> Result<portal_instances::ActiveModel, DbErr> {
    Ok(match instance(db, domain).await? {
        Some(m) => m.into(),
        None => portal_instances::ActiveModel {
            id: Set(ids::next_id()),
            domain: Set(domain.to_string()),
            nodeinfo: Set("{}".into()),
            fetched_at: Set(None),
            last_seen_at: Set(None),
            suspended_at: Set(None),
        }
        .insert(db)
        .await?
        .into(),
    })
}

/// A member instance was heard from (one of its activities arrived).
pub async fn seen(db: &impl ConnectionTrait, domain: &str, at: DateTime<Utc>) -> Result<(), DbErr> {
    let mut a = instance_or_new(db, domain).await?;
    a.last_seen_at = Set(Some(at));
    a.update(db).await?;
    Ok(())
}

/// Store a member instance's NodeInfo document.
pub async fn set_nodeinfo(
    db: &impl ConnectionTrait,
    domain: &str,
    nodeinfo: &serde_json::Value,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut a = instance_or_new(db, domain).await?;
    a.nodeinfo = Set(nodeinfo.to_string());
    a.fetched_at = Set(Some(at));
    a.update(db).await?;
    Ok(())
}

/// A NodeInfo reading was started: no other starts before it is stale.
pub async fn set_nodeinfo_attempt(
    db: &impl ConnectionTrait,
    domain: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut a = instance_or_new(db, domain).await?;
    a.fetched_at = Set(Some(at));
    a.update(db).await?;
    Ok(())
}

/// Suspend the instance at `domain` (`Some(when)`) or lift its suspension.
pub async fn set_suspended(
    db: &impl ConnectionTrait,
    domain: &str,
    at: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    let mut a = instance_or_new(db, domain).await?;
    a.suspended_at = Set(at);
    a.update(db).await?;
    Ok(())
}

/// The suspended instances, most recently suspended first.
pub async fn suspended(db: &impl ConnectionTrait) -> Result<Vec<portal_instances::Model>, DbErr> {
    portal_instances::Entity::find()
        .filter(portal_instances::Column::SuspendedAt.is_not_null())
        .order_by_desc(portal_instances::Column::SuspendedAt)
        .all(db)
        .await
}
