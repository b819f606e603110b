//! Groups on the wire (FEP-1b12), both directions.
//!
//! Out: a group Announces what its members do to its followers, verbatim
//! (`Announce{Create{…}}`, `Announce{Update}`, `Announce{Delete}`), and also
//! boosts new threads (`Announce{Note}`) because Mastodon ignores the first
//! form. Moderation travels as `Announce{Delete}` with a reason (Lemmy's
//! removal), `Lock`, `Add`/`Remove` on the `featured` collection and `Block`.
//!
//! In: a post addressed to a group (`audience`, `to`/`cc`, a Mention, or a
//! reply in one of its threads) belongs to it; if the group is ours the
//! author must be allowed to post there, and the received activity is then
//! passed on. Announces from a remote group we follow bring its content,
//! which is always verified at its origin, never taken from the Announce.

use crate::{
    app::AppState,
    db::{
        entities::{actors, statuses},
        queries,
    },
    domain::{
        events::Event,
        groups::{self, Group},
        posts::{self, Visibility},
    },
    error::{AppError, AppResult},
    federation::{
        error::FedError,
        objects::{ApubStatus, Note},
        protocol::{PUBLIC, id_of, type_of},
        publish::{enqueue, follower_inboxes, inbox_of_personal, undo},
    },
};
use activitypub_federation::{config::Data, fetch::object_id::ObjectId};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The group an incoming post belongs to, if any: the thread's group for a
/// reply, else the `audience`, else a known group it addresses or mentions.
pub async fn group_of_incoming(
    db: &impl sea_orm::ConnectionTrait,
    json: &Note,
    parent: Option<&statuses::Model>,
    mentions: &[actors::Model],
) -> AppResult<Option<Group>> {
    if let Some(gid) = parent.and_then(|p| p.group_id) {
        return groups::load(db, gid).await;
    }
    let mut candidates: Vec<String> = Vec::new();
    if let Some(a) = json.audience.as_ref().and_then(id_of) {
        candidates.push(a.to_string());
    }
    candidates.extend(json.to.iter().chain(&json.cc).cloned());
    for c in candidates {
        if let Some(a) = queries::actors::by_ap_id(db, &c).await?
            && a.kind == "Group"
        {
            return groups::of_actor(db, a).await;
        }
    }
    match mentions.iter().find(|m| m.kind == "Group") {
        Some(m) => groups::of_actor(db, m.clone()).await,
        None => Ok(None),
    }
}

/// Is this post one a local group must accept before storing it? Returns
/// the refusal as a federation error.
pub async fn check_incoming(
    db: &impl sea_orm::ConnectionTrait,
    group: &Group,
    author: &actors::Model,
    parent: Option<&statuses::Model>,
) -> Result<(), FedError> {
    if !group.local() {
        return Ok(());
    }
    let root = match parent {
        Some(p) => Some(groups::thread_root(db, p).await?),
        None => None,
    };
    groups::check_post(db, group, author, root.as_ref())
        .await
        .map_err(|e| FedError::forbidden(e.public_message().render(crate::i18n::Locale::En)))
}

fn announce_id(group: &actors::Model) -> String {
    format!("{}/announces/{}", group.ap_id, crate::db::ids::next_id())
}

/// The boost of a thread by its group, for Mastodon; stable so it can be undone.
fn boost_id(group: &actors::Model, status_id: i64) -> String {
    format!("{}/boosts/{status_id}", group.ap_id)
}

fn group_addressing(group: &Group) -> (Vec<String>, Vec<String>) {
    let followers = group
        .actor
        .followers_url
        .clone()
        .unwrap_or_else(|| group.actor.ap_id.clone());
    if group.members_only() {
        (vec![followers], Vec::new())
    } else {
        (vec![PUBLIC.to_string()], vec![followers])
    }
}

/// Announce `activity` to the members of a local group; with `boost`, also
/// boost that (public, top-level) post for servers that ignore the first.
pub async fn relay(
    state: &AppState,
    group: &Group,
    activity: Value,
    boost: Option<&statuses::Model>,
) -> AppResult<()> {
    let inboxes = follower_inboxes(state, group.id()).await?;
    let (to, cc) = group_addressing(group);
    let mut inner = activity;
    if let Value::Object(m) = &mut inner {
        m.remove("@context");
    }
    let kind = type_of(&inner).unwrap_or_default();
    let object = inner
        .get("object")
        .and_then(id_of)
        .map(|u| u.to_string())
        .or_else(|| inner.get("id").and_then(Value::as_str).map(str::to_string));
    let announce = json!({
        "id": announce_id(&group.actor),
        "type": "Announce",
        "actor": group.actor.ap_id,
        "to": to,
        "cc": cc,
        "audience": group.actor.ap_id,
        "object": inner,
    });
    tracing::debug!(group = %group.actor.username, kind, "group relays an activity");
    enqueue(
        state,
        &group.actor,
        "Announce",
        object.as_deref(),
        announce,
        inboxes.clone(),
    )
    .await?;
    if let Some(s) = boost.filter(|s| {
        !group.members_only() && s.in_reply_to_id.is_none() && s.in_reply_to_ap_id.is_none()
    }) {
        let boost = json!({
            "id": boost_id(&group.actor, s.id),
            "type": "Announce",
            "actor": group.actor.ap_id,
            "published": s.published,
            "to": to,
            "cc": cc,
            "object": s.ap_id,
        });
        enqueue(
            state,
            &group.actor,
            "Announce",
            Some(&s.ap_id),
            boost,
            inboxes,
        )
        .await?;
    }
    Ok(())
}

