//! From domain events to ActivityPub: build each activity, decide which remote
//! inboxes must get it (followers collapsed to shared inboxes, mentioned and
//! replied-to accounts), store it, and queue one delivery per inbox in the
//! database. The delivery workers do the sending.

use crate::{
    app::AppState,
    db::{
        entities::{activities, actors, deliveries, statuses},
        ids, queries,
    },
    domain::{events::Event, outbox::Outbox, posts},
    error::{AppError, AppResult},
    federation::{
        actors::actor_document,
        error::FedError,
        groups,
        objects::note,
        protocol::{PUBLIC, with_context},
        relay,
    },
};
use sea_orm::ActiveValue::Set;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Publish recorded events: build each activity and queue its deliveries,
/// then drop the event's outbox row. Failures are not returned (the change
/// has been made and whoever made it should not see an error for it): the
/// row stays and `federation::pending` tries again. A retry after a partial
/// failure may send an activity twice; receivers treat a repeated Create or
/// Like of the same object as one.
pub async fn publish(state: &AppState, outbox: Outbox) {
    for (id, event) in outbox.into_entries() {
        match publish_one(state, &event).await {
            Ok(()) => {
                if let Err(e) = queries::publications::delete(&state.db, id).await {
                    tracing::warn!(error = %e, id, "published event kept; it will be sent again");
                }
            }
            Err(e) => crate::federation::pending::postpone(state, id, &event, &e).await,
        }
    }
}

