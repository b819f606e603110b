//! Posts as ActivityStreams objects: `ApubStatus` wraps a `statuses` row for
//! the federation library; `Note` is the document for Note, Article, Page and
//! other post-like types (lenient on input, complete on output).
//!
//! Mastodon shows `content` for a Note but only `name`, `summary` and `url`
//! for an Article, so our Articles carry a plain-text excerpt in `summary`
//! (a content warning only when `sensitive` is set).

use crate::{
    app::AppState,
    db::{
        entities::{actors, statuses},
        queries,
    },
    domain::{
        posts::{self, RemotePost, Visibility},
        text,
    },
    federation::{
        actors::ApubActor,
        error::FedError,
        groups,
        protocol::{PUBLIC, id_of, ids_of, lenient, lenient_url, one_or_many, same_origin},
    },
};
use activitypub_federation::{config::Data, fetch::object_id::ObjectId, traits::Object};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};
use url::Url;

/// Types we store as posts.
pub const POST_TYPES: &[&str] = &[
    "Note", "Article", "Page", "Question", "Event", "Video", "Image", "Audio",
];

#[derive(Debug, Clone)]
pub struct ApubStatus {
    pub model: statuses::Model,
    id: Url,
}

impl ApubStatus {
    pub fn new(model: statuses::Model) -> Result<Self, FedError> {
        let id = Url::parse(&model.ap_id)?;
        Ok(Self { model, id })
    }
}

fn addresses<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.as_ref().map(ids_of).unwrap_or_default())
}

/// A post-like object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Url,
    pub attributed_to: Value,
    #[serde(default, deserialize_with = "addresses")]
    pub to: Vec<String>,
    #[serde(default, deserialize_with = "addresses")]
    pub cc: Vec<String>,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub content: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub content_map: Option<Map<String, Value>>,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub summary: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub sensitive: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<Value>,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub published: Option<DateTime<Utc>>,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated: Option<DateTime<Utc>>,
    #[serde(
        default,
        deserialize_with = "lenient_url",
        skip_serializing_if = "Option::is_none"
    )]
    pub url: Option<Url>,
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tag: Vec<Value>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub attachment: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub conversation: Option<String>,
    /// Lemmy/FEP-1b12: the group a post belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Value>,
    /// Lemmy and PeerTube: false on a locked thread.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub comments_enabled: Option<bool>,
    /// The Markdown it was written in (Mastodon and Misskey read `source`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Value>,
    /// Poll options, single choice (`Question`).
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub one_of: Vec<Value>,
    /// Poll options, multiple choice (`Question`).
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub any_of: Vec<Value>,
    #[serde(
        default,
        deserialize_with = "crate::federation::protocol::lenient_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub end_time: Option<DateTime<Utc>>,
    /// When the poll closed (some servers send `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<Value>,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub voters_count: Option<i64>,
    /// Everything else: the fields of an `Event` (`startTime`, `location`,
    /// `joinMode`...), read by `federation::calendar`.
    #[serde(flatten, default)]
    pub extra: Map<String, Value>,
}

impl Note {
    /// The author: the first actor in `attributedTo` (a string, an object, or
    /// a list mixing actors and groups as PeerTube sends it).
    pub fn author_id(&self) -> Option<Url> {
        match &self.attributed_to {
            Value::Array(list) => list
                .iter()
                .find(|v| {
                    v.get("type")
                        .and_then(Value::as_str)
                        .is_none_or(|t| t == "Person" || t == "Service" || t == "Application")
                })
                .and_then(id_of)
                .or_else(|| list.iter().find_map(id_of)),
            other => id_of(other),
        }
    }

    pub fn in_reply_to_id(&self) -> Option<Url> {
        self.in_reply_to.as_ref().and_then(id_of)
    }

    pub fn body(&self) -> Option<String> {
        self.content.clone().or_else(|| {
            self.content_map
                .as_ref()
                .and_then(|m| m.values().find_map(Value::as_str))
                .map(str::to_string)
        })
    }

    pub fn language(&self) -> Option<String> {
        self.content_map
            .as_ref()
            .and_then(|m| m.keys().next())
            .filter(|k| k.len() <= 10)
            .cloned()
    }
}

#[async_trait::async_trait]
impl Object for ApubStatus {
    type DataType = AppState;
    type Kind = Note;
    type Error = FedError;

    fn id(&self) -> &Url {
        &self.id
    }

    async fn read_from_id(object_id: Url, data: &Data<AppState>) -> Result<Option<Self>, FedError> {
        match queries::statuses::by_ap_id(&data.db, object_id.as_str()).await? {
            Some(m) if m.reblog_of_id.is_none() => Ok(Some(Self::new(m)?)),
            _ => Ok(None),
        }
    }

    async fn delete(&self, data: &Data<AppState>) -> Result<(), FedError> {
        if !self.model.local && self.model.deleted_at.is_none() {
            posts::tombstone(data, &self.model).await?;
        }
        Ok(())
    }

    fn is_deleted(&self) -> bool {
        self.model.deleted_at.is_some()
    }

    async fn into_json(self, data: &Data<AppState>) -> Result<Note, FedError> {
        note(data, &self.model).await
    }

    async fn verify(json: &Note, expected: &Url, _data: &Data<AppState>) -> Result<(), FedError> {
        if !same_origin(&json.id, expected) {
            return Err(FedError::invalid(
                "object id is not on the host it came from",
            ));
        }
        let author = json
            .author_id()
            .ok_or_else(|| FedError::invalid("object has no author"))?;
        if !same_origin(&author, &json.id) {
            return Err(FedError::invalid(
                "object and author are on different hosts",
            ));
        }
        if !POST_TYPES.contains(&json.kind.as_str()) {
            return Err(FedError::invalid(format!(
                "unsupported object type {}",
                json.kind
            )));
        }
        Ok(())
    }

    async fn from_json(json: Note, data: &Data<AppState>) -> Result<Self, FedError> {
        let model = store_remote(data, json).await?;
        Self::new(model)
    }
}

/// Every id a post is addressed to, and whether it is public.
pub fn recipients(note: &Note) -> (Vec<String>, bool) {
    let all: Vec<String> = note.to.iter().chain(&note.cc).cloned().collect();
    let public = all
        .iter()
        .any(|a| a == PUBLIC || a == "as:Public" || a == "Public");
    (all, public)
}

/// Parse the `object` of an activity as a post (embedded document).
pub fn embedded_note(object: &Value) -> Option<Note> {
    if !object.is_object() {
        return None;
    }
    serde_json::from_value(object.clone()).ok()
}

mod inbound;
mod outbound;

pub use inbound::store_remote;
pub use outbound::note;
