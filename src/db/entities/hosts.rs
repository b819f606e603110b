//! A remote server we have dealt with: delivery health and blocks.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hosts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub domain: String,
    pub first_seen_at: DateTimeUtc,
    pub last_success_at: Option<DateTimeUtc>,
    pub last_failure_at: Option<DateTimeUtc>,
    pub failure_count: i32,
    pub dead_since: Option<DateTimeUtc>,
    pub blocked: bool,
    pub software: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
