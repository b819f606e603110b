use crate::db::entities::password_resets::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::Expr,
};

pub async fn insert(db: &impl ConnectionTrait, model: ActiveModel) -> Result<Model, DbErr> {
    model.insert(db).await
}

pub async fn by_hash(db: &impl ConnectionTrait, hash: &str) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::TokenHash.eq(hash))
        .one(db)
        .await
}

/// Mark used; false if someone used it first.
pub async fn mark_used(
    db: &impl ConnectionTrait,
    id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    Ok(Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::UsedAt.is_null())
        .exec(db)
        .await?
        .rows_affected
        == 1)
}
