use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    /// The Flag's id: the sender's for a received report, ours once
    /// forwarded.
    pub ap_id: Option<String>,
    /// A local member, or the remote actor (often a server's instance
    /// actor) that sent the Flag.
    pub reporter_id: i64,
    /// The account reported.
    pub target_id: i64,
    /// JSON list of the reported posts' ids (`statuses.id`).
    pub status_ids: String,
    pub comment: String,
    /// `spam`, `legal`, `violation` or `other` (Mastodon's categories).
    pub category: String,
    pub forwarded_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolved_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
