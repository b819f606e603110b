//! Applying a verified, stored activity: check that the actor may do it
//! (owns the object it updates or deletes, addresses our actor it follows...),
//! then call the same domain functions the web and the API use, and publish
//! any answer (an Accept for a follow).
//!
//! Objects embedded in an activity are trusted only when they come from the
//! signing actor's own server; anything else is fetched from its origin.

use crate::{
    app::AppState,
    db::{
        entities::{actors, statuses},
        queries,
    },
    domain::{
        actors as domain_actors,
        events::Event,
        follows, interactions,
        posts::{self, Visibility},
    },
    federation::{
        actors::{ACTOR_TYPES, ApubActor, Person, upsert_remote},
        error::FedError,
        objects::{ApubStatus, POST_TYPES, embedded_note, store_remote},
        protocol::{id_of, ids_of, same_origin, type_of},
        publish,
    },
};
use activitypub_federation::{config::Data, fetch::object_id::ObjectId};
use serde_json::{Value, json};
use url::Url;

/// Activity types accepted at the inbox. The event and portal ones are
/// accepted now and acted on as those features land.
pub const SUPPORTED: &[&str] = &[
    "Create",
    "Update",
    "Delete",
    "Follow",
    "Accept",
    "Reject",
    "Undo",
    "Like",
    "Announce",
    "Block",
    "Flag",
    "Add",
    "Remove",
    "Join",
    "Leave",
    "TentativeAccept",
    "Move",
    "EmojiReact",
    "Lock",
];

async fn local_actor(data: &Data<AppState>, id: &Url) -> Result<actors::Model, FedError> {
    queries::actors::by_ap_id(&data.db, id.as_str())
        .await?
        .filter(|a| a.local && a.deleted_at.is_none())
        .ok_or_else(|| FedError::NotFound(format!("no local actor {id}")))
}

async fn known_actor(data: &Data<AppState>, id: &Url) -> Result<actors::Model, FedError> {
    Ok(ObjectId::<ApubActor>::from(id.clone())
        .dereference(data)
        .await?
        .model)
}

/// A post we store (local or remote), fetched from its origin if unknown.
async fn post(data: &Data<AppState>, id: &Url) -> Result<statuses::Model, FedError> {
    Ok(ObjectId::<ApubStatus>::from(id.clone())
        .dereference(data)
        .await?
        .model)
}

pub async fn apply(data: &Data<AppState>, activity: Value) -> Result<(), FedError> {
    let kind = type_of(&activity).unwrap_or_default();
    let actor_id = activity
        .get("actor")
        .and_then(id_of)
        .ok_or_else(|| FedError::invalid("no actor"))?;
    let id = activity
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let actor = known_actor(data, &actor_id).await?;
    if actor.deleted_at.is_some() && kind != "Delete" {
        return Err(FedError::Gone(actor.ap_id));
    }
    let object = activity.get("object").cloned().unwrap_or(Value::Null);
    match kind.as_str() {
        "Follow" => {
            let target_id =
                id_of(&object).ok_or_else(|| FedError::invalid("Follow without object"))?;
            let target =
                match crate::federation::portal::relay_follow(data, &actor, &object).await? {
                    Some(p) => p,
                    None => local_actor(data, &target_id).await?,
                };
            let outbox = follows::receive_follow(data, &actor, &target, &id).await?;
            publish::publish(data, outbox).await;
            Ok(())
        }
        "Accept" | "Reject" => {
            if crate::federation::calendar::receive(data, &actor, &kind, &activity).await? {
                return Ok(());
            }
            follow_answer(data, &actor, &kind, &object).await
        }
        "Join" | "Leave" | "TentativeAccept" => {
            crate::federation::calendar::receive(data, &actor, &kind, &activity).await?;
            Ok(())
        }
        "Undo" => undo(data, &actor, &object).await,
        "Create" | "Update" | "Delete" => {
            match kind.as_str() {
                "Create" => create(data, &actor, &activity, &object).await?,
                "Update" => update(data, &actor, &activity, &object).await?,
                _ => delete(data, &actor, &activity, &object).await?,
            }
            crate::federation::relay::relay_incoming(data, &actor, &kind, &activity).await
        }
        "Add" | "Remove" => featured(data, &actor, &kind, &activity, &object).await,
        "Lock" => {
            let target = id_of(&object).ok_or_else(|| FedError::invalid("Lock without object"))?;
            crate::federation::groups::receive_moderation(
                data,
                &actor,
                &activity,
                target.as_str(),
                true,
            )
            .await
        }
        "Like" | "EmojiReact" => {
            let object_id =
                id_of(&object).ok_or_else(|| FedError::invalid("Like without object"))?;
            // Only likes of posts we have matter (usually ours).
            if let Some(s) = queries::statuses::by_ap_id(&data.db, object_id.as_str()).await?
                && s.deleted_at.is_none()
                && posts::can_view(data, Some(&actor), &s).await?
            {
                interactions::receive_like(data, &actor, &s, &id).await?;
            }
            Ok(())
        }
        "Announce" => announce(data, &actor, &activity, &object, &id).await,
        "Block" => {
            let target_id =
                id_of(&object).ok_or_else(|| FedError::invalid("Block without object"))?;
            let target = local_actor(data, &target_id).await?;
            follows::receive_block(data, &actor, &target, &id).await?;
            Ok(())
        }
        "Flag" => crate::federation::reports::receive_flag(data, &actor, &activity).await,
        // Groups (Add, Remove), events (Join, Leave, TentativeAccept) and
        // moves are accepted and recorded; their features act on them.
        other => {
            tracing::debug!(
                kind = other,
                activity = id,
                "activity recorded without effect"
            );
            Ok(())
        }
    }
}

