use super::Page;
use crate::db::entities::notifications::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
};

pub async fn insert(db: &impl ConnectionTrait, model: ActiveModel) -> Result<Model, DbErr> {
    model.insert(db).await
}

/// Is there already such a notification (a repeated activity must not notify twice)?
pub async fn exists(
    db: &impl ConnectionTrait,
    recipient: i64,
    kind: &str,
    from: i64,
    status: Option<i64>,
    group: Option<i64>,
) -> Result<bool, DbErr> {
    let mut q = Entity::find()
        .filter(Column::RecipientId.eq(recipient))
        .filter(Column::Kind.eq(kind))
        .filter(Column::FromActorId.eq(from));
    q = match status {
        Some(s) => q.filter(Column::StatusId.eq(s)),
        None => q.filter(Column::StatusId.is_null()),
    };
    q = match group {
        Some(g) => q.filter(Column::GroupId.eq(g)),
        None => q.filter(Column::GroupId.is_null()),
    };
    Ok(q.one(db).await?.is_some())
}

pub async fn list(
    db: &impl ConnectionTrait,
    recipient: i64,
    include: &[String],
    exclude: &[String],
    from_actor: Option<i64>,
    page: Page,
) -> Result<Vec<Model>, DbErr> {
    let mut q = Entity::find().filter(Column::RecipientId.eq(recipient));
    if !include.is_empty() {
        q = q.filter(Column::Kind.is_in(include.iter().cloned()));
    }
    if !exclude.is_empty() {
        q = q.filter(Column::Kind.is_not_in(exclude.iter().cloned()));
    }
    if let Some(a) = from_actor {
        q = q.filter(Column::FromActorId.eq(a));
    }
    page.scroll(q, Column::Id, 200).all(db).await
}

pub async fn get(
    db: &impl ConnectionTrait,
    recipient: i64,
    id: i64,
) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id)
        .filter(Column::RecipientId.eq(recipient))
        .one(db)
        .await
}

pub async fn delete(db: &impl ConnectionTrait, recipient: i64, id: i64) -> Result<u64, DbErr> {
    Ok(Entity::delete_many()
        .filter(Column::Id.eq(id))
        .filter(Column::RecipientId.eq(recipient))
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn clear(db: &impl ConnectionTrait, recipient: i64) -> Result<(), DbErr> {
    Entity::delete_many()
        .filter(Column::RecipientId.eq(recipient))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn count_unread(db: &impl ConnectionTrait, recipient: i64) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::RecipientId.eq(recipient))
        .filter(Column::ReadAt.is_null())
        .count(db)
        .await
}

pub async fn mark_read(
    db: &impl ConnectionTrait,
    recipient: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::ReadAt, sea_orm::sea_query::Expr::value(now))
        .filter(Column::RecipientId.eq(recipient))
        .filter(Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Which notifications [`delete_about`] removes; unset fields match all.
#[derive(Default, Clone, Copy)]
pub struct About<'a> {
    pub kind: Option<&'a str>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub status: Option<i64>,
    pub group: Option<i64>,
}

/// Remove notifications whose cause went away: a deleted post, an undone
/// like, a withdrawn or decided follow request.
pub async fn delete_about(db: &impl ConnectionTrait, about: About<'_>) -> Result<(), DbErr> {
    let mut q = Entity::delete_many();
    if let Some(k) = about.kind {
        q = q.filter(Column::Kind.eq(k));
    }
    if let Some(f) = about.from {
        q = q.filter(Column::FromActorId.eq(f));
    }
    if let Some(r) = about.to {
        q = q.filter(Column::RecipientId.eq(r));
    }
    if let Some(s) = about.status {
        q = q.filter(Column::StatusId.eq(s));
    }
    if let Some(g) = about.group {
        q = q.filter(Column::GroupId.eq(g));
    }
    q.exec(db).await?;
    Ok(())
}
