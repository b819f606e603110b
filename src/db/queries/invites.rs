use crate::db::entities::invites::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder,
    sea_query::{Expr, ExprTrait},
};

pub async fn insert(db: &impl ConnectionTrait, model: ActiveModel) -> Result<Model, DbErr> {
    model.insert(db).await
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

pub async fn by_code(db: &impl ConnectionTrait, code: &str) -> Result<Option<Model>, DbErr> {
    Entity::find().filter(Column::Code.eq(code)).one(db).await
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<Model>, DbErr> {
    Entity::find().order_by_desc(Column::Id).all(db).await
}

pub async fn revoke(
    db: &impl ConnectionTrait,
    id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, DbErr> {
    Ok(Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Count one use of a still-valid invite. Returns false when the invite was
/// used up, revoked or expired in the meantime: the check and the increment are
/// one statement so two sign-ups cannot both take the last use.
pub async fn consume(
    db: &impl ConnectionTrait,
    id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::Uses, Expr::col(Column::Uses).add(1))
        .filter(Column::Id.eq(id))
        .filter(Column::RevokedAt.is_null())
        .filter(
            Condition::any()
                .add(Column::ExpiresAt.is_null())
                .add(Column::ExpiresAt.gt(now)),
        )
        .filter(
            Condition::any()
                .add(Column::MaxUses.is_null())
                .add(Expr::col(Column::Uses).lt(Expr::col(Column::MaxUses))),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
