//! Events across servers: an event on A reaches B's follower with the same
//! times; a member of B answers and appears on A's participant list (and B
//! learns A accepted); an update and a cancellation reach B. A Mastodon
//! look-alike peer receives a readable event post and the Going / Maybe /
//! Can't go poll, votes, and appears as a participant. Mobilizon's and
//! Gancio's Event objects, sent by the peer, land in A's calendar.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use federation_tests::{
    Api, Instance, User,
    peer::{PUBLIC, Peer},
    settle, str_field, wait_for,
};
use serde_json::{Value, json};

const EVENTS: &str = "/api/v1/staffroom/events";

async fn follow_and_wait(follower: &Api, target: &User) -> String {
    let id = follower.account_id_of(&target.acct).await;
    follower.follow(&id).await;
    wait_for(
        &format!("the follow of {} is accepted", target.acct),
        async || {
            let r = follower.relationship(&id).await;
            if r["following"] == true {
                Ok(())
            } else {
                Err(r.to_string())
            }
        },
    )
    .await;
    id
}
/// Wait until `api`'s participant list of event `id` shows `acct` with `status`.
async fn wait_participant(api: &Api, id: &str, acct: &str, status: &str, what: &str) -> Value {
    wait_for(what, async || {
        let list = api.list(&format!("{EVENTS}/{id}/participants"), &[]).await;
        list.iter()
            .find(|p| p["account"]["acct"] == acct && p["status"] == status)
            .cloned()
            .ok_or_else(|| format!("{list:?}"))
    })
    .await
}

/// The event titled `title` in `api`'s calendar, once it is there.
async fn event_titled(api: &Api, title: &str) -> Value {
    wait_for(&format!("the calendar lists {title}"), async || {
        let list = api.list(EVENTS, &[]).await;
        list.into_iter()
            .find(|e| str_field(e, "title") == title)
            .ok_or_else(|| "not yet".to_string())
    })
    .await
}

