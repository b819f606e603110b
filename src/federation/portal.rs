//! The national portal's actor, on instances with `instance.role = "portal"`.
//!
//! An `Application` actor at `https://host/portal` (WebFinger
//! `acct:{portal.actor_name}@host`) that association instances join: their
//! instance actor follows it, and the portal's admins approve the follow
//! request. Its accepted followers that are instance actors are the member
//! instances; they are published as the `members` collection, which
//! instances in `federation.mode = "portal"` read (see `trust`). The follow
//! machinery does the rest: a pending request is an application, `Accept`
//! admits, `Reject` suspends, `Undo{Follow}` leaves.

use crate::{
    app::AppState,
    config::InstanceRole,
    db::{
        entities::actors,
        ids,
        queries::{self, Page},
    },
    federation::{actors::person, error::FedError, keys},
};
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use serde_json::{Value, json};

/// Where the portal actor lives.
pub fn actor_id(state: &AppState) -> String {
    format!("{}/portal", state.urls.base())
}

pub fn members_id(state: &AppState) -> String {
    format!("{}/members", actor_id(state))
}

/// The portal actor, created on first start of a portal. `None` on an
/// association's instance.
pub async fn ensure_actor(state: &AppState) -> Result<Option<actors::Model>, FedError> {
    if state.config.instance.role != InstanceRole::Portal {
        return Ok(None);
    }
    let ap_id = actor_id(state);
    if let Some(a) = queries::actors::by_ap_id(&state.db, &ap_id).await? {
        return Ok(Some(a));
    }
    let name = state.config.portal.actor_name.to_lowercase();
    if queries::actors::local_by_username(&state.db, &name)
        .await?
        .is_some()
    {
        return Err(FedError::invalid(format!(
            "portal.actor_name `{name}` is already the name of an account or group here"
        )));
    }
    let keys = keys::generate().await?;
    let now = Utc::now();
    let model = actors::ActiveModel {
        id: Set(ids::next_id()),
        ap_id: Set(ap_id.clone()),
        kind: Set("Application".into()),
        username: Set(name),
        domain: Set(state.urls.domain().to_string()),
        local: Set(true),
        display_name: Set(state.config.instance.name.clone()),
        summary: Set(state.config.instance.description.clone()),
        summary_source: Set(None),
        url: Set(Some(format!("{}/about", state.urls.base()))),
        inbox_url: Set(state.urls.inbox(&ap_id)),
        shared_inbox_url: Set(Some(state.urls.shared_inbox())),
        outbox_url: Set(Some(state.urls.outbox(&ap_id))),
        followers_url: Set(None),
        following_url: Set(None),
        featured_url: Set(None),
        avatar_url: Set(None),
        header_url: Set(None),
        avatar_media_id: Set(None),
        header_media_id: Set(None),
        public_key_pem: Set(keys.public_pem),
        private_key_pem: Set(Some(keys.private_pem)),
        // Instances join by request; the portal's admins decide.
        manually_approves_followers: Set(true),
        discoverable: Set(true),
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
        // The server and the CLI may start at the same moment.
        Err(_) => Ok(queries::actors::by_ap_id(&state.db, &ap_id).await?),
    }
}

/// The portal actor if this instance is a portal and it exists.
pub async fn actor(state: &AppState) -> Result<Option<actors::Model>, FedError> {
    if state.config.instance.role != InstanceRole::Portal {
        return Ok(None);
    }
    Ok(queries::actors::by_ap_id(&state.db, &actor_id(state)).await?)
}

/// The actor document, with its `members` collection.
pub fn document(state: &AppState, portal: &actors::Model) -> Result<Value, FedError> {
    let mut doc =
        serde_json::to_value(person(state, portal)?).map_err(|e| FedError::Internal(e.into()))?;
    if let Some(map) = doc.as_object_mut() {
        map.insert("members".into(), Value::String(members_id(state)));
    }
    Ok(doc)
}

/// Follow rows of instance actors in a given state (`accepted`: members,
/// `pending`: applications), with the actors, oldest first.
pub async fn instances(
    state: &AppState,
    portal: &actors::Model,
    follow_state: &str,
) -> Result<Vec<actors::Model>, FedError> {
    let page = Page {
        limit: 1000,
        ..Page::default()
    };
    let rows = queries::follows::followers(&state.db, portal.id, follow_state, page).await?;
    let ids: Vec<i64> = rows.iter().rev().map(|r| r.follower_id).collect();
    let mut found = queries::actors::by_ids(&state.db, &ids).await?;
    found.retain(|a| a.kind == "Application" && !a.local);
    found.sort_by_key(|a| ids.iter().position(|id| *id == a.id));
    Ok(found)
}

/// The `members` collection: the member instances' actor ids, inline.
pub async fn members_document(state: &AppState, portal: &actors::Model) -> Result<Value, FedError> {
    let members: Vec<String> = instances(state, portal, "accepted")
        .await?
        .into_iter()
        .map(|a| a.ap_id)
        .collect();
    Ok(json!({
        "id": members_id(state),
        "type": "OrderedCollection",
        "totalItems": members.len(),
        "orderedItems": members,
    }))
}
