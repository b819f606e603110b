//! Answers to events: going, maybe, not going. For our events every answer
//! runs in one transaction that first locks the event row, and a seat is
//! taken by a conditional update, so concurrent answers never exceed the
//! capacity; when full, people wait (if the event keeps a waiting list) and
//! move up as seats free. Approval-mode events queue requests for the
//! organisers; invitation-mode events take answers from invitees only.
//! Answers to remote events are recorded and sent to their server.

use super::{EventStatus, JoinMode, MESSAGE_MAX, Rsvp, is_organiser};
use crate::domain::outbox::Outbox;
use crate::{
    app::AppState,
    db::{
        DatabaseTransaction,
        entities::{actors, calendar_events, event_participants},
        ids, queries,
    },
    domain::{events::Event, notifications, validate},
    error::{AppError, AppResult},
    msg,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, IntoActiveModel};

fn refuse(key: &'static str) -> AppError {
    AppError::Unprocessable(crate::i18n::Msg::new(key))
}

/// Set someone's answer (creating the row), returning the row.
async fn put(
    db: &impl ConnectionTrait,
    existing: Option<event_participants::Model>,
    event: i64,
    actor: i64,
    status: Rsvp,
    ap_id: Option<String>,
    message: Option<String>,
) -> AppResult<event_participants::Model> {
    let now = chrono::Utc::now();
    Ok(match existing {
        Some(p) => {
            let mut a = p.into_active_model();
            a.status = Set(status.as_str().into());
            if ap_id.is_some() {
                a.ap_id = Set(ap_id);
            }
            if message.is_some() {
                a.message = Set(message);
            }
            a.updated_at = Set(now);
            queries::calendar::update_participant(db, a).await?
        }
        None => {
            queries::calendar::insert_participant(
                db,
                event_participants::ActiveModel {
                    id: Set(ids::next_id()),
                    event_id: Set(event),
                    actor_id: Set(actor),
                    status: Set(status.as_str().into()),
                    ap_id: Set(ap_id),
                    message: Set(message),
                    created_at: Set(now),
                    updated_at: Set(now),
                },
            )
            .await?
        }
    })
}

/// Give free seats to the people waiting, first come first. Returns those
/// who moved up.
pub async fn fill_seats(
    db: &impl ConnectionTrait,
    e: &calendar_events::Model,
) -> AppResult<Vec<event_participants::Model>> {
    let mut promoted = Vec::new();
    if !e.local {
        return Ok(promoted);
    }
    for p in queries::calendar::participants(db, e.id, &[Rsvp::Waiting.as_str()]).await? {
        if !queries::calendar::take_seat(db, e.id).await? {
            break;
        }
        promoted.push(
            put(
                db,
                Some(p.clone()),
                e.id,
                p.actor_id,
                Rsvp::Going,
                None,
                None,
            )
            .await?,
        );
    }
    Ok(promoted)
}

/// The Accepts (or Rejects) owed to remote people among `list`.
pub fn answers_for(list: &[event_participants::Model], accepted: bool) -> Vec<Event> {
    list.iter()
        .filter(|p| p.ap_id.is_some())
        .map(|p| Event::EventAnswered {
            participant_id: p.id,
            accepted,
        })
        .collect()
}

/// What an answer to one of our events came to.
pub struct Decided {
    pub participant: event_participants::Model,
    /// People who moved up from the waiting list because a seat freed.
    pub promoted: Vec<event_participants::Model>,
    /// The answer changed something.
    pub changed: bool,
}