fn next_year() -> i32 {
    chrono::Datelike::year(&chrono::Utc::now()) + 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_between_staffroom_instances() {
    let (a, b) = tokio::join!(Instance::start("a"), Instance::start("b"));
    let alice = a.create_user("alice").await;
    let bob = b.create_user("bob").await;
    let (alice_a, bob_b) = (a.api(&alice), b.api(&bob));
    follow_and_wait(&bob_b, &alice).await;

    let year = next_year();
    let created = alice_a
        .post(
            EVENTS,
            &json!({
                "title": "Physics night",
                "description": "Telescopes *provided*.",
                "start_time": format!("{year}-06-12T20:30:00+02:00"),
                "end_time": format!("{year}-06-12T23:00:00+02:00"),
                "timezone": "Europe/Paris",
                "location_name": "Observatory",
                "location_address": "2 Hill Road, Lyon",
                "coordinates": { "latitude": 45.76, "longitude": 4.83 },
                "capacity": 20,
                "tags": ["physics"],
            }),
        )
        .await;
    let id_a = created["id"].as_str().unwrap().to_string();

    // B shows the event with the same instants and zone.
    let on_b = event_titled(&bob_b, "Physics night").await;
    assert_eq!(on_b["start_time"], format!("{year}-06-12T20:30:00+02:00"));
    assert_eq!(on_b["starts_at"], format!("{year}-06-12T18:30:00.000Z"));
    assert_eq!(on_b["ends_at"], format!("{year}-06-12T21:00:00.000Z"));
    assert_eq!(on_b["timezone"], "Europe/Paris");
    assert_eq!(on_b["location"]["name"], "Observatory");
    assert_eq!(on_b["location"]["latitude"], 45.76);
    assert_eq!(on_b["capacity"], 20);
    assert_eq!(on_b["local"], false);
    assert_eq!(on_b["uri"], created["uri"]);
    // The description alone: the date and place lines that open the post
    // for Mastodon's sake are not repeated under B's own date and place.
    assert_eq!(
        on_b["description"], created["description"],
        "A: {created}\nB: {on_b}"
    );
    let id_b = on_b["id"].as_str().unwrap().to_string();

    // Bob answers on B; A's list gets him and B learns he was accepted.
    bob_b
        .post(
            &format!("{EVENTS}/{id_b}/rsvp"),
            &json!({"status": "going"}),
        )
        .await;
    wait_participant(&alice_a, &id_a, &bob.acct, "going", "A lists bob as going").await;
    wait_for("B records A's Accept", async || {
        let e = bob_b.get(&format!("{EVENTS}/{id_b}")).await;
        if e["rsvp"] == "going" {
            Ok(())
        } else {
            Err(e.to_string())
        }
    })
    .await;
    let e = alice_a.get(&format!("{EVENTS}/{id_a}")).await;
    assert_eq!(e["participant_count"], 1);

    // An update, then a cancellation, reach B.
    let r = alice_a
        .request(
            reqwest::Method::PATCH,
            &format!("{EVENTS}/{id_a}"),
            &[],
            Some(&json!({"location_name": "Planetarium", "start_time": format!("{year}-06-12T21:00:00+02:00"), "end_time": format!("{year}-06-12T23:30:00+02:00")})),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    wait_for("B sees the new place and time", async || {
        let e = bob_b.get(&format!("{EVENTS}/{id_b}")).await;
        if e["location"]["name"] == "Planetarium"
            && e["starts_at"] == format!("{year}-06-12T19:00:00.000Z")
        {
            Ok(())
        } else {
            Err(e.to_string())
        }
    })
    .await;
    alice_a
        .post(&format!("{EVENTS}/{id_a}/cancel"), &json!({}))
        .await;
    wait_for("B sees the cancellation", async || {
        let e = bob_b.get(&format!("{EVENTS}/{id_b}")).await;
        if e["status"] == "cancelled" {
            Ok(())
        } else {
            Err(e.to_string())
        }
    })
    .await;
    wait_for("bob is told on B", async || {
        let n = bob_b.notifications().await;
        n.iter()
            .find(|n| n["type"] == "event_cancelled")
            .cloned()
            .ok_or_else(|| format!("{n:?}"))
    })
    .await;
    // Answering a cancelled event is refused on B as on A.
    let r = bob_b
        .request(
            reqwest::Method::POST,
            &format!("{EVENTS}/{id_b}/rsvp"),
            &[],
            Some(&json!({"status": "maybe"})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
}

/// On another Staffroom the event's Going / Maybe / Can't go poll is no post
/// of its own: B links it to the event, its web lists show the event alone,
/// and a vote on the poll from a Mastodon app on B is the member's answer,
/// sent the way B answers events (A lists the member; B shows the answer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poll_on_another_staffroom_is_the_event_answer() {
    let (a, b) = tokio::join!(Instance::start("a"), Instance::start("b"));
    let (alice, bob) = tokio::join!(a.create_user("alice"), b.create_user("bob"));
    let (alice_a, bob_b) = (a.api(&alice), b.api(&bob));
    follow_and_wait(&bob_b, &alice).await;
    let year = next_year();
    let created = alice_a
        .post(
            EVENTS,
            &json!({
                "title": "Poetry evening",
                "description": "Bring a poem.",
                "start_time": format!("{year}-03-20T19:00:00+01:00"),
                "end_time": format!("{year}-03-20T21:00:00+01:00"),
                "timezone": "Europe/Paris",
                "location_name": "Library",
            }),
        )
        .await;
    let id_a = created["id"].as_str().unwrap().to_string();
    let on_b = event_titled(&bob_b, "Poetry evening").await;
    let id_b = on_b["id"].as_str().unwrap().to_string();

    // The poll is in B's home timeline for Mastodon apps.
    let poll = wait_for("B's home timeline has the event's poll", async || {
        let home = bob_b.home().await;
        home.iter()
            .find(|s| s["poll"].is_object() && str_field(s, "content").contains("Poetry evening"))
            .map(|s| s["poll"].clone())
            .ok_or_else(|| format!("{home:?}"))
    })
    .await;
    assert_eq!(
        poll["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| str_field(o, "title"))
            .collect::<Vec<_>>(),
        ["Going", "Maybe", "Can't go"]
    );
    // Voting "Maybe" there answers the event.
    bob_b
        .post(
            &format!("/api/v1/polls/{}/votes", str_field(&poll, "id")),
            &json!({"choices": ["1"]}),
        )
        .await;
    let e = bob_b.get(&format!("{EVENTS}/{id_b}")).await;
    assert_eq!(e["rsvp"], "maybe", "{e}");
    wait_participant(&alice_a, &id_a, &bob.acct, "maybe", "A lists bob as maybe").await;
    // A changed mind is a second vote; it replaces the first in the tally.
    let changed = bob_b
        .post(
            &format!("/api/v1/polls/{}/votes", str_field(&poll, "id")),
            &json!({"choices": ["0"]}),
        )
        .await;
    let votes: Vec<u64> = changed["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["votes_count"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(votes, [1, 0, 0], "{changed}");
    // "Going" is a Join, pending until the organiser's server accepts it.
    let e = bob_b.get(&format!("{EVENTS}/{id_b}")).await;
    assert!(e["rsvp"] == "pending" || e["rsvp"] == "going", "{e}");
    wait_participant(&alice_a, &id_a, &bob.acct, "going", "A lists bob as going").await;
    wait_for("B shows bob as going", async || {
        let e = bob_b.get(&format!("{EVENTS}/{id_b}")).await;
        (e["rsvp"] == "going")
            .then_some(())
            .ok_or_else(|| e.to_string())
    })
    .await;

    // B's web home shows the event's post, not the poll beside it.
    let web = b.web_login(&bob).await;
    let html = web
        .get(b.url("/home"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Poetry evening"), "{html}");
    assert!(!html.contains("Vote to answer"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mastodon_peer_gets_a_readable_event_and_answers_by_poll() {
    let (a, peer) = tokio::join!(Instance::start("a"), Peer::start());
    let alice = a.create_user("alice").await;
    let alice_a = a.api(&alice);
    let pat = peer.add_user("pat").await;
    let follow = peer.send_follow(&pat, &alice.actor_id).await;
    follow.assert_accepted();
    peer.wait_for_activity("Accept", |r| r.object_id() == follow.id())
        .await;

    let year = next_year();
    let created = alice_a
        .post(
            EVENTS,
            &json!({
                "title": "Chemistry open day",
                "start_time": format!("{year}-01-15T09:00:00+01:00"),
                "end_time": format!("{year}-01-15T12:00:00+01:00"),
                "timezone": "Europe/Paris",
                "location_name": "Lab 3",
                "join_mode": "free",
            }),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();

    // The Event, readable by software that shows only name, content, summary and url.
    let create = peer
        .wait_for_activity("Create", |r| r.object()["type"] == "Event")
        .await;
    let ev = create.object();
    assert_eq!(ev["name"], "Chemistry open day");
    assert_eq!(ev["startTime"], format!("{year}-01-15T09:00:00+01:00"));
    assert_eq!(ev["endTime"], format!("{year}-01-15T11:00:00Z"));
    assert_eq!(ev["timezone"], "Europe/Paris");
    assert_eq!(ev["location"]["type"], "Place");
    assert_eq!(ev["joinMode"], "free");
    let content = str_field(ev, "content");
    assert!(
        content.contains(&format!("Thursday 15 January {year}"))
            || content.contains(&format!("15 January {year}")),
        "{content}"
    );
    assert!(
        content.contains("09:00") && content.contains("Europe/Paris") && content.contains("Lab 3"),
        "{content}"
    );
    assert!(str_field(ev, "summary").contains("09:00"), "{ev}");
    assert!(ev["to"].as_array().unwrap().iter().any(|t| t == PUBLIC));

    // The poll, for Mastodon users to answer.
    let question = peer
        .wait_for_activity("Create", |r| r.object()["type"] == "Question")
        .await;
    let q = question.object();
    let options: Vec<&str> = q["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(options, ["Going", "Maybe", "Can't go"]);
    assert!(str_field(q, "content").contains(&format!("/events/{id}")));
    let question_id = q["id"].as_str().unwrap().to_string();

    // Pat votes Going, the way Mastodon sends votes.
    let vote_id = format!("{}#votes/1", pat.actor_id);
    let vote = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{vote_id}/activity"),
        "type": "Create",
        "actor": pat.actor_id,
        "to": [alice.actor_id],
        "object": {
            "id": vote_id,
            "type": "Note",
            "name": "Going",
            "attributedTo": pat.actor_id,
            "to": [alice.actor_id],
            "inReplyTo": question_id,
        },
    });
    peer.send_raw(&pat, &format!("{}/inbox", alice.actor_id), &vote)
        .await
        .assert_accepted();
    wait_participant(&alice_a, &id, &pat.acct, "going", "A lists pat as going").await;
    let e = alice_a.get(&format!("{EVENTS}/{id}")).await;
    assert_eq!(e["participant_count"], 1);
    let tally = |q: &serde_json::Value| -> Vec<u64> {
        q["oneOf"]
            .as_array()
            .map(|o| {
                o.iter()
                    .map(|o| o["replies"]["totalItems"].as_u64().unwrap_or(0))
                    .collect()
            })
            .unwrap_or_default()
    };
    peer.wait_for_activity("Update", |r| {
        r.object()["id"] == question_id.as_str() && tally(r.object()) == [1, 0, 0]
    })
    .await;

    // Pat changes the answer with a second vote: on an event's poll it
    // replaces the first, in the answer and in the tally Mastodon shows.
    let vote_id = format!("{}#votes/2", pat.actor_id);
    let mut second = vote.clone();
    second["id"] = json!(format!("{vote_id}/activity"));
    second["object"]["id"] = json!(vote_id);
    second["object"]["name"] = json!("Maybe");
    peer.send_raw(&pat, &format!("{}/inbox", alice.actor_id), &second)
        .await
        .assert_accepted();
    wait_participant(&alice_a, &id, &pat.acct, "maybe", "A lists pat as maybe").await;
    peer.wait_for_activity("Update", |r| {
        r.object()["id"] == question_id.as_str() && tally(r.object()) == [0, 1, 0]
    })
    .await;
}

/// A Mobilizon-style participant: Join and Leave from another server, an
/// Accept for the Join, the participants-only online link sent to them
/// privately (never in the Event itself), and the cancellation delivered
/// to a participant who does not follow the organiser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_join_gets_accept_and_the_private_link_then_leaves() {
    let (a, peer) = tokio::join!(Instance::start("a"), Peer::start());
    let alice = a.create_user("alice").await;
    let alice_a = a.api(&alice);
    let devon = peer.add_user("devon").await;
    let follow = peer.send_follow(&devon, &alice.actor_id).await;
    follow.assert_accepted();
    peer.wait_for_activity("Accept", |r| r.object_id() == follow.id())
        .await;
    let link = "https://meet.example/room/secret-7361";
    let year = next_year();
    let created = alice_a
        .post(
            EVENTS,
            &json!({
                "title": "Webinar on formative assessment",
                "start_time": format!("{year}-02-10T17:00:00+01:00"),
                "end_time": format!("{year}-02-10T18:00:00+01:00"),
                "timezone": "Europe/Paris",
                "online_url": link,
                "online_participants_only": true,
                "join_mode": "free",
            }),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let event_uri = created["uri"].as_str().unwrap().to_string();
    let create = peer
        .wait_for_activity("Create", |r| r.object_id() == event_uri)
        .await;
    assert_eq!(create.object()["isOnline"], true);
    assert!(
        !create.activity.to_string().contains(link),
        "the link is for participants only: {}",
        create.activity
    );

    let join = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/join/1", devon.actor_id),
        "type": "Join",
        "actor": devon.actor_id,
        "object": event_uri,
        "participationMessage": "Looking forward to it",
    });
    peer.send_raw(&devon, &format!("{}/inbox", alice.actor_id), &join)
        .await
        .assert_accepted();
    let accept = peer
        .wait_for_activity("Accept", |r| {
            r.object()["type"] == "Join" && r.object()["object"] == event_uri.as_str()
        })
        .await;
    assert_eq!(accept.actor, alice.actor_id);
    let private = peer
        .wait_for_activity("Create", |r| {
            r.object()["type"] == "Note" && r.object().to_string().contains(link)
        })
        .await;
    assert_eq!(private.object()["to"], json!([devon.actor_id]));
    assert_eq!(private.object()["cc"], json!([]));
    assert_eq!(private.key_id, format!("{}#main-key", alice.actor_id));
    wait_participant(
        &alice_a,
        &id,
        &devon.acct,
        "going",
        "A lists devon as going",
    )
    .await;

    // Nell, on a server where nobody follows alice, answers too; the
    // cancellation reaches her there.
    let other = Peer::start().await;
    let nell = other.add_user("nell").await;
    let join = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/join/1", nell.actor_id),
        "type": "Join",
        "actor": nell.actor_id,
        "object": event_uri,
    });
    other
        .send_raw(&nell, &format!("{}/inbox", alice.actor_id), &join)
        .await
        .assert_accepted();
    other
        .wait_for_activity("Accept", |r| r.object()["object"] == event_uri.as_str())
        .await;

    let leave = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/leave/1", devon.actor_id),
        "type": "Leave",
        "actor": devon.actor_id,
        "object": event_uri,
    });
    peer.send_raw(&devon, &format!("{}/inbox", alice.actor_id), &leave)
        .await
        .assert_accepted();
    wait_for("devon's Leave takes his seat back", async || {
        let e = alice_a.get(&format!("{EVENTS}/{id}")).await;
        (e["participant_count"] == 1)
            .then_some(())
            .ok_or_else(|| e.to_string())
    })
    .await;
    alice_a
        .post(&format!("{EVENTS}/{id}/cancel"), &json!({}))
        .await;
    let update = other
        .wait_for_activity("Update", |r| r.object_id() == event_uri)
        .await;
    assert_eq!(update.actor, alice.actor_id);
}

/// Rewrite a captured document's ids onto the peer, so that the peer's
/// actor is its author and A accepts it as the peer's own.
fn rehome(doc: &str, from: &str, to: &str) -> Value {
    serde_json::from_str(&doc.replace(from, to)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mobilizon_and_gancio_events_land_in_the_calendar() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/activitypub");
    if !dir.is_dir() {
        eprintln!("skipped: no fixtures folder next to the checkout");
        return;
    }
    let (a, peer) = tokio::join!(Instance::start("a"), Peer::start());
    let alice = a.create_user("alice").await;
    let alice_a = a.api(&alice);
    let mob = peer.add_user("devon").await;
    let gancio = peer.add_user("gancio").await;
    for who in [&mob, &gancio] {
        // Alice follows them, so their posts concern A.
        let id = alice_a.account_id_of(&who.acct).await;
        alice_a.follow(&id).await;
    }

    // Mobilizon: an event attributed to a group; here to the peer's user.
    let raw = std::fs::read_to_string(dir.join("mobilizon/objects/event.json")).unwrap();
    let mut ev = rehome(&raw, "https://rendezvous.nomagic.uk", peer.base_url());
    ev["attributedTo"] = json!(mob.actor_id);
    ev["actor"] = json!(mob.actor_id);
    ev["id"] = json!(format!("{}/events/b81c0531", peer.base_url()));
    ev["startTime"] = json!(format!("{}-12-11T19:00:00+00:00", next_year()));
    ev["endTime"] = json!(format!("{}-12-11T21:00:00+00:00", next_year()));
    let create = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/events/b81c0531/activity", peer.base_url()),
        "type": "Create",
        "actor": mob.actor_id,
        "to": [PUBLIC],
        "object": ev,
    });
    peer.send_raw(&mob, &a.url("/inbox"), &create)
        .await
        .assert_accepted();
    let e = event_titled(&alice_a, "Caledonian scottish dance class").await;
    assert_eq!(e["timezone"], "Europe/London");
    assert_eq!(
        e["starts_at"],
        format!("{}-12-11T19:00:00.000Z", next_year())
    );
    assert_eq!(e["location"]["name"], "The Kenn Centre");
    assert!(
        str_field(&e["location"], "address").contains("EX6 7TW"),
        "{e}"
    );
    assert_eq!(e["location"]["latitude"], 50.66881615);
    assert_eq!(e["join_mode"], "free");
    assert_eq!(e["capacity"], Value::Null);
    let tags: Vec<&str> = e["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(tags.contains(&"dance"), "{tags:?}");

    // Gancio: times with an offset, a place by name only.
    let raw = std::fs::read_to_string(dir.join("from-mobilizon-tests/gancio-event-activity.json"))
        .unwrap();
    let mut act = rehome(
        &raw,
        "https://demo.gancio.org/federation/u/gancio",
        &gancio.actor_id,
    );
    let next = next_year();
    act["object"]["startTime"] = json!(format!("{next}-07-14T17:30:57+02:00"));
    act["object"]["endTime"] = json!(format!("{next}-07-14T18:30:57+02:00"));
    act["object"]["id"] = json!(format!("{}/federation/m/1", peer.base_url()));
    act["object"]["url"] = json!(format!("{}/event/demo-event", peer.base_url()));
    act["id"] = json!(format!("{}/federation/m/1#create", peer.base_url()));
    peer.send_raw(&gancio, &a.url("/inbox"), &act)
        .await
        .assert_accepted();
    let e = event_titled(&alice_a, "Demo event").await;
    assert_eq!(e["starts_at"], format!("{next}-07-14T15:30:57.000Z"));
    assert_eq!(e["location"]["name"], "Colosseo");
    assert_eq!(e["timezone"], "UTC");
}

/// Every way a remote Join is refused answers with a Reject of that Join: a
/// full event without a waiting list, the organiser declining a request on
/// an approval-mode event, and a Join to a cancelled event. The Event on
/// the wire carries its capacity, what is left and the participant count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_remote_joins_get_a_reject() {
    let (a, peer) = tokio::join!(Instance::start("a"), Peer::start());
    let alice = a.create_user("alice").await;
    let alice_a = a.api(&alice);
    let (devon, nell, pat) = (
        peer.add_user("devon").await,
        peer.add_user("nell").await,
        peer.add_user("pat").await,
    );
    let follow = peer.send_follow(&devon, &alice.actor_id).await;
    follow.assert_accepted();
    peer.wait_for_activity("Accept", |r| r.object_id() == follow.id())
        .await;
    let year = next_year();
    let inbox = format!("{}/inbox", alice.actor_id);
    let join = |who: &str, n: u32, event: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{who}/join/{n}"),
            "type": "Join",
            "actor": who,
            "object": event,
        })
    };
    let answer_to = |kind: &'static str, join_id: String| {
        let peer = &peer;
        async move {
            peer.wait_for_activity(kind, |r| r.object_id() == join_id)
                .await
        }
    };

    // One seat, no waiting list: the first Join is accepted, the second refused.
    let small = alice_a
        .post(
            EVENTS,
            &json!({
                "title": "Small workshop",
                "start_time": format!("{year}-04-02T14:00:00+02:00"),
                "end_time": format!("{year}-04-02T16:00:00+02:00"),
                "timezone": "Europe/Paris",
                "location_name": "Room 12",
                "capacity": 1,
                "waiting_list": false,
                "join_mode": "free",
            }),
        )
        .await;
    let small_uri = small["uri"].as_str().unwrap().to_string();
    let create = peer
        .wait_for_activity("Create", |r| r.object_id() == small_uri)
        .await;
    assert_eq!(create.object()["maximumAttendeeCapacity"], 1);
    assert_eq!(create.object()["remainingAttendeeCapacity"], 1);
    assert_eq!(create.object()["participantCount"], 0);
    let j = join(&devon.actor_id, 1, &small_uri);
    peer.send_raw(&devon, &inbox, &j).await.assert_accepted();
    let accept = answer_to("Accept", j["id"].as_str().unwrap().into()).await;
    assert_eq!(accept.actor, alice.actor_id);
    let j = join(&nell.actor_id, 1, &small_uri);
    peer.send_raw(&nell, &inbox, &j).await.assert_accepted();
    let reject = answer_to("Reject", j["id"].as_str().unwrap().into()).await;
    assert_eq!(reject.actor, alice.actor_id);
    assert_eq!(reject.object()["actor"], nell.actor_id.as_str());
    let small_id = small["id"].as_str().unwrap();
    let e = alice_a.get(&format!("{EVENTS}/{small_id}")).await;
    assert_eq!(e["participant_count"], 1, "{e}");
    assert_eq!(e["remaining_capacity"], 0, "{e}");

    // Approval mode: a request waits; the organiser declines it.
    let seminar = alice_a
        .post(
            EVENTS,
            &json!({
                "title": "Seminar for mentors",
                "start_time": format!("{year}-05-06T10:00:00+02:00"),
                "end_time": format!("{year}-05-06T12:00:00+02:00"),
                "timezone": "Europe/Paris",
                "location_name": "Room 3",
                "join_mode": "approval",
            }),
        )
        .await;
    let seminar_uri = seminar["uri"].as_str().unwrap().to_string();
    let seminar_id = seminar["id"].as_str().unwrap().to_string();
    let create = peer
        .wait_for_activity("Create", |r| r.object_id() == seminar_uri)
        .await;
    assert_eq!(create.object()["joinMode"], "restricted");
    let j = join(&pat.actor_id, 1, &seminar_uri);
    peer.send_raw(&pat, &inbox, &j).await.assert_accepted();
    let request = wait_participant(
        &alice_a,
        &seminar_id,
        &pat.acct,
        "pending",
        "A lists pat's request",
    )
    .await;
    assert!(
        !peer
            .received()
            .iter()
            .any(|r| r.object_id() == j["id"].as_str().unwrap()),
        "no answer before the organiser decides"
    );
    let account = request["account"]["id"].as_str().unwrap();
    alice_a
        .post(
            &format!("{EVENTS}/{seminar_id}/participants/{account}/reject"),
            &json!({}),
        )
        .await;
    let reject = answer_to("Reject", j["id"].as_str().unwrap().into()).await;
    assert_eq!(reject.actor, alice.actor_id);

    // A cancelled event takes no one.
    alice_a
        .post(&format!("{EVENTS}/{seminar_id}/cancel"), &json!({}))
        .await;
    let j = join(&nell.actor_id, 2, &seminar_uri);
    peer.send_raw(&nell, &inbox, &j).await.assert_accepted();
    answer_to("Reject", j["id"].as_str().unwrap().into()).await;
}

