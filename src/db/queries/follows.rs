use super::Page;
use crate::db::entities::follows::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};

pub async fn insert(db: &impl ConnectionTrait, model: ActiveModel) -> Result<Model, DbErr> {
    model.insert(db).await
}

pub async fn get(
    db: &impl ConnectionTrait,
    follower: i64,
    followee: i64,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::FollowerId.eq(follower))
        .filter(Column::FolloweeId.eq(followee))
        .one(db)
        .await
}

pub async fn by_ap_id(db: &impl ConnectionTrait, ap_id: &str) -> Result<Option<Model>, DbErr> {
    Entity::find().filter(Column::ApId.eq(ap_id)).one(db).await
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

pub async fn set_state(db: &impl ConnectionTrait, id: i64, state: &str) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::State, Expr::value(state))
        .col_expr(Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

pub async fn delete_pair(db: &impl ConnectionTrait, a: i64, b: i64) -> Result<Vec<Model>, DbErr> {
    let rows = Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(Column::FollowerId.eq(a))
                        .add(Column::FolloweeId.eq(b)),
                )
                .add(
                    sea_orm::Condition::all()
                        .add(Column::FollowerId.eq(b))
                        .add(Column::FolloweeId.eq(a)),
                ),
        )
        .all(db)
        .await?;
    for r in &rows {
        Entity::delete_by_id(r.id).exec(db).await?;
    }
    Ok(rows)
}

/// Follow rows where `actor` is followed (state filter optional), newest first.
pub async fn followers(
    db: &impl ConnectionTrait,
    actor: i64,
    state: &str,
    page: Page,
) -> Result<Vec<Model>, DbErr> {
    let q = Entity::find()
        .filter(Column::FolloweeId.eq(actor))
        .filter(Column::State.eq(state));
    page.newest_first(q, Column::Id, 1000).all(db).await
}

pub async fn following(
    db: &impl ConnectionTrait,
    actor: i64,
    page: Page,
) -> Result<Vec<Model>, DbErr> {
    let q = Entity::find()
        .filter(Column::FollowerId.eq(actor))
        .filter(Column::State.eq("accepted"));
    page.newest_first(q, Column::Id, 1000).all(db).await
}

/// Every follow `actor` made, accepted or still pending, newest first.
pub async fn outgoing(
    db: &impl ConnectionTrait,
    actor: i64,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::FollowerId.eq(actor))
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn count_followers(db: &impl ConnectionTrait, actor: i64) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::FolloweeId.eq(actor))
        .filter(Column::State.eq("accepted"))
        .count(db)
        .await
}

pub async fn count_following(db: &impl ConnectionTrait, actor: i64) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::FollowerId.eq(actor))
        .filter(Column::State.eq("accepted"))
        .count(db)
        .await
}

pub async fn count_requests(db: &impl ConnectionTrait, actor: i64) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::FolloweeId.eq(actor))
        .filter(Column::State.eq("pending"))
        .count(db)
        .await
}

/// Every accepted follower of `actor` (for delivery).
pub async fn all_follower_ids(db: &impl ConnectionTrait, actor: i64) -> Result<Vec<i64>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::FollowerId)
        .filter(Column::FolloweeId.eq(actor))
        .filter(Column::State.eq("accepted"))
        .into_tuple::<i64>()
        .all(db)
        .await
}
