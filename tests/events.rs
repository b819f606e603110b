//! Calendar events on one instance, through the JSON API: creating and
//! refusing bad input (422), answering under each join mode, capacity with
//! and without a waiting list (concurrent answers never exceed it),
//! organisers' participant list, cancellation notices, visibility, and the
//! iCalendar and Atom feeds (parsed by Python's `icalendar` when present),
//! and organisers' invitations and messages to participants.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestApp, python_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use staffroom::domain::accounts::Role;

const BASE: &str = "/api/v1/staffroom/events";

async fn call(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = app.api().request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    call(app, token, reqwest::Method::POST, path, Some(body)).await
}

async fn get(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    call(app, token, reqwest::Method::GET, path, None).await
}

fn future(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days))
        .format("%Y-%m-%dT18:00:00Z")
        .to_string()
}

async fn new_event(app: &TestApp, token: &str, extra: Value) -> Value {
    let mut body = json!({
        "title": "Maths fair",
        "description": "Bring *puzzles*.",
        "start_time": future(10),
        "timezone": "Europe/Paris",
        "location_name": "Town hall",
        "location_address": "1 Main Street",
        "coordinates": { "latitude": 48.85, "longitude": 2.35 },
        "tags": ["maths", "#fair"],
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (s, e) = post(app, token, BASE, body).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    e
}

async fn events_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let olga = app.member("olga", Role::Member).await;
    let ot = app.token(&olga).await;
    let mut people = Vec::new();
    for name in ["ann", "ben", "cid"] {
        let m = app.member(name, Role::Member).await;
        let t = app.token(&m).await;
        people.push((m, t));
    }
    let (at, bt, ct) = (&people[0].1, &people[1].1, &people[2].1);

    // Bad input is a clear 422.
    for (body, what) in [
        (
            json!({"title": "x", "start_time": future(3), "end_time": future(2), "timezone": "Europe/Paris"}),
            "end before start",
        ),
        (
            json!({"title": "x", "start_time": future(3), "timezone": "Mars/Olympus"}),
            "unknown zone",
        ),
        (
            json!({"title": "x", "start_time": future(3), "timezone": "UTC", "capacity": -1}),
            "negative capacity",
        ),
        (
            json!({"title": "  ", "start_time": future(3), "timezone": "UTC"}),
            "blank title",
        ),
        (
            json!({"title": "x", "start_time": "next tuesday", "timezone": "UTC"}),
            "not a time",
        ),
        (
            json!({"title": "x", "start_time": future(3), "timezone": "UTC", "online_url": "javascript:alert(1)"}),
            "bad link",
        ),
        (json!({"title": "x", "timezone": "UTC"}), "no start"),
    ] {
        let (s, e) = post(&app, &ot, BASE, body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {e}");
        assert!(
            e["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {e}"
        );
    }

    // A full event without a waiting list refuses; with one, people wait
    // and move up when a seat frees.
    let e = new_event(&app, &ot, json!({"capacity": 2})).await;
    let id = e["id"].as_str().unwrap().to_string();
    assert_eq!(
        e["location"]["osm_url"]
            .as_str()
            .map(|u| u.contains("openstreetmap.org")),
        Some(true)
    );
    assert_eq!(e["tags"], json!(["maths", "fair"]));
    assert!(
        e["start_time"].as_str().unwrap().ends_with("+01:00")
            || e["start_time"].as_str().unwrap().ends_with("+02:00")
    );
    let rsvp = |t: &str, status: &str| {
        let (app, path, t, status) = (
            &app,
            format!("{BASE}/{id}/rsvp"),
            t.to_string(),
            status.to_string(),
        );
        async move { post(app, &t, &path, json!({"status": status})).await }
    };
    assert_eq!(rsvp(at, "going").await.1["rsvp"], "going");
    assert_eq!(rsvp(bt, "going").await.1["rsvp"], "going");
    let (s, full) = rsvp(ct, "going").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{full}");
    assert!(full["error"].as_str().unwrap().contains("full"));
    let (s, e2) = call(
        &app,
        &ot,
        reqwest::Method::PATCH,
        &format!("{BASE}/{id}"),
        Some(json!({"waiting_list": true})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{e2}");
    assert_eq!(rsvp(ct, "going").await.1["rsvp"], "waiting");
    let (_, after) = rsvp(at, "not_going").await;
    assert_eq!(after["participant_count"], 2);
    let (_, cid_view) = get(&app, ct, &format!("{BASE}/{id}")).await;
    assert_eq!(cid_view["rsvp"], "going", "cid moved up: {cid_view}");
    let (_, notes) = get(&app, ct, "/api/v1/notifications").await;
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["type"] == "event_seat"),
        "{notes}"
    );

    // Participants: organisers see the list, others the count only.
    let (s, list) = get(&app, &ot, &format!("{BASE}/{id}/participants")).await;
    assert_eq!(s, StatusCode::OK);
    let going: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == "going")
        .map(|p| p["account"]["username"].as_str().unwrap())
        .collect();
    assert_eq!(going.len(), 2, "{list}");
    assert!(going.contains(&"ben") && going.contains(&"cid"));
    let (s, _) = get(&app, bt, &format!("{BASE}/{id}/participants")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Changing the event tells participants; cancelling too, and then it
    // takes no answers.
    let (s, _) = call(
        &app,
        &ot,
        reqwest::Method::PATCH,
        &format!("{BASE}/{id}"),
        Some(json!({"location_name": "School gym"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // The answer poll Mastodon users vote on closes when the event starts...
    let poll_of = async || {
        let e = staffroom::db::queries::calendar::by_id(&app.state().db, id.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        let poll = staffroom::db::queries::polls::by_status(
            &app.state().db,
            e.poll_status_id.expect("a public event has a poll"),
        )
        .await
        .unwrap()
        .unwrap();
        (e, poll)
    };
    let (e, poll) = poll_of().await;
    assert_eq!(poll.expires_at, Some(e.starts_at));
    assert!(poll.closed_at.is_none());
    let (s, c) = post(&app, &ot, &format!("{BASE}/{id}/cancel"), json!({})).await;
    assert_eq!(
        (s, c["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    // ... and at once when it is cancelled.
    let (_, poll) = poll_of().await;
    assert!(poll.closed_at.is_some(), "{poll:?}");
    let (_, notes) = get(&app, bt, "/api/v1/notifications").await;
    let kinds: Vec<&str> = notes
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["type"].as_str())
        .collect();
    assert!(
        kinds.contains(&"event_update") && kinds.contains(&"event_cancelled"),
        "{kinds:?}"
    );
    let (s, e) = rsvp(at, "going").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["error"].as_str().unwrap().contains("cancelled"));
    // A change needs a body.
    let (s, _) = call(
        &app,
        &ot,
        reqwest::Method::PATCH,
        &format!("{BASE}/{id}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    for body in [Value::Null, json!({"capacity": 5.0})] {
        let expected = if body.is_null() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
        let (s, e) = call(
            &app,
            &ot,
            reqwest::Method::PATCH,
            &format!("{BASE}/{id}"),
            Some(body),
        )
        .await;
        assert_eq!(s, expected, "{e}");
    }
    // Only organisers manage.
    let (s, _) = post(&app, bt, &format!("{BASE}/{id}/cancel"), json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Approval mode: a request waits for the organiser.
    let e = new_event(&app, &ot, json!({"join_mode": "approval", "online_url": "https://meet.example/maths", "online_participants_only": true})).await;
    let id2 = e["id"].as_str().unwrap().to_string();
    let (_, mine) = post(
        &app,
        at,
        &format!("{BASE}/{id2}/rsvp"),
        json!({"status": "going", "message": "I teach year 9"}),
    )
    .await;
    assert_eq!(mine["rsvp"], "pending");
    assert_eq!(mine["online_url"], Value::Null);
    assert_eq!(mine["online_url_hidden"], true);
    let ann_id = people[0].0.actor.id;
    let (s, p) = post(
        &app,
        &ot,
        &format!("{BASE}/{id2}/participants/{ann_id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(
        (s, p["status"].as_str()),
        (StatusCode::OK, Some("going")),
        "{p}"
    );
    let (_, seen) = get(&app, at, &format!("{BASE}/{id2}")).await;
    assert_eq!(seen["online_url"], "https://meet.example/maths");
    let (s, _) = post(
        &app,
        &ot,
        &format!("{BASE}/{id2}/participants/{ann_id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // Invitation mode: only invitees (none here) may answer.
    let e = new_event(&app, &ot, json!({"join_mode": "invitation"})).await;
    let (s, _) = post(
        &app,
        bt,
        &format!("{BASE}/{}/rsvp", e["id"].as_str().unwrap()),
        json!({"status": "going"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Instance-only events: members see them, anonymous visitors do not.
    let e = new_event(
        &app,
        &ot,
        json!({"visibility": "instance", "title": "Staff meeting"}),
    )
    .await;
    let iid = e["id"].as_str().unwrap().to_string();
    let anon = app
        .api()
        .get(app.url(&format!("{BASE}/{iid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        get(&app, bt, &format!("{BASE}/{iid}")).await.0,
        StatusCode::OK
    );

    // The calendar with filters.
    let (_, upcoming) = get(&app, bt, &format!("{BASE}?tag=maths")).await;
    assert!(upcoming.as_array().unwrap().len() >= 2, "{upcoming}");
    let (_, online) = get(&app, bt, &format!("{BASE}?online=true")).await;
    assert_eq!(online.as_array().unwrap().len(), 1, "{online}");
    let anon_list: Value = app
        .api()
        .get(app.url(BASE))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        anon_list
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["title"] != "Staff meeting")
    );
    let (_, mine) = get(&app, at, &format!("{BASE}?mine=true")).await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");

    // Deleting removes it from the calendar.
    let (s, _) = call(
        &app,
        &ot,
        reqwest::Method::DELETE,
        &format!("{BASE}/{iid}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        get(&app, bt, &format!("{BASE}/{iid}")).await.0,
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}
db_test!(events_api);

/// Many people answering at once never take more seats than there are.
async fn concurrent_answers_respect_capacity(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let olga = app.member("olga", Role::Member).await;
    let ot = app.token(&olga).await;
    let e = new_event(&app, &ot, json!({"capacity": 3})).await;
    let id = e["id"].as_str().unwrap().to_string();
    let mut tokens = Vec::new();
    for i in 0..10 {
        let m = app.member(&format!("t{i}"), Role::Member).await;
        tokens.push(app.token(&m).await);
    }
    let results = futures::future::join_all(tokens.iter().map(|t| {
        let path = format!("{BASE}/{id}/rsvp");
        let app = &app;
        async move { post(app, t, &path, json!({"status": "going"})).await.0 }
    }))
    .await;
    let ok = results.iter().filter(|s| **s == StatusCode::OK).count();
    let full = results
        .iter()
        .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    assert_eq!((ok, full), (3, 7), "{results:?}");
    let (_, e) = get(&app, &ot, &format!("{BASE}/{id}")).await;
    assert_eq!(e["participant_count"], 3);
    assert_eq!(e["remaining_capacity"], 0);
    let (_, list) = get(&app, &ot, &format!("{BASE}/{id}/participants?status=going")).await;
    assert_eq!(list.as_array().unwrap().len(), 3);
    app.stop().await;
}
db_test!(concurrent_answers_respect_capacity);

/// iCalendar and Atom: times in UTC across a daylight-saving change, the
/// personal feed behind its secret URL.
async fn calendars(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let olga = app.member("olga", Role::Member).await;
    let ot = app.token(&olga).await;
    // Europe/Paris moves from UTC+1 to UTC+2 on 29 March 2026 (and on the
    // last Sunday of March every year); two events at 18:00 local either side.
    let year = chrono::Datelike::year(&chrono::Utc::now()) + 1;
    let sunday = (25..=31)
        .rev()
        .find(|d| {
            chrono::Datelike::weekday(&chrono::NaiveDate::from_ymd_opt(year, 3, *d).unwrap())
                == chrono::Weekday::Sun
        })
        .unwrap();
    let mut ids = Vec::new();
    for (day, offset) in [(sunday - 1, "+01:00"), (sunday, "+02:00")] {
        let e = new_event(
            &app,
            &ot,
            json!({
                "title": format!("Evening {day}"),
                "start_time": format!("{year}-03-{day:02}T18:00:00{offset}"),
                "end_time": format!("{year}-03-{day:02}T20:00:00{offset}"),
            }),
        )
        .await;
        assert_eq!(
            e["start_time"],
            format!("{year}-03-{day:02}T18:00:00{offset}")
        );
        ids.push(e["id"].as_str().unwrap().to_string());
    }
    let r = app
        .api()
        .get(app.url("/calendar.ics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let ics = r.text().await.unwrap();
    assert!(
        ics.contains(&format!("DTSTART:{year}03{:02}T170000Z", sunday - 1)),
        "{ics}"
    );
    assert!(
        ics.contains(&format!("DTSTART:{year}03{sunday:02}T160000Z")),
        "{ics}"
    );
    let one = app
        .api()
        .get(app.url(&format!("/events/{}/event.ics", ids[0])))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(one.matches("BEGIN:VEVENT").count(), 1);

    let atom = app
        .api()
        .get(app.url("/calendar.atom"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        atom.contains(&format!("Evening {sunday}")) && atom.contains("<feed"),
        "{atom}"
    );

    // The personal feed lists what its owner answered.
    let ann = app.member("ann", Role::Member).await;
    let at = app.token(&ann).await;
    post(
        &app,
        &at,
        &format!("{BASE}/{}/rsvp", ids[1]),
        json!({"status": "going"}),
    )
    .await;
    let (_, feed) = get(&app, &at, &format!("{BASE}/feed")).await;
    let url = feed["url"].as_str().unwrap().to_string();
    let mine = app
        .api()
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(mine.matches("BEGIN:VEVENT").count(), 1, "{mine}");
    assert!(mine.contains(&format!("Evening {sunday}")));
    let wrong = app
        .api()
        .get(app.url("/calendar/feed/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);

    if let Some(py) = python_with("icalendar", "icalendar") {
        let script = r#"
import sys, icalendar, datetime
cal = icalendar.Calendar.from_ical(sys.stdin.read())
for ev in cal.walk("VEVENT"):
    s = ev.decoded("DTSTART"); e = ev.decoded("DTEND")
    assert s.tzinfo is not None and s.utcoffset() == datetime.timedelta(0), s
    print(str(ev.get("SUMMARY")), s.isoformat(), e.isoformat(), str(ev.get("STATUS")), str(ev.get("UID")))
"#;
        let mut child = std::process::Command::new(py)
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(ics.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(&format!("Evening {} {year}-03-{:02}T17:00:00+00:00 {year}-03-{:02}T19:00:00+00:00 CONFIRMED", sunday - 1, sunday - 1, sunday - 1)), "{stdout}");
        assert!(stdout.contains(&format!("Evening {sunday} {year}-03-{sunday:02}T16:00:00+00:00 {year}-03-{sunday:02}T18:00:00+00:00 CONFIRMED")), "{stdout}");
        assert!(
            stdout.contains("/statuses/"),
            "UIDs are the events' ActivityPub ids: {stdout}"
        );
    }
    app.stop().await;
}
db_test!(calendars);

/// A day before an event, people going or maybe going are reminded, once.
async fn reminders(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let olga = app.member("olga", Role::Member).await;
    let ot = app.token(&olga).await;
    let ann = app.member("ann", Role::Member).await;
    let at = app.token(&ann).await;
    let ben = app.member("ben", Role::Member).await;
    let bt = app.token(&ben).await;
    let soon = (chrono::Utc::now() + chrono::Duration::hours(20)).to_rfc3339();
    let e = new_event(&app, &ot, json!({"start_time": soon})).await;
    let later = new_event(&app, &ot, json!({"title": "Later"})).await;
    for id in [&e["id"], &later["id"]] {
        post(
            &app,
            &at,
            &format!("{BASE}/{}/rsvp", id.as_str().unwrap()),
            json!({"status": "going"}),
        )
        .await;
    }
    post(
        &app,
        &bt,
        &format!("{BASE}/{}/rsvp", e["id"].as_str().unwrap()),
        json!({"status": "not_going"}),
    )
    .await;
    let now = chrono::Utc::now();
    let sent = staffroom::domain::calendar::reminders::send_due(app.state(), now)
        .await
        .unwrap();
    assert_eq!(sent, 1);
    assert_eq!(
        staffroom::domain::calendar::reminders::send_due(app.state(), now)
            .await
            .unwrap(),
        0
    );
    let (_, notes) = get(&app, &at, "/api/v1/notifications?types[]=event_reminder").await;
    let notes = notes.as_array().unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["status"]["id"], e["id"]);
    let (_, notes) = get(&app, &bt, "/api/v1/notifications?types[]=event_reminder").await;
    assert_eq!(notes.as_array().unwrap().len(), 0);
    app.stop().await;
}
db_test!(reminders);

/// Events of a group follow its audience rules: a group-members event is
/// seen by members only; its moderators manage it with the organiser.
async fn group_events(backend: Backend) {
    use staffroom::domain::{follows, groups};
    let app = TestApp::spawn(backend).await;
    let olga = app.member("olga", Role::Member).await;
    let ot = app.token(&olga).await;
    let mia = app.member("mia", Role::Member).await;
    let mt = app.token(&mia).await;
    let out = app.member("outsider", Role::Member).await;
    let xt = app.token(&out).await;
    let g = groups::create(
        app.state(),
        &mia,
        "physics",
        None,
        groups::GroupInput::default(),
    )
    .await
    .unwrap();
    let (_, outbox) = follows::follow(app.state(), &olga.actor, &g.actor)
        .await
        .unwrap();
    staffroom::federation::publish::publish(app.state(), outbox).await;
    let gid = g.id().to_string();
    // Members only, and it needs a group.
    let (s, _) = post(&app, &ot, BASE, json!({"title": "Lab night", "start_time": future(5), "timezone": "UTC", "visibility": "group"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let e = new_event(
        &app,
        &ot,
        json!({"title": "Lab night", "visibility": "group", "group_id": gid}),
    )
    .await;
    let id = e["id"].as_str().unwrap().to_string();
    assert_eq!(e["group_id"], json!(gid));
    assert_eq!(
        get(&app, &mt, &format!("{BASE}/{id}")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        get(&app, &xt, &format!("{BASE}/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, listed) = get(&app, &xt, &format!("{BASE}?group_id={gid}")).await;
    assert_eq!(listed, json!([]));
    let (_, listed) = get(&app, &mt, &format!("{BASE}?group_id={gid}")).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    // The group's owner (a moderator) manages it too; the group's calendar lists it for members.
    let (s, p) = get(&app, &mt, &format!("{BASE}/{id}/participants")).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let ics = app
        .api()
        .get(app.url("/groups/physics/calendar.ics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !ics.contains("Lab night"),
        "anonymous readers do not see it: {ics}"
    );
    // Someone outside the group cannot organise in it.
    let (s, _) = post(
        &app,
        &xt,
        BASE,
        json!({"title": "Intrusion", "start_time": future(5), "timezone": "UTC", "group_id": gid}),
    )
    .await;
    assert!(
        s == StatusCode::FORBIDDEN || s == StatusCode::UNPROCESSABLE_ENTITY,
        "{s}"
    );
    app.stop().await;
}
db_test!(group_events);

/// Organisers invite people (by handle, in the API and the web form) to an
/// invitation-mode event, and write to participants: a direct post that
/// reaches exactly the people with the chosen answers.
async fn invitations_and_messages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let olga = app.member("olga", Role::Member).await;
    let ot = app.token(&olga).await;
    let mut tokens = Vec::new();
    for name in ["ben", "cid", "dan"] {
        let m = app.member(name, Role::Member).await;
        tokens.push(app.token(&m).await);
    }
    let (bt, ct, dt) = (&tokens[0], &tokens[1], &tokens[2]);
    let e = new_event(&app, &ot, json!({"join_mode": "invitation"})).await;
    let id = e["id"].as_str().unwrap().to_string();
    let rsvp = |t: &str| {
        let (app, path, t) = (&app, format!("{BASE}/{id}/rsvp"), t.to_string());
        async move { post(app, &t, &path, json!({"status": "going"})).await }
    };
    assert_eq!(rsvp(bt).await.0, StatusCode::FORBIDDEN);

    // Inviting: by handle; unknown people are 404; only organisers invite.
    let (s, p) = post(
        &app,
        &ot,
        &format!("{BASE}/{id}/invite"),
        json!({"account": "ben"}),
    )
    .await;
    assert_eq!(
        (s, p["status"].as_str()),
        (StatusCode::OK, Some("invited")),
        "{p}"
    );
    assert_eq!(p["account"]["username"], "ben");
    let (s, _) = post(
        &app,
        &ot,
        &format!("{BASE}/{id}/invite"),
        json!({"account": "nobody"}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = post(
        &app,
        bt,
        &format!("{BASE}/{id}/invite"),
        json!({"account": "cid"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, notes) = get(&app, bt, "/api/v1/notifications").await;
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["type"] == "event_invite"),
        "{notes}"
    );
    let (s, going) = rsvp(bt).await;
    assert_eq!(
        (s, going["rsvp"].as_str()),
        (StatusCode::OK, Some("going")),
        "{going}"
    );

    // The web form invites too.
    let web = app.browser();
    web.login("olga", common::PASSWORD).await;
    let page = format!("/events/{id}/participants");
    web.get(&page).await.assert_contains("name=\"handle\"");
    let done = web
        .submit(&page, &format!("/events/{id}/invite"), &[("handle", "cid")])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let (_, list) = get(
        &app,
        &ot,
        &format!("{BASE}/{id}/participants?status=invited"),
    )
    .await;
    let invited: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["account"]["username"].as_str().unwrap())
        .collect();
    assert_eq!(invited, vec!["cid"], "{list}");
    for bad in ["status=", "status=asleep", "status=going&status=maybe"] {
        let (s, e) = get(&app, &ot, &format!("{BASE}/{id}/participants?{bad}")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {e}");
    }

    // Messages: organisers only, not empty, to somebody.
    let path = format!("{BASE}/{id}/message");
    assert_eq!(
        post(&app, bt, &path, json!({"text": "Hi"})).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, err) = post(&app, &ot, &path, json!({"text": "   "})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (s, err) = post(&app, &ot, &path, json!({"text": "Hi", "to": ["rejected"]})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (s, sent) = post(&app, &ot, &path, json!({"text": "We meet in room 12."})).await;
    assert_eq!(s, StatusCode::OK, "{sent}");
    let status_id = sent["status_id"].as_str().unwrap().to_string();

    // Going (ben) hears it; invited (cid) and outsiders (dan) do not.
    let mentioned = |t: String, status_id: String| {
        let app = &app;
        async move {
            let (_, notes) = get(app, &t, "/api/v1/notifications?types[]=mention").await;
            notes
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["status"]["id"] == status_id.as_str())
                .cloned()
        }
    };
    let heard = mentioned(bt.clone(), status_id.clone())
        .await
        .expect("ben hears it");
    assert_eq!(heard["status"]["visibility"], "direct");
    assert!(
        heard["status"]["content"]
            .as_str()
            .unwrap()
            .contains("room 12")
    );
    assert!(mentioned(ct.clone(), status_id.clone()).await.is_none());
    assert!(mentioned(dt.clone(), status_id.clone()).await.is_none());
    let (s, _) = get(&app, dt, &format!("/api/v1/statuses/{status_id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "outsiders cannot read it");

    // Choosing the audience: the invited hear this one.
    let (_, sent) = post(
        &app,
        &ot,
        &path,
        json!({"text": "Please answer.", "to": ["invited"]}),
    )
    .await;
    let second = sent["status_id"].as_str().unwrap().to_string();
    assert!(mentioned(ct.clone(), second.clone()).await.is_some());
    assert!(mentioned(bt.clone(), second).await.is_none());

    // And through the web form.
    let done = web
        .submit(
            &page,
            &format!("/events/{id}/message"),
            &[("text", "Bring pens.")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let (_, notes) = get(&app, bt, "/api/v1/notifications?types[]=mention").await;
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["status"]["content"]
                .as_str()
                .unwrap_or("")
                .contains("Bring pens.")),
        "{notes}"
    );
    app.stop().await;
}
db_test!(invitations_and_messages);

/// The portal's calendar keeps member instances' events only; the organiser's
/// domain is part of the query, so the limit counts kept events alone.
async fn events_by_organiser_domain(backend: Backend) {
    use staffroom::db::queries::calendar::{Range, list};
    let app = TestApp::spawn(backend).await;
    let alice = app.member("alice", Role::Member).await;
    let token = app.token(&alice).await;
    for n in 0..3 {
        new_event(
            &app,
            &token,
            json!({"title": format!("Fair {n}"), "start_time": future(10 + n)}),
        )
        .await;
    }
    let db = &app.state().db;
    let here = app.state().urls.domain().to_string();
    let range = |domains: Option<Vec<String>>, limit| Range {
        from: Some(chrono::Utc::now()),
        to: None,
        group_id: None,
        organizer_id: None,
        ids: None,
        organizer_domains: domains,
        online: None,
        local_only: false,
        limit,
    };
    let titles = |l: Vec<staffroom::db::entities::calendar_events::Model>| {
        l.into_iter().map(|e| e.title).collect::<Vec<_>>()
    };
    assert_eq!(
        titles(list(db, &range(None, 10)).await.unwrap()),
        ["Fair 0", "Fair 1", "Fair 2"]
    );
    assert_eq!(
        titles(
            list(
                db,
                &range(Some(vec!["elsewhere.example".into(), here.clone()]), 2)
            )
            .await
            .unwrap()
        ),
        ["Fair 0", "Fair 1"]
    );
    assert!(
        list(db, &range(Some(vec!["elsewhere.example".into()]), 10))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        list(db, &range(Some(Vec::new()), 10))
            .await
            .unwrap()
            .is_empty()
    );
    app.stop().await;
}
db_test!(events_by_organiser_domain);

/// An all-day, tentative event in French: dates in the organiser's zone, the
/// status and language in the API, and whole days in the ICS file.
async fn all_day_tentative_and_language(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let olga = app.member("olga", Role::Member).await;
    let ot = app.token(&olga).await;
    let e = new_event(
        &app,
        &ot,
        json!({
            "title": "Fête de la science",
            // The API takes date-times; for an all-day event their days count.
            "start_time": "2031-06-20T09:00:00+02:00",
            "end_time": "2031-06-21T09:00:00+02:00",
            "all_day": true,
            "status": "tentative",
            "language": "fr",
        }),
    )
    .await;
    assert_eq!(e["all_day"], true, "{e}");
    assert_eq!(e["status"], "tentative", "{e}");
    assert_eq!(e["language"], "fr", "{e}");
    // Midnight in Paris (UTC+2 in June) to the midnight after the last day.
    assert_eq!(e["starts_at"], "2031-06-19T22:00:00.000Z", "{e}");
    assert_eq!(e["ends_at"], "2031-06-21T22:00:00.000Z", "{e}");
    let ics = app
        .api()
        .get(e["ics_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ics.contains("DTSTART;VALUE=DATE:20310620"), "{ics}");
    assert!(ics.contains("DTEND;VALUE=DATE:20310622"), "{ics}");
    assert!(ics.contains("STATUS:TENTATIVE"), "{ics}");
    // Confirmed later, and a bad language is refused with a message.
    let id = e["id"].as_str().unwrap();
    let (s, e) = call(
        &app,
        &ot,
        reqwest::Method::PATCH,
        &format!("{BASE}/{id}"),
        Some(json!({ "status": "confirmed" })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    assert_eq!(e["status"], "confirmed");
    assert_eq!(e["all_day"], true, "fields left out keep their value");
    let (s, body) = post(
        &app,
        &ot,
        BASE,
        json!({ "title": "x", "start_time": future(3), "timezone": "Europe/Paris", "language": "klingon!" }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("language"),
        "{body}"
    );
    app.stop().await;
}
db_test!(all_day_tentative_and_language);
