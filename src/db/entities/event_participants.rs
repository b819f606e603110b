//! Someone's answer to an event: going, maybe, not going, or waiting for
//! the organisers (approval), a seat (waiting list) or their own answer
//! (invited).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "event_participants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub event_id: i64,
    pub actor_id: i64,
    /// going, maybe, not_going, pending, waiting, invited or rejected.
    pub status: String,
    /// The Join (or Accept) activity that carried it, for answers.
    pub ap_id: Option<String>,
    /// What the person told the organisers when asking to join.
    pub message: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
