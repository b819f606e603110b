//! Events in ActivityPub, compatible with Mobilizon and FEP-8a8e: the
//! fields of our `Event` objects (times, zone, Place with PostalAddress,
//! join mode, capacity, participant count, online link), reading them from
//! other servers' objects, the RSVP activities we send (Join,
//! TentativeAccept, Leave; Accept or Reject of someone's Join) and the ones
//! we receive (Join, Leave, Accept / TentativeAccept / Reject of an Event).

use crate::{
    app::AppState,
    db::{entities::statuses, ids, queries},
    domain::{
        calendar::{self, EventStatus, JoinMode, Rsvp, remote::RemoteEvent},
        events::Event,
    },
    error::{AppError, AppResult},
    federation::{
        error::FedError,
        objects::Note,
        protocol::{id_of, type_of},
        publish,
    },
};
use activitypub_federation::config::Data;
use serde_json::{Map, Value, json};

/// The event fields of one of our Event posts, and its one-line summary
/// (Mastodon shows `name`, `summary` and `url` of an Event, not `content`).
pub async fn event_fields(
    state: &AppState,
    s: &statuses::Model,
) -> Result<Option<(Map<String, Value>, String)>, FedError> {
    let Some(e) = queries::calendar::by_id(&state.db, s.id).await? else {
        return Ok(None);
    };
    let tz = calendar::time::zone_or_utc(&e.timezone);
    let mut m = Map::new();
    m.insert(
        "startTime".into(),
        json!(calendar::time::with_offset(e.starts_at, tz)),
    );
    m.insert("timezone".into(), json!(e.timezone));
    if let Some(name) = &e.location_name {
        let mut place = json!({ "type": "Place", "name": name });
        if let Some(a) = &e.location_address {
            place["address"] = json!({ "type": "PostalAddress", "streetAddress": a });
        }
        if let (Some(lat), Some(lon)) = (e.latitude, e.longitude) {
            place["latitude"] = json!(lat);
            place["longitude"] = json!(lon);
        }
        m.insert("location".into(), place);
    }
    m.insert("isOnline".into(), json!(e.online_url.is_some()));
    m.insert(
        "joinMode".into(),
        json!(match JoinMode::of(&e) {
            JoinMode::Free => "free",
            JoinMode::Approval => "restricted",
            JoinMode::Invitation => "invite",
        }),
    );
    m.insert(
        "maximumAttendeeCapacity".into(),
        json!(e.capacity.unwrap_or(0)),
    );
    m.insert(
        "remainingAttendeeCapacity".into(),
        json!(calendar::remaining(&e)),
    );
    m.insert(
        "participantCount".into(),
        json!(calendar::participant_count(&e)),
    );
    m.insert(
        "ical:status".into(),
        json!(EventStatus::of(&e).as_str().to_uppercase()),
    );
    m.insert("anonymousParticipationEnabled".into(), json!(false));
    m.insert("draft".into(), json!(false));
    if let Some(l) = &e.language {
        m.insert("inLanguage".into(), json!(l));
    }
    if let Some(poll) = e.poll_status_id
        && let Some(p) = queries::statuses::by_id(&state.db, poll).await?
    {
        m.insert("staffroom:rsvpPoll".into(), json!(p.ap_id));
    }
    // Times alone cannot tell an all-day event from one at midnight.
    if e.all_day {
        m.insert("staffroom:allDay".into(), json!(true));
    }
    if let Some(u) = e
        .online_url
        .as_ref()
        .filter(|_| !e.online_participants_only)
    {
        m.insert(
            "attachment".into(),
            json!([{ "type": "Link", "name": "Online", "mediaType": "text/html", "href": u }]),
        );
    }
    Ok(Some((m, calendar::facts_text(&e))))
}

