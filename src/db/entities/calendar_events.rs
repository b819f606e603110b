//! A calendar event. Its id is the id of the `statuses` row (kind `Event`)
//! that carries its public text and addressing; this row holds what makes it
//! an event: times, place, capacity and how people join.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    /// The person who organises it (for remote events, the object's author).
    pub organizer_id: i64,
    /// The group it is organised in.
    pub group_id: Option<i64>,
    pub title: String,
    /// Markdown the organiser wrote (local events).
    pub description_source: Option<String>,
    /// Sanitised HTML.
    pub description: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    /// IANA zone name the times were given in, e.g. `Europe/Paris`.
    pub timezone: String,
    pub all_day: bool,
    pub location_name: Option<String>,
    pub location_address: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub online_url: Option<String>,
    /// Only participants see `online_url`.
    pub online_participants_only: bool,
    /// Most people who may be going; None: no limit.
    pub capacity: Option<i32>,
    /// When full, later RSVPs wait for a seat instead of being refused.
    pub waiting_list: bool,
    /// free, approval or invitation.
    pub join_mode: String,
    /// confirmed, tentative or cancelled.
    pub event_status: String,
    /// Tag names, without `#`.
    pub tags: Json,
    pub language: Option<String>,
    /// public, instance or group.
    pub visibility: String,
    /// People going, kept in step with `event_participants` so that taking
    /// a seat is one conditional update.
    pub going_count: i32,
    /// What a remote event's server reports.
    pub remote_participant_count: Option<i32>,
    /// The Going / Maybe / Can't go poll sent alongside (for Mastodon).
    pub poll_status_id: Option<i64>,
    pub local: bool,
    pub reminded_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
