use crate::db::entities::{
    poll_votes,
    polls::{ActiveModel, Column, Entity, Model},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QuerySelect,
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

pub async fn by_status(db: &impl ConnectionTrait, status_id: i64) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::StatusId.eq(status_id))
        .one(db)
        .await
}

pub async fn of_statuses(
    db: &impl ConnectionTrait,
    status_ids: &[i64],
) -> Result<Vec<Model>, DbErr> {
    if status_ids.is_empty() {
        return Ok(Vec::new());
    }
    Entity::find()
        .filter(Column::StatusId.is_in(status_ids.iter().copied()))
        .all(db)
        .await
}

pub async fn votes(
    db: &impl ConnectionTrait,
    poll_id: i64,
) -> Result<Vec<poll_votes::Model>, DbErr> {
    poll_votes::Entity::find()
        .filter(poll_votes::Column::PollId.eq(poll_id))
        .all(db)
        .await
}

pub async fn votes_of(
    db: &impl ConnectionTrait,
    poll_id: i64,
    actor_id: i64,
) -> Result<Vec<poll_votes::Model>, DbErr> {
    poll_votes::Entity::find()
        .filter(poll_votes::Column::PollId.eq(poll_id))
        .filter(poll_votes::Column::ActorId.eq(actor_id))
        .all(db)
        .await
}

pub async fn insert_vote(
    db: &impl ConnectionTrait,
    model: poll_votes::ActiveModel,
) -> Result<poll_votes::Model, DbErr> {
    model.insert(db).await
}

pub async fn delete_votes_of(
    db: &impl ConnectionTrait,
    poll_id: i64,
    actor_id: i64,
) -> Result<(), DbErr> {
    poll_votes::Entity::delete_many()
        .filter(poll_votes::Column::PollId.eq(poll_id))
        .filter(poll_votes::Column::ActorId.eq(actor_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn voter_count(db: &impl ConnectionTrait, poll_id: i64) -> Result<u64, DbErr> {
    poll_votes::Entity::find()
        .select_only()
        .column(poll_votes::Column::ActorId)
        .distinct()
        .filter(poll_votes::Column::PollId.eq(poll_id))
        .count(db)
        .await
}
