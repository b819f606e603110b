//! Actors: the database model (`actors::Model`), its `ApubActor` wrapper for
//! the federation library, and `Person`, the ActivityStreams document (used
//! for every actor type: Person, Group, Application, Service, Organization).
//! Also the instance actor (FEP-d556, FEP-2677), which signs our fetches.

use crate::{
    app::AppState,
    db::{entities::actors, ids, queries},
    domain::{profiles, text},
    federation::{
        error::FedError,
        keys,
        protocol::{authority, lenient, lenient_url, one_or_many, same_origin, url_of},
    },
};
use activitypub_federation::{
    config::Data,
    protocol::public_key::PublicKey,
    traits::{Actor, Object},
};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, IntoActiveModel};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use url::Url;

pub const ACTOR_TYPES: &[&str] = &["Person", "Group", "Application", "Service", "Organization"];

/// An actor row with its parsed id, as the federation library wants it.
#[derive(Debug, Clone)]
pub struct ApubActor {
    pub model: actors::Model,
    id: Url,
}

impl ApubActor {
    pub fn new(model: actors::Model) -> Result<Self, FedError> {
        let id = Url::parse(&model.ap_id)?;
        Ok(Self { model, id })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    #[serde(rename = "type", default = "image_type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub url: Url,
}

fn image_type() -> String {
    "Image".into()
}

fn lenient_image<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Image>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.as_ref().and_then(url_of).map(|url| Image {
        kind: "Image".into(),
        media_type: v
            .as_ref()
            .and_then(|v| v.get("mediaType"))
            .and_then(Value::as_str)
            .map(str::to_string),
        url,
    }))
}

/// Some servers publish several keys; the first one is the main key.
fn first_key<'de, D: Deserializer<'de>>(d: D) -> Result<PublicKey, D::Error> {
    let v = Value::deserialize(d)?;
    let v = match v {
        Value::Array(mut a) if !a.is_empty() => a.swap_remove(0),
        other => other,
    };
    serde_json::from_value(v).map_err(serde::de::Error::custom)
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub shared_inbox: Option<Url>,
}

/// An actor document, as sent and as received (lenient where servers differ).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Url,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub preferred_username: Option<String>,
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
    pub summary: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_url",
        skip_serializing_if = "Option::is_none"
    )]
    pub url: Option<Url>,
    #[serde(
        default,
        deserialize_with = "lenient_image",
        skip_serializing_if = "Option::is_none"
    )]
    pub icon: Option<Image>,
    #[serde(
        default,
        deserialize_with = "lenient_image",
        skip_serializing_if = "Option::is_none"
    )]
    pub image: Option<Image>,
    pub inbox: Url,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub outbox: Option<Url>,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub followers: Option<Url>,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub following: Option<Url>,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub featured: Option<Url>,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub endpoints: Option<Endpoints>,
    #[serde(deserialize_with = "first_key")]
    pub public_key: PublicKey,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub manually_approves_followers: Option<bool>,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub discoverable: Option<bool>,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub indexable: Option<bool>,
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub attachment: Vec<Value>,
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tag: Vec<Value>,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub published: Option<DateTime<Utc>>,
    /// Subjects the person teaches, as schema.org's `knowsAbout`.
    #[serde(
        default,
        rename = "knowsAbout",
        alias = "subjects",
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub subjects: Vec<String>,
    /// Groups (FEP-1b12): the collection of their moderators.
    #[serde(
        default,
        deserialize_with = "lenient_url",
        skip_serializing_if = "Option::is_none"
    )]
    pub attributed_to: Option<Url>,
    /// Groups: only moderators start threads (Lemmy's term).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub posting_restricted_to_mods: Option<bool>,
    /// Staffroom groups: content reaches members only.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub members_only: Option<bool>,
    /// Staffroom groups: open, approval or invite.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub join_policy: Option<String>,
    /// Staffroom groups: the group this one is a sub-group of.
    #[serde(
        default,
        deserialize_with = "lenient_url",
        skip_serializing_if = "Option::is_none"
    )]
    pub parent_group: Option<Url>,
}

#[async_trait::async_trait]
impl Object for ApubActor {
    type DataType = AppState;
    type Kind = Person;
    type Error = FedError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn last_refreshed_at(&self) -> Option<DateTime<Utc>> {
        // Local actors are always current; remote ones are refetched when old.
        if self.model.local {
            None
        } else {
            self.model.last_refreshed_at
        }
    }

