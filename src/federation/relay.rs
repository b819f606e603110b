//! Relaying through the national portal, in its three places.
//!
//! On an association instance that is a member, public posts, resources and
//! events are also delivered to the portal (`portal_inboxes`). Never
//! anything else: followers-only, direct and members-only group content
//! stays where its audience is.
//!
//! On the portal (`relay_incoming`), once the activity was applied like any
//! other (so the portal stores the content and can search and aggregate
//! it), a Create, Update or Delete whose actor is on a member instance and
//! whose object lives on that same host is Announced, verbatim, to the
//! portal actor's followers: the other member instances, relay subscribers
//! (FEP-ae0c) and people. Servers that ignore `Announce{Create}` (Mastodon)
//! also get a plain boost of new content, taken back with `Undo` on delete.
//!
//! On a member instance receiving the portal's Announce (`receive_announce`)
//! the Announce is only a hint: the content is fetched from its origin, and
//! a Delete is honoured only when the origin no longer serves the object,
//! so the portal cannot forge or alter anything (no linked-data signatures
//! needed).

use crate::{
    app::AppState,
    db::{
        entities::{actors, statuses},
        ids, queries,
    },
    domain::{follows, posts::Visibility},
    error::AppResult,
    federation::{
        actors::{ACTOR_TYPES, ApubActor},
        error::FedError,
        objects::ApubStatus,
        portal,
        protocol::{PUBLIC, authority, id_of, ids_of, is_public, same_origin, type_of},
        publish::{enqueue, undo},
        resources,
    },
};
use activitypub_federation::{config::Data, fetch::object_id::ObjectId};
use chrono::Utc;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use url::Url;

/// The inboxes of the portals this instance is an admitted member of.
pub async fn portal_inboxes(state: &AppState) -> AppResult<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    if state.config.instance.role == crate::config::InstanceRole::Portal {
        return Ok(out);
    }
    let Some(me) = queries::actors::by_ap_id(&state.db, &state.urls.instance_actor()).await? else {
        return Ok(out);
    };
    let page = queries::Page {
        limit: 100,
        ..Default::default()
    };
    let rows = queries::follows::following(&state.db, me.id, page).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.followee_id).collect();
    for a in queries::actors::by_ids(&state.db, &ids).await? {
        if a.kind == "Application" && !a.local && a.deleted_at.is_none() {
            out.insert(a.shared_inbox_url.clone().unwrap_or(a.inbox_url));
        }
    }
    Ok(out)
}

/// Does a post of ours go to the portal? Public, and not in a members-only
/// group (whose posts are not public anyway; checked again for safety).
pub async fn post_goes_to_portal(state: &AppState, s: &statuses::Model) -> AppResult<bool> {
    if !s.local || Visibility::of(s) != Visibility::Public {
        return Ok(false);
    }
    if let Some(g) = s.group_id
        && crate::domain::groups::load(&state.db, g)
            .await?
            .is_none_or(|g| g.members_only())
    {
        return Ok(false);
    }
    Ok(true)
}

/// Is the document addressed to the Public collection?
fn addressed_publicly(v: &Value) -> bool {
    ["to", "cc"]
        .iter()
        .flat_map(|k| ids_of(v.get(*k).unwrap_or(&Value::Null)))
        .any(|a| is_public(&a))
}

/// A short stable name for an object id (in the ids of boosts of it).
pub fn object_hash(object_id: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(object_id.as_bytes())[..12])
}

/// The stable id of the portal's plain boost of an object.
fn boost_id(portal: &actors::Model, object_id: &str) -> String {
    format!("{}/boosts/{}", portal.ap_id, object_hash(object_id))
}

/// On the portal: pass on a Create, Update or Delete that was just applied,
/// if it comes from a member instance and is public. Announces go to every
/// follower of the portal actor except the origin's own host.
pub async fn relay_incoming(
    state: &AppState,
    author: &actors::Model,
    kind: &str,
    activity: &Value,
) -> Result<(), FedError> {
    if author.local || !matches!(kind, "Create" | "Update" | "Delete") {
        return Ok(());
    }
    let Some(p) = portal::actor(state).await? else {
        return Ok(());
    };
    let members = portal::instances(state, &p, follows::ACCEPTED).await?;
    let Some(member) = members.iter().find(|m| m.domain == author.domain) else {
        return Ok(());
    };
    queries::portal::seen(&state.db, &author.domain, Utc::now()).await?;
    crate::domain::national::refresh_if_stale(state, member).await?;
    let object = activity.get("object").cloned().unwrap_or(Value::Null);
    let Some(object_id) = id_of(&object) else {
        return Ok(());
    };
    let author_url = Url::parse(&author.ap_id)?;
    if !same_origin(&object_id, &author_url) || object_id.as_str() == author.ap_id {
        return Ok(());
    }
    let public = if kind == "Delete" {
        was_public(state, object_id.as_str()).await?
    } else {
        let t = type_of(&object).unwrap_or_default();
        !ACTOR_TYPES.contains(&t.as_str()) && addressed_publicly(&object)
    };
    if !public {
        return Ok(());
    }
    let mut inner = activity.clone();
    if let Value::Object(m) = &mut inner {
        m.remove("@context");
        // Only the origin's addressing matters to receivers, which re-fetch.
        m.remove("signature");
    }
    crate::federation::topics::relay(state, kind, object_id.as_str(), &inner, &author.domain)
        .await?;
    let announce = json!({
        "id": format!("{}/announces/{}", p.ap_id, ids::next_id()),
        "type": "Announce",
        "actor": p.ap_id,
        "published": Utc::now(),
        "to": [PUBLIC],
        "cc": [portal::followers_id(state)],
        "object": inner,
    });
    let (member_inboxes, other_inboxes) = follower_inboxes(state, &p, &author.domain).await?;
    tracing::debug!(kind, object = %object_id, "the portal relays an activity");
    let all: BTreeSet<String> = member_inboxes.union(&other_inboxes).cloned().collect();
    enqueue(
        state,
        &p,
        "Announce",
        Some(object_id.as_str()),
        announce,
        all,
    )
    .await?;
    let boost = json!({
        "id": boost_id(&p, object_id.as_str()),
        "type": "Announce",
        "actor": p.ap_id,
        "to": [PUBLIC],
        "cc": [portal::followers_id(state)],
        "object": object_id.as_str(),
    });
    match kind {
        "Create" => {
            enqueue(
                state,
                &p,
                "Announce",
                Some(object_id.as_str()),
                boost,
                other_inboxes,
            )
            .await?
        }
        "Delete" => {
            enqueue(
                state,
                &p,
                "Undo",
                Some(object_id.as_str()),
                undo(&p, boost),
                other_inboxes,
            )
            .await?
        }
        _ => {}
    }
    Ok(())
}