/// A remote person on the waiting list hears nothing until a seat frees;
/// when the one going leaves, they move up and get the Accept of their Join.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_waiting_list_moves_up_when_a_seat_frees() {
    let (a, peer) = tokio::join!(Instance::start("a"), Peer::start());
    let alice = a.create_user("alice").await;
    let alice_a = a.api(&alice);
    let (devon, nell) = (peer.add_user("devon").await, peer.add_user("nell").await);
    let year = next_year();
    let created = alice_a
        .post(
            EVENTS,
            &json!({
                "title": "Robotics club, one kit",
                "start_time": format!("{year}-06-03T15:00:00+02:00"),
                "timezone": "Europe/Paris",
                "location_name": "Workshop",
                "capacity": 1,
                "waiting_list": true,
                "join_mode": "free",
            }),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let uri = created["uri"].as_str().unwrap().to_string();
    let inbox = format!("{}/inbox", alice.actor_id);
    let join = |who: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{who}/join/1"),
            "type": "Join",
            "actor": who,
            "object": uri,
        })
    };
    let first = join(&devon.actor_id);
    peer.send_raw(&devon, &inbox, &first)
        .await
        .assert_accepted();
    let first_id = first["id"].as_str().unwrap().to_string();
    peer.wait_for_activity("Accept", |r| r.object_id() == first_id)
        .await;
    let second = join(&nell.actor_id);
    peer.send_raw(&nell, &inbox, &second)
        .await
        .assert_accepted();
    let second_id = second["id"].as_str().unwrap().to_string();
    wait_participant(
        &alice_a,
        &id,
        &nell.acct,
        "waiting",
        "nell waits for a seat",
    )
    .await;
    settle().await;
    assert!(
        !peer.received().iter().any(|r| r.object_id() == second_id),
        "no answer while nell waits"
    );
    let leave = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/leave/1", devon.actor_id),
        "type": "Leave",
        "actor": devon.actor_id,
        "object": uri,
    });
    peer.send_raw(&devon, &inbox, &leave)
        .await
        .assert_accepted();
    let accept = peer
        .wait_for_activity("Accept", |r| r.object_id() == second_id)
        .await;
    assert_eq!(accept.actor, alice.actor_id);
    let e = alice_a.get(&format!("{EVENTS}/{id}")).await;
    assert_eq!(e["participant_count"], 1, "{e}");
}