    async fn read_from_id(object_id: Url, data: &Data<AppState>) -> Result<Option<Self>, FedError> {
        match queries::actors::by_ap_id(&data.db, object_id.as_str()).await? {
            Some(m) => Ok(Some(Self::new(m)?)),
            None => Ok(None),
        }
    }

    async fn delete(&self, data: &Data<AppState>) -> Result<(), FedError> {
        if !self.model.local {
            crate::domain::actors::mark_remote_deleted(data, &self.model).await?;
        }
        Ok(())
    }

    fn is_deleted(&self) -> bool {
        self.model.deleted_at.is_some()
    }

    async fn into_json(self, data: &Data<AppState>) -> Result<Person, FedError> {
        actor_document(data, &self.model).await
    }

    async fn verify(json: &Person, expected: &Url, _data: &Data<AppState>) -> Result<(), FedError> {
        if !same_origin(&json.id, expected) {
            return Err(FedError::invalid(
                "actor id is not on the host it was fetched from",
            ));
        }
        if json.public_key.owner != json.id {
            return Err(FedError::invalid("public key belongs to another actor"));
        }
        if !ACTOR_TYPES.contains(&json.kind.as_str()) {
            return Err(FedError::invalid(format!(
                "unsupported actor type {}",
                json.kind
            )));
        }
        Ok(())
    }

    async fn from_json(json: Person, data: &Data<AppState>) -> Result<Self, FedError> {
        let model = upsert_remote(data, json).await?;
        Self::new(model)
    }
}

impl Actor for ApubActor {
    fn public_key_pem(&self) -> &str {
        &self.model.public_key_pem
    }

    fn private_key_pem(&self) -> Option<String> {
        self.model.private_key_pem.clone()
    }

    fn inbox(&self) -> Url {
        Url::parse(&self.model.inbox_url).unwrap_or_else(|_| self.id.clone())
    }

    fn shared_inbox(&self) -> Option<Url> {
        self.model
            .shared_inbox_url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
    }
}

/// The document of one of our actors.
pub fn person(state: &AppState, m: &actors::Model) -> Result<Person, FedError> {
    let parse = |s: &Option<String>| s.as_deref().and_then(|u| Url::parse(u).ok());
    let id = Url::parse(&m.ap_id)?;
    let fields = profiles::fields(m)
        .into_iter()
        .map(|f| {
            json!({
                "type": "PropertyValue",
                "name": f.name,
                "value": text::sanitize_html(&linkify_plain(&f.value)),
            })
        })
        .collect();
    let image = |url: &Option<String>| {
        parse(url).map(|url| Image {
            kind: "Image".into(),
            media_type: None,
            url,
        })
    };
    // A deleted account is a tombstone with its key, so Deletes it signed
    // can still be verified.
    let deleted = m.deleted_at.is_some();
    Ok(Person {
        kind: m.kind.clone(),
        id: id.clone(),
        preferred_username: Some(m.username.clone()),
        name: (!deleted).then(|| m.display_name.clone()),
        summary: (!deleted).then(|| m.summary.clone()),
        url: parse(&m.url),
        icon: if deleted { None } else { image(&m.avatar_url) },
        image: if deleted { None } else { image(&m.header_url) },
        inbox: Url::parse(&m.inbox_url).unwrap_or_else(|_| id.clone()),
        outbox: parse(&m.outbox_url),
        followers: parse(&m.followers_url),
        following: parse(&m.following_url),
        featured: parse(&m.featured_url),
        endpoints: Some(Endpoints {
            shared_inbox: parse(&m.shared_inbox_url),
        }),
        public_key: PublicKey {
            id: state.urls.main_key(&m.ap_id),
            owner: id,
            public_key_pem: m.public_key_pem.clone(),
        },
        manually_approves_followers: Some(m.manually_approves_followers),
        discoverable: Some(m.discoverable && !deleted),
        indexable: Some(m.indexable && !deleted),
        attachment: if deleted { Vec::new() } else { fields },
        tag: Vec::new(),
        published: Some(m.created_at),
        subjects: if deleted {
            Vec::new()
        } else {
            profiles::string_list(&m.subjects)
        },
        attributed_to: None,
        posting_restricted_to_mods: None,
        members_only: None,
        join_policy: None,
        parent_group: None,
    })
}