/// Did the portal hold `ap_id` as public content (a post or a resource)?
/// Resources from other servers are only ever stored when public.
async fn was_public(state: &AppState, ap_id: &str) -> AppResult<bool> {
    if let Some(s) = queries::statuses::by_ap_id(&state.db, ap_id).await? {
        return Ok(Visibility::of(&s) == Visibility::Public);
    }
    Ok(queries::resources::by_ap_id(&state.db, ap_id)
        .await?
        .is_some())
}

/// The portal's followers' inboxes, as (member instances, everyone else),
/// without those on `origin`'s host.
async fn follower_inboxes(
    state: &AppState,
    p: &actors::Model,
    origin: &str,
) -> AppResult<(BTreeSet<String>, BTreeSet<String>)> {
    let members: Vec<i64> = portal::instances(state, p, follows::ACCEPTED)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    let ids = queries::follows::all_follower_ids(&state.db, p.id).await?;
    let (mut to_members, mut to_others) = (BTreeSet::new(), BTreeSet::new());
    for chunk in ids.chunks(500) {
        for a in queries::actors::by_ids(&state.db, chunk).await? {
            if a.local || a.deleted_at.is_some() || a.domain == origin {
                continue;
            }
            let inbox = a.shared_inbox_url.clone().unwrap_or(a.inbox_url.clone());
            if Url::parse(&inbox).is_ok_and(|u| authority(&u) == origin) {
                continue;
            }
            if members.contains(&a.id) {
                to_members.insert(inbox);
            } else {
                to_others.insert(inbox);
            }
        }
    }
    // A server with both a member instance actor and people following
    // gets the Announce once.
    to_others.retain(|i| !to_members.contains(i));
    Ok((to_members, to_others))
}

/// Is `actor` a portal this instance is an admitted member of?
pub async fn is_our_portal(state: &AppState, actor: &actors::Model) -> AppResult<bool> {
    if actor.local || actor.kind != "Application" {
        return Ok(false);
    }
    let Some(me) = queries::actors::by_ap_id(&state.db, &state.urls.instance_actor()).await? else {
        return Ok(false);
    };
    Ok(queries::follows::get(&state.db, me.id, actor.id)
        .await?
        .is_some_and(|f| f.state == follows::ACCEPTED))
}

/// On a member instance: an Announce from our portal. Create and Update
/// bring the object as its origin serves it now; Delete removes our copy
/// once the origin no longer has it.
pub async fn receive_announce(data: &Data<AppState>, object: &Value) -> Result<(), FedError> {
    let kind = type_of(object).unwrap_or_default();
    let (Some(inner_actor), Some(target)) = (
        object.get("actor").and_then(id_of),
        object.get("object").and_then(id_of),
    ) else {
        // A plain boost of an object: nothing of the portal's own to show.
        return Ok(());
    };
    if !same_origin(&inner_actor, &target) || data.urls.is_local(target.as_str()) {
        return Ok(());
    }
    match kind.as_str() {
        "Create" | "Update" => {
            let fetched =
                activitypub_federation::fetch::fetch_object_http::<AppState, Value>(&target, data)
                    .await?
                    .object;
            if id_of(&fetched).as_ref() != Some(&target) || !addressed_publicly(&fetched) {
                return Ok(());
            }
            if resources::is_resource(&fetched) {
                let owner = fetched
                    .get("attributedTo")
                    .and_then(id_of)
                    .ok_or_else(|| FedError::invalid("resource without attributedTo"))?;
                let owner = ObjectId::<ApubActor>::from(owner)
                    .dereference(data)
                    .await?
                    .model;
                resources::receive(data, &owner, &fetched).await
            } else {
                ObjectId::<ApubStatus>::from(target)
                    .dereference_forced(data)
                    .await?;
                Ok(())
            }
        }
        "Delete" => {
            let gone = match activitypub_federation::fetch::fetch_object_http::<AppState, Value>(
                &target, data,
            )
            .await
            {
                Ok(doc) => type_of(&doc.object).as_deref() == Some("Tombstone"),
                Err(e) => matches!(FedError::from(e), FedError::Gone(_) | FedError::NotFound(_)),
            };
            if !gone {
                return Ok(());
            }
            let Some(author) = queries::actors::by_ap_id(&data.db, inner_actor.as_str()).await?
            else {
                return Ok(());
            };
            if !crate::domain::resources::remote::receive_delete(data, &author, target.as_str())
                .await?
            {
                crate::domain::posts::receive_delete(data, &author, target.as_str()).await?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