/// Accept or Reject of one of our Follow requests. The object may be the
/// Follow's id or the embedded Follow (whose actor may itself be embedded).
async fn follow_answer(
    data: &Data<AppState>,
    actor: &actors::Model,
    kind: &str,
    object: &Value,
) -> Result<(), FedError> {
    let inner_type = type_of(object);
    let follow = match object {
        Value::String(s) => queries::follows::by_ap_id(&data.db, s).await?,
        Value::Object(_) if inner_type.as_deref().is_none_or(|t| t == "Follow") => {
            let by_id = match object.get("id").and_then(Value::as_str) {
                Some(fid) => queries::follows::by_ap_id(&data.db, fid).await?,
                None => None,
            };
            match by_id {
                Some(f) => Some(f),
                None => {
                    // Some servers answer with a Follow they rebuilt, new id.
                    let follower = object.get("actor").and_then(id_of);
                    match follower {
                        Some(f) => match queries::actors::by_ap_id(&data.db, f.as_str()).await? {
                            Some(local) if local.local => {
                                queries::follows::get(&data.db, local.id, actor.id).await?
                            }
                            _ => None,
                        },
                        None => None,
                    }
                }
            }
        }
        _ => None,
    };
    let Some(follow) = follow else {
        // Accept/Reject of something else (a Join to an event): later features.
        return Ok(());
    };
    if follow.followee_id != actor.id {
        return Err(FedError::forbidden(
            "only the followed actor can answer a follow",
        ));
    }
    let follower = queries::actors::by_id(&data.db, follow.follower_id)
        .await?
        .ok_or_else(|| FedError::NotFound("follower".into()))?;
    if kind == "Accept" {
        follows::receive_accept(data, actor, &follower).await?;
    } else {
        follows::receive_reject(data, actor, &follower).await?;
    }
    Ok(())
}

