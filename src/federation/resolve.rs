//! Finding accounts and posts elsewhere: `@user@host` through WebFinger, and a
//! URL (of an actor or a post, even its HTML page) by fetching it as
//! ActivityPub. Used by search and by the composer to resolve mentions.

use crate::{
    app::AppState,
    db::{
        entities::{actors, statuses},
        queries,
    },
    domain::text,
    federation::{
        actors::{ACTOR_TYPES, ApubActor},
        error::FedError,
        objects::{ApubStatus, POST_TYPES},
        protocol::type_of,
    },
};
use activitypub_federation::{
    config::Data,
    fetch::{fetch_object_http, object_id::ObjectId, webfinger::webfinger_resolve_actor},
    traits::Object,
};
use serde_json::Value;
use url::Url;

pub enum Resolved {
    Actor(Box<actors::Model>),
    Post(Box<statuses::Model>),
}

/// `user`, `@user`, `user@host` or `@user@host`. Local handles never leave
/// the instance; remote ones are looked up in the database, then WebFinger.
pub async fn handle(
    data: &Data<AppState>,
    raw: &str,
    fetch: bool,
) -> Result<Option<actors::Model>, FedError> {
    let raw = raw.trim().trim_start_matches('@');
    let (user, host) = match raw.split_once('@') {
        Some((u, h)) => (u, Some(h.to_lowercase())),
        None => (raw, None),
    };
    if user.is_empty() || user.len() > 100 {
        return Ok(None);
    }
    let local = host.as_deref().is_none_or(|h| h == data.urls.domain());
    if local {
        return Ok(queries::actors::local_by_username(&data.db, user)
            .await?
            .filter(|a| a.deleted_at.is_none() && a.kind != "Application"));
    }
    let Some(host) = host else { return Ok(None) };
    if let Some(known) = queries::actors::by_handle(&data.db, user, &host).await? {
        if known.deleted_at.is_some() {
            return Ok(None);
        }
        // Refresh a stale copy in passing, but keep the one we have on failure.
        let refreshed = ObjectId::<ApubActor>::parse(&known.ap_id)
            .map_err(FedError::from)?
            .dereference(data)
            .await
            .map(|a| a.model)
            .unwrap_or(known);
        return Ok(Some(refreshed));
    }
    if !fetch {
        return Ok(None);
    }
    match webfinger_resolve_actor::<AppState, ApubActor>(&format!("{user}@{host}"), data).await {
        Ok(a) => Ok(Some(a.model)),
        Err(FedError::NotFound(_) | FedError::Gone(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// An actor or post by URL (its id or its page).
pub async fn url(data: &Data<AppState>, raw: &str) -> Result<Option<Resolved>, FedError> {
    let Ok(url) = Url::parse(raw.trim()) else {
        return Ok(None);
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Ok(None);
    }
    if let Some(s) = queries::statuses::by_ap_id(&data.db, url.as_str()).await? {
        return Ok(Some(Resolved::Post(Box::new(s))));
    }
    if let Some(s) = queries::statuses::by_url(&data.db, url.as_str()).await? {
        return Ok(Some(Resolved::Post(Box::new(s))));
    }
    if let Some(a) = queries::actors::by_ap_id(&data.db, url.as_str()).await? {
        return Ok(Some(Resolved::Actor(Box::new(a))));
    }
    if let Some(a) = queries::actors::by_url(&data.db, url.as_str()).await? {
        return Ok(Some(Resolved::Actor(Box::new(a))));
    }
    if data.urls.is_local(url.as_str()) {
        return Ok(None);
    }
    let fetched = fetch_object_http::<AppState, Value>(&url, data).await?;
    let final_url = fetched.url.clone();
    let kind = type_of(&fetched.object).unwrap_or_default();
    if ACTOR_TYPES.contains(&kind.as_str()) {
        let json = serde_json::from_value(fetched.object)?;
        ApubActor::verify(&json, &final_url, data).await?;
        return Ok(Some(Resolved::Actor(Box::new(
            ApubActor::from_json(json, data).await?.model,
        ))));
    }
    if POST_TYPES.contains(&kind.as_str()) {
        let json = serde_json::from_value(fetched.object)?;
        ApubStatus::verify(&json, &final_url, data).await?;
        return Ok(Some(Resolved::Post(Box::new(
            ApubStatus::from_json(json, data).await?.model,
        ))));
    }
    Err(FedError::invalid(format!("cannot show a {kind}")))
}

/// The accounts a text mentions, resolved (unknown ones are skipped).
pub async fn mentions(data: &Data<AppState>, source: &str) -> Vec<actors::Model> {
    let mut out: Vec<actors::Model> = Vec::new();
    for (user, host) in text::mentioned_handles(source).into_iter().take(30) {
        let handle_str = match &host {
            Some(h) => format!("{user}@{h}"),
            None => user.clone(),
        };
        match handle(data, &handle_str, true).await {
            Ok(Some(a)) if !out.iter().any(|o| o.id == a.id) => out.push(a),
            Ok(_) => {}
            Err(e) => tracing::debug!(handle = handle_str, error = %e, "mention not resolved"),
        }
    }
    out
}