/// The `endTime` of one of our events (the Note field shared with polls).
pub async fn end_time(
    state: &AppState,
    s: &statuses::Model,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, FedError> {
    Ok(queries::calendar::by_id(&state.db, s.id)
        .await?
        .map(|e| e.ends_at))
}

fn time_of(v: Option<&Value>) -> Option<chrono::DateTime<chrono::Utc>> {
    let s = v?.as_str()?;
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(|s| crate::domain::text::html_to_text(s).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn address_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => text(Some(v)).or_else(|| Some(s.clone())),
        Value::Object(o) => {
            let parts: Vec<String> = [
                "streetAddress",
                "postalCode",
                "addressLocality",
                "addressRegion",
                "addressCountry",
            ]
            .iter()
            .filter_map(|k| text(o.get(*k)))
            .collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        _ => None,
    }
}

fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// What an Event object from another server says about the event.
pub fn parse(note: &Note) -> RemoteEvent {
    let x = &note.extra;
    let location = match x.get("location") {
        Some(Value::Array(a)) => a.first().cloned(),
        other => other.cloned(),
    };
    let (mut location_name, mut location_address, mut latitude, mut longitude) =
        (None, None, None, None);
    if let Some(l) = &location {
        location_name = text(l.get("name")).or_else(|| text(Some(l)));
        location_address = l.get("address").and_then(address_of);
        latitude = number(l.get("latitude"));
        longitude = number(l.get("longitude"));
        if location_name.is_none() {
            location_name = location_address.clone();
        }
    }
    let online = x.get("isOnline").and_then(Value::as_bool).unwrap_or(false);
    let online_url = note.attachment.iter().find_map(|a| {
        (type_of(a).as_deref() == Some("Link"))
            .then(|| a.get("href").and_then(crate::federation::protocol::url_of))
            .flatten()
            .map(|u| u.to_string())
    });
    let tags = note
        .tag
        .iter()
        .filter(|t| type_of(t).as_deref() == Some("Hashtag"))
        .filter_map(|t| t.get("name").and_then(Value::as_str))
        .map(|n| n.trim_start_matches('#').to_lowercase())
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .collect();
    let start_raw = x.get("startTime").and_then(Value::as_str).unwrap_or("");
    let timezone = x
        .get("timezone")
        .and_then(Value::as_str)
        .map(str::to_string);
    let tz = calendar::time::zone_or_utc(timezone.as_deref().unwrap_or("UTC"));
    // A date alone (some servers send one for all-day events) is that day
    // in the event's zone; an end date names the last day.
    let date_only = |raw: &str| raw.len() == 10;
    let day = |raw: &str| calendar::time::parse_local("start", raw, tz).ok();
    let starts_at = time_of(x.get("startTime")).or_else(|| day(start_raw));
    // With a start date alone, an end at 00:00 UTC is a date alone too.
    let ends_at = match note.end_time {
        Some(t) if date_only(start_raw) && t.time() == chrono::NaiveTime::MIN => {
            calendar::time::parse_local("end", &t.format("%Y-%m-%d").to_string(), tz)
                .ok()
                .and_then(|d| calendar::time::end_of_day(d, tz).ok())
        }
        other => other,
    };
    let all_day =
        date_only(start_raw) || x.get("staffroom:allDay").and_then(Value::as_bool) == Some(true);
    let ends_at = match (all_day, starts_at, ends_at) {
        (true, Some(s), None) => calendar::time::end_of_day(s, tz).ok(),
        (_, _, e) => e,
    };
    RemoteEvent {
        starts_at,
        ends_at,
        timezone,
        all_day,
        location_name,
        location_address,
        latitude,
        longitude,
        online_url: if online { online_url } else { None },
        capacity: number(x.get("maximumAttendeeCapacity")).map(|c| c as i32),
        join_mode: x
            .get("joinMode")
            .and_then(Value::as_str)
            .map(str::to_string),
        status: x
            .get("ical:status")
            .or_else(|| x.get("status"))
            .and_then(Value::as_str)
            .map(str::to_string),
        participant_count: number(x.get("participantCount")).map(|c| c as i32),
        tags,
        rsvp_poll: x
            .get("staffroom:rsvpPoll")
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

/// The poll a Staffroom event names as its RSVP (`staffroom:rsvpPoll`),
/// fetched from the organiser's server when it has not arrived yet, so that
/// a vote on it is an answer to the event and our lists show the event in
/// its place. Only the organiser's own Question counts.
pub async fn rsvp_poll(data: &Data<AppState>, event: &statuses::Model, url: &str) -> Option<i64> {
    let url = url::Url::parse(url).ok()?;
    let origin = url::Url::parse(&event.ap_id).ok()?;
    if !crate::federation::protocol::same_origin(&url, &origin) {
        return None;
    }
    let poll = match queries::statuses::by_ap_id(&data.db, url.as_str()).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            match activitypub_federation::fetch::object_id::ObjectId::<
                crate::federation::objects::ApubStatus,
            >::from(url)
            .dereference(data)
            .await
            {
                Ok(p) => p.model,
                Err(e) => {
                    tracing::debug!(error = %e, event = event.ap_id, "could not fetch an event's poll");
                    return None;
                }
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not look up an event's poll");
            return None;
        }
    };
    (poll.actor_id == event.actor_id && poll.kind == "Question" && poll.deleted_at.is_none())
        .then_some(poll.id)
}

/// Build and queue the RSVP activities of `calendar` domain events.
pub async fn publish(state: &AppState, event: &Event) -> AppResult<()> {
    match event {
        Event::EventRsvp { participant_id } => {
            let Some((p, e, me, organiser, object)) = load(state, *participant_id).await? else {
                return Ok(());
            };
            let kind = match Rsvp::parse(&p.status) {
                Some(Rsvp::Going | Rsvp::Pending) => "Join",
                Some(Rsvp::Maybe) => "TentativeAccept",
                _ => "Leave",
            };
            let mut activity = json!({
                "id": p.ap_id.clone().unwrap_or_else(|| format!("{}#rsvp/{}", me.ap_id, ids::next_id())),
                "type": kind,
                "actor": me.ap_id,
                "to": [organiser.ap_id],
                "object": object,
            });
            if let Some(m) = &p.message {
                activity["participationMessage"] = json!(m);
            }
            let _ = e;
            let inboxes = publish::inbox_of_personal(&organiser);
            publish::enqueue(state, &me, kind, Some(&object), activity, inboxes).await
        }
        Event::EventAnswered {
            participant_id,
            accepted,
        } => {
            let Some((p, e, who, organiser, object)) = load(state, *participant_id).await? else {
                return Ok(());
            };
            if *accepted {
                send_online_link(state, &e, &who, &organiser).await?;
            }
            let kind = if *accepted { "Accept" } else { "Reject" };
            let activity = json!({
                "id": format!("{}#{}s/rsvp/{}", organiser.ap_id, kind.to_lowercase(), ids::next_id()),
                "type": kind,
                "actor": organiser.ap_id,
                "to": [who.ap_id],
                "object": {
                    "id": p.ap_id,
                    "type": "Join",
                    "actor": who.ap_id,
                    "object": object,
                },
            });
            let inboxes = publish::inbox_of_personal(&who);
            publish::enqueue(state, &organiser, kind, Some(&object), activity, inboxes).await
        }
        _ => Ok(()),
    }
}

/// A link for participants only never travels with the event: a remote
/// participant, once accepted, gets it from the organiser in a direct
/// message (which Mastodon, Mobilizon and Misskey all show), delivered
/// before the Accept.
async fn send_online_link(
    state: &AppState,
    e: &crate::db::entities::calendar_events::Model,
    who: &crate::db::entities::actors::Model,
    organiser: &crate::db::entities::actors::Model,
) -> AppResult<()> {
    let Some(link) = e
        .online_url
        .as_deref()
        .filter(|_| e.online_participants_only)
    else {
        return Ok(());
    };
    if who.local || !organiser.local {
        return Ok(());
    }
    let locale = crate::i18n::Locale::parse(&state.config.instance.default_locale)
        .unwrap_or(crate::i18n::Locale::En);
    let text = crate::msg!("event-online-link-message", title = e.title.clone()).render(locale);
    let esc = crate::domain::text::escape_html;
    let mention = format!(
        r#"<span class="h-card"><a href="{}" class="u-url mention">@{}</a></span>"#,
        esc(who.url.as_deref().unwrap_or(&who.ap_id)),
        esc(&who.username)
    );
    let page = calendar::page_url(state.urls.base(), e);
    let id = format!("{}/online-links/{}", organiser.ap_id, ids::next_id());
    let note = json!({
        "id": id,
        "type": "Note",
        "attributedTo": organiser.ap_id,
        "to": [who.ap_id],
        "cc": [],
        "content": format!(
            r#"<p>{mention} {}</p><p><a href="{1}">{1}</a></p><p><a href="{2}">{2}</a></p>"#,
            esc(&text),
            esc(link),
            esc(&page)
        ),
        "published": chrono::Utc::now(),
        "url": page,
        "tag": [{ "type": "Mention", "href": who.ap_id, "name": format!("@{}@{}", who.username, who.domain) }],
    });
    let activity = json!({
        "id": format!("{id}/activity"),
        "type": "Create",
        "actor": organiser.ap_id,
        "to": [who.ap_id],
        "object": note,
    });
    publish::enqueue(
        state,
        organiser,
        "Create",
        Some(&who.ap_id),
        activity,
        publish::inbox_of_personal(who),
    )
    .await
}

type Loaded = (
    crate::db::entities::event_participants::Model,
    crate::db::entities::calendar_events::Model,
    crate::db::entities::actors::Model,
    crate::db::entities::actors::Model,
    String,
);

/// A participant, their event, themselves, the organiser and the event's id.
async fn load(state: &AppState, participant_id: i64) -> AppResult<Option<Loaded>> {
    let Some(p) = queries::calendar::participant_by_id(&state.db, participant_id).await? else {
        return Ok(None);
    };
    let e = queries::calendar::by_id(&state.db, p.event_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let s = queries::statuses::by_id(&state.db, e.id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let who = queries::actors::by_id(&state.db, p.actor_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let organiser = queries::actors::by_id(&state.db, e.organizer_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(Some((p, e, who, organiser, s.ap_id)))
}

/// A local event behind an activity's object, if it is one.
async fn local_event(
    data: &Data<AppState>,
    object: &Value,
) -> Result<Option<crate::db::entities::calendar_events::Model>, FedError> {
    let Some(id) = id_of(object) else {
        return Ok(None);
    };
    let Some(s) = queries::statuses::by_ap_id(&data.db, id.as_str()).await? else {
        return Ok(None);
    };
    if !s.local || s.kind != "Event" || s.deleted_at.is_some() {
        return Ok(None);
    }
    Ok(queries::calendar::by_id(&data.db, s.id).await?)
}

/// Join, Leave, TentativeAccept, and Accept or Reject whose object is one
/// of our events (an RSVP) or a Join we sent (the organiser's answer).
/// Returns false when the activity is about something else.
pub async fn receive(
    data: &Data<AppState>,
    actor: &crate::db::entities::actors::Model,
    kind: &str,
    activity: &Value,
) -> Result<bool, FedError> {
    let object = activity.get("object").cloned().unwrap_or(Value::Null);
    let id = activity
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if matches!(kind, "Accept" | "Reject") && type_of(&object).as_deref() != Some("Event") {
        let join_id = match &object {
            Value::String(s) => Some(s.clone()),
            other => other.get("id").and_then(Value::as_str).map(str::to_string),
        };
        if let Some(j) = join_id
            && calendar::receive_answer(data, actor, &j, kind == "Accept").await?
        {
            return Ok(true);
        }
    }
    let Some(e) = local_event(data, &object).await? else {
        return Ok(false);
    };
    let choice = match kind {
        "Join" | "Accept" => Rsvp::Going,
        "TentativeAccept" => Rsvp::Maybe,
        _ => Rsvp::NotGoing,
    };
    let note = activity
        .get("participationMessage")
        .and_then(Value::as_str)
        .map(str::to_string);
    match calendar::receive(data, actor, &e, choice, &id, note).await {
        Ok(outbox) => publish::publish(data, outbox).await,
        Err(AppError::NotFound(_)) => return Err(FedError::NotFound("event".into())),
        Err(AppError::Unprocessable(m) | AppError::Forbidden(m)) => {
            tracing::debug!(error = %m, "RSVP refused");
        }
        Err(other) => return Err(other.into()),
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn event(fields: Value) -> Note {
        let mut doc = json!({
            "id": "https://events.example/events/1",
            "type": "Event",
            "attributedTo": "https://events.example/users/org",
            "name": "Open day",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        });
        if let (Some(d), Value::Object(f)) = (doc.as_object_mut(), fields) {
            d.extend(f);
        }
        serde_json::from_value(doc).unwrap()
    }

    fn utc(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn dates_alone_make_an_all_day_event_in_its_zone() {
        let e = parse(&event(json!({
            "startTime": "2027-03-12",
            "endTime": "2027-03-13",
            "timezone": "Europe/Paris",
        })));
        assert!(e.all_day);
        assert_eq!(e.starts_at, utc("2027-03-11T23:00:00Z"));
        // The end date is the last day: the event ends at the midnight after it.
        assert_eq!(e.ends_at, utc("2027-03-13T23:00:00Z"));
        let one_day = parse(&event(json!({ "startTime": "2027-07-01" })));
        assert!(one_day.all_day);
        assert_eq!(one_day.starts_at, utc("2027-07-01T00:00:00Z"));
        assert_eq!(one_day.ends_at, utc("2027-07-02T00:00:00Z"));
    }

    #[test]
    fn a_staffroom_all_day_event_stays_one() {
        let e = parse(&event(json!({
            "startTime": "2027-03-12T00:00:00+01:00",
            "endTime": "2027-03-12T23:00:00Z",
            "timezone": "Europe/Paris",
            "staffroom:allDay": true,
        })));
        assert!(e.all_day);
        assert_eq!(e.starts_at, utc("2027-03-11T23:00:00Z"));
        assert_eq!(e.ends_at, utc("2027-03-12T23:00:00Z"));
        let timed = parse(&event(json!({
            "startTime": "2027-03-12T00:00:00+01:00",
            "endTime": "2027-03-12T01:00:00+01:00",
        })));
        assert!(!timed.all_day);
    }
}
