//! What the portal knows of a member instance beyond the follow: its last
//! NodeInfo document (JSON text), when it was last heard from, and whether
//! the portal's admins suspended it.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "portal_instances")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub domain: String,
    pub nodeinfo: String,
    pub fetched_at: Option<DateTimeUtc>,
    pub last_seen_at: Option<DateTimeUtc>,
    /// While set, the instance's applications are refused.
    pub suspended_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