/// Decide an answer to a local event, inside `txn` (which this locks the
/// event row in first).
pub async fn decide(
    txn: &DatabaseTransaction,
    event_id: i64,
    who: &actors::Model,
    choice: Rsvp,
    ap_id: Option<String>,
    message: Option<String>,
) -> AppResult<Decided> {
    if !queries::calendar::lock(txn, event_id).await? {
        return Err(AppError::not_found());
    }
    let e = queries::calendar::by_id(txn, event_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if EventStatus::of(&e) == EventStatus::Cancelled {
        return Err(refuse("error-event-cancelled"));
    }
    if e.ends_at <= chrono::Utc::now() {
        return Err(refuse("error-event-over"));
    }
    let existing = queries::calendar::participant(txn, e.id, who.id).await?;
    let was = existing.as_ref().and_then(|p| Rsvp::parse(&p.status));
    if was == Some(Rsvp::Rejected) {
        return Err(AppError::Forbidden(msg!("error-event-rejected")));
    }
    let organiser = is_organiser(txn, who, &e).await?;
    if JoinMode::of(&e) == JoinMode::Invitation && !organiser && existing.is_none() {
        return Err(AppError::Forbidden(msg!("error-event-invitation-only")));
    }
    let now_status = match choice {
        Rsvp::Going => match was {
            Some(Rsvp::Going) | Some(Rsvp::Pending) | Some(Rsvp::Waiting) => {
                was.unwrap_or(Rsvp::Going)
            }
            _ if JoinMode::of(&e) == JoinMode::Approval && !organiser => Rsvp::Pending,
            _ => {
                if queries::calendar::take_seat(txn, e.id).await? {
                    Rsvp::Going
                } else if e.waiting_list {
                    Rsvp::Waiting
                } else {
                    return Err(refuse("error-event-full"));
                }
            }
        },
        Rsvp::Maybe | Rsvp::NotGoing => choice,
        _ => return Err(refuse("error-event-answer")),
    };
    let changed = was != Some(now_status);
    let participant = put(txn, existing, e.id, who.id, now_status, ap_id, message).await?;
    let mut promoted = Vec::new();
    if was == Some(Rsvp::Going) && now_status != Rsvp::Going {
        queries::calendar::free_seat(txn, e.id).await?;
        promoted = fill_seats(txn, &e).await?;
        for p in &promoted {
            notifications::notify_id(txn, p.actor_id, "event_seat", e.organizer_id, Some(e.id))
                .await?;
        }
    }
    if changed && now_status == Rsvp::Pending {
        notifications::notify_id(txn, e.organizer_id, "event_request", who.id, Some(e.id)).await?;
    }
    Ok(Decided {
        participant,
        promoted,
        changed,
    })
}

fn message(raw: Option<&str>) -> AppResult<Option<String>> {
    validate::optional("message", raw, MESSAGE_MAX)
}

/// A local member answers an event, ours or another server's.
pub async fn answer(
    state: &AppState,
    me: &actors::Model,
    event_id: i64,
    choice: Rsvp,
    note: Option<&str>,
) -> AppResult<(event_participants::Model, Outbox)> {
    let note = message(note)?;
    let e = super::visible(&state.db, Some(me), event_id).await?;
    if !matches!(choice, Rsvp::Going | Rsvp::Maybe | Rsvp::NotGoing) {
        return Err(refuse("error-event-answer"));
    }
    if !e.local {
        return answer_remote(state, me, &e, choice, note).await;
    }
    let txn = crate::db::begin(&state.db).await?;
    let d = decide(&txn, e.id, me, choice, None, note).await?;
    let outbox = Outbox::commit(txn, answers_for(&d.promoted, true)).await?;
    Ok((d.participant, outbox))
}

async fn answer_remote(
    state: &AppState,
    me: &actors::Model,
    e: &calendar_events::Model,
    choice: Rsvp,
    note: Option<String>,
) -> AppResult<(event_participants::Model, Outbox)> {
    if EventStatus::of(e) == EventStatus::Cancelled {
        return Err(refuse("error-event-cancelled"));
    }
    let txn = crate::db::begin(&state.db).await?;
    queries::calendar::lock(&txn, e.id).await?;
    let existing = queries::calendar::participant(&txn, e.id, me.id).await?;
    let was = existing.as_ref().and_then(|p| Rsvp::parse(&p.status));
    if was == Some(Rsvp::Rejected) {
        return Err(AppError::Forbidden(msg!("error-event-rejected")));
    }
    let status = match choice {
        Rsvp::Going if matches!(was, Some(Rsvp::Going) | Some(Rsvp::Pending)) => {
            was.unwrap_or(Rsvp::Going)
        }
        // Going stays a request until the organiser's server accepts it.
        Rsvp::Going => Rsvp::Pending,
        other => other,
    };
    if was == Some(status) {
        txn.rollback().await?;
        let p = existing.ok_or_else(AppError::not_found)?;
        return Ok((p, Outbox::none()));
    }
    let ap_id = Some(format!("{}#rsvp/{}", me.ap_id, ids::next_id()));
    if was == Some(Rsvp::Going) {
        queries::calendar::adjust_going(&txn, e.id, -1).await?;
    }
    let p = put(&txn, existing, e.id, me.id, status, ap_id, note).await?;
    let outbox = Outbox::commit(
        txn,
        vec![Event::EventRsvp {
            participant_id: p.id,
        }],
    )
    .await?;
    Ok((p, outbox))
}

/// A remote person answers one of our events (Join, Leave, Accept,
/// TentativeAccept or Reject of the Event, or a vote on its poll). Refusals
/// become a Reject to them rather than an error.
pub async fn receive(
    state: &AppState,
    who: &actors::Model,
    e: &calendar_events::Model,
    choice: Rsvp,
    activity_id: &str,
    note: Option<String>,
) -> AppResult<Outbox> {
    if !super::can_see(&state.db, Some(who), e).await? {
        return Err(AppError::not_found());
    }
    let note = note.map(|n| n.chars().take(MESSAGE_MAX).collect::<String>());
    let txn = crate::db::begin(&state.db).await?;
    let decided = decide(&txn, e.id, who, choice, Some(activity_id.to_string()), note).await;
    match decided {
        Ok(d) => {
            let mut out = answers_for(&d.promoted, true);
            let status = Rsvp::parse(&d.participant.status);
            if d.changed && matches!(status, Some(Rsvp::Going)) {
                out.push(Event::EventAnswered {
                    participant_id: d.participant.id,
                    accepted: true,
                });
            }
            Outbox::commit(txn, out).await
        }
        Err(AppError::Unprocessable(_)) | Err(AppError::Forbidden(_)) if choice == Rsvp::Going => {
            txn.rollback().await?;
            // Full, cancelled, over or not invited: they hear no.
            let existing = queries::calendar::participant(&state.db, e.id, who.id).await?;
            if existing
                .as_ref()
                .is_some_and(|p| p.status == Rsvp::Going.as_str())
            {
                return Ok(Outbox::none());
            }
            let txn = crate::db::begin(&state.db).await?;
            let p = put(
                &txn,
                existing,
                e.id,
                who.id,
                Rsvp::NotGoing,
                Some(activity_id.to_string()),
                None,
            )
            .await?;
            let events = vec![Event::EventAnswered {
                participant_id: p.id,
                accepted: false,
            }];
            Outbox::commit(txn, events).await
        }
        Err(e) => {
            txn.rollback().await?;
            Err(e)
        }
    }
}

/// The organiser's server answered one of our members' Join.
pub async fn receive_answer(
    state: &AppState,
    from: &actors::Model,
    join_id: &str,
    accepted: bool,
) -> AppResult<bool> {
    let Some(p) = queries::calendar::participant_by_ap_id(&state.db, join_id).await? else {
        return Ok(false);
    };
    let Some(e) = queries::calendar::by_id(&state.db, p.event_id).await? else {
        return Ok(false);
    };
    if e.local || e.organizer_id != from.id && !same_host(from, &e, state).await? {
        return Ok(false);
    }
    let was = Rsvp::parse(&p.status);
    let now = if accepted {
        Rsvp::Going
    } else {
        Rsvp::Rejected
    };
    if was == Some(now) || (accepted && was != Some(Rsvp::Pending)) {
        return Ok(true);
    }
    let txn = crate::db::begin(&state.db).await?;
    if was == Some(Rsvp::Going) {
        queries::calendar::adjust_going(&txn, e.id, -1).await?;
    }
    if now == Rsvp::Going {
        queries::calendar::adjust_going(&txn, e.id, 1).await?;
    }
    let actor_id = p.actor_id;
    put(&txn, Some(p), e.id, actor_id, now, None, None).await?;
    let kind = if accepted {
        "event_approved"
    } else {
        "event_rejected"
    };
    notifications::notify_id(&txn, actor_id, kind, e.organizer_id, Some(e.id)).await?;
    txn.commit().await?;
    Ok(true)
}

/// An answer from the organiser's server (its instance actor or a group may
/// sign for the organiser).
async fn same_host(
    from: &actors::Model,
    e: &calendar_events::Model,
    state: &AppState,
) -> AppResult<bool> {
    Ok(queries::actors::by_id(&state.db, e.organizer_id)
        .await?
        .is_some_and(|o| o.domain == from.domain))
}

/// Organisers decide on a request to join (approval mode), or take someone
/// off the list (reject).
pub async fn decide_request(
    state: &AppState,
    who: &actors::Model,
    event_id: i64,
    participant_actor: i64,
    approve: bool,
) -> AppResult<(event_participants::Model, Outbox)> {
    let e = super::visible(&state.db, Some(who), event_id).await?;
    if !is_organiser(&state.db, who, &e).await? {
        return Err(AppError::Forbidden(msg!("error-event-organisers-only")));
    }
    let txn = crate::db::begin(&state.db).await?;
    queries::calendar::lock(&txn, e.id).await?;
    let p = queries::calendar::participant(&txn, e.id, participant_actor)
        .await?
        .ok_or_else(AppError::not_found)?;
    let was = Rsvp::parse(&p.status);
    let mut promoted = Vec::new();
    let now = if approve {
        if was != Some(Rsvp::Pending) {
            return Err(refuse("error-event-not-pending"));
        }
        if queries::calendar::take_seat(&txn, e.id).await? {
            Rsvp::Going
        } else if e.waiting_list {
            Rsvp::Waiting
        } else {
            return Err(refuse("error-event-full"));
        }
    } else {
        if was == Some(Rsvp::Going) {
            queries::calendar::free_seat(&txn, e.id).await?;
        }
        Rsvp::Rejected
    };
    let p = put(&txn, Some(p), e.id, participant_actor, now, None, None).await?;
    if was == Some(Rsvp::Going) {
        promoted = fill_seats(&txn, &e).await?;
    }
    let kind = if approve {
        "event_approved"
    } else {
        "event_rejected"
    };
    notifications::notify_id(&txn, participant_actor, kind, who.id, Some(e.id)).await?;
    for q in &promoted {
        notifications::notify_id(&txn, q.actor_id, "event_seat", who.id, Some(e.id)).await?;
    }
    let mut events = answers_for(&promoted, true);
    if now != Rsvp::Waiting {
        events.extend(answers_for(std::slice::from_ref(&p), approve));
    }
    let outbox = Outbox::commit(txn, events).await?;
    Ok((p, outbox))
}

/// Invite someone to an event (any join mode; required for invitation mode).
pub async fn invite(
    state: &AppState,
    who: &actors::Model,
    event_id: i64,
    invitee: &actors::Model,
) -> AppResult<event_participants::Model> {
    let e = super::visible(&state.db, Some(who), event_id).await?;
    if !is_organiser(&state.db, who, &e).await? {
        return Err(AppError::Forbidden(msg!("error-event-organisers-only")));
    }
    let txn = crate::db::begin(&state.db).await?;
    queries::calendar::lock(&txn, e.id).await?;
    let existing = queries::calendar::participant(&txn, e.id, invitee.id).await?;
    let p = match existing {
        Some(p) => p,
        None => {
            let p = put(&txn, None, e.id, invitee.id, Rsvp::Invited, None, None).await?;
            notifications::notify(&txn, invitee, "event_invite", who.id, Some(e.id)).await?;
            p
        }
    };
    txn.commit().await?;
    Ok(p)
}

/// One participant with their answer, for organisers.
pub struct Participant {
    pub actor: actors::Model,
    pub row: event_participants::Model,
}

/// Everyone who answered, for the event's organisers.
pub async fn participants(
    state: &AppState,
    who: &actors::Model,
    event_id: i64,
    status: Option<Rsvp>,
) -> AppResult<Vec<Participant>> {
    let e = super::visible(&state.db, Some(who), event_id).await?;
    if !is_organiser(&state.db, who, &e).await? {
        return Err(AppError::Forbidden(msg!("error-event-organisers-only")));
    }
    let filter: Vec<&str> = status.map(|s| vec![s.as_str()]).unwrap_or_default();
    let rows = queries::calendar::participants(&state.db, e.id, &filter).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.actor_id).collect();
    let people: std::collections::HashMap<i64, actors::Model> =
        queries::actors::by_ids(&state.db, &ids)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            people.get(&row.actor_id).map(|a| Participant {
                actor: a.clone(),
                row,
            })
        })
        .collect())
}

