//! What a group actor has beyond its actor row: where it sits (parent group),
//! who may see, join and post. A row exists for local groups and for remote
//! groups we know (from their actor document).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "groups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub actor_id: i64,
    /// The group this one is a sub-group of.
    pub parent_id: Option<i64>,
    /// Content reaches members only; never public.
    pub members_only: bool,
    /// open, approval or invite.
    pub join_policy: String,
    /// members or moderators.
    pub posting_policy: String,
    /// The local actor who created it.
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
