//! Relaying through a national portal: a portal and three association
//! instances (A, B, C) that joined it, a teacher on a Mastodon-like server
//! following the portal actor, and a Mastodon-style relay subscribed to
//! the Public collection (FEP-ae0c). A public resource and a public post on
//! A reach B and C through the portal and are found on the portal; an edit
//! and a delete on A propagate to B, C and both followers; followers-only
//! posts and members-only resources never reach the portal; a suspended
//! member neither gets nor gives relayed content.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use federation_tests::{
    Api, Instance, User, Visibility, marker,
    peer::{NoteSpec, Peer, PeerUser},
    settle, str_field, wait_for, with_content,
};
use reqwest::{
    StatusCode,
    multipart::{Form, Part},
};
use serde_json::{Value, json};

const BASE: &str = "/api/v1/staffroom/resources";
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

async fn multipart(
    instance: &Instance,
    user: &User,
    method: reqwest::Method,
    path: &str,
    form: Form,
) -> Value {
    let r = reqwest::Client::new()
        .request(method.clone(), instance.url(path))
        .bearer_auth(&user.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::OK, "{method} {path}: {body}");
    body
}

fn resource(title: &str, visibility: &str) -> Form {
    Form::new()
        .text("title", title.to_string())
        .text("description", "Graphing linear functions, step by step.")
        .text("licence", "CC-BY-4.0")
        .text("subjects", "mathematics")
        .text("languages", "fr")
        .text("visibility", visibility.to_string())
        .text("publish", "true")
        .part(
            "files",
            Part::bytes(PDF.to_vec())
                .file_name("functions.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        )
}

/// The instance joins the portal and the portal admits it.
async fn join(portal: &Instance, member: &Instance) {
    let handle = format!("@portal@{}", portal.domain());
    member.admin(&["portal", "join", "--portal", &handle]).await;
    wait_for(
        &format!("{}'s application reaches the portal", member.name()),
        async || {
            portal
                .try_admin(&["portal", "approve", "--domain", &member.domain()])
                .await
                .is_ok()
        },
    )
    .await;
    wait_for(
        &format!("{} learns it was admitted", member.name()),
        async || {
            let ni: Value = reqwest::Client::new()
                .get(member.url("/nodeinfo/2.1"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            ni["metadata"]["staffroom"]["portals"] == json!([portal.url("/portal")])
        },
    )
    .await;
}

/// Resources titled `title` in the library `api` reads.
async fn library(api: &Api, title: &str) -> Vec<Value> {
    api.list(BASE, &[("q", title)]).await
}

async fn has_resource(api: &Api, title: &str) -> bool {
    !library(api, title).await.is_empty()
}

/// Public posts containing `needle` in the federated timeline of `api`.
async fn has_post(api: &Api, needle: &str) -> bool {
    !with_content(&api.public().await, needle).is_empty()
}

fn uri_of(status: &Value) -> String {
    str_field(status, "uri").to_string()
}

/// The id of an embedded object or a bare id.
fn id_of(v: &Value) -> &str {
    v.as_str().or_else(|| v["id"].as_str()).unwrap_or_default()
}

/// The portal's Announces `peer` received whose inner activity is `kind`
/// about `object_id`.
fn announced(peer: &Peer, kind: &str, object_id: &str) -> bool {
    peer.received_of_type("Announce").iter().any(|r| {
        let inner = r.object();
        inner["type"] == kind && id_of(&inner["object"]) == object_id
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_relays_public_content_between_members_and_to_followers() {
    let p = Instance::builder("portal")
        .env("STAFFROOM__INSTANCE__ROLE", "portal")
        .start()
        .await;
    // A logs the deliveries it queues: what it sends is what is checked.
    let (a, b, c) = tokio::join!(
        Instance::builder("a")
            .env(
                "STAFFROOM__LOG__LEVEL",
                "info,staffroom::federation::publish=debug"
            )
            .start(),
        Instance::start("b"),
        Instance::start("c")
    );
    let (mastodon, relay) = tokio::join!(Peer::start(), Peer::start());
    for member in [&a, &b, &c] {
        join(&p, member).await;
    }
    let alice = a.create_user("alice").await;
    let bob = b.create_user("bob").await;
    let carol = c.create_user("carol").await;
    let pia = p.create_user("pia").await;
    let (alice_a, bob_b, carol_c, pia_p) = (a.api(&alice), b.api(&bob), c.api(&carol), p.api(&pia));
    let portal_actor = p.url("/portal");

    // A teacher on Mastodon follows the portal actor (LitePub style) and is
    // accepted at once; so is a relay following the Public collection.
    let reader: PeerUser = mastodon.add_user("reader").await;
    let follow = mastodon.send_follow(&reader, &portal_actor).await;
    follow.assert_accepted();
    mastodon
        .wait_for_activity("Accept", |r| r.object_id() == follow.id())
        .await;
    let relay_actor = relay.add_actor("relay", "Application", json!({})).await;
    let relay_follow = relay.activity(
        &relay_actor,
        "Follow",
        format!("{}/follows/1", relay.base_url()),
        json!(PUBLIC),
    );
    let sent = relay
        .send_raw(&relay_actor, &p.url("/inbox"), &relay_follow)
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED);
    relay
        .wait_for_activity("Accept", |r| {
            r.object_id() == relay_follow["id"].as_str().unwrap()
        })
        .await;
    // Pleroma's relay follows the portal actor itself, from an Application
    // actor: its server is no Staffroom (its NodeInfo says so), so it
    // subscribes at once rather than applying for membership.
    let litepub = relay.add_actor("litepub", "Application", json!({})).await;
    let litepub_follow = relay.send_follow(&litepub, &portal_actor).await;
    litepub_follow.assert_accepted();
    relay
        .wait_for_activity("Accept", |r| r.object_id() == litepub_follow.id())
        .await;
    // Subscribers are no members: the portal still lists the three instances.
    let members: Value = reqwest::Client::new()
        .get(p.url("/portal/members"))
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(members["totalItems"], 3, "{members}");

    // A public resource on A reaches B and C through the portal (nobody on
    // B or C follows anyone on A) and is in the portal's library search.
    let title = marker("Linear functions");
    let created = multipart(
        &a,
        &alice,
        reqwest::Method::POST,
        BASE,
        resource(&title, "public"),
    )
    .await;
    let id_a = str_field(&created, "id").to_string();
    let uri = str_field(&created, "uri").to_string();
    for (name, api) in [("portal", &pia_p), ("B", &bob_b), ("C", &carol_c)] {
        wait_for(&format!("{name}'s library has A's resource"), async || {
            has_resource(api, &title).await
        })
        .await;
    }
    let on_b = library(&bob_b, &title).await.remove(0);
    assert_eq!(on_b["origin"], a.domain());
    assert_eq!(on_b["uri"], uri.as_str());
    for peer in [&mastodon, &relay] {
        wait_for("the followers get the Announce of the Create", async || {
            announced(peer, "Create", &uri)
        })
        .await;
    }
    // Mastodon ignores Announce{Create}: it also gets a plain boost.
    mastodon
        .wait_for_activity("Announce", |r| {
            r.object_id() == uri && r.activity["actor"] == portal_actor.as_str()
        })
        .await;

    // A public post too: in the federated timelines of B and C.
    let words = marker("Portal post");
    let post = alice_a.post_status(&words, Visibility::Public).await;
    let post_uri = str_field(&post, "uri").to_string();
    for (name, api) in [("B", &bob_b), ("C", &carol_c), ("portal", &pia_p)] {
        wait_for(&format!("{name} shows A's public post"), async || {
            has_post(api, &words).await
        })
        .await;
    }

    // The national feed carries it; a public post that a Mastodon user sent
    // the portal (mentioning someone there) is stored, but is no member's
    // and stays out of the national feed.
    let national_atom = async || {
        reqwest::Client::new()
            .get(p.url("/national/feed.atom"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    wait_for("the national feed has A's post", async || {
        national_atom().await.contains(&words)
    })
    .await;
    let outside = marker("Not a member");
    mastodon
        .send_note(
            &reader,
            NoteSpec::public(outside.clone()).mention(pia.actor_id.clone()),
        )
        .await
        .assert_accepted();
    wait_for("pia is told of the Mastodon post", async || {
        pia_p.notifications().await.iter().any(|n| {
            n["status"]["content"]
                .as_str()
                .is_some_and(|c| c.contains(&outside))
        })
    })
    .await;
    let feed = national_atom().await;
    assert!(feed.contains(&words), "{feed}");
    assert!(
        !feed.contains(&outside),
        "a non-member's post is in the national feed: {feed}"
    );

    // A public event too: in C's calendar and the portal's national calendar.
    let year = chrono::Datelike::year(&chrono::Utc::now()) + 1;
    let event_title = marker("Maths olympiad");
    alice_a
        .post(
            "/api/v1/staffroom/events",
            &json!({
                "title": event_title,
                "description": "Regional round.",
                "start_time": format!("{year}-03-12T09:00:00+01:00"),
                "end_time": format!("{year}-03-12T12:00:00+01:00"),
                "timezone": "Europe/Paris",
                "location_name": "Lycée Victor Hugo",
            }),
        )
        .await;
    wait_for("C's calendar lists A's event", async || {
        carol_c
            .list("/api/v1/staffroom/events", &[])
            .await
            .iter()
            .any(|e| str_field(e, "title") == event_title)
    })
    .await;
    wait_for("the national calendar lists A's event", async || {
        reqwest::Client::new()
            .get(p.url("/national/calendar.ics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains(&event_title)
    })
    .await;

    // Edited on A: B, C and the followers see the new version.
    let new_title = marker("Linear functions, revised");
    multipart(
        &a,
        &alice,
        reqwest::Method::PATCH,
        &format!("{BASE}/{id_a}"),
        Form::new().text("title", new_title.clone()),
    )
    .await;
    for (name, api) in [("B", &bob_b), ("C", &carol_c), ("portal", &pia_p)] {
        wait_for(&format!("{name} has the new title"), async || {
            has_resource(api, &new_title).await
        })
        .await;
    }
    for peer in [&mastodon, &relay] {
        wait_for("the followers get the Announce of the Update", async || {
            announced(peer, "Update", &uri)
        })
        .await;
    }

    // Deleted on A: gone from B and C; the followers are told.
    let r = reqwest::Client::new()
        .delete(a.url(&format!("{BASE}/{id_a}")))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let post_id = str_field(&post, "id").to_string();
    let r = reqwest::Client::new()
        .delete(a.url(&format!("/api/v1/statuses/{post_id}")))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    for (name, api) in [("B", &bob_b), ("C", &carol_c)] {
        wait_for(&format!("{name} no longer has the resource"), async || {
            !has_resource(api, &new_title).await
        })
        .await;
        wait_for(&format!("{name} no longer shows the post"), async || {
            !has_post(api, &words).await
        })
        .await;
    }
    for peer in [&mastodon, &relay] {
        wait_for("the followers get the Announce of the Delete", async || {
            announced(peer, "Delete", &uri) && announced(peer, "Delete", &post_uri)
        })
        .await;
    }
    mastodon
        .wait_for_activity("Undo", |r| {
            r.object()["type"] == "Announce" && r.object()["object"] == uri.as_str()
        })
        .await;

    // Followers-only posts and members-only resources never reach the
    // portal: a public post sent after them arrives, they do not.
    let secret = marker("Followers only");
    let secret_post = alice_a.post_status(&secret, Visibility::Private).await;
    let staff_title = marker("Staff room only");
    multipart(
        &a,
        &alice,
        reqwest::Method::POST,
        BASE,
        resource(&staff_title, "instance"),
    )
    .await;
    let later = marker("Later public post");
    let later_post = alice_a.post_status(&later, Visibility::Public).await;
    wait_for("the portal has the later public post", async || {
        has_post(&pia_p, &later).await
    })
    .await;
    settle().await;
    // Nobody follows alice: the only place her posts go is the portal.
    let log = std::fs::read_to_string(a.log_path()).unwrap();
    let queued = |uri: &str| {
        log.lines()
            .any(|l| l.contains("deliveries queued") && l.contains(&format!("{uri}/activity")))
    };
    assert!(queued(&uri_of(&later_post)), "the public post went out");
    assert!(
        !queued(&uri_of(&secret_post)),
        "the followers-only post went out"
    );
    assert!(!has_resource(&pia_p, &staff_title).await);
    assert!(!has_resource(&bob_b, &staff_title).await);
    assert!(!has_post(&bob_b, &secret).await);
    let portal_search = pia_p
        .get_query("/api/v2/search", &[("q", &secret), ("type", "statuses")])
        .await;
    assert_eq!(portal_search["statuses"], json!([]), "{portal_search}");

    // C is suspended: A's content no longer reaches it, and C's no longer
    // reaches the others.
    p.admin(&["portal", "suspend", "--domain", &c.domain()])
        .await;
    wait_for("C learns it was suspended", async || {
        let ni: Value = reqwest::Client::new()
            .get(c.url("/nodeinfo/2.1"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ni["metadata"]["staffroom"]["portals"] == json!([])
    })
    .await;
    let from_c = marker("From the suspended member");
    carol_c.post_status(&from_c, Visibility::Public).await;
    let after = marker("After the suspension");
    alice_a.post_status(&after, Visibility::Public).await;
    wait_for("B still gets A's posts", async || {
        has_post(&bob_b, &after).await
    })
    .await;
    settle().await;
    assert!(!has_post(&carol_c, &after).await, "C got a relayed post");
    assert!(!has_post(&bob_b, &from_c).await, "C's post was relayed");
    assert!(
        !mastodon
            .received_of_type("Announce")
            .iter()
            .any(|r| r.activity.to_string().contains(&from_c)),
        "C's post was relayed to the follower"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_channel_relays_only_matching_posts() {
    let p = Instance::builder("portal")
        .env("STAFFROOM__INSTANCE__ROLE", "portal")
        .env("STAFFROOM__PORTAL__TOPICS", "[\"maths\"]")
        .start()
        .await;
    let (a, mastodon) = tokio::join!(Instance::start("a"), Peer::start());
    join(&p, &a).await;
    let alice = a.create_user("alice").await;
    let alice_a = a.api(&alice);
    let channel = p.url("/portal/topics/maths");

    // The channel is found by WebFinger as @maths@portal.
    let wf: Value = reqwest::Client::new()
        .get(p.url(&format!(
            "/.well-known/webfinger?resource=acct:maths@{}",
            p.domain()
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        wf["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["href"] == channel.as_str()),
        "{wf}"
    );
    // One teacher follows the maths channel, another the whole portal.
    let fan = mastodon.add_user("fan").await;
    let follow = mastodon.send_follow(&fan, &channel).await;
    follow.assert_accepted();
    mastodon
        .wait_for_activity("Accept", |r| r.object_id() == follow.id())
        .await;
    let reader = mastodon.add_user("reader").await;
    let follow = mastodon.send_follow(&reader, &p.url("/portal")).await;
    follow.assert_accepted();
    mastodon
        .wait_for_activity("Accept", |r| r.object_id() == follow.id())
        .await;

    let maths = alice_a
        .post_status(
            &format!("{} #maths", marker("Fractions")),
            Visibility::Public,
        )
        .await;
    let history = alice_a
        .post_status(&format!("{} #history", marker("Rome")), Visibility::Public)
        .await;
    let from = |actor: &str, uri: &str| {
        mastodon
            .received_of_type("Announce")
            .iter()
            .any(|r| r.activity["actor"] == actor && id_of(&r.object()["object"]) == uri)
    };
    wait_for("the maths channel relays the #maths post", async || {
        from(&channel, &uri_of(&maths))
    })
    .await;
    wait_for("the portal relays the #history post", async || {
        from(&p.url("/portal"), &uri_of(&history))
    })
    .await;
    settle().await;
    assert!(
        !from(&channel, &uri_of(&history)),
        "the maths channel relayed the #history post"
    );
}
