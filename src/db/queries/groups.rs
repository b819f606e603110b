//! Groups: settings rows, roles, invitations, bans, the moderation log, pins
//! and the posts of a group.

use super::{Page, statuses::paged};
use crate::db::entities::{
    actors, group_bans, group_invitations, group_log, group_roles, groups, pins, statuses,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

pub async fn insert(
    db: &impl ConnectionTrait,
    m: groups::ActiveModel,
) -> Result<groups::Model, DbErr> {
    m.insert(db).await
}

pub async fn update(
    db: &impl ConnectionTrait,
    m: groups::ActiveModel,
) -> Result<groups::Model, DbErr> {
    m.update(db).await
}

pub async fn get(db: &impl ConnectionTrait, actor_id: i64) -> Result<Option<groups::Model>, DbErr> {
    groups::Entity::find_by_id(actor_id).one(db).await
}

pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<groups::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    groups::Entity::find()
        .filter(groups::Column::ActorId.is_in(ids.iter().copied()))
        .all(db)
        .await
}

pub async fn children(db: &impl ConnectionTrait, parent: i64) -> Result<Vec<groups::Model>, DbErr> {
    groups::Entity::find()
        .filter(groups::Column::ParentId.eq(parent))
        .all(db)
        .await
}

/// Local group actors, oldest first (the directory filters and pages them).
pub async fn local_actors(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<actors::Model>, DbErr> {
    actors::Entity::find()
        .filter(actors::Column::Kind.eq("Group"))
        .filter(actors::Column::Local.eq(true))
        .filter(actors::Column::DeletedAt.is_null())
        .order_by_asc(actors::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn role(
    db: &impl ConnectionTrait,
    group: i64,
    actor: i64,
) -> Result<Option<group_roles::Model>, DbErr> {
    group_roles::Entity::find()
        .filter(group_roles::Column::GroupId.eq(group))
        .filter(group_roles::Column::ActorId.eq(actor))
        .one(db)
        .await
}

/// Owners and moderators, oldest first (the creator comes first).
pub async fn staff(
    db: &impl ConnectionTrait,
    group: i64,
) -> Result<Vec<group_roles::Model>, DbErr> {
    group_roles::Entity::find()
        .filter(group_roles::Column::GroupId.eq(group))
        .order_by_asc(group_roles::Column::Id)
        .all(db)
        .await
}

pub async fn insert_role(
    db: &impl ConnectionTrait,
    m: group_roles::ActiveModel,
) -> Result<group_roles::Model, DbErr> {
    m.insert(db).await
}

pub async fn update_role(
    db: &impl ConnectionTrait,
    m: group_roles::ActiveModel,
) -> Result<group_roles::Model, DbErr> {
    m.update(db).await
}

pub async fn delete_role(db: &impl ConnectionTrait, group: i64, actor: i64) -> Result<(), DbErr> {
    group_roles::Entity::delete_many()
        .filter(group_roles::Column::GroupId.eq(group))
        .filter(group_roles::Column::ActorId.eq(actor))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn invitation(
    db: &impl ConnectionTrait,
    group: i64,
    actor: i64,
) -> Result<Option<group_invitations::Model>, DbErr> {
    group_invitations::Entity::find()
        .filter(group_invitations::Column::GroupId.eq(group))
        .filter(group_invitations::Column::ActorId.eq(actor))
        .one(db)
        .await
}

pub async fn insert_invitation(
    db: &impl ConnectionTrait,
    m: group_invitations::ActiveModel,
) -> Result<group_invitations::Model, DbErr> {
    m.insert(db).await
}

pub async fn delete_invitation(
    db: &impl ConnectionTrait,
    group: i64,
    actor: i64,
) -> Result<(), DbErr> {
    group_invitations::Entity::delete_many()
        .filter(group_invitations::Column::GroupId.eq(group))
        .filter(group_invitations::Column::ActorId.eq(actor))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn invitations(
    db: &impl ConnectionTrait,
    group: i64,
) -> Result<Vec<group_invitations::Model>, DbErr> {
    group_invitations::Entity::find()
        .filter(group_invitations::Column::GroupId.eq(group))
        .order_by_desc(group_invitations::Column::Id)
        .limit(1000)
        .all(db)
        .await
}

/// Groups that invited this actor, newest first.
pub async fn invitations_of(
    db: &impl ConnectionTrait,
    actor: i64,
) -> Result<Vec<group_invitations::Model>, DbErr> {
    group_invitations::Entity::find()
        .filter(group_invitations::Column::ActorId.eq(actor))
        .order_by_desc(group_invitations::Column::Id)
        .limit(200)
        .all(db)
        .await
}

pub async fn ban(
    db: &impl ConnectionTrait,
    group: i64,
    actor: i64,
) -> Result<Option<group_bans::Model>, DbErr> {
    group_bans::Entity::find()
        .filter(group_bans::Column::GroupId.eq(group))
        .filter(group_bans::Column::ActorId.eq(actor))
        .one(db)
        .await
}

pub async fn insert_ban(
    db: &impl ConnectionTrait,
    m: group_bans::ActiveModel,
) -> Result<group_bans::Model, DbErr> {
    m.insert(db).await
}

pub async fn delete_ban(db: &impl ConnectionTrait, group: i64, actor: i64) -> Result<(), DbErr> {
    group_bans::Entity::delete_many()
        .filter(group_bans::Column::GroupId.eq(group))
        .filter(group_bans::Column::ActorId.eq(actor))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn bans(db: &impl ConnectionTrait, group: i64) -> Result<Vec<group_bans::Model>, DbErr> {
    group_bans::Entity::find()
        .filter(group_bans::Column::GroupId.eq(group))
        .order_by_desc(group_bans::Column::Id)
        .limit(1000)
        .all(db)
        .await
}

pub async fn log(
    db: &impl ConnectionTrait,
    m: group_log::ActiveModel,
) -> Result<group_log::Model, DbErr> {
    m.insert(db).await
}

pub async fn log_entries(
    db: &impl ConnectionTrait,
    group: i64,
    page: Page,
) -> Result<Vec<group_log::Model>, DbErr> {
    let q = group_log::Entity::find().filter(group_log::Column::GroupId.eq(group));
    page.newest_first(q, group_log::Column::Id, 200)
        .all(db)
        .await
}

pub async fn pin(db: &impl ConnectionTrait, m: pins::ActiveModel) -> Result<pins::Model, DbErr> {
    m.insert(db).await
}

pub async fn unpin(db: &impl ConnectionTrait, actor: i64, status: i64) -> Result<u64, DbErr> {
    Ok(pins::Entity::delete_many()
        .filter(pins::Column::ActorId.eq(actor))
        .filter(pins::Column::StatusId.eq(status))
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn pinned_ids(db: &impl ConnectionTrait, actor: i64) -> Result<Vec<i64>, DbErr> {
    Ok(pins::Entity::find()
        .filter(pins::Column::ActorId.eq(actor))
        .order_by_desc(pins::Column::Id)
        .limit(50)
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.status_id)
        .collect())
}

/// What a group page lists: all its posts, or only thread starters (posts
/// and discussions), optionally only titled ones (discussions).
#[derive(Debug, Clone, Copy, Default)]
pub struct Listing {
    pub top_level_only: bool,
    pub titled_only: bool,
    /// Also posts addressed to the group's members only (a members-only
    /// group's own posts). Direct messages are never listed, and a
    /// followers-only post that merely answers a public group's thread
    /// stays with its audience.
    pub with_private: bool,
}

/// The visibilities a group listing shows.
fn listed_visibilities(with_private: bool) -> Vec<&'static str> {
    let mut v = vec!["public", "unlisted"];
    if with_private {
        v.push("private");
    }
    v
}

pub async fn posts(
    db: &impl ConnectionTrait,
    group: i64,
    listing: Listing,
    page: Page,
) -> Result<Vec<statuses::Model>, DbErr> {
    let mut q = statuses::Entity::find()
        .filter(statuses::Column::GroupId.eq(group))
        .filter(statuses::Column::DeletedAt.is_null())
        .filter(statuses::Column::ReblogOfId.is_null())
        .filter(statuses::Column::Visibility.is_in(listed_visibilities(listing.with_private)));
    if listing.top_level_only {
        q = q
            .filter(statuses::Column::InReplyToId.is_null())
            .filter(statuses::Column::InReplyToApId.is_null());
    }
    if listing.titled_only {
        q = q.filter(statuses::Column::Title.is_not_null());
    }
    paged(q, page).all(db).await
}

/// How many posts a public group's outbox holds (thread starters anyone may read).
pub async fn count_public_posts(db: &impl ConnectionTrait, group: i64) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    statuses::Entity::find()
        .filter(statuses::Column::GroupId.eq(group))
        .filter(statuses::Column::DeletedAt.is_null())
        .filter(statuses::Column::ReblogOfId.is_null())
        .filter(statuses::Column::InReplyToId.is_null())
        .filter(statuses::Column::InReplyToApId.is_null())
        .filter(statuses::Column::Visibility.is_in(listed_visibilities(false)))
        .count(db)
        .await
}
