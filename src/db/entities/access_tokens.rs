use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    /// SHA-256 (hex) of the bearer token.
    #[sea_orm(unique)]
    pub token_hash: String,
    pub refresh_token_hash: Option<String>,
    /// None for client-credentials tokens (an app acting as itself).
    pub account_id: Option<i64>,
    pub app_id: Option<i64>,
    /// Space-separated OAuth scopes.
    pub scopes: String,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