async fn undo(
    data: &Data<AppState>,
    actor: &actors::Model,
    object: &Value,
) -> Result<(), FedError> {
    let inner_id = id_of(object).map(|u| u.to_string());
    let inner_type = type_of(object);
    let inner_actor = object.get("actor").and_then(id_of);
    if inner_actor
        .as_ref()
        .is_some_and(|a| a.as_str() != actor.ap_id)
    {
        return Err(FedError::forbidden(
            "an actor can only undo its own activities",
        ));
    }
    let inner_object = object.get("object").and_then(id_of);
    match inner_type.as_deref() {
        Some("Follow") => {
            let relay = crate::federation::portal::relay_unfollow(data, actor, object).await?;
            let target = match relay {
                Some(p) => Ok(p),
                None => {
                    let target = inner_object
                        .ok_or_else(|| FedError::invalid("Undo Follow without object"))?;
                    local_actor(data, &target).await
                }
            };
            if let Ok(t) = target {
                let outbox = follows::receive_unfollow(data, actor, &t).await?;
                publish::publish(data, outbox).await;
            }
            Ok(())
        }
        Some("Like") | Some("EmojiReact") | Some("Dislike") => {
            let status = match &inner_object {
                Some(o) => queries::statuses::by_ap_id(&data.db, o.as_str()).await?,
                None => None,
            };
            interactions::receive_unlike(data, actor, inner_id.as_deref(), status.as_ref()).await?;
            Ok(())
        }
        Some("Announce") => {
            if let Some(i) = &inner_id {
                interactions::receive_unannounce(data, actor, i).await?;
            }
            Ok(())
        }
        Some("Lock") => {
            let target =
                inner_object.ok_or_else(|| FedError::invalid("Undo Lock without object"))?;
            let activity = json!({ "type": "Undo", "actor": actor.ap_id, "object": object });
            crate::federation::groups::receive_moderation(
                data,
                actor,
                &activity,
                target.as_str(),
                false,
            )
            .await
        }
        Some("Block") => {
            let target =
                inner_object.ok_or_else(|| FedError::invalid("Undo Block without object"))?;
            if let Ok(t) = local_actor(data, &target).await {
                follows::receive_unblock(data, actor, &t).await?;
            }
            Ok(())
        }
        Some(other) if other != "Follow" && inner_id.is_none() => {
            Err(FedError::invalid(format!("cannot undo {other}")))
        }
        _ => {
            // Only the id of the undone activity: find what it was.
            let Some(i) = inner_id else {
                return Err(FedError::invalid("Undo without object"));
            };
            if let Some(f) = queries::follows::by_ap_id(&data.db, &i).await? {
                if f.follower_id == actor.id {
                    queries::follows::delete(&data.db, f.id).await?;
                }
            } else if queries::relations::favourite_by_ap_id(&data.db, &i)
                .await?
                .is_some()
            {
                interactions::receive_unlike(data, actor, Some(&i), None).await?;
            } else if let Some(b) = queries::relations::block_by_ap_id(&data.db, &i).await? {
                if b.actor_id == actor.id {
                    queries::relations::delete_block(&data.db, b.id).await?;
                }
            } else {
                interactions::receive_unannounce(data, actor, &i).await?;
            }
            Ok(())
        }
    }
}

/// A post that arrived in one of our groups is passed on to its members.
async fn relay_if_ours(
    data: &Data<AppState>,
    s: &statuses::Model,
    activity: &Value,
) -> Result<(), FedError> {
    let Some(gid) = s.group_id else {
        return Ok(());
    };
    match crate::domain::groups::load(&data.db, gid).await? {
        Some(g) if g.local() && crate::domain::groups::shown_in_group(&g, s) => {
            publish::record_and_publish(
                data,
                vec![Event::GroupRelay {
                    group_id: gid,
                    activity: Box::new(activity.clone()),
                }],
            )
            .await
        }
        _ => Ok(()),
    }
}