/// Record and publish what a received activity caused without a change of
/// our own to go with it (a relayed post, a new poll tally). A failure to
/// record is returned, so that the inbox item is processed again later.
pub async fn record_and_publish(state: &AppState, events: Vec<Event>) -> Result<(), FedError> {
    let outbox = Outbox::record(&state.db, events).await?;
    publish(state, outbox).await;
    Ok(())
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

fn ap(e: crate::federation::error::FedError) -> AppError {
    e.into()
}

pub(crate) async fn publish_one(state: &AppState, event: &Event) -> AppResult<()> {
    match event {
        Event::PostCreated(id) | Event::PostUpdated(id) => {
            let s = status(state, *id).await?;
            let author = actor(state, s.actor_id).await?;
            let object = serde_json::to_value(note(state, &s).await.map_err(ap)?)
                .map_err(AppError::internal)?;
            let (to, cc) = posts::addressed(&s);
            let (kind, activity_id) = match event {
                Event::PostCreated(_) => ("Create", format!("{}/activity", s.ap_id)),
                _ => (
                    "Update",
                    format!(
                        "{}#updates/{}",
                        s.ap_id,
                        s.edited_at.unwrap_or(s.published).timestamp_millis()
                    ),
                ),
            };
            let activity = json!({
                "id": activity_id,
                "type": kind,
                "actor": author.ap_id,
                "published": s.edited_at.unwrap_or(s.published),
                "to": to,
                "cc": cc,
                "object": object,
            });
            let usual = post_audience(state, &s, &author).await?;
            let mut inboxes = groups::post_inboxes(state, &s, usual, false).await?;
            if relay::post_goes_to_portal(state, &s).await? {
                inboxes.extend(relay::portal_inboxes(state).await?);
            }
            enqueue(
                state,
                &author,
                kind,
                Some(&s.ap_id),
                activity.clone(),
                inboxes,
            )
            .await?;
            groups::relay_local(state, &s, &activity, kind == "Create").await
        }
        Event::PostDeleted(id) => {
            let s = status(state, *id).await?;
            let author = actor(state, s.actor_id).await?;
            let (to, cc) = posts::addressed(&s);
            let activity = json!({
                "id": format!("{}#delete", s.ap_id),
                "type": "Delete",
                "actor": author.ap_id,
                "to": to,
                "cc": cc,
                "object": { "id": s.ap_id, "type": "Tombstone" },
            });
            let usual = post_audience(state, &s, &author).await?;
            let mut inboxes = groups::post_inboxes(state, &s, usual, true).await?;
            if relay::post_goes_to_portal(state, &s).await? {
                inboxes.extend(relay::portal_inboxes(state).await?);
            }
            enqueue(
                state,
                &author,
                "Delete",
                Some(&s.ap_id),
                activity.clone(),
                inboxes,
            )
            .await?;
            groups::relay_local(state, &s, &activity, false).await
        }
        Event::Boosted(id) | Event::Unboosted(id) => {
            let boost = status(state, *id).await?;
            let booster = actor(state, boost.actor_id).await?;
            let original = status(state, boost.reblog_of_id.unwrap_or_default()).await?;
            let original_author = actor(state, original.actor_id).await?;
            let (to, cc) = posts::addressed(&boost);
            let announce = json!({
                "id": boost.ap_id,
                "type": "Announce",
                "actor": booster.ap_id,
                "published": boost.published,
                "to": to,
                "cc": cc,
                "object": original.ap_id,
            });
            let mut inboxes = follower_inboxes(state, booster.id).await?;
            inboxes.extend(inbox_of(&original_author));
            if matches!(event, Event::Boosted(_)) {
                enqueue(
                    state,
                    &booster,
                    "Announce",
                    Some(&original.ap_id),
                    announce,
                    inboxes,
                )
                .await
            } else {
                let undo = undo(&booster, announce);
                enqueue(state, &booster, "Undo", Some(&boost.ap_id), undo, inboxes).await
            }
        }
        Event::Liked(f) | Event::Unliked(f) => {
            let liker = actor(state, f.actor_id).await?;
            let s = status(state, f.status_id).await?;
            let author = actor(state, s.actor_id).await?;
            let like = json!({
                "id": f.ap_id.clone().unwrap_or_else(|| format!("{}#likes/{}", liker.ap_id, f.id)),
                "type": "Like",
                "actor": liker.ap_id,
                "object": s.ap_id,
            });
            let inboxes: BTreeSet<String> = inbox_of(&author).into_iter().collect();
            if matches!(event, Event::Liked(_)) {
                enqueue(state, &liker, "Like", Some(&s.ap_id), like, inboxes).await
            } else {
                enqueue(
                    state,
                    &liker,
                    "Undo",
                    Some(&s.ap_id),
                    undo(&liker, like),
                    inboxes,
                )
                .await
            }
        }
        Event::Followed(f) | Event::Unfollowed(f) => {
            let follower = actor(state, f.follower_id).await?;
            let followee = actor(state, f.followee_id).await?;
            let follow = follow_json(&follower, &followee, f.ap_id.as_deref(), f.id);
            let inboxes: BTreeSet<String> = inbox_of_personal(&followee).into_iter().collect();
            if matches!(event, Event::Followed(_)) {
                enqueue(
                    state,
                    &follower,
                    "Follow",
                    Some(&followee.ap_id),
                    follow,
                    inboxes,
                )
                .await
            } else {
                enqueue(
                    state,
                    &follower,
                    "Undo",
                    Some(&followee.ap_id),
                    undo(&follower, follow),
                    inboxes,
                )
                .await
            }
        }
        Event::FollowAccepted(f) | Event::FollowRejected(f) => {
            let follower = actor(state, f.follower_id).await?;
            let followee = actor(state, f.followee_id).await?;
            let kind = if matches!(event, Event::FollowAccepted(_)) {
                "Accept"
            } else {
                "Reject"
            };
            let answer = json!({
                "id": format!("{}#{}s/follows/{}", followee.ap_id, kind.to_lowercase(), ids::next_id()),
                "type": kind,
                "actor": followee.ap_id,
                "to": [follower.ap_id],
                "object": follow_json(&follower, &followee, f.ap_id.as_deref(), f.id),
            });
            let inboxes: BTreeSet<String> = inbox_of_personal(&follower).into_iter().collect();
            enqueue(
                state,
                &followee,
                kind,
                Some(&follower.ap_id),
                answer,
                inboxes,
            )
            .await
        }
        Event::Blocked(b) | Event::Unblocked(b) => {
            let me = actor(state, b.actor_id).await?;
            let target = actor(state, b.target_id).await?;
            let block = json!({
                "id": b.ap_id.clone().unwrap_or_else(|| format!("{}#blocks/{}", me.ap_id, b.id)),
                "type": "Block",
                "actor": me.ap_id,
                "object": target.ap_id,
            });
            let inboxes: BTreeSet<String> = inbox_of_personal(&target).into_iter().collect();
            if matches!(event, Event::Blocked(_)) {
                enqueue(state, &me, "Block", Some(&target.ap_id), block, inboxes).await
            } else {
                enqueue(
                    state,
                    &me,
                    "Undo",
                    Some(&target.ap_id),
                    undo(&me, block),
                    inboxes,
                )
                .await
            }
        }
        Event::ProfileUpdated(id) => {
            let a = actor(state, *id).await?;
            let doc = serde_json::to_value(actor_document(state, &a).await.map_err(ap)?)
                .map_err(AppError::internal)?;
            let activity = json!({
                "id": format!("{}#updates/{}", a.ap_id, a.updated_at.timestamp_millis()),
                "type": "Update",
                "actor": a.ap_id,
                "to": [PUBLIC],
                "cc": [a.followers_url],
                "object": doc,
            });
            let inboxes = follower_inboxes(state, a.id).await?;
            enqueue(state, &a, "Update", Some(&a.ap_id), activity, inboxes).await
        }
        Event::PollUpdated(id) => {
            // New tallies of one of our polls, to everyone who received it.
            let s = status(state, *id).await?;
            let author = actor(state, s.actor_id).await?;
            let object = serde_json::to_value(note(state, &s).await.map_err(ap)?)
                .map_err(AppError::internal)?;
            let (to, cc) = posts::addressed(&s);
            let activity = json!({
                "id": format!("{}#updates/poll/{}", s.ap_id, ids::next_id()),
                "type": "Update",
                "actor": author.ap_id,
                "to": to,
                "cc": cc,
                "object": object,
            });
            let inboxes = post_audience(state, &s, &author).await?;
            enqueue(state, &author, "Update", Some(&s.ap_id), activity, inboxes).await
        }
        Event::PollVoted(vote) => {
            // A vote is a reply naming the option, sent to the poll's author only.
            let voter = actor(state, vote.actor_id).await?;
            let poll = queries::polls::by_id(&state.db, vote.poll_id)
                .await?
                .ok_or_else(AppError::not_found)?;
            let s = status(state, poll.status_id).await?;
            let author = actor(state, s.actor_id).await?;
            let name = crate::domain::polls::options(&poll)
                .get(vote.choice as usize)
                .cloned()
                .unwrap_or_default();
            let note_id = vote
                .ap_id
                .clone()
                .unwrap_or_else(|| format!("{}#votes/{}", voter.ap_id, vote.id));
            let activity = json!({
                "id": format!("{note_id}/activity"),
                "type": "Create",
                "actor": voter.ap_id,
                "to": [author.ap_id],
                "object": {
                    "id": note_id,
                    "type": "Note",
                    "name": name,
                    "attributedTo": voter.ap_id,
                    "to": [author.ap_id],
                    "inReplyTo": s.ap_id,
                },
            });
            let inboxes: BTreeSet<String> = inbox_of_personal(&author).into_iter().collect();
            enqueue(state, &voter, "Create", Some(&s.ap_id), activity, inboxes).await
        }
        Event::AccountDeleted(a) => {
            let activity = json!({
                "id": format!("{}#delete", a.ap_id),
                "type": "Delete",
                "actor": a.ap_id,
                "to": [PUBLIC],
                "cc": [a.followers_url],
                "object": a.ap_id,
            });
            // Everyone who follows the account, and every server it follows people on.
            let mut inboxes = follower_inboxes(state, a.id).await?;
            for f in queries::follows::following(
                &state.db,
                a.id,
                queries::Page {
                    limit: 100_000,
                    ..Default::default()
                },
            )
            .await?
            {
                if let Some(followee) = queries::actors::by_id(&state.db, f.followee_id).await? {
                    inboxes.extend(inbox_of(&followee));
                }
            }
            enqueue(state, a, "Delete", Some(&a.ap_id), activity, inboxes).await
        }
        Event::GroupRelay { .. }
        | Event::GroupInvited(_)
        | Event::GroupPostRemoved { .. }
        | Event::GroupThreadLocked { .. }
        | Event::GroupPinned { .. }
        | Event::GroupBanned(_)
        | Event::GroupUnbanned(_) => groups::publish(state, event).await,
        Event::EventAnswered { .. } | Event::EventRsvp { .. } => {
            crate::federation::calendar::publish(state, event).await
        }
        Event::ResourcePublished(_) | Event::ResourceUpdated(_) | Event::ResourceWithdrawn(_) => {
            crate::federation::resources::publish(state, event).await
        }
        Event::ReportForwarded(id) => crate::federation::reports::send_flag(state, *id).await,
    }
}

fn follow_json(
    follower: &actors::Model,
    followee: &actors::Model,
    ap_id: Option<&str>,
    row_id: i64,
) -> Value {
    json!({
        "id": ap_id.map(str::to_string).unwrap_or_else(|| format!("{}#follows/{row_id}", follower.ap_id)),
        "type": "Follow",
        "actor": follower.ap_id,
        "object": followee.ap_id,
    })
}

pub(crate) fn undo(actor: &actors::Model, inner: Value) -> Value {
    let inner_id = inner
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    json!({
        "id": format!("{inner_id}#undo"),
        "type": "Undo",
        "actor": actor.ap_id,
        "object": inner,
    })
}

/// Where to deliver to a remote actor: the shared inbox when there is one.
pub(crate) fn inbox_of(a: &actors::Model) -> Option<String> {
    if a.local || a.deleted_at.is_some() {
        return None;
    }
    Some(
        a.shared_inbox_url
            .clone()
            .unwrap_or_else(|| a.inbox_url.clone()),
    )
}

/// Activities meant for one actor (follows, blocks) go to its own inbox.
pub(crate) fn inbox_of_personal(a: &actors::Model) -> Option<String> {
    if a.local {
        return None;
    }
    Some(a.inbox_url.clone())
}

pub(crate) async fn follower_inboxes(
    state: &AppState,
    actor_id: i64,
) -> AppResult<BTreeSet<String>> {
    let ids = queries::follows::all_follower_ids(&state.db, actor_id).await?;
    let mut out = BTreeSet::new();
    for chunk in ids.chunks(500) {
        for a in queries::actors::by_ids(&state.db, chunk).await? {
            out.extend(inbox_of(&a));
        }
    }
    Ok(out)
}

/// Remote inboxes that must receive a post: followers for public, unlisted
/// and followers-only posts; mentioned (and replied-to) accounts always.
async fn post_audience(
    state: &AppState,
    s: &statuses::Model,
    author: &actors::Model,
) -> AppResult<BTreeSet<String>> {
    let mut out = match posts::Visibility::of(s) {
        posts::Visibility::Direct => BTreeSet::new(),
        _ => follower_inboxes(state, author.id).await?,
    };
    // In a group thread the group delivers replies to everyone in it, after
    // checking bans and locks: sending them to the parent's author directly
    // would go around the group's moderation.
    let in_group = s.group_id.is_some();
    let mentioned = queries::statuses::mentioned_actor_ids(&state.db, s.id).await?;
    for a in queries::actors::by_ids(&state.db, &mentioned).await? {
        if in_group && Some(a.id) == s.in_reply_to_actor_id {
            continue;
        }
        out.extend(inbox_of(&a));
    }
    if !in_group
        && let Some(pid) = s.in_reply_to_actor_id
        && let Some(a) = queries::actors::by_id(&state.db, pid).await?
    {
        out.extend(inbox_of(&a));
    }
    // An event's changes, cancellation and deletion reach everyone who
    // answered it from another server, followers of the organiser or not.
    if s.kind == "Event" {
        use crate::domain::calendar::Rsvp;
        let answered = [
            Rsvp::Going.as_str(),
            Rsvp::Maybe.as_str(),
            Rsvp::Pending.as_str(),
            Rsvp::Waiting.as_str(),
        ];
        let rows = queries::calendar::participants(&state.db, s.id, &answered).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.actor_id).collect();
        for a in queries::actors::by_ids(&state.db, &ids).await? {
            if !a.local && a.deleted_at.is_none() {
                out.extend(inbox_of(&a));
            }
        }
    }
    Ok(out)
}