/// The document of one of our actors, with what a group adds: its
/// moderators, who may post, who may join, its parent group.
pub async fn actor_document(state: &AppState, m: &actors::Model) -> Result<Person, FedError> {
    let mut doc = person(state, m)?;
    if m.kind == "Group"
        && m.local
        && m.deleted_at.is_none()
        && let Some(g) = crate::domain::groups::of_actor(&state.db, m.clone()).await?
    {
        doc.attributed_to = Url::parse(&state.urls.moderators(&m.ap_id)).ok();
        doc.posting_restricted_to_mods =
            Some(g.posting_policy() == crate::domain::groups::PostingPolicy::Moderators);
        doc.members_only = Some(g.members_only());
        doc.join_policy = Some(g.join_policy().as_str().into());
        if let Some(pid) = g.settings.parent_id
            && let Some(p) = queries::actors::by_id(&state.db, pid).await?
        {
            doc.parent_group = Url::parse(&p.ap_id).ok();
        }
    }
    Ok(doc)
}

fn linkify_plain(value: &str) -> String {
    let escaped = value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    if (escaped.starts_with("https://") || escaped.starts_with("http://"))
        && !escaped.contains(char::is_whitespace)
    {
        format!(r#"<a href="{escaped}" rel="me nofollow noopener noreferrer">{escaped}</a>"#)
    } else {
        escaped
    }
}

/// The instance actor, created on first start with its key pair.
pub async fn ensure_instance_actor(state: &AppState) -> Result<actors::Model, FedError> {
    let ap_id = state.urls.instance_actor();
    if let Some(a) = queries::actors::by_ap_id(&state.db, &ap_id).await? {
        return Ok(a);
    }
    let domain = state.urls.domain().to_string();
    insert_application(
        state,
        LocalApplication {
            ap_id,
            username: domain,
            summary: String::new(),
            discoverable: false,
            kind: "Application",
            manually_approves_followers: true,
        },
    )
    .await?
    .ok_or_else(|| FedError::Internal(anyhow::anyhow!("cannot create the instance actor")))
}

/// What differs between our server-level actors (the instance actor, the
/// portal actor, the portal's topic channels).
pub(crate) struct LocalApplication {
    pub ap_id: String,
    pub username: String,
    pub summary: String,
    pub discoverable: bool,
    /// `Application` for the instance and portal actors, `Service` for the
    /// portal's topic channels.
    pub kind: &'static str,
    pub manually_approves_followers: bool,
}

/// Create one of our server-level actors with a new key pair: bots, not
/// people. `None` only when the insert
/// failed and no such actor exists either; when another process (the CLI,
/// the server) made it at the same moment, that one is returned.
pub(crate) async fn insert_application(
    state: &AppState,
    spec: LocalApplication,
) -> Result<Option<actors::Model>, FedError> {
    let keys = keys::generate().await?;
    let now = Utc::now();
    let model = actors::ActiveModel {
        id: Set(ids::next_id()),
        ap_id: Set(spec.ap_id.clone()),
        kind: Set(spec.kind.into()),
        username: Set(spec.username),
        domain: Set(state.urls.domain().to_string()),
        local: Set(true),
        display_name: Set(state.config.instance.name.clone()),
        summary: Set(spec.summary),
        summary_source: Set(None),
        url: Set(Some(format!("{}/about", state.urls.base()))),
        inbox_url: Set(state.urls.inbox(&spec.ap_id)),
        shared_inbox_url: Set(Some(state.urls.shared_inbox())),
        outbox_url: Set(Some(state.urls.outbox(&spec.ap_id))),
        followers_url: Set(None),
        following_url: Set(None),
        featured_url: Set(None),
        avatar_url: Set(None),
        header_url: Set(None),
        avatar_media_id: Set(None),
        header_media_id: Set(None),
        public_key_pem: Set(keys.public_pem),
        private_key_pem: Set(Some(keys.private_pem)),
        manually_approves_followers: Set(spec.manually_approves_followers),
        discoverable: Set(spec.discoverable),
        indexable: Set(false),
        bot: Set(true),
        fields: Set(json!([])),
        subjects: Set(json!([])),
        languages: Set(json!([])),
        account_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        last_refreshed_at: Set(Some(now)),
        deleted_at: Set(None),
    };
    match queries::actors::insert(&state.db, model).await {
        Ok(m) => Ok(Some(m)),
        Err(_) => Ok(queries::actors::by_ap_id(&state.db, &spec.ap_id).await?),
    }
}

mod remote;

pub use remote::upsert_remote;
