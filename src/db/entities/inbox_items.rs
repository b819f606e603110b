//! An activity received and verified, kept until processed (and afterwards,
//! for a while, so a repeat of the same id is recognised).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbox_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    #[sea_orm(unique)]
    pub ap_id: String,
    pub actor_ap_id: String,
    pub kind: String,
    pub json: String,
    pub received_at: DateTimeUtc,
    pub processed_at: Option<DateTimeUtc>,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
