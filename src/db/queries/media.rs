use crate::db::entities::media::{ActiveModel, Entity, Model};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait};

pub async fn insert(db: &impl ConnectionTrait, model: ActiveModel) -> Result<Model, DbErr> {
    model.insert(db).await
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

pub async fn update(db: &impl ConnectionTrait, model: ActiveModel) -> Result<Model, DbErr> {
    model.update(db).await
}

/// The attachments of posts, in order.
pub async fn of_statuses(
    db: &impl ConnectionTrait,
    status_ids: &[i64],
) -> Result<Vec<Model>, DbErr> {
    use crate::db::entities::media::Column;
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    if status_ids.is_empty() {
        return Ok(Vec::new());
    }
    Entity::find()
        .filter(Column::StatusId.is_in(status_ids.iter().copied()))
        .order_by_asc(Column::Position)
        .all(db)
        .await
}

/// Attach uploads to a post, in order, detaching the ones no longer listed.
pub async fn attach(
    db: &impl ConnectionTrait,
    status_id: i64,
    media_ids: &[i64],
) -> Result<(), DbErr> {
    use crate::db::entities::media::Column;
    use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
    Entity::update_many()
        .col_expr(Column::StatusId, Expr::value(Option::<i64>::None))
        .filter(Column::StatusId.eq(status_id))
        .exec(db)
        .await?;
    for (pos, id) in media_ids.iter().enumerate() {
        Entity::update_many()
            .col_expr(Column::StatusId, Expr::value(status_id))
            .col_expr(Column::Position, Expr::value(pos as i32))
            .filter(Column::Id.eq(*id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Replace the attachments of a remote post with the ones it now lists.
pub async fn replace_remote(
    db: &impl ConnectionTrait,
    status_id: i64,
    rows: Vec<ActiveModel>,
) -> Result<(), DbErr> {
    use crate::db::entities::media::Column;
    use sea_orm::{ColumnTrait, QueryFilter};
    Entity::delete_many()
        .filter(Column::StatusId.eq(status_id))
        .exec(db)
        .await?;
    for r in rows {
        r.insert(db).await?;
    }
    Ok(())
}
