use crate::db::entities::{access_tokens, oauth_apps, oauth_codes};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};

pub async fn insert_app(
    db: &impl ConnectionTrait,
    m: oauth_apps::ActiveModel,
) -> Result<oauth_apps::Model, DbErr> {
    m.insert(db).await
}

pub async fn app_by_client_id(
    db: &impl ConnectionTrait,
    client_id: &str,
) -> Result<Option<oauth_apps::Model>, DbErr> {
    oauth_apps::Entity::find()
        .filter(oauth_apps::Column::ClientId.eq(client_id))
        .one(db)
        .await
}

pub async fn app(db: &impl ConnectionTrait, id: i64) -> Result<Option<oauth_apps::Model>, DbErr> {
    oauth_apps::Entity::find_by_id(id).one(db).await
}

pub async fn insert_code(
    db: &impl ConnectionTrait,
    m: oauth_codes::ActiveModel,
) -> Result<oauth_codes::Model, DbErr> {
    m.insert(db).await
}

pub async fn code_by_hash(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<oauth_codes::Model>, DbErr> {
    oauth_codes::Entity::find()
        .filter(oauth_codes::Column::CodeHash.eq(hash))
        .one(db)
        .await
}

/// Use a code once; false if it was used already.
pub async fn use_code(
    db: &impl ConnectionTrait,
    id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    Ok(oauth_codes::Entity::update_many()
        .col_expr(oauth_codes::Column::UsedAt, Expr::value(now))
        .filter(oauth_codes::Column::Id.eq(id))
        .filter(oauth_codes::Column::UsedAt.is_null())
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Live tokens a member has given to apps, newest first.
pub async fn member_app_tokens(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<Vec<access_tokens::Model>, DbErr> {
    access_tokens::Entity::find()
        .filter(access_tokens::Column::AccountId.eq(account_id))
        .filter(access_tokens::Column::AppId.is_not_null())
        .filter(access_tokens::Column::RevokedAt.is_null())
        .order_by_desc(access_tokens::Column::Id)
        .all(db)
        .await
}

pub async fn revoke_app_for_member(
    db: &impl ConnectionTrait,
    account_id: i64,
    app_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, DbErr> {
    Ok(access_tokens::Entity::update_many()
        .col_expr(access_tokens::Column::RevokedAt, Expr::value(now))
        .filter(access_tokens::Column::AccountId.eq(account_id))
        .filter(access_tokens::Column::AppId.eq(app_id))
        .filter(access_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}