/// Store the activity and queue a delivery per inbox, in one transaction.
pub async fn enqueue(
    state: &AppState,
    actor: &actors::Model,
    kind: &str,
    object: Option<&str>,
    activity: Value,
    inboxes: impl IntoIterator<Item = String>,
) -> AppResult<()> {
    let inboxes: BTreeSet<String> = inboxes
        .into_iter()
        .filter(|i| !state.urls.is_local(i))
        .collect();
    let activity = with_context(activity);
    let ap_id = activity
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let now = chrono::Utc::now();
    let txn = crate::db::begin(&state.db).await?;
    let row = match queries::delivery::activity_by_ap_id(&txn, &ap_id).await? {
        // The same activity again (a repeated Accept): deliver the stored copy.
        Some(existing) => existing,
        None => {
            queries::delivery::insert_activity(
                &txn,
                activities::ActiveModel {
                    id: Set(ids::next_id()),
                    ap_id: Set(ap_id.clone()),
                    actor_id: Set(actor.id),
                    kind: Set(kind.to_string()),
                    object_ap_id: Set(object.map(str::to_string)),
                    json: Set(activity.to_string()),
                    created_at: Set(now),
                },
            )
            .await?
        }
    };
    let rows: Vec<deliveries::ActiveModel> = inboxes
        .iter()
        .filter_map(|inbox| {
            let host = url::Url::parse(inbox)
                .ok()
                .map(|u| crate::federation::protocol::authority(&u))?;
            Some(deliveries::ActiveModel {
                id: Set(ids::next_id()),
                activity_id: Set(row.id),
                inbox_url: Set(inbox.clone()),
                host: Set(host),
                attempts: Set(0),
                next_attempt_at: Set(now),
                locked_until: Set(None),
                last_status: Set(None),
                last_error: Set(None),
                created_at: Set(now),
            })
        })
        .collect();
    let count = rows.len();
    queries::delivery::insert_deliveries(&txn, rows).await?;
    txn.commit().await?;
    if count > 0 {
        tracing::debug!(activity = %ap_id, inboxes = count, "deliveries queued");
        state.queues.deliveries.notify_one();
    }
    Ok(())
}
