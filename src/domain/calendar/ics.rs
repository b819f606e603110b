//! Calendars for other programs: iCalendar (RFC 5545) for one event and for
//! feeds (a group's, the instance's, a member's answers), and an Atom feed
//! of upcoming events. Times are written in UTC, so every client places
//! them right whatever it knows of time zones; all-day events are dates.

use super::{EventStatus, facts_text, osm_url, page_url, time};
use crate::{db::entities::calendar_events, domain::text};
use icalendar::{Calendar, Component, EventLike};

/// Who is reading: participants see a participants-only online link.
pub struct Reader<'a> {
    pub base: &'a str,
    /// Event ids whose online link this reader may see.
    pub insider_of: &'a [i64],
}

fn ics_event(e: &calendar_events::Model, uid: &str, r: &Reader<'_>) -> icalendar::Event {
    let mut ev = icalendar::Event::new();
    ev.uid(uid)
        .summary(&e.title)
        .timestamp(e.updated_at)
        .last_modified(e.updated_at)
        .url(&page_url(r.base, e));
    if e.all_day {
        let tz = time::zone_or_utc(&e.timezone);
        let first = e.starts_at.with_timezone(&tz).date_naive();
        let after = e.ends_at.with_timezone(&tz).date_naive();
        ev.starts(first)
            .ends(after.max(first.succ_opt().unwrap_or(first)));
    } else {
        ev.starts(e.starts_at).ends(e.ends_at);
    }
    let mut description = text::html_to_text(&e.description);
    let online = e
        .online_url
        .as_ref()
        .filter(|_| !e.online_participants_only || r.insider_of.contains(&e.id));
    if let Some(u) = online {
        description = format!("{u}\n\n{description}");
    }
    if !description.trim().is_empty() {
        ev.description(description.trim());
    }
    match (&e.location_name, &e.location_address) {
        (Some(n), Some(a)) => {
            ev.location(&format!("{n}, {a}"));
        }
        (Some(n), None) => {
            ev.location(n);
        }
        _ => {
            if let Some(u) = online {
                ev.location(u);
            }
        }
    }
    if let (Some(lat), Some(lon)) = (e.latitude, e.longitude) {
        ev.add_property("GEO", format!("{lat:.6};{lon:.6}"));
    }
    ev.status(match EventStatus::of(e) {
        EventStatus::Confirmed => icalendar::EventStatus::Confirmed,
        EventStatus::Tentative => icalendar::EventStatus::Tentative,
        EventStatus::Cancelled => icalendar::EventStatus::Cancelled,
    });
    let tags = super::tags(e);
    if !tags.is_empty() {
        ev.add_property("CATEGORIES", tags.join(","));
    }
    ev.done()
}

/// An iCalendar document with these events. `uids` are the events'
/// ActivityPub ids (stable across servers).
pub fn calendar(name: &str, events: &[(calendar_events::Model, String)], r: &Reader<'_>) -> String {
    let mut cal = Calendar::new();
    cal.name(name);
    cal.append_property(("PRODID", "-//Staffroom//Events//EN"));
    for (e, uid) in events {
        cal.push(ics_event(e, uid, r));
    }
    cal.done().to_string()
}

/// An Atom feed of events (upcoming first).
pub fn atom(
    title: &str,
    self_url: &str,
    events: &[(calendar_events::Model, String)],
    r: &Reader<'_>,
) -> String {
    let updated = events
        .iter()
        .map(|(e, _)| e.updated_at)
        .max()
        .unwrap_or_else(chrono::Utc::now);
    let mut out = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>{}</title>
<id>{}</id>
<link rel="self" href="{}"/>
<updated>{}</updated>
"#,
        crate::domain::text::escape_html(title),
        crate::domain::text::escape_html(self_url),
        crate::domain::text::escape_html(self_url),
        updated.to_rfc3339()
    );
    for (e, uid) in events {
        let mut summary = facts_text(e);
        if let Some(osm) = osm_url(e) {
            summary.push_str(&format!(" · {osm}"));
        }
        out.push_str(&format!(
            r#"<entry>
<title>{}</title>
<id>{}</id>
<link rel="alternate" type="text/html" href="{}"/>
<updated>{}</updated>
<published>{}</published>
<summary>{}</summary>
<content type="html">{}</content>
</entry>
"#,
            crate::domain::text::escape_html(&e.title),
            crate::domain::text::escape_html(uid),
            crate::domain::text::escape_html(&page_url(r.base, e)),
            e.updated_at.to_rfc3339(),
            e.created_at.to_rfc3339(),
            crate::domain::text::escape_html(&summary),
            crate::domain::text::escape_html(&super::manage::content(e)),
        ));
    }
    out.push_str("</feed>\n");
    out
}

/// A member's personal feed token (made on first use).
pub async fn feed_token(
    db: &impl sea_orm::ConnectionTrait,
    actor_id: i64,
) -> crate::error::AppResult<String> {
    use sea_orm::ActiveValue::Set;
    if let Some(f) = crate::db::queries::calendar::feed_of(db, actor_id).await? {
        return Ok(f.token);
    }
    let token = format!(
        "{}{}{}",
        crate::domain::auth::random_code(),
        crate::domain::auth::random_code(),
        crate::domain::auth::random_code()
    );
    crate::db::queries::calendar::insert_feed(
        db,
        crate::db::entities::calendar_feeds::ActiveModel {
            actor_id: Set(actor_id),
            token: Set(token.clone()),
            created_at: Set(chrono::Utc::now()),
        },
    )
    .await?;
    Ok(token)
}
