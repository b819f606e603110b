//! A post: a Note (short post) or an Article (titled post), local or remote;
//! also boosts (`reblog_of_id` set, empty content), as Mastodon stores them.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "statuses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    #[sea_orm(unique)]
    pub ap_id: String,
    /// HTML page.
    pub url: Option<String>,
    pub actor_id: i64,
    /// ActivityStreams type: Note, Article, Page, Question, Announce (boost).
    pub kind: String,
    pub title: Option<String>,
    /// Sanitised HTML.
    pub content: String,
    /// Markdown the author wrote (local posts).
    pub source: Option<String>,
    /// Content warning; empty when none.
    pub spoiler_text: String,
    pub sensitive: bool,
    pub language: Option<String>,
    /// public, unlisted, private (followers only) or direct.
    pub visibility: String,
    pub in_reply_to_id: Option<i64>,
    pub in_reply_to_ap_id: Option<String>,
    pub in_reply_to_actor_id: Option<i64>,
    /// Thread identifier (ActivityPub `context`), shared by a whole conversation.
    pub context: Option<String>,
    pub reblog_of_id: Option<i64>,
    /// `{"to": [...], "cc": [...]}` as addressed.
    pub addressing: Json,
    pub local: bool,
    pub replies_count: i32,
    pub reblogs_count: i32,
    pub favourites_count: i32,
    pub published: DateTimeUtc,
    pub edited_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
    /// The group (local or remote actor) the post belongs to.
    pub group_id: Option<i64>,
    /// A locked thread takes no new replies.
    pub locked: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
