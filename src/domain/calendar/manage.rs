//! Creating, changing, cancelling and deleting local events. Each write
//! keeps the event's post (its text, tags and addressing) in step with the
//! event row, tells participants what changed, and returns the outbound
//! events that federate it.

use super::{
    ADDRESS_MAX, DESCRIPTION_MAX, EventStatus, EventVisibility, JoinMode, MAX_CAPACITY, MAX_TAGS,
    PLACE_MAX, Rsvp, TITLE_MAX, URL_MAX, facts_html, is_organiser, page_url, time,
};
use crate::domain::outbox::Outbox;
use crate::{
    app::AppState,
    db::{
        entities::{actors, calendar_events, statuses},
        ids, queries,
    },
    domain::{events::Event, groups, notifications, posts, text, validate},
    error::{AppError, AppResult},
    msg,
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, IntoActiveModel};
use serde_json::{Value, json};

/// What an organiser fills in. On an update, `None` keeps the current
/// value and an empty string clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct EventInput {
    pub title: Option<String>,
    /// Markdown.
    pub description: Option<String>,
    /// Local time in `timezone` (`2026-03-28T18:00`), a date for all-day
    /// events, or an RFC 3339 instant.
    pub start: Option<String>,
    pub end: Option<String>,
    pub timezone: Option<String>,
    pub all_day: Option<bool>,
    pub location_name: Option<String>,
    pub location_address: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub online_url: Option<String>,
    pub online_participants_only: Option<bool>,
    /// 0: no limit.
    pub capacity: Option<i64>,
    pub waiting_list: Option<bool>,
    pub join_mode: Option<String>,
    /// confirmed or tentative (cancelling has its own call).
    pub status: Option<String>,
    pub group_id: Option<i64>,
    pub tags: Option<Vec<String>>,
    pub language: Option<String>,
    pub visibility: Option<String>,
}

fn bad(key: &'static str) -> AppError {
    AppError::Unprocessable(crate::i18n::Msg::new(key))
}

