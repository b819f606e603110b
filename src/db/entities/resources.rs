//! A teaching resource, local or remote: what it is (title, Markdown
//! description, licence, attribution), who owns it (a person or a group),
//! who may see it, and its counters. Labels, files, revisions and co-editors
//! have tables of their own.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "resources")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub ap_id: String,
    /// The HTML page (for remote ones, at their origin).
    pub url: Option<String>,
    /// The actor that owns it: a person, or a group.
    pub owner_id: i64,
    /// The group it belongs to (its audience).
    pub group_id: Option<i64>,
    pub title: String,
    /// Markdown as written (local); empty for remote ones.
    pub description: String,
    /// Sanitised HTML.
    pub description_html: String,
    /// An SPDX id or `all-rights-reserved`.
    pub licence: String,
    pub attribution: String,
    /// JSON array of author names.
    pub authors: String,
    /// public, instance or group.
    pub visibility: String,
    /// draft or published.
    pub state: String,
    pub derived_from_id: Option<i64>,
    pub derived_from_ap_id: Option<String>,
    pub local: bool,
    /// host[:port] of the server it comes from.
    pub origin: String,
    /// The number of the current revision.
    pub revision: i32,
    pub download_count: i64,
    pub remix_count: i64,
    pub published_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
