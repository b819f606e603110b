//! Topic channels on the portal: one `Service` actor per subject or hashtag
//! listed in `portal.topics`, at `https://host/portal/topics/{name}`
//! (WebFinger `acct:{name}@host`). Anyone may follow one (accepted at once)
//! and gets only the relayed content that carries the topic: a hashtag
//! `#name` or, for resources, the subject `name`. The channel Announces
//! exactly what the portal relays (see `relay`), so receivers treat it the
//! same way: a hint, verified at the origin.

use crate::{
    app::AppState,
    config::InstanceRole,
    db::{entities::actors, ids, queries},
    error::AppResult,
    federation::{
        actors::{LocalApplication, insert_application},
        error::FedError,
        protocol::{PUBLIC, items, type_of},
        publish::{enqueue, undo},
    },
};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Where topic channels live.
pub fn id_of(state: &AppState, name: &str) -> String {
    format!("{}/portal/topics/{name}", state.urls.base())
}

fn is_topic_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 50
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// The configured topic names, lower case, valid ones only.
pub fn names(state: &AppState) -> Vec<String> {
    if state.config.instance.role != InstanceRole::Portal {
        return Vec::new();
    }
    let mut out: Vec<String> = state
        .config
        .portal
        .topics
        .iter()
        .map(|t| t.trim().trim_start_matches('#').to_lowercase())
        .filter(|t| is_topic_name(t))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Create the channels' actors on start. A topic whose name is already an
/// account or group here is skipped (and logged).
pub async fn ensure_actors(state: &AppState) -> Result<(), FedError> {
    for name in names(state) {
        let ap_id = id_of(state, &name);
        if queries::actors::by_ap_id(&state.db, &ap_id)
            .await?
            .is_some()
        {
            continue;
        }
        if queries::actors::local_by_username(&state.db, &name)
            .await?
            .is_some()
        {
            tracing::warn!(
                topic = name,
                "portal.topics: the name is taken here, no channel"
            );
            continue;
        }
        insert_application(
            state,
            LocalApplication {
                ap_id,
                username: name.clone(),
                summary: format!("#{name}"),
                discoverable: true,
                kind: "Service",
                manually_approves_followers: false,
            },
        )
        .await?;
    }
    Ok(())
}

/// The channel actor called `name`, if it is a configured topic.
pub async fn actor(state: &AppState, name: &str) -> Result<Option<actors::Model>, FedError> {
    let name = name.to_lowercase();
    if !names(state).contains(&name) {
        return Ok(None);
    }
    Ok(queries::actors::by_ap_id(&state.db, &id_of(state, &name)).await?)
}

/// Is `a` one of our topic channels?
pub fn is_topic(state: &AppState, a: &actors::Model) -> bool {
    a.local && a.kind == "Service" && a.ap_id == id_of(state, &a.username)
}

/// The topics an object carries: its hashtags and (resources) subjects.
fn topics_of(object: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for t in items(object.get("tag")) {
        if type_of(&t).as_deref() == Some("Hashtag")
            && let Some(n) = t.get("name").and_then(Value::as_str)
        {
            out.insert(n.trim_start_matches('#').to_lowercase());
        }
    }
    for s in items(object.get("subjects")) {
        if let Some(s) = s.as_str() {
            out.insert(s.to_lowercase());
        }
    }
    out
}

/// Pass on what the portal relays through the channels it matches. A
/// Delete carries no tags: every channel passes it on (receivers ignore
/// deletions of what they never had).
pub async fn relay(
    state: &AppState,
    kind: &str,
    object_id: &str,
    inner: &Value,
    origin: &str,
) -> AppResult<()> {
    let names = names(state);
    if names.is_empty() {
        return Ok(());
    }
    let carried = topics_of(inner.get("object").unwrap_or(&Value::Null));
    for name in names {
        if kind != "Delete" && !carried.contains(&name) {
            continue;
        }
        let Some(channel) = actor(state, &name)
            .await
            .map_err(crate::error::AppError::from)?
        else {
            continue;
        };
        let inboxes = inboxes(state, &channel, origin).await?;
        if inboxes.is_empty() {
            continue;
        }
        let followers = format!("{}/followers", channel.ap_id);
        let announce = json!({
            "id": format!("{}/announces/{}", channel.ap_id, ids::next_id()),
            "type": "Announce",
            "actor": channel.ap_id,
            "published": chrono::Utc::now(),
            "to": [PUBLIC],
            "cc": [followers],
            "object": inner,
        });
        enqueue(
            state,
            &channel,
            "Announce",
            Some(object_id),
            announce,
            inboxes.clone(),
        )
        .await?;
        let boost = json!({
            "id": format!("{}/boosts/{}", channel.ap_id, crate::federation::relay::object_hash(object_id)),
            "type": "Announce",
            "actor": channel.ap_id,
            "to": [PUBLIC],
            "cc": [followers],
            "object": object_id,
        });
        match kind {
            "Create" => {
                enqueue(state, &channel, "Announce", Some(object_id), boost, inboxes).await?;
            }
            "Delete" => {
                let undone = undo(&channel, boost);
                enqueue(state, &channel, "Undo", Some(object_id), undone, inboxes).await?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The channel's followers' inboxes, without the origin's host.
async fn inboxes(
    state: &AppState,
    channel: &actors::Model,
    origin: &str,
) -> AppResult<BTreeSet<String>> {
    let ids = queries::follows::all_follower_ids(&state.db, channel.id).await?;
    let mut out = BTreeSet::new();
    for chunk in ids.chunks(500) {
        for a in queries::actors::by_ids(&state.db, chunk).await? {
            if a.local || a.deleted_at.is_some() || a.domain == origin {
                continue;
            }
            out.insert(a.shared_inbox_url.clone().unwrap_or(a.inbox_url));
        }
    }
    Ok(out)
}
