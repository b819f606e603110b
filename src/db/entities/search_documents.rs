//! A searchable copy of a post, resource, event or group: the text the search
//! index reads, and what the results are filtered by. The index itself
//! (FTS5 or a `tsvector`) is kept in step by the database.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "search_documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    /// post, resource, event, group.
    pub kind: String,
    pub item_id: i64,
    pub title: String,
    /// Plain text.
    pub body: String,
    /// Hashtags, subjects, levels, attribution: space-separated words.
    pub tags: String,
    pub language: Option<String>,
    /// Anyone may see it; otherwise callers check who may.
    pub public: bool,
    pub group_id: Option<i64>,
    /// host[:port] of the server it comes from.
    pub origin: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
