//! Calendar events (not to be confused with `domain::events`, what use cases
//! tell the federation layer). An event is a post of kind `Event` (so it
//! reaches timelines, search and followers like any post) plus a
//! `calendar_events` row with its times, place, capacity and join rules.
//! Here: the vocabulary, who may see an event, and its text; `manage`
//! writes events, `rsvp` handles answers, `remote` stores other servers'
//! events, `ics` renders calendars, `time` handles zones.

pub mod ics;
pub mod manage;
pub mod outreach;
pub mod reminders;
pub mod remote;
pub mod rsvp;
pub mod time;

pub use manage::*;
pub use rsvp::*;

use crate::{
    db::{
        entities::{actors, calendar_events},
        queries,
    },
    domain::groups,
    error::AppResult,
};
use sea_orm::ConnectionTrait;

pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 10_000;
pub const PLACE_MAX: usize = 200;
pub const ADDRESS_MAX: usize = 500;
pub const URL_MAX: usize = 2000;
pub const MESSAGE_MAX: usize = 500;
pub const MAX_TAGS: usize = 10;
pub const MAX_CAPACITY: i64 = 1_000_000;

macro_rules! words {
    ($name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
        pub enum $name { $($variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim().to_lowercase();
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}

words!(JoinMode { Free = "free", Approval = "approval", Invitation = "invitation" });
words!(EventStatus { Confirmed = "confirmed", Tentative = "tentative", Cancelled = "cancelled" });
words!(EventVisibility { Public = "public", Instance = "instance", Group = "group" });
words!(Rsvp {
    Going = "going",
    Maybe = "maybe",
    NotGoing = "not_going",
    Pending = "pending",
    Waiting = "waiting",
    Invited = "invited",
    Rejected = "rejected",
});

impl JoinMode {
    pub fn of(e: &calendar_events::Model) -> Self {
        Self::parse(&e.join_mode).unwrap_or(Self::Free)
    }
}

impl EventStatus {
    pub fn of(e: &calendar_events::Model) -> Self {
        Self::parse(&e.event_status).unwrap_or(Self::Confirmed)
    }
}

impl EventVisibility {
    pub fn of(e: &calendar_events::Model) -> Self {
        Self::parse(&e.visibility).unwrap_or(Self::Public)
    }
}

pub fn tags(e: &calendar_events::Model) -> Vec<String> {
    serde_json::from_value(e.tags.clone()).unwrap_or_default()
}

/// The event's page.
pub fn page_url(base: &str, e: &calendar_events::Model) -> String {
    format!("{base}/events/{}", e.id)
}

/// OpenStreetMap, centred on the place (a link: no map tiles are loaded).
pub fn osm_url(e: &calendar_events::Model) -> Option<String> {
    let (lat, lon) = (e.latitude?, e.longitude?);
    Some(format!(
        "https://www.openstreetmap.org/?mlat={lat:.6}&mlon={lon:.6}#map=17/{lat:.6}/{lon:.6}"
    ))
}

/// May `viewer` (None: anonymous) see this event?
pub async fn can_see(
    db: &impl ConnectionTrait,
    viewer: Option<&actors::Model>,
    e: &calendar_events::Model,
) -> AppResult<bool> {
    if viewer.is_some_and(|v| v.id == e.organizer_id) {
        return Ok(true);
    }
    if let Some(v) = viewer
        && queries::relations::block(db, e.organizer_id, v.id)
            .await?
            .is_some()
    {
        return Ok(false);
    }
    let group = match e.group_id {
        Some(g) => groups::load(db, g).await?,
        None => None,
    };
    match EventVisibility::of(e) {
        EventVisibility::Public => match &group {
            Some(g) => groups::may_read(db, g, viewer).await,
            None => Ok(true),
        },
        EventVisibility::Instance => Ok(viewer.is_some_and(|v| v.local && v.account_id.is_some())),
        EventVisibility::Group => match (&group, viewer) {
            (Some(g), Some(v)) => groups::insider(db, g, v).await,
            _ => Ok(false),
        },
    }
}

/// May `who` manage the event (edit, cancel, see and decide on participants)?
/// Its organiser, or a moderator of its (local) group.
pub async fn is_organiser(
    db: &impl ConnectionTrait,
    who: &actors::Model,
    e: &calendar_events::Model,
) -> AppResult<bool> {
    if !e.local {
        return Ok(false);
    }
    if who.id == e.organizer_id {
        return Ok(true);
    }
    if let Some(gid) = e.group_id
        && let Some(g) = groups::load(db, gid).await?
    {
        return Ok(groups::role_of(db, &g, who.id)
            .await?
            .is_some_and(groups::GroupRole::is_staff));
    }
    Ok(false)
}

/// People going: counted here for ours, as reported for remote events
/// (plus our own members going, which the report may not yet include).
pub fn participant_count(e: &calendar_events::Model) -> u64 {
    let ours = e.going_count.max(0) as u64;
    match e.remote_participant_count {
        Some(n) if !e.local => (n.max(0) as u64).max(ours),
        _ => ours,
    }
}

/// Seats left, when the event has a limit.
pub fn remaining(e: &calendar_events::Model) -> Option<i64> {
    e.capacity
        .map(|c| (i64::from(c) - i64::from(e.going_count)).max(0))
}

/// Where and when, as HTML paragraphs: the start of the event's post, since
/// Mastodon and others show the text and nothing of the event's fields.
pub fn facts_html(e: &calendar_events::Model) -> String {
    use crate::domain::text::sanitize_html;
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let tz = time::zone_or_utc(&e.timezone);
    let mut lines = Vec::new();
    if EventStatus::of(e) == EventStatus::Cancelled {
        lines.push("<strong>Cancelled</strong>".to_string());
    } else if EventStatus::of(e) == EventStatus::Tentative {
        lines.push("<strong>Tentative</strong>".to_string());
    }
    lines.push(format!(
        "📅 {}",
        esc(&time::human(e.starts_at, e.ends_at, tz, e.all_day))
    ));
    if let Some(name) = &e.location_name {
        let mut place = esc(name);
        if let Some(a) = &e.location_address {
            place.push_str(&format!(", {}", esc(a)));
        }
        if let Some(osm) = osm_url(e) {
            place.push_str(&format!(r#" (<a href="{}">map</a>)"#, esc(&osm)));
        }
        lines.push(format!("📍 {place}"));
    }
    if let Some(u) = &e.online_url {
        if e.online_participants_only {
            lines.push("💻 Online (the link is for participants)".to_string());
        } else {
            lines.push(format!(r#"💻 Online: <a href="{0}">{0}</a>"#, esc(u)));
        }
    }
    sanitize_html(&format!("<p>{}</p>", lines.join("<br>")))
}

/// The description in an event post from a server that writes the facts
/// first as [`facts_html`] does (Staffroom): without them, since our event
/// page shows the date, place and link from the event's own fields. Any
/// other text is the description as it is.
pub fn description_of(content: &str) -> &str {
    let Some(rest) = content.strip_prefix("<p>") else {
        return content;
    };
    let Some((first, after)) = rest.split_once("</p>") else {
        return content;
    };
    let first = [
        "<strong>Cancelled</strong><br>",
        "<strong>Tentative</strong><br>",
    ]
    .iter()
    .find_map(|status| first.strip_prefix(status))
    .unwrap_or(first);
    if first.starts_with("📅 ") {
        after.trim_start()
    } else {
        content
    }
}

/// The same in one line of plain text (ActivityStreams `summary`).
pub fn facts_text(e: &calendar_events::Model) -> String {
    let tz = time::zone_or_utc(&e.timezone);
    let mut parts = Vec::new();
    if EventStatus::of(e) == EventStatus::Cancelled {
        parts.push("CANCELLED".to_string());
    }
    parts.push(time::human(e.starts_at, e.ends_at, tz, e.all_day));
    if let Some(name) = &e.location_name {
        parts.push(match &e.location_address {
            Some(a) => format!("{name}, {a}"),
            None => name.clone(),
        });
    }
    if e.online_url.is_some() {
        parts.push("online".into());
    }
    parts.join(" · ")
}

/// An event by id that `viewer` may see, or 404.
pub async fn visible(
    db: &impl ConnectionTrait,
    viewer: Option<&actors::Model>,
    id: i64,
) -> AppResult<calendar_events::Model> {
    let e = queries::calendar::by_id(db, id)
        .await?
        .ok_or_else(crate::error::AppError::not_found)?;
    if can_see(db, viewer, &e).await? {
        Ok(e)
    } else {
        Err(crate::error::AppError::not_found())
    }
}

/// Calendar filters, as the calendar pages and the API offer them.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    pub group_id: Option<i64>,
    /// A tag (subject), without `#`.
    pub tag: Option<String>,
    /// true: online only; false: in person only.
    pub online: Option<bool>,
    /// Only events the viewer answered going or maybe.
    pub mine: bool,
    pub local_only: bool,
    /// Only events organised on these domains.
    pub organizer_domains: Option<Vec<String>>,
    pub limit: u64,
}

/// Events `viewer` may see, soonest first.
pub async fn list(
    db: &impl ConnectionTrait,
    viewer: Option<&actors::Model>,
    f: &Filter,
) -> AppResult<Vec<calendar_events::Model>> {
    let ids = match (f.mine, viewer) {
        (true, Some(v)) => Some(
            queries::calendar::events_of(
                db,
                v.id,
                &[
                    Rsvp::Going.as_str(),
                    Rsvp::Maybe.as_str(),
                    Rsvp::Pending.as_str(),
                    Rsvp::Waiting.as_str(),
                ],
            )
            .await?,
        ),
        (true, None) => Some(Vec::new()),
        _ => None,
    };
    let limit = f.limit.clamp(1, 200);
    let rows = queries::calendar::list(
        db,
        &queries::calendar::Range {
            from: f.from,
            to: f.to,
            group_id: f.group_id,
            organizer_id: None,
            ids,
            organizer_domains: f.organizer_domains.clone(),
            online: f.online,
            local_only: f.local_only,
            limit: limit * 3,
        },
    )
    .await?;
    let tag = f
        .tag
        .as_ref()
        .map(|t| t.trim_start_matches('#').to_lowercase());
    let mut out = Vec::new();
    for e in rows {
        if let Some(t) = &tag
            && !tags(&e).iter().any(|x| x.to_lowercase() == *t)
        {
            continue;
        }
        if can_see(db, viewer, &e).await? {
            out.push(e);
            if out.len() as u64 >= limit {
                break;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> calendar_events::Model {
        let start = chrono::DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        calendar_events::Model {
            title: "Assembly".into(),
            description: "<p>Agenda: <em>budget</em>.</p><p>Second paragraph</p>".into(),
            starts_at: start,
            ends_at: start + chrono::Duration::hours(2),
            timezone: "Europe/Paris".into(),
            location_name: Some("Hall <B>".into()),
            location_address: Some("1 Rue X, Lyon".into()),
            latitude: Some(45.76),
            longitude: Some(4.83),
            online_url: Some("https://meet.example/x".into()),
            ..manage::blank(1, 1, start)
        }
    }

    #[test]
    fn the_description_comes_back_out_of_the_post() {
        let mut e = event();
        for status in [
            EventStatus::Confirmed,
            EventStatus::Tentative,
            EventStatus::Cancelled,
        ] {
            e.event_status = status.as_str().into();
            let post = manage::content(&e);
            assert_ne!(post, e.description);
            assert_eq!(description_of(&post), e.description, "{post}");
        }
        e.online_url = None;
        e.location_name = None;
        assert_eq!(description_of(&manage::content(&e)), e.description);
    }

    #[test]
    fn other_servers_text_is_kept_whole() {
        for text in [
            "<p>Bring your own laptop.</p><p>More</p>",
            "plain words",
            "<p>unclosed",
            "",
        ] {
            assert_eq!(description_of(text), text);
        }
    }
}
