//! One revision of a resource: a JSON snapshot of its metadata and the ids
//! of its files, numbered from 1.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resource_revisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub resource_id: i64,
    pub number: i32,
    /// Who made it (None for remote revisions).
    pub editor_id: Option<i64>,
    /// What the editor said about the change.
    pub note: String,
    pub snapshot: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