fn cleared(v: Option<&str>, keep: Option<&str>) -> Option<String> {
    match v {
        Some(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        None => keep.map(str::to_string),
    }
}

/// Apply `input` to `e` (a fresh default row for a new event), checking
/// every rule. Returns the row to store.
fn apply(
    mut e: calendar_events::Model,
    input: &EventInput,
    creating: bool,
) -> AppResult<calendar_events::Model> {
    if let Some(t) = &input.title {
        e.title = validate::optional("title", Some(t), TITLE_MAX)?.unwrap_or_default();
    }
    if e.title.is_empty() {
        return Err(AppError::Unprocessable(msg!(
            "error-field-required",
            field = "title"
        )));
    }
    if let Some(d) = &input.description {
        if d.chars().count() > DESCRIPTION_MAX {
            return Err(validate::too_long("description", DESCRIPTION_MAX));
        }
        let d = d.trim();
        e.description_source = Some(d.to_string()).filter(|d| !d.is_empty());
        e.description = text::markdown_to_html(d);
    }
    if let Some(z) = &input.timezone {
        e.timezone = time::zone(z)?.name().to_string();
    }
    let tz = time::zone_or_utc(&e.timezone);
    if let Some(a) = input.all_day {
        e.all_day = a;
    }
    let start = match &input.start {
        Some(s) => time::parse_local("start", s, tz)?,
        None if creating => {
            return Err(AppError::Unprocessable(msg!(
                "error-field-required",
                field = "start"
            )));
        }
        None => e.starts_at,
    };
    let end = match &input.end {
        Some(s) if !s.trim().is_empty() => time::parse_local("end", s, tz)?,
        _ if creating || input.start.is_some() => {
            if e.all_day {
                start
            } else {
                start + chrono::Duration::hours(1)
            }
        }
        _ => e.ends_at,
    };
    let (start, end) = if e.all_day {
        // A date alone names the last day; the stored end is the midnight after it.
        (time::start_of_day(start, tz)?, time::end_of_day(end, tz)?)
    } else {
        (start, end)
    };
    if end <= start {
        return Err(bad("error-event-end-before-start"));
    }
    if end - start > chrono::Duration::days(366) {
        return Err(bad("error-event-too-long"));
    }
    e.starts_at = start;
    e.ends_at = end;
    e.location_name = match &input.location_name {
        Some(n) => validate::optional("location_name", Some(n), PLACE_MAX)?,
        None => e.location_name,
    };
    e.location_address = match &input.location_address {
        Some(a) => validate::optional("location_address", Some(a), ADDRESS_MAX)?,
        None => e.location_address,
    };
    if let Some(lat) = input.latitude {
        e.latitude = Some(lat);
    }
    if let Some(lon) = input.longitude {
        e.longitude = Some(lon);
    }
    if e.location_name.is_none() {
        e.location_address = None;
        e.latitude = None;
        e.longitude = None;
    }
    if e.latitude.is_some() != e.longitude.is_some()
        || e.latitude
            .is_some_and(|l| !(-90.0..=90.0).contains(&l) || !l.is_finite())
        || e.longitude
            .is_some_and(|l| !(-180.0..=180.0).contains(&l) || !l.is_finite())
    {
        return Err(bad("error-event-coordinates"));
    }
    e.online_url = cleared(input.online_url.as_deref(), e.online_url.as_deref());
    if let Some(u) = &e.online_url {
        // The API schema's rule: an http(s) address without spaces.
        let rest = u
            .strip_prefix("https://")
            .or_else(|| u.strip_prefix("http://"));
        let ok = u.chars().count() <= URL_MAX
            && rest.is_some_and(|r| !r.is_empty() && !r.chars().any(char::is_whitespace));
        if !ok {
            return Err(bad("error-event-online-url"));
        }
    }
    if let Some(p) = input.online_participants_only {
        e.online_participants_only = p;
    }
    if let Some(c) = input.capacity {
        if !(0..=MAX_CAPACITY).contains(&c) {
            return Err(AppError::Unprocessable(msg!(
                "error-event-capacity",
                max = MAX_CAPACITY
            )));
        }
        e.capacity = (c > 0).then_some(c as i32);
    }
    if let Some(w) = input.waiting_list {
        e.waiting_list = w;
    }
    if let Some(j) = &input.join_mode {
        e.join_mode = JoinMode::parse(j)
            .ok_or_else(|| bad("error-event-join-mode"))?
            .as_str()
            .into();
    }
    if let Some(s) = &input.status {
        match EventStatus::parse(s) {
            Some(EventStatus::Cancelled) | None => return Err(bad("error-event-status")),
            Some(s) => e.event_status = s.as_str().into(),
        }
    }
    if let Some(v) = &input.visibility {
        if !creating
            && EventVisibility::parse(v).map(EventVisibility::as_str) != Some(&e.visibility)
        {
            // Those who received it cannot be made to forget it.
            return Err(bad("error-event-visibility-fixed"));
        }
        e.visibility = EventVisibility::parse(v)
            .ok_or_else(|| bad("error-event-visibility"))?
            .as_str()
            .into();
    }
    if let Some(list) = &input.tags {
        if list.len() > MAX_TAGS {
            return Err(AppError::Unprocessable(msg!(
                "error-too-many",
                field = "tags",
                max = MAX_TAGS
            )));
        }
        let mut tags: Vec<String> = Vec::new();
        for t in list {
            let t = t.trim().trim_start_matches('#').to_lowercase();
            if t.is_empty() {
                continue;
            }
            if t.chars().count() > 60 || !t.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return Err(bad("error-event-tag"));
            }
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        e.tags = json!(tags);
    }
    if let Some(l) = &input.language {
        e.language = posts::check_language(Some(l))?;
    }
    Ok(e)
}

pub(super) fn blank(
    id: i64,
    organiser: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> calendar_events::Model {
    calendar_events::Model {
        id,
        organizer_id: organiser,
        group_id: None,
        title: String::new(),
        description_source: None,
        description: String::new(),
        starts_at: now,
        ends_at: now,
        timezone: "UTC".into(),
        all_day: false,
        location_name: None,
        location_address: None,
        latitude: None,
        longitude: None,
        online_url: None,
        online_participants_only: false,
        capacity: None,
        waiting_list: false,
        join_mode: JoinMode::Free.as_str().into(),
        event_status: EventStatus::Confirmed.as_str().into(),
        tags: json!([]),
        language: None,
        visibility: EventVisibility::Public.as_str().into(),
        going_count: 0,
        remote_participant_count: None,
        poll_status_id: None,
        local: true,
        reminded_at: None,
        created_at: now,
        updated_at: now,
    }
}

/// The post's `to`/`cc` and visibility for the event's audience.
fn audience(
    e: &calendar_events::Model,
    organiser: &actors::Model,
    group: Option<&groups::Group>,
) -> (Value, posts::Visibility) {
    match (EventVisibility::of(e), group) {
        (EventVisibility::Instance, _) => {
            (json!({ "to": [], "cc": [] }), posts::Visibility::Direct)
        }
        (EventVisibility::Group, Some(g)) => (
            json!({
                "to": [g.actor.followers_url.clone().unwrap_or_else(|| g.actor.ap_id.clone())],
                "cc": [g.actor.ap_id],
            }),
            posts::Visibility::Private,
        ),
        (_, Some(g)) => (
            posts::group_addressing(g, organiser.followers_url.as_deref(), &[]),
            posts::group_visibility(g),
        ),
        (_, None) => (
            posts::addressing(
                posts::Visibility::Public,
                organiser.followers_url.as_deref(),
                &[],
            ),
            posts::Visibility::Public,
        ),
    }
}

/// The event post's HTML: when and where, then the description.
pub fn content(e: &calendar_events::Model) -> String {
    format!("{}{}", facts_html(e), e.description)
}

/// The Going / Maybe / Can't go options of the poll sent with an event.
pub const POLL_OPTIONS: [&str; 3] = ["Going", "Maybe", "Can't go"];

/// Publish a new event by a local person.
pub async fn create(
    state: &AppState,
    organiser: &actors::Model,
    input: EventInput,
) -> AppResult<(calendar_events::Model, Outbox)> {
    if !organiser.local || organiser.account_id.is_none() {
        return Err(AppError::forbidden());
    }
    let now = chrono::Utc::now();
    let id = ids::next_id();
    let mut e = apply(blank(id, organiser.id, now), &input, true)?;
    let group = match input.group_id {
        Some(g) => {
            let g = groups::load(&state.db, g)
                .await?
                .ok_or_else(AppError::not_found)?;
            groups::check_post(&state.db, &g, organiser, None).await?;
            Some(g)
        }
        None => None,
    };
    if EventVisibility::of(&e) == EventVisibility::Group && group.is_none() {
        return Err(bad("error-event-group-needed"));
    }
    e.group_id = group.as_ref().map(groups::Group::id);
    let (addressing, visibility) = audience(&e, organiser, group.as_ref());
    let tags = super::tags(&e);
    let status = statuses::Model {
        id,
        ap_id: format!("{}/statuses/{id}", organiser.ap_id),
        url: Some(page_url(state.urls.base(), &e)),
        actor_id: organiser.id,
        kind: "Event".into(),
        title: Some(e.title.clone()),
        content: content(&e),
        source: e.description_source.clone(),
        spoiler_text: String::new(),
        sensitive: false,
        language: e.language.clone(),
        visibility: visibility.as_str().into(),
        in_reply_to_id: None,
        in_reply_to_ap_id: None,
        in_reply_to_actor_id: None,
        context: Some(format!("{}/contexts/{id}", state.urls.base())),
        reblog_of_id: None,
        addressing: addressing.clone(),
        local: true,
        replies_count: 0,
        reblogs_count: 0,
        favourites_count: 0,
        published: now,
        edited_at: None,
        created_at: now,
        deleted_at: None,
        group_id: e.group_id,
        locked: false,
    };
    let txn = crate::db::begin(&state.db).await?;
    let status = queries::statuses::insert(&txn, status.into_active_model().reset_all()).await?;
    queries::statuses::set_tags(&txn, status.id, &tags).await?;
    crate::domain::search::index_post(&txn, &status, organiser, &tags).await?;
    let mut events = vec![Event::PostCreated(status.id)];
    if visibility != posts::Visibility::Direct {
        let poll = poll_post(state, &e, &status, now);
        let poll = queries::statuses::insert(&txn, poll.into_active_model().reset_all()).await?;
        crate::domain::polls::create(
            &txn,
            poll.id,
            POLL_OPTIONS.iter().map(|s| s.to_string()).collect(),
            Some(e.starts_at.max(now + chrono::Duration::minutes(5))),
            false,
        )
        .await?;
        e.poll_status_id = Some(poll.id);
        events.push(Event::PostCreated(poll.id));
    }
    let e = queries::calendar::insert(&txn, e.into_active_model().reset_all()).await?;
    let outbox = Outbox::commit(txn, events).await?;
    Ok((e, outbox))
}

/// The poll that lets Mastodon users answer: they see posts, not events,
/// and a vote is their RSVP.
fn poll_post(
    state: &AppState,
    e: &calendar_events::Model,
    event_post: &statuses::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> statuses::Model {
    let id = ids::next_id();
    let author_ap = event_post
        .ap_id
        .rsplit_once("/statuses/")
        .map(|(a, _)| a.to_string())
        .unwrap_or_default();
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let tz = time::zone_or_utc(&e.timezone);
    let text = format!(
        r#"<p>Are you coming to <a href="{url}">{title}</a>? {when}</p><p>Vote to answer: Going, Maybe or Can't go.</p>"#,
        url = page_url(state.urls.base(), e),
        title = esc(&e.title),
        when = esc(&time::human(e.starts_at, e.ends_at, tz, e.all_day)),
    );
    statuses::Model {
        id,
        ap_id: format!("{author_ap}/statuses/{id}"),
        url: Some(page_url(state.urls.base(), e)),
        kind: "Question".into(),
        title: None,
        content: text,
        source: None,
        context: event_post.context.clone(),
        published: now,
        created_at: now,
        ..event_post.clone()
    }
}

/// Participants who hear about changes: everyone with an answer pending
/// or positive.
async fn audience_of_changes(
    db: &impl ConnectionTrait,
    e: &calendar_events::Model,
) -> AppResult<Vec<i64>> {
    Ok(queries::calendar::participants(
        db,
        e.id,
        &[
            Rsvp::Going.as_str(),
            Rsvp::Maybe.as_str(),
            Rsvp::Pending.as_str(),
            Rsvp::Waiting.as_str(),
            Rsvp::Invited.as_str(),
        ],
    )
    .await?
    .into_iter()
    .map(|p| p.actor_id)
    .collect())
}

async fn load_managed(
    state: &AppState,
    who: &actors::Model,
    id: i64,
) -> AppResult<calendar_events::Model> {
    let e = super::visible(&state.db, Some(who), id).await?;
    if !is_organiser(&state.db, who, &e).await? {
        return Err(AppError::Forbidden(msg!("error-event-organisers-only")));
    }
    Ok(e)
}

/// Store a changed event row and its post, notify participants with `kind`.
async fn save(
    state: &AppState,
    who: &actors::Model,
    e: calendar_events::Model,
    kind: &str,
) -> AppResult<(calendar_events::Model, Outbox)> {
    let now = chrono::Utc::now();
    let status = queries::statuses::by_id(&state.db, e.id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let organiser = queries::actors::by_id(&state.db, e.organizer_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let tags = super::tags(&e);
    let txn = crate::db::begin(&state.db).await?;
    if !queries::calendar::lock(&txn, e.id).await? {
        return Err(AppError::not_found());
    }
    // The seat count is the database's, not the copy this change started from.
    let current = queries::calendar::by_id(&txn, e.id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let mut a = calendar_events::Model {
        going_count: current.going_count,
        updated_at: now,
        ..e
    }
    .into_active_model()
    .reset_all();
    a.id = sea_orm::ActiveValue::Unchanged(current.id);
    let e = queries::calendar::update(&txn, a).await?;
    let mut s = status.into_active_model();
    s.title = Set(Some(e.title.clone()));
    s.content = Set(content(&e));
    s.source = Set(e.description_source.clone());
    s.language = Set(e.language.clone());
    s.edited_at = Set(Some(now));
    let s = queries::statuses::update(&txn, s).await?;
    queries::statuses::set_tags(&txn, s.id, &tags).await?;
    crate::domain::search::index_post(&txn, &s, &organiser, &tags).await?;
    // The answer poll closes when the event starts (it follows a new
    // start) and at once when the event is cancelled.
    let mut poll_changed = None;
    if let Some(pid) = e.poll_status_id
        && let Some(poll) = queries::polls::by_status(&txn, pid).await?
    {
        let (expires, closed) = if EventStatus::of(&e) == EventStatus::Cancelled {
            (poll.expires_at, poll.closed_at.or(Some(now)))
        } else {
            (
                Some(e.starts_at.max(now + chrono::Duration::minutes(5))),
                None,
            )
        };
        if (expires, closed) != (poll.expires_at, poll.closed_at) {
            let mut a = poll.into_active_model();
            a.expires_at = Set(expires);
            a.closed_at = Set(closed);
            queries::polls::update(&txn, a).await?;
            poll_changed = Some(pid);
        }
    }
    let promoted = super::rsvp::fill_seats(&txn, &e).await?;
    for p in audience_of_changes(&txn, &e).await? {
        notifications::notify_id(&txn, p, kind, who.id, Some(e.id)).await?;
    }
    for p in &promoted {
        notifications::notify_id(&txn, p.actor_id, "event_seat", e.organizer_id, Some(e.id))
            .await?;
    }
    let e = queries::calendar::by_id(&txn, e.id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let mut events = vec![Event::PostUpdated(e.id)];
    events.extend(poll_changed.map(Event::PollUpdated));
    events.extend(super::rsvp::answers_for(&promoted, true));
    let outbox = Outbox::commit(txn, events).await?;
    Ok((e, outbox))
}

/// Change an event: its organiser or its group's moderators.
pub async fn update(
    state: &AppState,
    who: &actors::Model,
    id: i64,
    input: EventInput,
) -> AppResult<(calendar_events::Model, Outbox)> {
    let e = load_managed(state, who, id).await?;
    if input.group_id.is_some_and(|g| Some(g) != e.group_id) {
        return Err(bad("error-event-group-fixed"));
    }
    // A cancelled event can still be corrected; `status` cannot revive it.
    let cancelled = EventStatus::of(&e) == EventStatus::Cancelled;
    let mut e = apply(e, &input, false)?;
    if cancelled {
        e.event_status = EventStatus::Cancelled.as_str().into();
    }
    save(state, who, e, "event_update").await
}

/// Cancel an event: it stays, marked cancelled, and takes no more answers.
pub async fn cancel(
    state: &AppState,
    who: &actors::Model,
    id: i64,
) -> AppResult<(calendar_events::Model, Outbox)> {
    let mut e = load_managed(state, who, id).await?;
    if EventStatus::of(&e) == EventStatus::Cancelled {
        return Ok((e, Outbox::none()));
    }
    e.event_status = EventStatus::Cancelled.as_str().into();
    save(state, who, e, "event_cancelled").await
}

/// Delete an event and its poll; participants are told it is cancelled.
pub async fn delete(state: &AppState, who: &actors::Model, id: i64) -> AppResult<Outbox> {
    let e = load_managed(state, who, id).await?;
    let txn = crate::db::begin(&state.db).await?;
    for p in audience_of_changes(&txn, &e).await? {
        notifications::notify_id(&txn, p, "event_cancelled", who.id, None).await?;
    }
    let mut events = Vec::new();
    for sid in std::iter::once(e.id).chain(e.poll_status_id) {
        if let Some(s) = queries::statuses::by_id(&txn, sid).await?
            && s.deleted_at.is_none()
        {
            posts::tombstone_in(&txn, &s).await?;
            events.push(Event::PostDeleted(s.id));
        }
    }
    Outbox::commit(txn, events).await
}
