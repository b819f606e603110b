//! Staffroom's events endpoints, in the Mastodon API's style, under
//! `/api/v1/staffroom/events`: the calendar (upcoming, with filters),
//! creating, showing, changing, cancelling and deleting events, answering
//! them, and the organisers' tools: the participant list with approval,
//! invitations and messages to participants. An event's
//! `id` is also the id of its post, so `/api/v1/statuses/:id` shows it as a
//! post. Handlers parse and shape JSON; the rules live in `domain::calendar`.

mod answers;
mod schema;
mod write;

pub use answers::*;
pub use schema::*;
pub use write::*;

use crate::{
    app::AppState,
    db::{entities::calendar_events, queries},
    domain::calendar::{self, EventStatus, EventVisibility, JoinMode},
    error::{AppError, AppResult},
    http::{
        api::{entities, groups::viewer, params::parse_id},
        extract::{Auth, Path, Query},
    },
};
use axum::{
    Router,
    extract::State,
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const BASE: &str = "/api/v1/staffroom/events";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(BASE, get(list).post(create))
        .route(&format!("{BASE}/feed"), get(feed))
        .route(
            &format!("{BASE}/{{id}}"),
            get(show).patch(update).delete(remove),
        )
        .route(&format!("{BASE}/{{id}}/cancel"), post(cancel))
        .route(&format!("{BASE}/{{id}}/rsvp"), post(rsvp))
        .route(&format!("{BASE}/{{id}}/participants"), get(participants))
        .route(&format!("{BASE}/{{id}}/invite"), post(invite))
        .route(&format!("{BASE}/{{id}}/message"), post(message))
        .route(
            &format!("{BASE}/{{id}}/participants/{{account_id}}/{{decision}}"),
            post(decide),
        )
}

/// Where an event takes place.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventLocation {
    pub name: String,
    pub address: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The place on OpenStreetMap, when the coordinates are known.
    pub osm_url: Option<String>,
}

/// An event as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventEntity {
    /// Also the id of the event's post.
    pub id: String,
    /// Its ActivityPub id.
    pub uri: String,
    /// Its page.
    pub url: String,
    pub title: String,
    /// The description, as HTML.
    pub description: String,
    /// The description as written (Markdown), for its organisers.
    pub description_source: Option<String>,
    /// Start, with the offset of the event's time zone at that moment.
    pub start_time: String,
    pub end_time: String,
    /// The same instants in UTC.
    pub starts_at: String,
    pub ends_at: String,
    /// IANA time zone, e.g. `Europe/Paris`.
    pub timezone: String,
    pub all_day: bool,
    pub location: Option<EventLocation>,
    /// Null when there is none, or when only participants may see it.
    pub online_url: Option<String>,
    /// There is an online link the caller may not see (yet).
    pub online_url_hidden: bool,
    /// Null: no limit.
    pub capacity: Option<i32>,
    pub remaining_capacity: Option<i64>,
    pub waiting_list: bool,
    /// `free`, `approval` or `invitation`.
    pub join_mode: String,
    /// `confirmed`, `tentative` or `cancelled`.
    pub status: String,
    /// `public`, `instance` or `group`.
    pub visibility: String,
    pub organizer: entities::Account,
    pub group_id: Option<String>,
    pub tags: Vec<String>,
    pub language: Option<String>,
    /// People going.
    pub participant_count: u64,
    pub local: bool,
    /// The caller's answer: `going`, `maybe`, `not_going`, `pending`,
    /// `waiting`, `invited`, `rejected`, or null.
    pub rsvp: Option<String>,
    /// The caller may manage the event.
    pub organiser: bool,
    /// The event as iCalendar.
    pub ics_url: String,
    pub created_at: String,
    pub updated_at: String,
}

