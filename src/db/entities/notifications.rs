use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    /// A local actor.
    pub recipient_id: i64,
    /// follow, follow_request, mention, reblog, favourite, status, update.
    pub kind: String,
    pub from_actor_id: i64,
    pub status_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
    /// The group a join request or invitation is about.
    pub group_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
