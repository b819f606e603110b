//! Idempotency-Keys of posts made through the client API (see
//! `http::api::statuses`).

use crate::db::entities::idempotency_keys::{ActiveModel, Column, Entity};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    ExprTrait, QueryFilter,
};

/// The post made with `key` by `actor_id` since `since`.
pub async fn status_of(
    db: &impl ConnectionTrait,
    actor_id: i64,
    key: &str,
    since: DateTime<Utc>,
) -> Result<Option<i64>, DbErr> {
    Ok(Entity::find()
        .filter(Column::ActorId.eq(actor_id))
        .filter(Column::Key.eq(key))
        .filter(Column::CreatedAt.gte(since))
        .one(db)
        .await?
        .map(|row| row.status_id))
}

/// Remember `key` → `status_id`, replacing an expired entry for the key and
/// dropping every entry older than `expired_before`.
pub async fn remember(
    db: &impl ConnectionTrait,
    actor_id: i64,
    key: &str,
    status_id: i64,
    expired_before: DateTime<Utc>,
) -> Result<(), DbErr> {
    Entity::delete_many()
        .filter(
            Column::CreatedAt
                .lt(expired_before)
                .or(Column::ActorId.eq(actor_id).and(Column::Key.eq(key))),
        )
        .exec(db)
        .await?;
    ActiveModel {
        actor_id: Set(actor_id),
        key: Set(key.to_string()),
        status_id: Set(status_id),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}
