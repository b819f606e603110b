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

/// Attachments of a post: documents with a URL and a media type (Link
/// attachments without a media type, as Lemmy sends, are not files).
fn attachments_of(list: &[Value]) -> Vec<posts::RemoteAttachment> {
    list.iter()
        .filter_map(|a| {
            let url = a
                .get("url")
                .and_then(crate::federation::protocol::url_of)
                .or_else(|| a.get("href").and_then(crate::federation::protocol::url_of))?;
            let media_type = a
                .get("mediaType")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| match a.get("type").and_then(Value::as_str) {
                    Some("Image") => Some("image/jpeg".to_string()),
                    Some("Video") => Some("video/mp4".to_string()),
                    Some("Audio") => Some("audio/mpeg".to_string()),
                    _ => None,
                })?;
            if !matches!(url.scheme(), "http" | "https") {
                return None;
            }
            let focus = a.get("focalPoint").and_then(Value::as_array).and_then(|f| {
                Some((
                    f.first()?.as_f64()?.clamp(-1.0, 1.0),
                    f.get(1)?.as_f64()?.clamp(-1.0, 1.0),
                ))
            });
            let int = |k: &str| {
                a.get(k)
                    .and_then(Value::as_i64)
                    .and_then(|v| i32::try_from(v).ok())
            };
            Some(posts::RemoteAttachment {
                url: url.to_string(),
                media_type: media_type.chars().take(100).collect(),
                description: a
                    .get("name")
                    .or_else(|| a.get("summary"))
                    .and_then(Value::as_str)
                    .map(|d| {
                        d.chars()
                            .take(crate::domain::media::DESCRIPTION_MAX)
                            .collect()
                    }),
                width: int("width"),
                height: int("height"),
                focus,
                blurhash: a
                    .get("blurhash")
                    .and_then(Value::as_str)
                    .map(|b| b.chars().take(100).collect()),
            })
        })
        .take(crate::domain::media::MAX_ATTACHMENTS)
        .collect()
}

