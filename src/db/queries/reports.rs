//! Reports for the moderators: newest first, open ones apart.

use crate::db::entities::reports::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
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

pub async fn by_ap_id(db: &impl ConnectionTrait, ap_id: &str) -> Result<Option<Model>, DbErr> {
    Entity::find().filter(Column::ApId.eq(ap_id)).one(db).await
}

/// Open (`resolved == false`) or resolved reports, newest first, below
/// `max_id` when given.
pub async fn list(
    db: &impl ConnectionTrait,
    resolved: bool,
    max_id: Option<i64>,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    let mut q = Entity::find();
    q = if resolved {
        q.filter(Column::ResolvedAt.is_not_null())
    } else {
        q.filter(Column::ResolvedAt.is_null())
    };
    if let Some(max) = max_id {
        q = q.filter(Column::Id.lt(max));
    }
    q.order_by_desc(Column::Id).limit(limit).all(db).await
}

pub async fn count_open(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::ResolvedAt.is_null())
        .count(db)
        .await
}
