use super::Page;
use crate::db::entities::{
    mentions, status_edits, status_tags,
    statuses::{ActiveModel, Column, Entity, Model},
    tags,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};

mod home;

pub use home::{home, home_with_window};

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

/// A post by its page URL (for search by URL).
pub async fn by_url(db: &impl ConnectionTrait, url: &str) -> Result<Option<Model>, DbErr> {
    Entity::find().filter(Column::Url.eq(url)).one(db).await
}

/// The boost of `status_id` by `actor_id`, if any.
pub async fn reblog_by(
    db: &impl ConnectionTrait,
    actor_id: i64,
    status_id: i64,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::ActorId.eq(actor_id))
        .filter(Column::ReblogOfId.eq(status_id))
        .filter(Column::DeletedAt.is_null())
        .one(db)
        .await
}

pub async fn reblogs_of(
    db: &impl ConnectionTrait,
    status_id: i64,
    page: Page,
) -> Result<Vec<Model>, DbErr> {
    paged(
        Entity::find()
            .filter(Column::ReblogOfId.eq(status_id))
            .filter(Column::DeletedAt.is_null()),
        page,
    )
    .all(db)
    .await
}

/// Which of `status_ids` has `actor` boosted?
pub async fn reblogged_among(
    db: &impl ConnectionTrait,
    actor: i64,
    status_ids: &[i64],
) -> Result<Vec<i64>, DbErr> {
    if status_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(Entity::find()
        .select_only()
        .column(Column::ReblogOfId)
        .filter(Column::ActorId.eq(actor))
        .filter(Column::DeletedAt.is_null())
        .filter(Column::ReblogOfId.is_in(status_ids.iter().copied()))
        .into_tuple::<Option<i64>>()
        .all(db)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

pub async fn replies_to(
    db: &impl ConnectionTrait,
    parent_ids: &[i64],
) -> Result<Vec<Model>, DbErr> {
    if parent_ids.is_empty() {
        return Ok(Vec::new());
    }
    Entity::find()
        .filter(Column::InReplyToId.is_in(parent_ids.iter().copied()))
        .filter(Column::DeletedAt.is_null())
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// Posts that replied to an object before we knew it: linked once it arrives.
pub async fn orphans_of(
    db: &impl ConnectionTrait,
    parent_ap_id: &str,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::InReplyToApId.eq(parent_ap_id))
        .filter(Column::InReplyToId.is_null())
        .all(db)
        .await
}

pub async fn in_context(
    db: &impl ConnectionTrait,
    context: &str,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::Context.eq(context))
        .filter(Column::DeletedAt.is_null())
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub fn paged(q: Select<Entity>, page: Page) -> Select<Entity> {
    page.scroll(q, Column::Id, 200)
}

/// Visible, not deleted.
fn live() -> Condition {
    Condition::all().add(Column::DeletedAt.is_null())
}

/// Public posts (not boosts), optionally only local ones or only remote ones.
pub async fn public(
    db: &impl ConnectionTrait,
    local: Option<bool>,
    page: Page,
) -> Result<Vec<Model>, DbErr> {
    let mut q = Entity::find()
        .filter(live())
        .filter(Column::Visibility.eq("public"))
        .filter(Column::ReblogOfId.is_null());
    if let Some(l) = local {
        q = q.filter(Column::Local.eq(l));
    }
    paged(q, page).all(db).await
}

/// Public posts (not boosts) by accounts of the given servers: the national
/// feed, which carries what the portal's member instances published.
pub async fn public_from_domains(
    db: &impl ConnectionTrait,
    domains: &[String],
    page: Page,
) -> Result<Vec<Model>, DbErr> {
    use crate::db::entities::actors;
    let authors = Query::select()
        .column(actors::Column::Id)
        .from(actors::Entity)
        .and_where(actors::Column::Domain.is_in(domains.iter().cloned()))
        .to_owned();
    let q = Entity::find()
        .filter(live())
        .filter(Column::Visibility.eq("public"))
        .filter(Column::ReblogOfId.is_null())
        .filter(Column::ActorId.in_subquery(authors));
    paged(q, page).all(db).await
}

/// An account's posts with the visibilities the viewer may see.
pub async fn by_actor(
    db: &impl ConnectionTrait,
    actor_id: i64,
    visibilities: &[&str],
    exclude_replies: bool,
    exclude_reblogs: bool,
    page: Page,
) -> Result<Vec<Model>, DbErr> {
    let mut q = Entity::find()
        .filter(live())
        .filter(Column::ActorId.eq(actor_id))
        .filter(Column::Visibility.is_in(visibilities.iter().copied()));
    if exclude_replies {
        q = q
            .filter(Column::InReplyToId.is_null())
            .filter(Column::InReplyToApId.is_null());
    }
    if exclude_reblogs {
        q = q.filter(Column::ReblogOfId.is_null());
    }
    paged(q, page).all(db).await
}

/// How many live posts (and boosts) `actor_id` has with one of `visibilities`.
pub async fn count_by_actor_in(
    db: &impl ConnectionTrait,
    actor_id: i64,
    visibilities: &[&str],
) -> Result<u64, DbErr> {
    Entity::find()
        .filter(live())
        .filter(Column::ActorId.eq(actor_id))
        .filter(Column::Visibility.is_in(visibilities.iter().copied()))
        .count(db)
        .await
}

pub async fn count_by_actor(db: &impl ConnectionTrait, actor_id: i64) -> Result<u64, DbErr> {
    Entity::find()
        .filter(live())
        .filter(Column::ActorId.eq(actor_id))
        .count(db)
        .await
}

pub async fn last_by_actor(
    db: &impl ConnectionTrait,
    actor_id: i64,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(live())
        .filter(Column::ActorId.eq(actor_id))
        .order_by_desc(Column::Id)
        .one(db)
        .await
}

pub async fn count_local(db: &impl ConnectionTrait, replies: bool) -> Result<u64, DbErr> {
    let mut q = Entity::find()
        .filter(live())
        .filter(Column::Local.eq(true))
        .filter(Column::ReblogOfId.is_null());
    q = if replies {
        q.filter(Column::InReplyToApId.is_not_null())
    } else {
        q.filter(Column::InReplyToApId.is_null())
    };
    q.count(db).await
}

/// The languages of this instance's public posts, most used first
/// (aggregates only, for NodeInfo and the portal's directory).
pub async fn local_languages(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<String>, DbErr> {
    let rows: Vec<(Option<String>, i64)> = Entity::find()
        .select_only()
        .column(Column::Language)
        .column_as(Expr::col(Column::Id).count(), "uses")
        .filter(live())
        .filter(Column::Local.eq(true))
        .filter(Column::Visibility.eq("public"))
        .filter(Column::Language.is_not_null())
        .group_by(Column::Language)
        .order_by_desc(Expr::col(Column::Id).count())
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|(l, _)| l).collect())
}

/// Public posts tagged `tag`.
pub async fn tagged(
    db: &impl ConnectionTrait,
    tag: &str,
    local: Option<bool>,
    page: Page,
) -> Result<Vec<Model>, DbErr> {
    let with_tag = Query::select()
        .column(status_tags::Column::StatusId)
        .from(status_tags::Entity)
        .inner_join(
            tags::Entity,
            Expr::col((tags::Entity, tags::Column::Id))
                .equals((status_tags::Entity, status_tags::Column::TagId)),
        )
        .and_where(Expr::col((tags::Entity, tags::Column::Name)).eq(tag.to_lowercase()))
        .to_owned();
    let mut q = Entity::find()
        .filter(live())
        .filter(Column::Visibility.eq("public"))
        .filter(Column::Id.in_subquery(with_tag));
    if let Some(l) = local {
        q = q.filter(Column::Local.eq(l));
    }
    paged(q, page).all(db).await
}

pub async fn adjust_counter(
    db: &impl ConnectionTrait,
    id: i64,
    column: Column,
    delta: i32,
) -> Result<(), DbErr> {
    let mut q = Entity::update_many().filter(Column::Id.eq(id));
    if delta >= 0 {
        q = q.col_expr(column, Expr::col(column).add(delta));
    } else {
        // Never below zero, even if an Undo arrives twice.
        q = q
            .col_expr(column, Expr::col(column).sub(-delta))
            .filter(column.gte(-delta));
    }
    q.exec(db).await?;
    Ok(())
}

pub async fn set_counter(
    db: &impl ConnectionTrait,
    id: i64,
    column: Column,
    value: i32,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(column, Expr::value(value))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn mark_deleted_by_actor(
    db: &impl ConnectionTrait,
    actor_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, DbErr> {
    Ok(Entity::update_many()
        .col_expr(Column::DeletedAt, Expr::value(now))
        .col_expr(Column::Content, Expr::value(""))
        .col_expr(Column::Source, Expr::value(Option::<String>::None))
        .filter(Column::ActorId.eq(actor_id))
        .filter(Column::DeletedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

// --- edits ---

pub async fn add_edit(
    db: &impl ConnectionTrait,
    model: status_edits::ActiveModel,
) -> Result<(), DbErr> {
    model.insert(db).await?;
    Ok(())
}

pub async fn edits(
    db: &impl ConnectionTrait,
    status_id: i64,
) -> Result<Vec<status_edits::Model>, DbErr> {
    status_edits::Entity::find()
        .filter(status_edits::Column::StatusId.eq(status_id))
        .order_by_asc(status_edits::Column::Id)
        .all(db)
        .await
}

// --- mentions ---

pub async fn add_mentions(
    db: &impl ConnectionTrait,
    status_id: i64,
    actor_ids: &[i64],
) -> Result<(), DbErr> {
    if actor_ids.is_empty() {
        return Ok(());
    }
    mentions::Entity::insert_many(actor_ids.iter().map(|a| mentions::ActiveModel {
        status_id: Set(status_id),
        actor_id: Set(*a),
    }))
    .on_conflict(
        OnConflict::columns([mentions::Column::StatusId, mentions::Column::ActorId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn clear_mentions(db: &impl ConnectionTrait, status_id: i64) -> Result<(), DbErr> {
    mentions::Entity::delete_many()
        .filter(mentions::Column::StatusId.eq(status_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn mentioned_actor_ids(
    db: &impl ConnectionTrait,
    status_id: i64,
) -> Result<Vec<i64>, DbErr> {
    Ok(mentions::Entity::find()
        .filter(mentions::Column::StatusId.eq(status_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.actor_id)
        .collect())
}

pub async fn mentions_of(
    db: &impl ConnectionTrait,
    status_ids: &[i64],
) -> Result<Vec<mentions::Model>, DbErr> {
    if status_ids.is_empty() {
        return Ok(Vec::new());
    }
    mentions::Entity::find()
        .filter(mentions::Column::StatusId.is_in(status_ids.iter().copied()))
        .all(db)
        .await
}

pub async fn is_mentioned(
    db: &impl ConnectionTrait,
    status_id: i64,
    actor_id: i64,
) -> Result<bool, DbErr> {
    Ok(mentions::Entity::find_by_id((status_id, actor_id))
        .one(db)
        .await?
        .is_some())
}

// --- tags ---

pub async fn tag_ids(db: &impl ConnectionTrait, names: &[String]) -> Result<Vec<i64>, DbErr> {
    let mut out = Vec::new();
    for name in names {
        let name = name.to_lowercase();
        let existing = tags::Entity::find()
            .filter(tags::Column::Name.eq(name.clone()))
            .one(db)
            .await?;
        let id = match existing {
            Some(t) => t.id,
            None => {
                let id = crate::db::ids::next_id();
                tags::Entity::insert(tags::ActiveModel {
                    id: Set(id),
                    name: Set(name.clone()),
                    created_at: Set(chrono::Utc::now()),
                })
                .on_conflict(
                    OnConflict::column(tags::Column::Name)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(db)
                .await?;
                tags::Entity::find()
                    .filter(tags::Column::Name.eq(name))
                    .one(db)
                    .await?
                    .map(|t| t.id)
                    .unwrap_or(id)
            }
        };
        out.push(id);
    }
    Ok(out)
}

pub async fn set_tags(
    db: &impl ConnectionTrait,
    status_id: i64,
    names: &[String],
) -> Result<(), DbErr> {
    status_tags::Entity::delete_many()
        .filter(status_tags::Column::StatusId.eq(status_id))
        .exec(db)
        .await?;
    let ids = tag_ids(db, names).await?;
    if ids.is_empty() {
        return Ok(());
    }
    status_tags::Entity::insert_many(ids.into_iter().map(|t| status_tags::ActiveModel {
        status_id: Set(status_id),
        tag_id: Set(t),
    }))
    .on_conflict(
        OnConflict::columns([status_tags::Column::StatusId, status_tags::Column::TagId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Tag names of many posts at once: (status id, name).
pub async fn tags_of(
    db: &impl ConnectionTrait,
    status_ids: &[i64],
) -> Result<Vec<(i64, String)>, DbErr> {
    if status_ids.is_empty() {
        return Ok(Vec::new());
    }
    let links = status_tags::Entity::find()
        .filter(status_tags::Column::StatusId.is_in(status_ids.iter().copied()))
        .all(db)
        .await?;
    let tag_ids: Vec<i64> = links.iter().map(|l| l.tag_id).collect();
    let names: std::collections::HashMap<i64, String> = tags::Entity::find()
        .filter(tags::Column::Id.is_in(tag_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    Ok(links
        .into_iter()
        .filter_map(|l| names.get(&l.tag_id).map(|n| (l.status_id, n.clone())))
        .collect())
}
