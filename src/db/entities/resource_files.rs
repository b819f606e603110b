//! A file or an external link of a resource. Rows are never changed: a
//! revision lists the rows it had, so older revisions keep their files.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resource_files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub resource_id: i64,
    /// file or link.
    pub kind: String,
    /// The sanitised file name, or the link's title.
    pub name: String,
    /// Key in the object store (local files; generated, never from a user).
    pub storage_key: Option<String>,
    /// A link, or a remote resource's file at its origin.
    pub remote_url: Option<String>,
    /// Detected from the content (local files).
    pub content_type: String,
    pub size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub sha256: String,
    /// Order among the resource's files.
    pub position: i32,
    /// The revision that dropped it; None while it is current.
    pub removed_in: Option<i32>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
