//! Blocks, mutes, favourites and bookmarks: one actor's relation to another
//! actor or to a post.

use super::Page;
use crate::db::entities::{blocks, bookmarks, favourites, mutes};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QuerySelect,
};

pub async fn block(
    db: &impl ConnectionTrait,
    actor: i64,
    target: i64,
) -> Result<Option<blocks::Model>, DbErr> {
    blocks::Entity::find()
        .filter(blocks::Column::ActorId.eq(actor))
        .filter(blocks::Column::TargetId.eq(target))
        .one(db)
        .await
}

pub async fn block_by_ap_id(
    db: &impl ConnectionTrait,
    ap_id: &str,
) -> Result<Option<blocks::Model>, DbErr> {
    blocks::Entity::find()
        .filter(blocks::Column::ApId.eq(ap_id))
        .one(db)
        .await
}

pub async fn insert_block(
    db: &impl ConnectionTrait,
    m: blocks::ActiveModel,
) -> Result<blocks::Model, DbErr> {
    m.insert(db).await
}

pub async fn delete_block(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    blocks::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Does either block the other?
pub async fn blocked_either_way(db: &impl ConnectionTrait, a: i64, b: i64) -> Result<bool, DbErr> {
    Ok(blocks::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(blocks::Column::ActorId.eq(a))
                        .add(blocks::Column::TargetId.eq(b)),
                )
                .add(
                    Condition::all()
                        .add(blocks::Column::ActorId.eq(b))
                        .add(blocks::Column::TargetId.eq(a)),
                ),
        )
        .one(db)
        .await?
        .is_some())
}

pub async fn blocks_of(
    db: &impl ConnectionTrait,
    actor: i64,
    page: Page,
) -> Result<Vec<blocks::Model>, DbErr> {
    let q = blocks::Entity::find().filter(blocks::Column::ActorId.eq(actor));
    page.newest_first(q, blocks::Column::Id, 200).all(db).await
}

pub async fn mute(
    db: &impl ConnectionTrait,
    actor: i64,
    target: i64,
) -> Result<Option<mutes::Model>, DbErr> {
    mutes::Entity::find()
        .filter(mutes::Column::ActorId.eq(actor))
        .filter(mutes::Column::TargetId.eq(target))
        .one(db)
        .await
}

pub async fn insert_mute(
    db: &impl ConnectionTrait,
    m: mutes::ActiveModel,
) -> Result<mutes::Model, DbErr> {
    m.insert(db).await
}

pub async fn delete_mute(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    mutes::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

pub async fn muted_ids(db: &impl ConnectionTrait, actor: i64) -> Result<Vec<i64>, DbErr> {
    mutes::Entity::find()
        .select_only()
        .column(mutes::Column::TargetId)
        .filter(mutes::Column::ActorId.eq(actor))
        .into_tuple::<i64>()
        .all(db)
        .await
}

pub async fn blocked_ids(db: &impl ConnectionTrait, actor: i64) -> Result<Vec<i64>, DbErr> {
    blocks::Entity::find()
        .select_only()
        .column(blocks::Column::TargetId)
        .filter(blocks::Column::ActorId.eq(actor))
        .into_tuple::<i64>()
        .all(db)
        .await
}

pub async fn favourite(
    db: &impl ConnectionTrait,
    actor: i64,
    status: i64,
) -> Result<Option<favourites::Model>, DbErr> {
    favourites::Entity::find()
        .filter(favourites::Column::ActorId.eq(actor))
        .filter(favourites::Column::StatusId.eq(status))
        .one(db)
        .await
}

pub async fn favourite_by_ap_id(
    db: &impl ConnectionTrait,
    ap_id: &str,
) -> Result<Option<favourites::Model>, DbErr> {
    favourites::Entity::find()
        .filter(favourites::Column::ApId.eq(ap_id))
        .one(db)
        .await
}

pub async fn insert_favourite(
    db: &impl ConnectionTrait,
    m: favourites::ActiveModel,
) -> Result<favourites::Model, DbErr> {
    m.insert(db).await
}

pub async fn delete_favourite(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    favourites::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

pub async fn favourites_of_status(
    db: &impl ConnectionTrait,
    status: i64,
    page: Page,
) -> Result<Vec<favourites::Model>, DbErr> {
    let q = favourites::Entity::find().filter(favourites::Column::StatusId.eq(status));
    page.newest_first(q, favourites::Column::Id, 200)
        .all(db)
        .await
}

pub async fn favourites_by_actor(
    db: &impl ConnectionTrait,
    actor: i64,
    page: Page,
) -> Result<Vec<favourites::Model>, DbErr> {
    let q = favourites::Entity::find().filter(favourites::Column::ActorId.eq(actor));
    page.newest_first(q, favourites::Column::Id, 200)
        .all(db)
        .await
}

/// Which of `status_ids` has `actor` favourited / bookmarked?
pub async fn favourited_among(
    db: &impl ConnectionTrait,
    actor: i64,
    status_ids: &[i64],
) -> Result<Vec<i64>, DbErr> {
    if status_ids.is_empty() {
        return Ok(Vec::new());
    }
    favourites::Entity::find()
        .select_only()
        .column(favourites::Column::StatusId)
        .filter(favourites::Column::ActorId.eq(actor))
        .filter(favourites::Column::StatusId.is_in(status_ids.iter().copied()))
        .into_tuple::<i64>()
        .all(db)
        .await
}

pub async fn bookmark(
    db: &impl ConnectionTrait,
    actor: i64,
    status: i64,
) -> Result<Option<bookmarks::Model>, DbErr> {
    bookmarks::Entity::find()
        .filter(bookmarks::Column::ActorId.eq(actor))
        .filter(bookmarks::Column::StatusId.eq(status))
        .one(db)
        .await
}

pub async fn insert_bookmark(
    db: &impl ConnectionTrait,
    m: bookmarks::ActiveModel,
) -> Result<bookmarks::Model, DbErr> {
    m.insert(db).await
}

pub async fn delete_bookmark(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    bookmarks::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

pub async fn bookmarks_by_actor(
    db: &impl ConnectionTrait,
    actor: i64,
    page: Page,
) -> Result<Vec<bookmarks::Model>, DbErr> {
    let q = bookmarks::Entity::find().filter(bookmarks::Column::ActorId.eq(actor));
    page.newest_first(q, bookmarks::Column::Id, 200)
        .all(db)
        .await
}

pub async fn bookmarked_among(
    db: &impl ConnectionTrait,
    actor: i64,
    status_ids: &[i64],
) -> Result<Vec<i64>, DbErr> {
    if status_ids.is_empty() {
        return Ok(Vec::new());
    }
    bookmarks::Entity::find()
        .select_only()
        .column(bookmarks::Column::StatusId)
        .filter(bookmarks::Column::ActorId.eq(actor))
        .filter(bookmarks::Column::StatusId.is_in(status_ids.iter().copied()))
        .into_tuple::<i64>()
        .all(db)
        .await
}