/// The poll of a `Question`: option names and their vote counts.
fn poll_of(json: &Note) -> Option<posts::RemotePoll> {
    let (items, multiple) = if !json.any_of.is_empty() {
        (&json.any_of, true)
    } else {
        (&json.one_of, false)
    };
    if json.kind != "Question" || items.is_empty() {
        return None;
    }
    let mut options = Vec::new();
    let mut counts = Vec::new();
    for o in items.iter().take(crate::domain::polls::MAX_OPTIONS * 4) {
        let name = o
            .get("name")
            .or_else(|| o.get("content"))
            .and_then(Value::as_str)?;
        options.push(
            name.chars()
                .take(crate::domain::polls::OPTION_MAX_CHARS * 2)
                .collect(),
        );
        counts.push(
            o.get("replies")
                .and_then(|r| r.get("totalItems"))
                .and_then(Value::as_u64)
                .unwrap_or(0),
        );
    }
    let closed_at = match &json.closed {
        Some(Value::String(s)) => s.parse::<DateTime<Utc>>().ok(),
        Some(Value::Bool(true)) => Some(Utc::now()),
        _ => None,
    };
    Some(posts::RemotePoll {
        options,
        counts,
        multiple,
        expires_at: json.end_time,
        closed_at,
        voters: json.voters_count.and_then(|v| i32::try_from(v).ok()),
    })
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

/// Turn a received post into a stored one: author, addressing, thread,
/// mentions and hashtags resolved, HTML sanitised.
pub async fn store_remote(data: &Data<AppState>, json: Note) -> Result<statuses::Model, FedError> {
    let author_id = json
        .author_id()
        .ok_or_else(|| FedError::invalid("object has no author"))?;
    let author = ObjectId::<ApubActor>::from(author_id)
        .dereference(data)
        .await?
        .model;
    if author.local {
        return Err(FedError::forbidden(
            "a remote object cannot be attributed to a local actor",
        ));
    }
    let visibility =
        Visibility::from_addressing(&json.to, &json.cc, author.followers_url.as_deref());
    let in_reply_to_ap = json.in_reply_to_id();
    // The parent is fetched if unknown; the library's per-request fetch limit
    // bounds how far up a chain (or round a cycle) this may go. A parent that
    // cannot be had leaves the reply unattached, not lost.
    let parent = match &in_reply_to_ap {
        Some(p) => {
            match Box::pin(ObjectId::<ApubStatus>::from(p.clone()).dereference(data)).await {
                Ok(s) => Some(s.model),
                Err(e) => {
                    tracing::debug!(parent = %p, error = %e, "reply parent not available");
                    queries::statuses::by_ap_id(&data.db, p.as_str()).await?
                }
            }
        }
        None => None,
    };
    let mut mentions: Vec<actors::Model> = Vec::new();
    let mut hashtags: Vec<String> = Vec::new();
    for t in &json.tag {
        match t.get("type").and_then(Value::as_str) {
            Some("Mention") => {
                if let Some(href) = t.get("href").and_then(Value::as_str) {
                    let found = match queries::actors::by_ap_id(&data.db, href).await? {
                        Some(a) => Some(a),
                        None => queries::actors::by_url(&data.db, href).await?,
                    };
                    if let Some(a) = found
                        && !mentions.iter().any(|m| m.id == a.id)
                    {
                        mentions.push(a);
                    }
                }
            }
            Some("Hashtag") => {
                if let Some(name) = t.get("name").and_then(Value::as_str) {
                    let name = name.trim_start_matches('#').to_lowercase();
                    if !name.is_empty() && name.chars().count() <= 100 && !hashtags.contains(&name)
                    {
                        hashtags.push(name);
                    }
                }
            }
            _ => {}
        }
    }
    // Local actors addressed directly count as mentioned even without a tag.
    for addr in json.to.iter().chain(&json.cc) {
        if let Some(a) = queries::actors::by_ap_id(&data.db, addr).await?
            && a.local
            && !mentions.iter().any(|m| m.id == a.id)
        {
            mentions.push(a);
        }
    }
    let is_note_like = matches!(json.kind.as_str(), "Note" | "Question");
    let sensitive = json.sensitive.unwrap_or(false);
    let summary = json
        .summary
        .clone()
        .map(|s| text::html_to_text(&s))
        .filter(|s| !s.is_empty());
    let spoiler_text = if is_note_like || sensitive {
        summary.clone().unwrap_or_default()
    } else {
        String::new()
    };
    let mut content = text::sanitize_html(&json.body().unwrap_or_default());
    if content.trim().is_empty()
        && let (false, Some(s)) = (is_note_like, &summary)
    {
        content = format!("<p>{}</p>", text::sanitize_html(s));
    }
    // A link post (Lemmy, Prismo) shows where it links to.
    if json.kind == "Page"
        && let Some(u) = json.url.as_ref().filter(|u| u.as_str() != json.id.as_str())
        && !content.contains(u.as_str())
    {
        content.push_str(&format!(r#"<p><a href="{0}">{0}</a></p>"#, u));
    }
    let title = if is_note_like {
        None
    } else {
        json.name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .map(|n| n.chars().take(posts::TITLE_MAX).collect())
    };
    let context = json
        .context
        .as_ref()
        .and_then(|c| {
            id_of(c)
                .map(|u| u.to_string())
                .or_else(|| c.as_str().map(str::to_string))
        })
        .or_else(|| json.conversation.clone());
    // A post in a group: ours must let the author post there.
    let group = groups::group_of_incoming(&data.db, &json, parent.as_ref(), &mentions).await?;
    if let Some(g) = &group {
        groups::check_incoming(&data.db, g, &author, parent.as_ref()).await?;
    }
    let visibility = match &group {
        Some(g) if g.members_only() => Visibility::Private,
        _ => visibility,
    };
    mentions.retain(|m| m.kind != "Group");
    if hashtags.is_empty() {
        hashtags = text::hashtags_in(&text::html_to_text(&content))
            .into_iter()
            .take(20)
            .collect();
    }
    let post = RemotePost {
        ap_id: json.id.to_string(),
        url: json
            .url
            .as_ref()
            .map(Url::to_string)
            .or_else(|| Some(json.id.to_string())),
        author,
        kind: if POST_TYPES.contains(&json.kind.as_str()) {
            json.kind.clone()
        } else {
            "Note".into()
        },
        title,
        content,
        spoiler_text: spoiler_text.chars().take(posts::SPOILER_MAX).collect(),
        sensitive,
        language: json.language(),
        visibility,
        in_reply_to_ap_id: in_reply_to_ap.map(|u| u.to_string()),
        in_reply_to: parent,
        context,
        addressing: json!({ "to": json.to, "cc": json.cc }),
        mentions,
        hashtags,
        published: json.published.unwrap_or_else(Utc::now),
        updated: json.updated,
        attachments: attachments_of(&json.attachment),
        poll: poll_of(&json),
        group_id: group.as_ref().map(crate::domain::groups::Group::id),
    };
    let event = (json.kind == "Event").then(|| crate::federation::calendar::parse(&json));
    let stored = posts::upsert_remote(data, post).await?;
    if let Some(e) = event
        && stored.deleted_at.is_none()
    {
        let poll = match &e.rsvp_poll {
            Some(url) => crate::federation::calendar::rsvp_poll(data, &stored, url).await,
            None => None,
        };
        crate::domain::calendar::remote::upsert(data, &stored, e, poll).await?;
    }
    Ok(stored)
}

/// The document of one of our posts.
pub async fn note(state: &AppState, s: &statuses::Model) -> Result<Note, FedError> {
    let author = queries::actors::by_id(&state.db, s.actor_id)
        .await?
        .ok_or_else(|| FedError::NotFound("author".into()))?;
    let mention_ids = queries::statuses::mentioned_actor_ids(&state.db, s.id).await?;
    let mentioned = queries::actors::by_ids(&state.db, &mention_ids).await?;
    let attachment: Vec<Value> = queries::media::of_statuses(&state.db, &[s.id])
        .await?
        .into_iter()
        .map(|m| {
            let mut doc = json!({
                "type": "Document",
                "mediaType": m.content_type,
                "url": crate::domain::media::url(state, &m),
                "name": m.description,
            });
            if let (Some(w), Some(h)) = (m.width, m.height) {
                doc["width"] = json!(w);
                doc["height"] = json!(h);
            }
            if let (Some(x), Some(y)) = (m.focus_x, m.focus_y) {
                doc["focalPoint"] = json!([x, y]);
            }
            doc
        })
        .collect();
    // (multiple, end, closed, voters) and the options with their counts.
    let poll_row = queries::polls::by_status(&state.db, s.id).await?;
    let (poll, poll_options) = match &poll_row {
        Some(p) => {
            let counts = crate::domain::polls::tallies(state, p).await?;
            let options: Vec<Value> = crate::domain::polls::options(p)
                .into_iter()
                .zip(counts)
                .map(|(name, n)| json!({ "type": "Note", "name": name, "replies": { "type": "Collection", "totalItems": n } }))
                .collect();
            let closed = crate::domain::polls::expired(p)
                .then(|| p.closed_at.or(p.expires_at))
                .flatten();
            (
                Some((p.multiple, p.expires_at, closed, i64::from(p.voters_count))),
                options,
            )
        }
        None => (None, Vec::new()),
    };
    let tags: Vec<String> = queries::statuses::tags_of(&state.db, &[s.id])
        .await?
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    let mut tag: Vec<Value> = mentioned
        .iter()
        .map(|m| json!({ "type": "Mention", "href": m.ap_id, "name": format!("@{}@{}", m.username, m.domain) }))
        .collect();
    tag.extend(tags.iter().map(|t| {
        json!({ "type": "Hashtag", "href": format!("{}/tags/{t}", state.urls.base()), "name": format!("#{t}") })
    }));
    let group = match s.group_id {
        Some(g) => crate::domain::groups::load(&state.db, g).await?,
        None => None,
    };
    // Mentioning the group of a public thread makes Mastodon's reply
    // composer address the group, so replies from there reach it.
    if let Some(g) = group.as_ref().filter(|g| !g.members_only()) {
        tag.push(json!({ "type": "Mention", "href": g.actor.ap_id, "name": format!("@{}@{}", g.actor.username, g.actor.domain) }));
    }
    let group = group.map(|g| g.actor);
    let (to, cc) = posts::addressed(s);
    let is_article = s.kind == "Article";
    let summary = if !s.spoiler_text.is_empty() {
        Some(s.spoiler_text.clone())
    } else if is_article {
        let plain = text::html_to_text(&s.content);
        let excerpt: String = plain.chars().take(400).collect();
        Some(if plain.chars().count() > 400 {
            format!("{}…", excerpt.trim_end())
        } else {
            excerpt
        })
    } else {
        None
    };
    let event = if s.kind == "Event" {
        crate::federation::calendar::event_fields(state, s).await?
    } else {
        None
    };
    let (extra, summary) = match event {
        Some((fields, facts)) => (fields, Some(facts)),
        None => (Map::new(), summary),
    };
    let event_end = if s.kind == "Event" {
        crate::federation::calendar::end_time(state, s).await?
    } else {
        None
    };
    let content_map = s.language.as_ref().map(|l| {
        let mut m = Map::new();
        m.insert(l.clone(), Value::String(s.content.clone()));
        m
    });
    Ok(Note {
        kind: s.kind.clone(),
        id: Url::parse(&s.ap_id)?,
        attributed_to: Value::String(author.ap_id.clone()),
        to,
        cc,
        name: s.title.clone(),
        content: Some(s.content.clone()),
        content_map,
        summary,
        sensitive: Some(s.sensitive),
        in_reply_to: s.in_reply_to_ap_id.clone().map(Value::String),
        published: Some(s.published),
        updated: s.edited_at,
        url: s.url.as_deref().and_then(|u| Url::parse(u).ok()),
        tag,
        attachment,
        context: s.context.clone().map(Value::String),
        conversation: s.context.clone(),
        audience: group.as_ref().map(|g| Value::String(g.ap_id.clone())),
        comments_enabled: group.as_ref().map(|_| !s.locked),
        source: s
            .source
            .clone()
            .map(|src| json!({ "content": src, "mediaType": "text/markdown" })),
        one_of: if poll.as_ref().is_some_and(|p| !p.0) {
            poll_options.clone()
        } else {
            Vec::new()
        },
        any_of: if poll.as_ref().is_some_and(|p| p.0) {
            poll_options
        } else {
            Vec::new()
        },
        end_time: event_end.or(poll.as_ref().and_then(|p| p.1)),
        closed: poll.as_ref().and_then(|p| p.2).map(|c| json!(c)),
        voters_count: poll.as_ref().map(|p| p.3),
        extra,
    })
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