/// The viewer's own answer, if any.
pub async fn my_answer(
    db: &impl ConnectionTrait,
    me: &actors::Model,
    e: &calendar_events::Model,
) -> AppResult<Option<Rsvp>> {
    Ok(queries::calendar::participant(db, e.id, me.id)
        .await?
        .and_then(|p| Rsvp::parse(&p.status)))
}

/// A vote on an event's poll (from Mastodon) is an answer.
pub async fn from_vote(
    state: &AppState,
    voter: &actors::Model,
    poll_status: i64,
    option: &str,
    activity_id: &str,
) -> AppResult<Outbox> {
    let Some(e) = queries::calendar::by_poll(&state.db, poll_status).await? else {
        return Ok(Outbox::none());
    };
    let Some(choice) = choice_of_option(option) else {
        return Ok(Outbox::none());
    };
    match receive(state, voter, &e, choice, activity_id, None).await {
        Ok(events) => Ok(events),
        // A vote that cannot count (event over, not visible) stays a vote.
        Err(AppError::NotFound(_))
        | Err(AppError::Unprocessable(_))
        | Err(AppError::Forbidden(_)) => Ok(Outbox::none()),
        Err(e) => Err(e),
    }
}

/// The answer an option of an event's poll stands for.
fn choice_of_option(option: &str) -> Option<Rsvp> {
    match super::manage::POLL_OPTIONS
        .iter()
        .position(|o| *o == option)?
    {
        0 => Some(Rsvp::Going),
        1 => Some(Rsvp::Maybe),
        _ => Some(Rsvp::NotGoing),
    }
}

/// A local member votes on an event's poll (from a Mastodon app, which
/// shows no event): the vote is their answer.
pub async fn answer_by_vote(
    state: &AppState,
    me: &actors::Model,
    event_id: i64,
    option: &str,
) -> AppResult<Outbox> {
    let Some(choice) = choice_of_option(option) else {
        return Ok(Outbox::none());
    };
    let (_, events) = answer(state, me, event_id, choice, None).await?;
    Ok(events)
}
