//! Every ActivityPub actor we know: local people, groups and the instance actor,
//! and remote ones. Only public profile data lives here; the private registry is
//! in `accounts`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "actors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    #[sea_orm(unique)]
    pub ap_id: String,
    /// ActivityStreams type: Person, Group, Application, Service, Organization.
    pub kind: String,
    pub username: String,
    /// host[:port] of the actor's home instance (ours for local actors).
    pub domain: String,
    pub local: bool,
    pub display_name: String,
    /// Sanitised HTML.
    pub summary: String,
    /// Markdown the member wrote (local actors only).
    pub summary_source: Option<String>,
    pub url: Option<String>,
    pub inbox_url: String,
    pub shared_inbox_url: Option<String>,
    pub outbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub following_url: Option<String>,
    pub featured_url: Option<String>,
    pub avatar_url: Option<String>,
    pub header_url: Option<String>,
    pub avatar_media_id: Option<i64>,
    pub header_media_id: Option<i64>,
    pub public_key_pem: String,
    pub private_key_pem: Option<String>,
    pub manually_approves_followers: bool,
    pub discoverable: bool,
    pub indexable: bool,
    pub bot: bool,
    /// `[{"name": .., "value": ..}]` profile fields.
    pub fields: Json,
    /// Subjects taught, free strings.
    pub subjects: Json,
    /// Language codes.
    pub languages: Json,
    pub account_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_refreshed_at: Option<DateTimeUtc>,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
