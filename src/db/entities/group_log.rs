//! The moderation log of a group: every moderator action, visible to members.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "group_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub group_id: i64,
    pub moderator_id: Option<i64>,
    /// remove_post, lock, unlock, pin, unpin, ban, unban, approve, reject,
    /// invite, kick, role, settings.
    pub action: String,
    pub target_actor_id: Option<i64>,
    pub target_status_id: Option<i64>,
    pub reason: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
