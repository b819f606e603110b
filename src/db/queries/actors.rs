use crate::db::entities::actors::{ActiveModel, Column, Entity, Model};
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

pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Entity::find()
        .filter(Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

pub async fn by_ap_id(db: &impl ConnectionTrait, ap_id: &str) -> Result<Option<Model>, DbErr> {
    Entity::find().filter(Column::ApId.eq(ap_id)).one(db).await
}

/// An actor by its profile page URL (some servers mention by `url`).
pub async fn by_url(db: &impl ConnectionTrait, url: &str) -> Result<Option<Model>, DbErr> {
    Entity::find().filter(Column::Url.eq(url)).one(db).await
}

/// A local actor (person, group or the instance actor) by its handle.
pub async fn local_by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::Local.eq(true))
        .filter(Column::Username.eq(username.to_lowercase()))
        .one(db)
        .await
}

/// Any actor by handle and domain.
pub async fn by_handle(
    db: &impl ConnectionTrait,
    username: &str,
    domain: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::Username.eq(username))
        .filter(Column::Domain.eq(domain.to_lowercase()))
        .one(db)
        .await
}

/// Actors whose handle or display name starts with `prefix` (case-insensitive
/// for the handle), local ones first.
pub async fn search_by_name(
    db: &impl ConnectionTrait,
    prefix: &str,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    use sea_orm::{Condition, QueryOrder, QuerySelect};
    let pattern = format!(
        "{}%",
        prefix.to_lowercase().replace('%', "").replace('_', "\\_")
    );
    Entity::find()
        .filter(Column::DeletedAt.is_null())
        .filter(Column::Kind.ne("Application"))
        .filter(
            Condition::any()
                .add(Column::Username.like(pattern.clone()))
                .add(Column::DisplayName.like(format!("{}%", prefix.replace('%', "")))),
        )
        .order_by_desc(Column::Local)
        .order_by_asc(Column::Username)
        .limit(limit)
        .all(db)
        .await
}

pub async fn count_local_people(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::Local.eq(true))
        .filter(Column::Kind.eq("Person"))
        .filter(Column::DeletedAt.is_null())
        .count(db)
        .await
}

/// The groups of another server (`host[:port]`), by name.
pub async fn remote_groups_of(
    db: &impl ConnectionTrait,
    domain: &str,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::Domain.eq(domain))
        .filter(Column::Kind.eq("Group"))
        .filter(Column::Local.eq(false))
        .order_by_asc(Column::Username)
        .limit(500)
        .all(db)
        .await
}