/// When a post of a local group changed hands on our side (created, edited,
/// deleted by its local author), the group passes the author's activity on.
pub async fn relay_local(
    state: &AppState,
    s: &statuses::Model,
    activity: &Value,
    created: bool,
) -> AppResult<()> {
    let Some(gid) = s.group_id else {
        return Ok(());
    };
    let Some(group) = groups::load(&state.db, gid)
        .await?
        .filter(|g| g.local() && groups::shown_in_group(g, s))
    else {
        return Ok(());
    };
    relay(state, &group, activity.clone(), created.then_some(s)).await
}

/// Where a post of a group is delivered besides the group's own relay: a
/// members-only group's posts go to the group only (their author's
/// followers and mentioned outsiders must not get them); others go to the
/// usual audience and to the group's inbox when the group is elsewhere.
pub async fn post_inboxes(
    state: &AppState,
    s: &statuses::Model,
    usual: BTreeSet<String>,
    deleted: bool,
) -> AppResult<BTreeSet<String>> {
    let Some(gid) = s.group_id else {
        return Ok(usual);
    };
    let Some(group) = groups::load(&state.db, gid).await? else {
        return Ok(usual);
    };
    let mut out = if group.members_only() {
        BTreeSet::new()
    } else {
        usual
    };
    if group.local() {
        // The author's Delete also goes straight to the members' servers:
        // Mastodon ignores an Announced Delete but honours the author's.
        if deleted && !group.members_only() {
            out.extend(follower_inboxes(state, group.id()).await?);
        }
    } else {
        out.extend(inbox_of_personal(&group.actor));
    }
    Ok(out)
}

