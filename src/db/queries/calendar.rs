//! Calendar events, their participants and personal feed tokens. Taking a
//! seat is a conditional update (`going_count < capacity`), and every RSVP
//! first locks its event row, so concurrent answers on SQLite and
//! PostgreSQL alike never put more people on the list than there are seats.

use crate::db::entities::{
    calendar_events::{self, ActiveModel, Column, Entity, Model},
    calendar_feeds, event_participants as parts,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
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

pub async fn by_poll(db: &impl ConnectionTrait, poll_status: i64) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::PollStatusId.eq(poll_status))
        .one(db)
        .await
}

/// (poll status id, event id) for those of `status_ids` that are the RSVP
/// poll of an event.
pub async fn events_of_polls(
    db: &impl ConnectionTrait,
    status_ids: &[i64],
) -> Result<Vec<(i64, i64)>, DbErr> {
    if status_ids.is_empty() {
        return Ok(Vec::new());
    }
    Entity::find()
        .select_only()
        .column(Column::PollStatusId)
        .column(Column::Id)
        .filter(Column::PollStatusId.is_in(status_ids.iter().copied()))
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await
}

pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Take the event's row lock for the rest of the transaction (a no-op
/// write: SQLite takes its write lock, PostgreSQL locks the row). Returns
/// false when there is no such event.
pub async fn lock(db: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    let r = Entity::update_many()
        .col_expr(Column::GoingCount, Expr::col(Column::GoingCount))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Take a seat if one is free; false when the event is full.
pub async fn take_seat(db: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    let r = Entity::update_many()
        .col_expr(Column::GoingCount, Expr::col(Column::GoingCount).add(1))
        .filter(Column::Id.eq(id))
        .filter(
            sea_orm::Condition::any()
                .add(Column::Capacity.is_null())
                .add(Expr::col(Column::GoingCount).lt(Expr::col(Column::Capacity))),
        )
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

pub async fn free_seat(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::GoingCount, Expr::col(Column::GoingCount).sub(1))
        .filter(Column::Id.eq(id))
        .filter(Column::GoingCount.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// What a calendar listing asks for.
#[derive(Debug, Clone, Default)]
pub struct Range {
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    pub group_id: Option<i64>,
    pub organizer_id: Option<i64>,
    pub ids: Option<Vec<i64>>,
    /// Only events organised by actors of these domains (the portal's
    /// members), decided in SQL so that the limit counts only those.
    pub organizer_domains: Option<Vec<String>>,
    pub online: Option<bool>,
    pub local_only: bool,
    pub limit: u64,
}

/// Events overlapping `from..to`, soonest first.
pub async fn list(db: &impl ConnectionTrait, r: &Range) -> Result<Vec<Model>, DbErr> {
    let mut q = Entity::find();
    if let Some(from) = r.from {
        q = q.filter(Column::EndsAt.gte(from));
    }
    if let Some(to) = r.to {
        q = q.filter(Column::StartsAt.lt(to));
    }
    if let Some(g) = r.group_id {
        q = q.filter(Column::GroupId.eq(g));
    }
    if let Some(o) = r.organizer_id {
        q = q.filter(Column::OrganizerId.eq(o));
    }
    if let Some(ids) = &r.ids {
        q = q.filter(Column::Id.is_in(ids.iter().copied()));
    }
    if let Some(domains) = &r.organizer_domains {
        use crate::db::entities::actors;
        q = q.filter(
            Column::OrganizerId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(actors::Column::Id)
                    .from(actors::Entity)
                    .and_where(actors::Column::Domain.is_in(domains.iter().cloned()))
                    .to_owned(),
            ),
        );
    }
    match r.online {
        Some(true) => q = q.filter(Column::OnlineUrl.is_not_null()),
        Some(false) => q = q.filter(Column::LocationName.is_not_null()),
        None => {}
    }
    if r.local_only {
        q = q.filter(Column::Local.eq(true));
    }
    q.order_by_asc(Column::StartsAt)
        .order_by_asc(Column::Id)
        .limit(r.limit.clamp(1, 500))
        .all(db)
        .await
}

/// Local events starting between `from` and `to` whose reminder is not sent.
pub async fn due_reminders(
    db: &impl ConnectionTrait,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::StartsAt.gte(from))
        .filter(Column::StartsAt.lt(to))
        .filter(Column::RemindedAt.is_null())
        .filter(Column::EventStatus.ne("cancelled"))
        .limit(200)
        .all(db)
        .await
}

pub async fn participant(
    db: &impl ConnectionTrait,
    event: i64,
    actor: i64,
) -> Result<Option<parts::Model>, DbErr> {
    parts::Entity::find()
        .filter(parts::Column::EventId.eq(event))
        .filter(parts::Column::ActorId.eq(actor))
        .one(db)
        .await
}

pub async fn participant_by_ap_id(
    db: &impl ConnectionTrait,
    ap_id: &str,
) -> Result<Option<parts::Model>, DbErr> {
    parts::Entity::find()
        .filter(parts::Column::ApId.eq(ap_id))
        .one(db)
        .await
}

pub async fn insert_participant(
    db: &impl ConnectionTrait,
    model: parts::ActiveModel,
) -> Result<parts::Model, DbErr> {
    model.insert(db).await
}

pub async fn update_participant(
    db: &impl ConnectionTrait,
    model: parts::ActiveModel,
) -> Result<parts::Model, DbErr> {
    model.update(db).await
}

/// Participants with one of these statuses, first come first.
pub async fn participants(
    db: &impl ConnectionTrait,
    event: i64,
    statuses: &[&str],
) -> Result<Vec<parts::Model>, DbErr> {
    let mut q = parts::Entity::find().filter(parts::Column::EventId.eq(event));
    if !statuses.is_empty() {
        q = q.filter(parts::Column::Status.is_in(statuses.iter().copied()));
    }
    q.order_by_asc(parts::Column::UpdatedAt)
        .order_by_asc(parts::Column::Id)
        .limit(5000)
        .all(db)
        .await
}

pub async fn count(db: &impl ConnectionTrait, event: i64, status: &str) -> Result<u64, DbErr> {
    parts::Entity::find()
        .filter(parts::Column::EventId.eq(event))
        .filter(parts::Column::Status.eq(status))
        .count(db)
        .await
}

/// Event ids an actor answered with one of these statuses.
pub async fn events_of(
    db: &impl ConnectionTrait,
    actor: i64,
    statuses: &[&str],
) -> Result<Vec<i64>, DbErr> {
    parts::Entity::find()
        .select_only()
        .column(parts::Column::EventId)
        .filter(parts::Column::ActorId.eq(actor))
        .filter(parts::Column::Status.is_in(statuses.iter().copied()))
        .limit(5000)
        .into_tuple()
        .all(db)
        .await
}

pub async fn feed_of(
    db: &impl ConnectionTrait,
    actor: i64,
) -> Result<Option<calendar_feeds::Model>, DbErr> {
    calendar_feeds::Entity::find_by_id(actor).one(db).await
}

pub async fn feed_by_token(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<calendar_feeds::Model>, DbErr> {
    calendar_feeds::Entity::find()
        .filter(calendar_feeds::Column::Token.eq(token))
        .one(db)
        .await
}

pub async fn insert_feed(
    db: &impl ConnectionTrait,
    model: calendar_feeds::ActiveModel,
) -> Result<calendar_feeds::Model, DbErr> {
    model.insert(db).await
}

pub use calendar_events::Model as Event;

/// Count our own members going to a remote event (no seats are ours to give).
pub async fn adjust_going(db: &impl ConnectionTrait, id: i64, delta: i32) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::GoingCount, Expr::col(Column::GoingCount).add(delta))
        .filter(Column::Id.eq(id))
        .filter(Expr::col(Column::GoingCount).add(delta).gte(0))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn participant_by_id(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<parts::Model>, DbErr> {
    parts::Entity::find_by_id(id).one(db).await
}
