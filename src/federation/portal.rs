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
        queries::{self, Page},
    },
    federation::{
        actors::{LocalApplication, insert_application, person},
        error::FedError,
        protocol::{ids_of, is_public},
    },
};
use serde_json::{Value, json};

/// Where the portal actor lives.
pub fn actor_id(state: &AppState) -> String {
    format!("{}/portal", state.urls.base())
}

/// The portal actor's followers (member instances, relay subscribers and
/// people): the audience of what it relays.
pub fn followers_id(state: &AppState) -> String {
    format!("{}/followers", actor_id(state))
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
    // Instances join by request (the actor approves followers by hand);
    // the portal's admins decide.
    insert_application(
        state,
        LocalApplication {
            ap_id,
            username: name,
            summary: state.config.instance.description.clone(),
            discoverable: true,
            kind: "Application",
            manually_approves_followers: true,
        },
    )
    .await
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
        map.insert("followers".into(), Value::String(followers_id(state)));
    }
    Ok(doc)
}

/// Instance actors following the portal in a given state (`accepted`: members,
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
    // Relay subscribers follow the portal too but are no member instances.
    let relays = queries::portal::relay_ids(&state.db).await?;
    found.retain(|a| a.kind == "Application" && !a.local && !relays.contains(&a.id));
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

/// A relay subscription (FEP-ae0c, Mastodon's way): a Follow whose object
/// is the Public collection, sent to the portal. It is a follow of the
/// portal actor, recorded as a relay so that it never counts as a member.
/// `None` when the Follow is not of the Public collection.
pub async fn relay_follow(
    state: &AppState,
    follower: &actors::Model,
    object: &Value,
) -> Result<Option<actors::Model>, FedError> {
    if !ids_of(object).iter().any(|a| is_public(a)) {
        return Ok(None);
    }
    let Some(p) = actor(state).await? else {
        return Err(FedError::NotFound(
            "this instance is not a portal and relays nothing".into(),
        ));
    };
    queries::portal::add_relay(&state.db, follower.id).await?;
    Ok(Some(p))
}

/// The `Undo` of a relay subscription (`undone` is the Follow): the portal
/// actor whose follow ends, or `None` when it was no relay subscription.
pub async fn relay_unfollow(
    state: &AppState,
    follower: &actors::Model,
    undone: &Value,
) -> Result<Option<actors::Model>, FedError> {
    let object = undone.get("object").unwrap_or(&Value::Null);
    if !ids_of(object).iter().any(|a| is_public(a)) {
        return Ok(None);
    }
    let Some(p) = actor(state).await? else {
        return Ok(None);
    };
    queries::portal::remove_relay(&state.db, follower.id).await?;
    Ok(Some(p))
}

/// The portal actor's followers collection: only its size is public.
pub async fn followers_document(
    state: &AppState,
    portal: &actors::Model,
) -> Result<Value, FedError> {
    let total = queries::follows::count_followers(&state.db, portal.id).await?;
    Ok(json!({
        "id": followers_id(state),
        "type": "OrderedCollection",
        "totalItems": total,
    }))
}