async fn create(
    data: &Data<AppState>,
    actor: &actors::Model,
    activity: &Value,
    object: &Value,
) -> Result<(), FedError> {
    let object_type = type_of(object);
    if let Some(t) = &object_type
        && !POST_TYPES.contains(&t.as_str())
    {
        return Err(FedError::invalid(format!("unsupported object type {t}")));
    }
    if crate::federation::resources::is_resource(object) {
        return crate::federation::resources::receive(data, actor, object).await;
    }
    match embedded_note(object) {
        Some(note) => {
            let actor_url = Url::parse(&actor.ap_id)?;
            if !same_origin(&note.id, &actor_url) || note.author_id().as_ref() != Some(&actor_url) {
                // Not the actor's own object: believe only its origin.
                let id = note.id.clone();
                post(data, &id).await?;
                return Ok(());
            }
            if queries::statuses::by_ap_id(&data.db, note.id.as_str())
                .await?
                .is_some()
            {
                return Ok(());
            }
            // A vote on one of our polls: a Note naming an option in reply
            // to the Question. Counted, never shown as a reply.
            if let (Some(name), Some(parent)) = (note.name.as_deref(), note.in_reply_to_id())
                && let Some(question) =
                    queries::statuses::by_ap_id(&data.db, parent.as_str()).await?
                && question.local
                && question.kind == "Question"
            {
                let counted = crate::domain::polls::receive_vote(
                    data,
                    actor,
                    &question,
                    name,
                    note.id.as_str(),
                )
                .await?;
                if counted {
                    publish::record_and_publish(
                        data,
                        vec![crate::domain::events::Event::PollUpdated(question.id)],
                    )
                    .await?;
                    // A vote on an event's poll is the voter's answer to it.
                    let answers = crate::domain::calendar::from_vote(
                        data,
                        actor,
                        question.id,
                        name,
                        note.id.as_str(),
                    )
                    .await?;
                    publish::publish(data, answers).await;
                }
                return Ok(());
            }
            let stored = store_remote(data, note).await?;
            relay_if_ours(data, &stored, activity).await?;
            Ok(())
        }
        None => {
            let id = id_of(object).ok_or_else(|| FedError::invalid("Create without object"))?;
            post(data, &id).await?;
            Ok(())
        }
    }
}

async fn update(
    data: &Data<AppState>,
    actor: &actors::Model,
    activity: &Value,
    object: &Value,
) -> Result<(), FedError> {
    let object_type = type_of(object).unwrap_or_default();
    let object_id = id_of(object).ok_or_else(|| FedError::invalid("Update without object"))?;
    if ACTOR_TYPES.contains(&object_type.as_str()) {
        if object_id.as_str() != actor.ap_id {
            return Err(FedError::forbidden("an actor can only update itself"));
        }
        let person: Person = serde_json::from_value(object.clone())?;
        if person.public_key.owner.as_str() != actor.ap_id {
            return Err(FedError::invalid("key owner mismatch"));
        }
        upsert_remote(data, person).await?;
        return Ok(());
    }
    if !POST_TYPES.contains(&object_type.as_str()) {
        return Err(FedError::invalid(format!(
            "unsupported object type {object_type}"
        )));
    }
    // A new revision of a resource.
    if crate::federation::resources::is_resource(object) {
        return crate::federation::resources::receive(data, actor, object).await;
    }
    let existing = queries::statuses::by_ap_id(&data.db, object_id.as_str()).await?;
    if let Some(e) = &existing
        && e.actor_id != actor.id
    {
        return Err(FedError::forbidden("only the author can update a post"));
    }
    let note = embedded_note(object)
        .ok_or_else(|| FedError::invalid("Update without an object document"))?;
    let actor_url = Url::parse(&actor.ap_id)?;
    if note.author_id().as_ref() != Some(&actor_url) || !same_origin(&note.id, &actor_url) {
        return Err(FedError::forbidden("only the author can update a post"));
    }
    let stored = store_remote(data, note).await?;
    if existing.is_some() {
        relay_if_ours(data, &stored, activity).await?;
    }
    Ok(())
}

