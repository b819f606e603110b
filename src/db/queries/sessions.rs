use crate::db::entities::sessions::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, sea_query::Expr,
};

pub async fn insert(
    db: &impl ConnectionTrait,
    id: String,
    account_id: i64,
    user_agent: Option<String>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Model, DbErr> {
    ActiveModel {
        id: Set(id),
        account_id: Set(account_id),
        user_agent: Set(user_agent),
        created_at: Set(now),
        last_seen_at: Set(now),
    }
    .insert(db)
    .await
}

pub async fn by_id(db: &impl ConnectionTrait, id: &str) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id.to_string()).one(db).await
}

pub async fn for_account(db: &impl ConnectionTrait, account_id: i64) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::AccountId.eq(account_id))
        .all(db)
        .await
}

pub async fn touch(
    db: &impl ConnectionTrait,
    id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::LastSeenAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    Entity::delete_by_id(id.to_string()).exec(db).await?;
    Ok(())
}

pub async fn delete_for_account(db: &impl ConnectionTrait, account_id: i64) -> Result<(), DbErr> {
    Entity::delete_many()
        .filter(Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete_older_than(
    db: &impl ConnectionTrait,
    cutoff: chrono::DateTime<chrono::Utc>,
) -> Result<u64, DbErr> {
    Ok(Entity::delete_many()
        .filter(Column::LastSeenAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