/// Publish the group events of `domain::events`.
pub async fn publish(state: &AppState, event: &Event) -> AppResult<()> {
    match event {
        Event::GroupRelay { group_id, activity } => {
            let group = local_group(state, *group_id).await?;
            // A new thread from another server is boosted too.
            let boost = match (
                type_of(activity).as_deref(),
                activity.get("object").and_then(id_of),
            ) {
                (Some("Create"), Some(obj)) => {
                    queries::statuses::by_ap_id(&state.db, obj.as_str()).await?
                }
                _ => None,
            };
            relay(state, &group, (**activity).clone(), boost.as_ref()).await
        }
        Event::GroupInvited(inv) => {
            let group = local_group(state, inv.group_id).await?;
            let invitee = actor(state, inv.actor_id).await?;
            let locale = crate::i18n::Locale::parse(&state.config.instance.default_locale)
                .unwrap_or(crate::i18n::Locale::En);
            let handle = format!("@{}@{}", group.actor.username, group.actor.domain);
            let text = crate::msg!(
                "group-invitation-message",
                group = group.actor.display_name.clone(),
                handle = handle.clone()
            )
            .render(locale);
            let mention = format!(
                r#"<span class="h-card"><a href="{}" class="u-url mention">@{}</a></span>"#,
                invitee.url.as_deref().unwrap_or(&invitee.ap_id),
                invitee.username
            );
            let id = format!("{}/invitations/{}", group.actor.ap_id, inv.id);
            let note = json!({
                "id": id,
                "type": "Note",
                "attributedTo": group.actor.ap_id,
                "to": [invitee.ap_id],
                "cc": [],
                "content": format!("<p>{mention} {}</p>", crate::domain::text::escape_html(&text)),
                "published": inv.created_at,
                "url": group.actor.ap_id,
                "tag": [{ "type": "Mention", "href": invitee.ap_id, "name": format!("@{}@{}", invitee.username, invitee.domain) }],
            });
            let activity = json!({
                "id": format!("{id}/activity"),
                "type": "Create",
                "actor": group.actor.ap_id,
                "to": [invitee.ap_id],
                "object": note,
            });
            enqueue(
                state,
                &group.actor,
                "Create",
                Some(&invitee.ap_id),
                activity,
                inbox_of_personal(&invitee),
            )
            .await
        }
        Event::GroupPostRemoved {
            status_id,
            moderator_id,
            reason,
        } => {
            let s = status(state, *status_id).await?;
            let group = local_group(state, s.group_id.unwrap_or_default()).await?;
            let moderator = actor(state, *moderator_id).await?;
            if s.local {
                // Our member's post: its author's Delete reaches every copy.
                Box::pin(crate::federation::publish::publish_one(
                    state,
                    &Event::PostDeleted(s.id),
                ))
                .await?;
            }
            let delete = json!({
                "id": format!("{}#removed/{}", s.ap_id, crate::db::ids::next_id()),
                "type": "Delete",
                "actor": moderator.ap_id,
                "to": [PUBLIC],
                "cc": [group.actor.ap_id],
                "audience": group.actor.ap_id,
                "object": s.ap_id,
                "summary": reason,
            });
            relay(state, &group, delete, None).await?;
            if !s.local && s.in_reply_to_ap_id.is_none() && !group.members_only() {
                // Take back the boost Mastodon followers got.
                let boost = json!({
                    "id": boost_id(&group.actor, s.id),
                    "type": "Announce",
                    "actor": group.actor.ap_id,
                    "object": s.ap_id,
                });
                let inboxes = follower_inboxes(state, group.id()).await?;
                enqueue(
                    state,
                    &group.actor,
                    "Undo",
                    Some(&s.ap_id),
                    undo(&group.actor, boost),
                    inboxes,
                )
                .await?;
            }
            Ok(())
        }
        Event::GroupThreadLocked {
            status_id,
            moderator_id,
            locked,
        } => {
            let s = status(state, *status_id).await?;
            let group = local_group(state, s.group_id.unwrap_or_default()).await?;
            let moderator = actor(state, *moderator_id).await?;
            let lock = json!({
                "id": format!("{}#lock/{}", s.ap_id, crate::db::ids::next_id()),
                "type": "Lock",
                "actor": moderator.ap_id,
                "to": [PUBLIC],
                "cc": [group.actor.ap_id],
                "audience": group.actor.ap_id,
                "object": s.ap_id,
            });
            let activity = if *locked {
                lock
            } else {
                undo(&moderator, lock)
            };
            relay(state, &group, activity, None).await
        }
        Event::GroupPinned {
            group_id,
            status_id,
            pinned,
        } => {
            let group = local_group(state, *group_id).await?;
            let s = status(state, *status_id).await?;
            let (to, cc) = group_addressing(&group);
            let activity = json!({
                "id": format!("{}#featured/{}", group.actor.ap_id, crate::db::ids::next_id()),
                "type": if *pinned { "Add" } else { "Remove" },
                "actor": group.actor.ap_id,
                "to": to,
                "cc": cc,
                "audience": group.actor.ap_id,
                "object": s.ap_id,
                "target": group.actor.featured_url,
            });
            let inboxes = follower_inboxes(state, group.id()).await?;
            let kind = if *pinned { "Add" } else { "Remove" };
            enqueue(state, &group.actor, kind, Some(&s.ap_id), activity, inboxes).await
        }
        Event::GroupBanned(ban) | Event::GroupUnbanned(ban) => {
            let group = local_group(state, ban.group_id).await?;
            let target = actor(state, ban.actor_id).await?;
            let block = json!({
                "id": ban.ap_id.clone().unwrap_or_else(|| format!("{}#bans/{}", group.actor.ap_id, ban.id)),
                "type": "Block",
                "actor": group.actor.ap_id,
                "to": [target.ap_id],
                "object": target.ap_id,
                "target": group.actor.ap_id,
                "summary": ban.reason,
            });
            let inboxes = inbox_of_personal(&target);
            if matches!(event, Event::GroupBanned(_)) {
                enqueue(
                    state,
                    &group.actor,
                    "Block",
                    Some(&target.ap_id),
                    block,
                    inboxes,
                )
                .await
            } else {
                enqueue(
                    state,
                    &group.actor,
                    "Undo",
                    Some(&target.ap_id),
                    undo(&group.actor, block),
                    inboxes,
                )
                .await
            }
        }
        _ => Ok(()),
    }
}

async fn local_group(state: &AppState, id: i64) -> AppResult<Group> {
    groups::load(&state.db, id)
        .await?
        .filter(Group::local)
        .ok_or_else(AppError::not_found)
}

async fn actor(state: &AppState, id: i64) -> AppResult<actors::Model> {
    queries::actors::by_id(&state.db, id)
        .await?
        .ok_or_else(AppError::not_found)
}

async fn status(state: &AppState, id: i64) -> AppResult<statuses::Model> {
    queries::statuses::by_id(&state.db, id)
        .await?
        .ok_or_else(AppError::not_found)
}

mod receive;

pub use receive::{apply_featured, receive_announce, receive_moderation, remote_insider};
