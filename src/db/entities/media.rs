use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "media")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub account_id: Option<i64>,
    /// Key in the object store (local files never use names from users).
    pub storage_key: String,
    pub content_type: String,
    pub size: i64,
    pub description: Option<String>,
    pub focus_x: Option<f64>,
    pub focus_y: Option<f64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub remote_url: Option<String>,
    pub created_at: DateTimeUtc,
    /// The post it is attached to, once posted.
    pub status_id: Option<i64>,
    pub position: i32,
    /// image, video, audio, gifv or unknown (Mastodon's attachment types).
    pub kind: String,
    pub blurhash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
