//! Resources: rows, labels, files, revisions, co-editors, and the library
//! listing with its filters and sorts.

use crate::db::entities::{
    follows, group_roles, resource_editors, resource_files, resource_labels, resource_revisions,
    resources,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, ExprTrait,
    QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};

pub async fn insert(
    db: &impl ConnectionTrait,
    m: resources::ActiveModel,
) -> Result<resources::Model, DbErr> {
    m.insert(db).await
}

pub async fn update(
    db: &impl ConnectionTrait,
    m: resources::ActiveModel,
) -> Result<resources::Model, DbErr> {
    m.update(db).await
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<resources::Model>, DbErr> {
    resources::Entity::find_by_id(id).one(db).await
}

pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<resources::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    resources::Entity::find()
        .filter(resources::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

pub async fn by_ap_id(
    db: &impl ConnectionTrait,
    ap_id: &str,
) -> Result<Option<resources::Model>, DbErr> {
    resources::Entity::find()
        .filter(resources::Column::ApId.eq(ap_id))
        .one(db)
        .await
}

/// Add `delta` to a counter (downloads or remixes), never below zero.
pub async fn bump(
    db: &impl ConnectionTrait,
    id: i64,
    column: resources::Column,
    delta: i64,
) -> Result<(), DbErr> {
    resources::Entity::update_many()
        .col_expr(column, Expr::col(column).add(delta))
        .filter(resources::Column::Id.eq(id))
        .exec(db)
        .await?;
    if delta < 0 {
        resources::Entity::update_many()
            .col_expr(column, Expr::value(0i64))
            .filter(resources::Column::Id.eq(id))
            .filter(column.lt(0))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Replace every label of a resource.
pub async fn set_labels(
    db: &impl ConnectionTrait,
    resource_id: i64,
    labels: &[(&str, String)],
) -> Result<(), DbErr> {
    resource_labels::Entity::delete_many()
        .filter(resource_labels::Column::ResourceId.eq(resource_id))
        .exec(db)
        .await?;
    for (kind, value) in labels {
        resource_labels::ActiveModel {
            id: sea_orm::ActiveValue::Set(crate::db::ids::next_id()),
            resource_id: sea_orm::ActiveValue::Set(resource_id),
            kind: sea_orm::ActiveValue::Set((*kind).to_string()),
            value: sea_orm::ActiveValue::Set(value.clone()),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

pub async fn labels_of(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<resource_labels::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    resource_labels::Entity::find()
        .filter(resource_labels::Column::ResourceId.is_in(ids.iter().copied()))
        .order_by_asc(resource_labels::Column::Id)
        .all(db)
        .await
}

pub async fn insert_file(
    db: &impl ConnectionTrait,
    m: resource_files::ActiveModel,
) -> Result<resource_files::Model, DbErr> {
    m.insert(db).await
}

pub async fn file(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<resource_files::Model>, DbErr> {
    resource_files::Entity::find_by_id(id).one(db).await
}

pub async fn files(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<resource_files::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    resource_files::Entity::find()
        .filter(resource_files::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// The current files and links of resources, in order.
pub async fn current_files(
    db: &impl ConnectionTrait,
    resource_ids: &[i64],
) -> Result<Vec<resource_files::Model>, DbErr> {
    if resource_ids.is_empty() {
        return Ok(Vec::new());
    }
    resource_files::Entity::find()
        .filter(resource_files::Column::ResourceId.is_in(resource_ids.iter().copied()))
        .filter(resource_files::Column::RemovedIn.is_null())
        .order_by_asc(resource_files::Column::Position)
        .order_by_asc(resource_files::Column::Id)
        .all(db)
        .await
}

/// Every file a resource ever had (to empty the store when it is deleted).
pub async fn all_files_of(
    db: &impl ConnectionTrait,
    resource_id: i64,
) -> Result<Vec<resource_files::Model>, DbErr> {
    resource_files::Entity::find()
        .filter(resource_files::Column::ResourceId.eq(resource_id))
        .all(db)
        .await
}

/// Mark files as dropped by a revision, and reorder the ones kept.
pub async fn retire_files(
    db: &impl ConnectionTrait,
    ids: &[i64],
    revision: i32,
) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    resource_files::Entity::update_many()
        .col_expr(resource_files::Column::RemovedIn, Expr::value(revision))
        .filter(resource_files::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn set_file_position(db: &impl ConnectionTrait, id: i64, pos: i32) -> Result<(), DbErr> {
    resource_files::Entity::update_many()
        .col_expr(resource_files::Column::Position, Expr::value(pos))
        .filter(resource_files::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete_files_of(db: &impl ConnectionTrait, resource_id: i64) -> Result<(), DbErr> {
    resource_files::Entity::delete_many()
        .filter(resource_files::Column::ResourceId.eq(resource_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn insert_revision(
    db: &impl ConnectionTrait,
    m: resource_revisions::ActiveModel,
) -> Result<resource_revisions::Model, DbErr> {
    m.insert(db).await
}

/// Every revision, newest first.
pub async fn revisions(
    db: &impl ConnectionTrait,
    resource_id: i64,
) -> Result<Vec<resource_revisions::Model>, DbErr> {
    resource_revisions::Entity::find()
        .filter(resource_revisions::Column::ResourceId.eq(resource_id))
        .order_by_desc(resource_revisions::Column::Number)
        .all(db)
        .await
}

pub async fn revision(
    db: &impl ConnectionTrait,
    resource_id: i64,
    number: i32,
) -> Result<Option<resource_revisions::Model>, DbErr> {
    resource_revisions::Entity::find()
        .filter(resource_revisions::Column::ResourceId.eq(resource_id))
        .filter(resource_revisions::Column::Number.eq(number))
        .one(db)
        .await
}

pub async fn editors(db: &impl ConnectionTrait, resource_id: i64) -> Result<Vec<i64>, DbErr> {
    Ok(resource_editors::Entity::find()
        .filter(resource_editors::Column::ResourceId.eq(resource_id))
        .order_by_asc(resource_editors::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.actor_id)
        .collect())
}

pub async fn set_editors(
    db: &impl ConnectionTrait,
    resource_id: i64,
    actor_ids: &[i64],
) -> Result<(), DbErr> {
    resource_editors::Entity::delete_many()
        .filter(resource_editors::Column::ResourceId.eq(resource_id))
        .exec(db)
        .await?;
    for id in actor_ids {
        resource_editors::ActiveModel {
            resource_id: sea_orm::ActiveValue::Set(resource_id),
            actor_id: sea_orm::ActiveValue::Set(*id),
            created_at: sea_orm::ActiveValue::Set(chrono::Utc::now()),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Resources remixed from this one, newest first.
pub async fn remixes(
    db: &impl ConnectionTrait,
    resource_id: i64,
) -> Result<Vec<resources::Model>, DbErr> {
    resources::Entity::find()
        .filter(resources::Column::DerivedFromId.eq(resource_id))
        .filter(resources::Column::DeletedAt.is_null())
        .order_by_desc(resources::Column::Id)
        .limit(200)
        .all(db)
        .await
}

/// Remote remixes that name a source by its ActivityPub id only.
pub async fn derived_from_ap_id(
    db: &impl ConnectionTrait,
    ap_id: &str,
) -> Result<Vec<resources::Model>, DbErr> {
    resources::Entity::find()
        .filter(resources::Column::DerivedFromApId.eq(ap_id))
        .filter(resources::Column::DerivedFromId.is_null())
        .all(db)
        .await
}

/// Groups a person belongs to: accepted follows of groups and roles.
pub async fn member_group_ids(db: &impl ConnectionTrait, actor_id: i64) -> Result<Vec<i64>, DbErr> {
    let mut ids: Vec<i64> = follows::Entity::find()
        .filter(follows::Column::FollowerId.eq(actor_id))
        .filter(follows::Column::State.eq("accepted"))
        .all(db)
        .await?
        .into_iter()
        .map(|f| f.followee_id)
        .collect();
    ids.extend(
        group_roles::Entity::find()
            .filter(group_roles::Column::ActorId.eq(actor_id))
            .all(db)
            .await?
            .into_iter()
            .map(|r| r.group_id),
    );
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Newest,
    Downloads,
    Remixes,
}

/// What the library lists. Visibility is decided by the caller and given
/// here as the set of rows the viewer may see.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only these ids (the hits of a text search), when given.
    pub ids: Option<Vec<i64>>,
    pub subject: Option<String>,
    pub level: Option<String>,
    pub language: Option<String>,
    pub licence: Option<String>,
    pub group_id: Option<i64>,
    pub origin: Option<String>,
    pub owner_id: Option<i64>,
    /// Drafts of this actor (owner or co-editor) are listed too.
    pub drafts_of: Option<i64>,
    /// The viewer is a member of this instance.
    pub member: bool,
    /// Groups whose members-only resources the viewer may see.
    pub groups: Vec<i64>,
    pub sort: Sort,
    pub limit: u64,
    pub offset: u64,
}

fn label(kind: &str, value: &str) -> sea_orm::sea_query::SimpleExpr {
    resources::Column::Id.in_subquery(
        sea_orm::sea_query::Query::select()
            .column(resource_labels::Column::ResourceId)
            .from(resource_labels::Entity)
            .and_where(resource_labels::Column::Kind.eq(kind))
            .and_where(resource_labels::Column::Value.eq(value))
            .to_owned(),
    )
}

pub async fn list(db: &impl ConnectionTrait, f: &Filter) -> Result<Vec<resources::Model>, DbErr> {
    use resources::Column as C;
    let mut q = resources::Entity::find().filter(C::DeletedAt.is_null());
    if let Some(ids) = &f.ids {
        q = q.filter(C::Id.is_in(ids.iter().copied()));
    }
    let mut visible = Condition::any().add(C::Visibility.eq("public"));
    if f.member {
        visible = visible.add(
            Condition::all()
                .add(C::Visibility.eq("instance"))
                .add(C::Local.eq(true)),
        );
    }
    if !f.groups.is_empty() {
        visible = visible.add(
            Condition::all()
                .add(C::Visibility.eq("group"))
                .add(C::GroupId.is_in(f.groups.iter().copied())),
        );
    }
    let published = Condition::all().add(C::State.eq("published")).add(visible);
    let mut shown = Condition::any().add(published);
    if let Some(me) = f.drafts_of {
        let editable = Condition::any().add(C::OwnerId.eq(me)).add(
            C::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(resource_editors::Column::ResourceId)
                    .from(resource_editors::Entity)
                    .and_where(resource_editors::Column::ActorId.eq(me))
                    .to_owned(),
            ),
        );
        shown = shown.add(editable);
    }
    q = q.filter(shown);
    if let Some(s) = &f.subject {
        q = q.filter(label("subject", s));
    }
    if let Some(l) = &f.level {
        q = q.filter(label("level", l));
    }
    if let Some(l) = &f.language {
        q = q.filter(label("language", l));
    }
    if let Some(l) = &f.licence {
        q = q.filter(C::Licence.eq(l.as_str()));
    }
    if let Some(g) = f.group_id {
        q = q.filter(C::GroupId.eq(g));
    }
    if let Some(o) = &f.origin {
        q = q.filter(C::Origin.eq(o.as_str()));
    }
    if let Some(o) = f.owner_id {
        q = q.filter(C::OwnerId.eq(o));
    }
    q = match f.sort {
        Sort::Newest => q.order_by_desc(C::Id),
        Sort::Downloads => q.order_by_desc(C::DownloadCount).order_by_desc(C::Id),
        Sort::Remixes => q.order_by_desc(C::RemixCount).order_by_desc(C::Id),
    };
    q.limit(f.limit.clamp(1, 200))
        .offset(f.offset)
        .all(db)
        .await
}