pub async fn event_entity(
    state: &AppState,
    viewer: Option<&crate::db::entities::actors::Model>,
    e: &calendar_events::Model,
) -> AppResult<EventEntity> {
    let status = queries::statuses::by_id(&state.db, e.id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let organizer = queries::actors::by_id(&state.db, e.organizer_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let (rsvp, organiser) = match viewer {
        Some(v) => (
            calendar::my_answer(&state.db, v, e).await?,
            calendar::is_organiser(&state.db, v, e).await?,
        ),
        None => (None, false),
    };
    let insider = organiser || matches!(rsvp, Some(calendar::Rsvp::Going | calendar::Rsvp::Maybe));
    let online_visible = !e.online_participants_only || insider;
    let tz = calendar::time::zone_or_utc(&e.timezone);
    Ok(EventEntity {
        id: e.id.to_string(),
        uri: status.ap_id,
        url: status
            .url
            .unwrap_or_else(|| calendar::page_url(state.urls.base(), e)),
        title: e.title.clone(),
        description: e.description.clone(),
        description_source: organiser.then(|| e.description_source.clone().unwrap_or_default()),
        start_time: calendar::time::with_offset(e.starts_at, tz),
        end_time: calendar::time::with_offset(e.ends_at, tz),
        starts_at: entities::iso(e.starts_at),
        ends_at: entities::iso(e.ends_at),
        timezone: e.timezone.clone(),
        all_day: e.all_day,
        location: e.location_name.as_ref().map(|n| EventLocation {
            name: n.clone(),
            address: e.location_address.clone(),
            latitude: e.latitude,
            longitude: e.longitude,
            osm_url: calendar::osm_url(e),
        }),
        online_url: e.online_url.clone().filter(|_| online_visible),
        online_url_hidden: e.online_url.is_some() && !online_visible,
        capacity: e.capacity,
        remaining_capacity: calendar::remaining(e),
        waiting_list: e.waiting_list,
        join_mode: JoinMode::of(e).as_str().into(),
        status: EventStatus::of(e).as_str().into(),
        visibility: EventVisibility::of(e).as_str().into(),
        organizer: entities::account(state, &organizer),
        group_id: e.group_id.map(|g| g.to_string()),
        tags: calendar::tags(e),
        language: e.language.clone(),
        participant_count: calendar::participant_count(e),
        local: e.local,
        rsvp: rsvp.map(|r| r.as_str().to_string()),
        organiser,
        ics_url: format!("{}/events/{}/event.ics", state.urls.base(), e.id),
        created_at: entities::iso(e.created_at),
        updated_at: entities::iso(e.updated_at),
    })
}

/// The event behind an id in the path that the caller may see, or 404.
pub async fn event_by_id(
    state: &AppState,
    viewer: Option<&crate::db::entities::actors::Model>,
    raw: &str,
) -> AppResult<calendar_events::Model> {
    let id = parse_id(raw).ok_or_else(AppError::not_found)?;
    calendar::visible(&state.db, viewer, id).await
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// Events still running at or after this instant (default: now).
    #[param(format = DateTime)]
    from: Option<String>,
    /// Events starting before this instant.
    #[param(format = DateTime)]
    to: Option<String>,
    /// Only this group's events (its account id).
    #[param(pattern = r"^[0-9]{1,18}$")]
    group_id: Option<String>,
    /// Only events with this tag (a subject), without `#`.
    #[param(max_length = 60, pattern = r"^\w+$")]
    tag: Option<String>,
    /// `true`: online events only; `false`: in person only.
    online: Option<bool>,
    /// `true`: only events the caller answered going, maybe, or is waiting for.
    mine: Option<bool>,
    /// At most this many (default 40, at most 200).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u64>,
}

fn instant(raw: Option<&str>) -> AppResult<Option<chrono::DateTime<chrono::Utc>>> {
    raw.map(|s| {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|_| {
                AppError::Unprocessable(crate::msg!("error-event-time", field = "from/to"))
            })
    })
    .transpose()
}

/// Upcoming events the caller may see, soonest first.
#[utoipa::path(get, path = "/api/v1/staffroom/events", tag = "events",
    params(CalendarQuery),
    responses((status = 200, body = Vec<EventEntity>), (status = 401)),
    security((), ("bearer" = ["read:statuses"])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
    Query(q): Query<CalendarQuery>,
) -> AppResult<axum::Json<Vec<EventEntity>>> {
    let me = viewer(&auth, "read:statuses")?;
    // Form decoding reads `to=` as no `to` at all; the schema calls it invalid.
    for pair in raw.as_deref().unwrap_or_default().split('&') {
        if let Some((key, "")) = pair.split_once('=')
            && ["from", "to", "group_id", "tag", "online", "mine", "limit"].contains(&key)
        {
            return Err(AppError::Unprocessable(crate::msg!(
                "error-field-required",
                field = key.to_string()
            )));
        }
    }
    let v = me.as_ref().map(|m| &m.actor);
    if q.mine == Some(true) && v.is_none() {
        return Err(AppError::unauthorized());
    }
    let invalid = |field: &'static str| {
        AppError::Unprocessable(crate::msg!("error-event-field-invalid", field = field))
    };
    let group_id = match q.group_id.as_deref() {
        Some(g) if g.len() <= 18 && !g.is_empty() && g.chars().all(|c| c.is_ascii_digit()) => {
            Some(parse_id(g).ok_or_else(|| invalid("group_id"))?)
        }
        Some(_) => return Err(invalid("group_id")),
        None => None,
    };
    if let Some(t) = &q.tag
        && (t.chars().count() > 60 || !t.chars().all(|c| c.is_alphanumeric() || c == '_'))
    {
        return Err(invalid("tag"));
    }
    if q.limit.is_some_and(|l| !(1..=200).contains(&l)) {
        return Err(AppError::Unprocessable(crate::msg!("error-event-limit")));
    }
    let filter = calendar::Filter {
        from: Some(instant(q.from.as_deref())?.unwrap_or_else(chrono::Utc::now)),
        to: instant(q.to.as_deref())?,
        group_id,
        tag: q.tag.clone(),
        online: q.online,
        mine: q.mine.unwrap_or(false),
        local_only: false,
        organizer_domains: None,
        limit: q.limit.unwrap_or(40),
    };
    let list = calendar::list(&state.db, v, &filter).await?;
    let mut out = Vec::with_capacity(list.len());
    for e in &list {
        out.push(event_entity(&state, v, e).await?);
    }
    Ok(axum::Json(out))
}

/// One event.
#[utoipa::path(get, path = "/api/v1/staffroom/events/{id}", tag = "events",
    params(("id" = String, Path, description = "The event's id")),
    responses((status = 200, body = EventEntity), (status = 401), (status = 404)),
    security((), ("bearer" = ["read:statuses"])))]
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<axum::Json<EventEntity>> {
    let me = viewer(&auth, "read:statuses")?;
    let v = me.as_ref().map(|m| &m.actor);
    let e = event_by_id(&state, v, &id).await?;
    Ok(axum::Json(event_entity(&state, v, &e).await?))
}
