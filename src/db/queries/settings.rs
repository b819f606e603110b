use crate::db::entities::instance_settings::{ActiveModel, Column, Entity};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::OnConflict,
};

pub async fn get(db: &impl ConnectionTrait, key: &str) -> Result<Option<String>, DbErr> {
    Ok(Entity::find()
        .filter(Column::Key.eq(key))
        .one(db)
        .await?
        .map(|m| m.value))
}

pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<(String, String)>, DbErr> {
    Ok(Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.key, m.value))
        .collect())
}

pub async fn set(db: &impl ConnectionTrait, key: &str, value: &str) -> Result<(), DbErr> {
    Entity::insert(ActiveModel {
        key: Set(key.to_string()),
        value: Set(value.to_string()),
    })
    .on_conflict(
        OnConflict::column(Column::Key)
            .update_column(Column::Value)
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}
