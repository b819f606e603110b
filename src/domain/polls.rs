//! Polls on posts (ActivityPub `Question`): creating them with a post, voting
//! (locally, on a remote poll, or a remote vote on ours), tallies, closing.
//! Votes from Mastodon arrive as replies naming an option; they are votes,
//! never shown as replies.

use crate::domain::outbox::Outbox;
use crate::{
    app::AppState,
    db::{
        entities::{actors, poll_votes, polls, statuses},
        ids, queries,
    },
    domain::{events::Event, validate},
    error::{AppError, AppResult},
    msg,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, IntoActiveModel};
use serde_json::json;

pub const MAX_OPTIONS: usize = 4;
pub const OPTION_MAX_CHARS: usize = 100;
pub const MIN_EXPIRY_SECS: i64 = 300;
pub const MAX_EXPIRY_SECS: i64 = 2_629_746;

#[derive(Debug, Clone, Default)]
pub struct PollInput {
    pub options: Vec<String>,
    pub expires_in: Option<i64>,
    pub multiple: bool,
}

/// Validated options and expiry.
pub fn check(input: &PollInput) -> AppResult<(Vec<String>, chrono::DateTime<chrono::Utc>)> {
    let options: Vec<String> = input.options.iter().map(|o| o.trim().to_string()).collect();
    if options.len() < 2 || options.len() > MAX_OPTIONS {
        return Err(AppError::Unprocessable(msg!(
            "error-poll-options",
            max = MAX_OPTIONS
        )));
    }
    for o in &options {
        if o.is_empty() {
            return Err(AppError::Unprocessable(msg!(
                "error-poll-options",
                max = MAX_OPTIONS
            )));
        }
        if o.chars().count() > OPTION_MAX_CHARS {
            return Err(validate::too_long("poll", OPTION_MAX_CHARS));
        }
    }
    let mut seen = std::collections::HashSet::new();
    if !options.iter().all(|o| seen.insert(o.to_lowercase())) {
        return Err(AppError::Unprocessable(msg!("error-poll-duplicate")));
    }
    let secs = input.expires_in.unwrap_or(86_400);
    if !(MIN_EXPIRY_SECS..=MAX_EXPIRY_SECS).contains(&secs) {
        return Err(AppError::Unprocessable(msg!("error-poll-expiry")));
    }
    Ok((
        options,
        chrono::Utc::now() + chrono::Duration::seconds(secs),
    ))
}

pub async fn create(
    db: &impl ConnectionTrait,
    status_id: i64,
    options: Vec<String>,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    multiple: bool,
) -> AppResult<polls::Model> {
    Ok(queries::polls::insert(
        db,
        polls::ActiveModel {
            id: Set(ids::next_id()),
            status_id: Set(status_id),
            options: Set(json!(options)),
            multiple: Set(multiple),
            expires_at: Set(expires_at),
            closed_at: Set(None),
            remote_counts: Set(None),
            voters_count: Set(0),
            created_at: Set(chrono::Utc::now()),
        },
    )
    .await?)
}

pub fn options(p: &polls::Model) -> Vec<String> {
    serde_json::from_value(p.options.clone()).unwrap_or_default()
}

pub fn expired(p: &polls::Model) -> bool {
    let now = chrono::Utc::now();
    p.closed_at.is_some_and(|c| c <= now) || p.expires_at.is_some_and(|e| e <= now)
}

/// Votes per option: counted here for our polls, as reported for remote ones.
pub async fn tallies(state: &AppState, p: &polls::Model) -> AppResult<Vec<u64>> {
    let n = options(p).len();
    if let Some(remote) = &p.remote_counts {
        let mut counts: Vec<u64> = serde_json::from_value(remote.clone()).unwrap_or_default();
        counts.resize(n, 0);
        // Our own members' votes on a remote poll count until its server reports back.
        for v in queries::polls::votes(&state.db, p.id).await? {
            if let Some(c) = counts.get_mut(v.choice as usize) {
                *c = (*c).max(1);
            }
        }
        return Ok(counts);
    }
    let mut counts = vec![0u64; n];
    for v in queries::polls::votes(&state.db, p.id).await? {
        if let Some(c) = counts.get_mut(v.choice as usize) {
            *c += 1;
        }
    }
    Ok(counts)
}

