use super::Page;
use crate::db::entities::accounts::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QuerySelect, sea_query::Expr,
};

pub async fn insert(db: &impl ConnectionTrait, model: ActiveModel) -> Result<Model, DbErr> {
    model.insert(db).await
}

pub async fn update(db: &impl ConnectionTrait, model: ActiveModel) -> Result<Model, DbErr> {
    model.update(db).await
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

pub async fn by_actor_id(db: &impl ConnectionTrait, actor_id: i64) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::ActorId.eq(actor_id))
        .one(db)
        .await
}

pub async fn by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::Username.eq(username.to_lowercase()))
        .one(db)
        .await
}

pub async fn by_email(db: &impl ConnectionTrait, email: &str) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::Email.eq(email.to_lowercase()))
        .one(db)
        .await
}

/// Newest first, optionally restricted to one status.
pub async fn list(
    db: &impl ConnectionTrait,
    status: Option<&str>,
    page: Page,
) -> Result<Vec<Model>, DbErr> {
    let mut q = Entity::find();
    if let Some(s) = status {
        q = q.filter(Column::Status.eq(s));
    }
    page.newest_first(q, Column::Id, 1000).all(db).await
}

pub async fn count_by_status(db: &impl ConnectionTrait, status: &str) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::Status.eq(status))
        .count(db)
        .await
}

pub async fn count_admins(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::Role.eq("admin"))
        .filter(Column::Status.eq("active"))
        .count(db)
        .await
}

/// Actor ids of the active admins and moderators.
pub async fn staff_actor_ids(db: &impl ConnectionTrait) -> Result<Vec<i64>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::ActorId)
        .filter(Column::Role.is_in(["admin", "moderator"]))
        .filter(Column::Status.eq("active"))
        .into_tuple::<i64>()
        .all(db)
        .await
}

pub async fn touch_last_seen(
    db: &impl ConnectionTrait,
    id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::LastSeenAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Number of accounts seen since `since` (NodeInfo's active users).
pub async fn count_active_since(
    db: &impl ConnectionTrait,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::Status.eq("active"))
        .filter(Column::LastSeenAt.gte(since))
        .count(db)
        .await
}