async fn delete(
    data: &Data<AppState>,
    actor: &actors::Model,
    activity: &Value,
    object: &Value,
) -> Result<(), FedError> {
    let object_id = id_of(object).ok_or_else(|| FedError::invalid("Delete without object"))?;
    if object_id.as_str() == actor.ap_id {
        domain_actors::mark_remote_deleted(data, actor).await?;
        return Ok(());
    }
    if crate::domain::resources::remote::receive_delete(data, actor, object_id.as_str()).await? {
        return Ok(());
    }
    let known = queries::statuses::by_ap_id(&data.db, object_id.as_str()).await?;
    // A moderator of one of our groups (on another server) removing a post.
    if let Some(s) = &known
        && s.actor_id != actor.id
        && let Some(gid) = s.group_id
        && let Some(g) = crate::domain::groups::load(&data.db, gid).await?
        && g.local()
        && crate::domain::groups::role_of(&data.db, &g, actor.id)
            .await?
            .is_some_and(crate::domain::groups::GroupRole::is_staff)
    {
        if s.deleted_at.is_none() {
            posts::tombstone(data, s).await?;
        }
        let reason = activity
            .get("summary")
            .and_then(Value::as_str)
            .unwrap_or_default();
        crate::domain::groups::write_log(
            &data.db,
            gid,
            Some(actor.id),
            "remove",
            Some(s.actor_id),
            Some(s.id),
            &reason.chars().take(500).collect::<String>(),
        )
        .await?;
        relay_if_ours(data, s, activity).await?;
        return Ok(());
    }
    let actor_url = Url::parse(&actor.ap_id)?;
    if !same_origin(&object_id, &actor_url) {
        return Err(FedError::forbidden(
            "an actor can only delete its own objects",
        ));
    }
    posts::receive_delete(data, actor, object_id.as_str()).await?;
    if let Some(s) = &known {
        relay_if_ours(data, s, activity).await?;
    }
    Ok(())
}

/// Add/Remove on a remote group's `featured` collection: its pinned threads.
async fn featured(
    data: &Data<AppState>,
    actor: &actors::Model,
    kind: &str,
    activity: &Value,
    object: &Value,
) -> Result<(), FedError> {
    let target = activity.get("target").and_then(id_of);
    let is_featured = target
        .as_ref()
        .is_some_and(|t| actor.featured_url.as_deref() == Some(t.as_str()));
    if actor.kind != "Group" || actor.local || !is_featured {
        // Moderator lists and other collections: nothing we mirror.
        return Ok(());
    }
    let Some(id) = id_of(object) else {
        return Err(FedError::invalid("Add without object"));
    };
    if let Some(group) = crate::domain::groups::of_actor(&data.db, actor.clone()).await? {
        crate::federation::groups::apply_featured(data, &group, id.as_str(), kind == "Add").await?;
    }
    Ok(())
}

async fn announce(
    data: &Data<AppState>,
    actor: &actors::Model,
    activity: &Value,
    object: &Value,
    id: &str,
) -> Result<(), FedError> {
    if actor.kind == "Group"
        && crate::federation::groups::receive_announce(data, actor, object).await?
    {
        return Ok(());
    }
    if crate::federation::relay::is_our_portal(data, actor).await? {
        return crate::federation::relay::receive_announce(data, object).await;
    }
    // Announce{Create{...}} from a group we do not know as one.
    let target = match type_of(object).as_deref() {
        Some("Create") | Some("Update") => object.get("object").cloned().unwrap_or(Value::Null),
        _ => object.clone(),
    };
    let target_id = id_of(&target).ok_or_else(|| FedError::invalid("Announce without object"))?;
    let known = queries::statuses::by_ap_id(&data.db, target_id.as_str()).await?;
    // Boosts matter to us when the post is ours or the booster has followers here.
    let relevant = known.as_ref().is_some_and(|s| s.local)
        || queries::follows::count_followers(&data.db, actor.id).await? > 0;
    if !relevant {
        return Ok(());
    }
    let original = match known {
        Some(s) => s,
        None => post(data, &target_id).await?,
    };
    if original.deleted_at.is_some()
        || !matches!(
            Visibility::of(&original),
            Visibility::Public | Visibility::Unlisted
        )
    {
        return Ok(());
    }
    let to = activity.get("to").map(ids_of).unwrap_or_default();
    let cc = activity.get("cc").map(ids_of).unwrap_or_default();
    let visibility = Visibility::from_addressing(&to, &cc, actor.followers_url.as_deref());
    let published = activity
        .get("published")
        .and_then(|p| serde_json::from_value::<chrono::DateTime<chrono::Utc>>(p.clone()).ok())
        .unwrap_or_else(chrono::Utc::now);
    interactions::receive_announce(
        data,
        actor,
        &original,
        id,
        visibility,
        json!({ "to": to, "cc": cc }),
        published,
    )
    .await?;
    Ok(())
}