/// A local member votes. For a remote poll the votes are sent to its author.
pub async fn vote(
    state: &AppState,
    me: &actors::Model,
    poll_id: i64,
    choices: &[usize],
) -> AppResult<(polls::Model, Outbox)> {
    let p = queries::polls::by_id(&state.db, poll_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let status = queries::statuses::by_id(&state.db, p.status_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !crate::domain::posts::can_view(state, Some(me), &status).await? {
        return Err(AppError::not_found());
    }
    if expired(&p) {
        return Err(AppError::Unprocessable(msg!("error-poll-closed")));
    }
    // An event's poll is an RSVP, and an RSVP may change: a new vote there
    // replaces the old one, so the tally follows the answer. Other polls keep
    // one vote per member, as Mastodon does.
    let event = queries::calendar::by_poll(&state.db, status.id).await?;
    let voted = !queries::polls::votes_of(&state.db, p.id, me.id)
        .await?
        .is_empty();
    if voted && event.is_none() {
        return Err(AppError::Unprocessable(msg!("error-poll-voted")));
    }
    let n = options(&p).len();
    let mut choices: Vec<usize> = choices.to_vec();
    choices.sort_unstable();
    choices.dedup();
    if choices.is_empty() || choices.iter().any(|c| *c >= n) || (!p.multiple && choices.len() > 1) {
        return Err(AppError::Unprocessable(msg!("error-poll-choice")));
    }
    // A vote on an event's Going / Maybe / Can't go poll is the member's
    // answer to the event, given the way this server answers events (a
    // Join to another server's); a refusal (a full event) is the vote's error.
    let mut answered = Outbox::none();
    if let Some(e) = &event {
        let option = options(&p).into_iter().nth(choices[0]).unwrap_or_default();
        answered = crate::domain::calendar::answer_by_vote(state, me, e.id, &option).await?;
    }
    let txn = crate::db::begin(&state.db).await?;
    if voted {
        queries::polls::delete_votes_of(&txn, p.id, me.id).await?;
    }
    let mut rows = Vec::new();
    for c in &choices {
        rows.push(
            queries::polls::insert_vote(
                &txn,
                poll_votes::ActiveModel {
                    id: Set(ids::next_id()),
                    poll_id: Set(p.id),
                    actor_id: Set(me.id),
                    choice: Set(*c as i32),
                    ap_id: Set(Some(format!("{}#votes/{}", me.ap_id, ids::next_id()))),
                    created_at: Set(chrono::Utc::now()),
                },
            )
            .await?,
        );
    }
    let p = recount(&txn, p).await?;
    let events = if status.local {
        vec![Event::PollUpdated(status.id)]
    } else if event.is_some() {
        // The answer above tells the organiser's server; a vote as well
        // would answer twice.
        Vec::new()
    } else {
        rows.into_iter()
            .map(|v| Event::PollVoted(Box::new(v)))
            .collect()
    };
    let mut outbox = Outbox::commit(txn, events).await?;
    outbox.extend(answered);
    Ok((p, outbox))
}

async fn recount(db: &impl ConnectionTrait, p: polls::Model) -> AppResult<polls::Model> {
    let voters = queries::polls::voter_count(db, p.id).await? as i32;
    if p.remote_counts.is_some() {
        return Ok(p);
    }
    let mut a = p.into_active_model();
    a.voters_count = Set(voters);
    Ok(queries::polls::update(db, a).await?)
}

/// A remote actor's vote on one of our polls (a Note naming an option, in
/// reply to the Question). Returns true when it was a vote.
pub async fn receive_vote(
    state: &AppState,
    voter: &actors::Model,
    question: &statuses::Model,
    option_name: &str,
    activity_id: &str,
) -> AppResult<bool> {
    let Some(p) = queries::polls::by_status(&state.db, question.id).await? else {
        return Ok(false);
    };
    let Some(choice) = options(&p).iter().position(|o| o == option_name) else {
        return Ok(false);
    };
    if expired(&p) {
        // A late vote is still a vote, not a reply: swallowed.
        return Ok(true);
    }
    let existing = queries::polls::votes_of(&state.db, p.id, voter.id).await?;
    if existing.iter().any(|v| v.choice == choice as i32) {
        return Ok(true);
    }
    // A second vote on a single-choice poll counts only on an event's poll,
    // where it is a changed answer and replaces the first (see `vote`).
    let replaces = !p.multiple && !existing.is_empty();
    if replaces
        && queries::calendar::by_poll(&state.db, question.id)
            .await?
            .is_none()
    {
        return Ok(true);
    }
    let txn = crate::db::begin(&state.db).await?;
    if replaces {
        queries::polls::delete_votes_of(&txn, p.id, voter.id).await?;
    }
    queries::polls::insert_vote(
        &txn,
        poll_votes::ActiveModel {
            id: Set(ids::next_id()),
            poll_id: Set(p.id),
            actor_id: Set(voter.id),
            choice: Set(choice as i32),
            ap_id: Set(Some(activity_id.to_string())),
            created_at: Set(chrono::Utc::now()),
        },
    )
    .await?;
    recount(&txn, p).await?;
    txn.commit().await?;
    Ok(true)
}

/// Store what a remote Question reports: options, counts, closing time.
pub async fn upsert_remote(
    state: &AppState,
    status_id: i64,
    poll: &crate::domain::posts::RemotePoll,
) -> AppResult<()> {
    let (options_list, counts, multiple) = (&poll.options, &poll.counts, poll.multiple);
    let (expires_at, closed_at) = (poll.expires_at, poll.closed_at);
    let voters = poll.voters.unwrap_or_else(|| {
        if multiple {
            0
        } else {
            counts.iter().sum::<u64>() as i32
        }
    });
    match queries::polls::by_status(&state.db, status_id).await? {
        Some(p) => {
            let mut a = p.into_active_model();
            a.options = Set(json!(options_list));
            a.remote_counts = Set(Some(json!(counts)));
            a.multiple = Set(multiple);
            a.expires_at = Set(expires_at);
            a.closed_at = Set(closed_at);
            a.voters_count = Set(voters);
            queries::polls::update(&state.db, a).await?;
        }
        None => {
            queries::polls::insert(
                &state.db,
                polls::ActiveModel {
                    id: Set(ids::next_id()),
                    status_id: Set(status_id),
                    options: Set(json!(options_list)),
                    multiple: Set(multiple),
                    expires_at: Set(expires_at),
                    closed_at: Set(closed_at),
                    remote_counts: Set(Some(json!(counts))),
                    voters_count: Set(voters),
                    created_at: Set(chrono::Utc::now()),
                },
            )
            .await?;
        }
    }
    Ok(())
}
