use crate::db::entities::access_tokens::{ActiveModel, Column, Entity, Model};
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

pub async fn by_refresh_hash(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::RefreshTokenHash.eq(hash))
        .one(db)
        .await
}

pub async fn revoke(
    db: &impl ConnectionTrait,
    id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn touch(
    db: &impl ConnectionTrait,
    id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::LastUsedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn revoke_for_account(
    db: &impl ConnectionTrait,
    account_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .filter(Column::AccountId.eq(account_id))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
