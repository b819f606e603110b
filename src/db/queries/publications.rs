//! Publications waiting to be turned into deliveries again (see
//! `federation::publish`).

use crate::db::entities::pending_publications::{ActiveModel, Column, Entity, Model};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};

pub async fn insert(db: &impl ConnectionTrait, model: ActiveModel) -> Result<Model, DbErr> {
    model.insert(db).await
}

/// Those due by `now`, oldest first.
pub async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::NextAttemptAt.lte(now))
        .order_by_asc(Column::NextAttemptAt)
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Model>, DbErr> {
    Entity::find().order_by_asc(Column::Id).all(db).await
}

pub async fn reschedule(
    db: &impl ConnectionTrait,
    row: Model,
    next: DateTime<Utc>,
    error: String,
) -> Result<Model, DbErr> {
    let attempts = row.attempts + 1;
    let mut m: ActiveModel = row.into();
    m.attempts = Set(attempts);
    m.next_attempt_at = Set(next);
    m.last_error = Set(Some(error));
    m.update(db).await
}

pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    Entity::delete_by_id(id).exec(db).await.map(|_| ())
}

/// A first try failed: one attempt made, the next at `next`.
pub async fn postpone(
    db: &impl ConnectionTrait,
    id: i64,
    next: DateTime<Utc>,
    error: String,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .col_expr(Column::NextAttemptAt, Expr::value(next))
        .col_expr(Column::LastError, Expr::value(Some(error)))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Take row `id` for one try if it is still due at `now` (no other worker
/// took it since it was read): true when it is ours until `until`.
pub async fn claim(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = Entity::update_many()
        .col_expr(Column::NextAttemptAt, Expr::value(until))
        .filter(Column::Id.eq(id))
        .filter(Column::NextAttemptAt.lte(now))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}
