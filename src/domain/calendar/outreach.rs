//! Organisers reaching people: inviting someone to an event, here or on
//! another server, and writing to everyone taking part. Both go out as
//! direct posts from the organiser, so Mastodon and every other server show
//! them as ordinary private mentions, and the organiser finds them among
//! their own posts.

use super::{Rsvp, is_organiser, page_url, rsvp};
use crate::domain::outbox::Outbox;
use crate::{
    app::AppState,
    db::{
        entities::{actors, calendar_events, event_participants, statuses},
        queries,
    },
    domain::posts::{self, Compose, Visibility},
    error::{AppError, AppResult},
    msg,
};

/// Room is left for the event's link within a post's length.
pub const MESSAGE_TEXT_MAX: usize = 4000;

/// Who hears an organiser's message when they do not say.
pub const DEFAULT_AUDIENCE: [Rsvp; 3] = [Rsvp::Going, Rsvp::Maybe, Rsvp::Waiting];

/// Invite `invitee` (a person, local or remote) to an event `who` organises.
/// Local invitees are notified; remote ones get a direct post with the
/// event's link, which is how their server hears of it. Inviting someone
/// who already answered changes nothing.
pub async fn invite(
    state: &AppState,
    who: &actors::Model,
    event_id: i64,
    invitee: &actors::Model,
) -> AppResult<(event_participants::Model, Outbox)> {
    if invitee.kind != "Person" || invitee.deleted_at.is_some() {
        return Err(AppError::Forbidden(msg!("error-event-invite-person")));
    }
    let e = super::visible(&state.db, Some(who), event_id).await?;
    let before = queries::calendar::participant(&state.db, e.id, invitee.id).await?;
    let row = rsvp::invite(state, who, event_id, invitee).await?;
    if before.is_some() || invitee.local {
        return Ok((row, Outbox::none()));
    }
    let text =
        msg!("event-invitation-message", title = e.title.clone()).render(default_locale(state));
    let (_, events) = direct_post(state, who, &e, text, vec![invitee.clone()]).await?;
    Ok((row, events))
}

/// A direct post from an organiser to the event's participants whose answer
/// is in `audience` (not to themselves). Refused when nobody would get it.
pub async fn message_participants(
    state: &AppState,
    who: &actors::Model,
    event_id: i64,
    text: &str,
    audience: &[Rsvp],
) -> AppResult<(statuses::Model, Outbox)> {
    let e = super::visible(&state.db, Some(who), event_id).await?;
    if !is_organiser(&state.db, who, &e).await? {
        return Err(AppError::Forbidden(msg!("error-event-organisers-only")));
    }
    if text.trim().is_empty() {
        return Err(AppError::Unprocessable(msg!("error-event-message-empty")));
    }
    if text.chars().count() > MESSAGE_TEXT_MAX {
        return Err(AppError::Unprocessable(msg!(
            "error-field-too-long",
            field = "text",
            max = MESSAGE_TEXT_MAX
        )));
    }
    let wanted: Vec<&str> = audience.iter().map(|r| r.as_str()).collect();
    let rows = queries::calendar::participants(&state.db, e.id, &wanted).await?;
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| r.actor_id)
        .filter(|id| *id != who.id)
        .collect();
    let people: Vec<actors::Model> = queries::actors::by_ids(&state.db, &ids)
        .await?
        .into_iter()
        .filter(|a| a.deleted_at.is_none())
        .collect();
    if people.is_empty() {
        return Err(AppError::Unprocessable(msg!("error-event-no-audience")));
    }
    direct_post(state, who, &e, text.trim().to_string(), people).await
}

/// A direct post about `e` mentioning `to`, ending with the event's link.
async fn direct_post(
    state: &AppState,
    who: &actors::Model,
    e: &calendar_events::Model,
    text: String,
    to: Vec<actors::Model>,
) -> AppResult<(statuses::Model, Outbox)> {
    let compose = Compose {
        text: format!("{text}\n\n{}: {}", e.title, page_url(state.urls.base(), e)),
        title: None,
        spoiler_text: None,
        sensitive: false,
        visibility: Visibility::Direct,
        in_reply_to_id: None,
        language: e.language.clone(),
        media_ids: None,
        poll: None,
        group_id: None,
    };
    posts::create(state, who, compose, to).await
}

fn default_locale(state: &AppState) -> crate::i18n::Locale {
    crate::i18n::Locale::parse(&state.config.instance.default_locale)
        .unwrap_or(crate::i18n::Locale::En)
}
