//! A poll attached to a post (ActivityPub `Question`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "polls")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    #[sea_orm(unique)]
    pub status_id: i64,
    /// Option titles, in order.
    pub options: Json,
    pub multiple: bool,
    pub expires_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    /// Vote counts a remote server reported, per option (remote polls only).
    pub remote_counts: Option<Json>,
    pub voters_count: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
