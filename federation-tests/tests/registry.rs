//! The member registry never leaves the instance: after a member's registry
//! entry (email, real name, school, membership number) is filled in and she
//! posts, answers, edits her profile and announces an event, nothing a
//! remote server received or can fetch (activities, actor, outbox, posts,
//! WebFinger, NodeInfo) contains any of it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use federation_tests::{Instance, Visibility, peer::Peer, wait_for};
use serde_json::json;

const SECRETS: [&str; 4] = [
    "alice@example.org",
    "Marguerite Registrova",
    "Lycée Quatorze-Juillet",
    "MBR-55501",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_fields_never_reach_another_server() {
    let (a, peer) = tokio::join!(Instance::start("a"), Peer::start());
    let boss = a.create_user_with_role("boss", "admin").await;
    let alice = a.create_user("alice").await;
    let alice_a = a.api(&alice);

    // The admin fills in alice's registry entry.
    let web = a.web_login(&boss).await;
    let list = web
        .get(a.url("/admin/accounts?status=active"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let before = list.split("\">alice</a>").next().unwrap();
    let id = before
        .rsplit("/admin/accounts/")
        .next()
        .unwrap()
        .to_string();
    assert!(id.chars().all(|c| c.is_ascii_digit()), "{list}");
    let page = format!("/admin/accounts/{id}");
    let token = a.web_csrf(&web, &page).await;
    let r = web
        .post(a.url(&format!("{page}/registry")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("real_name", SECRETS[1]),
            ("school", SECRETS[2]),
            ("membership_number", SECRETS[3]),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let detail = web
        .get(a.url(&page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for secret in SECRETS {
        assert!(detail.contains(secret), "the registry holds {secret}");
    }

    // A remote follower, then everything alice does that federates.
    let pat = peer.add_user("pat").await;
    let follow = peer.send_follow(&pat, &alice.actor_id).await;
    follow.assert_accepted();
    peer.wait_for_activity("Accept", |r| r.object_id() == follow.id())
        .await;
    let post = alice_a
        .post_status("Lesson plans for the new term", Visibility::Public)
        .await;
    alice_a
        .post_status_with(&json!({
            "status": format!("@{} a word for you only", pat.acct),
            "visibility": "direct",
        }))
        .await;
    alice_a
        .update_credentials(&json!({ "display_name": "Alice M.", "note": "Maths teacher" }))
        .await;
    alice_a
        .post(
            "/api/v1/staffroom/events",
            &json!({
                "title": "Open classroom",
                "start_time": "2031-03-04T10:00:00+01:00",
                "end_time": "2031-03-04T11:00:00+01:00",
                "timezone": "Europe/Paris",
                "location_name": "Room 5",
            }),
        )
        .await;
    wait_for(
        "the peer has the post, the message, the profile and the event",
        async || {
            let kinds: Vec<String> = peer
                .received()
                .iter()
                .map(|r| r.kind().to_string())
                .collect();
            let creates = kinds.iter().filter(|k| *k == "Create").count();
            let updates = kinds.iter().filter(|k| *k == "Update").count();
            (creates >= 3 && updates >= 1)
                .then_some(())
                .ok_or_else(|| format!("{kinds:?}"))
        },
    )
    .await;

    // Everything another server can see of alice.
    let mut seen: Vec<String> = peer.received().into_iter().map(|r| r.body).collect();
    for url in [
        alice.actor_id.clone(),
        format!("{}/outbox?page=true", alice.actor_id),
        post["uri"].as_str().unwrap().to_string(),
    ] {
        seen.push(peer.fetch(&url).await.unwrap().to_string());
    }
    let http = reqwest::Client::new();
    for path in [
        format!("/.well-known/webfinger?resource=acct:{}", alice.acct),
        "/nodeinfo/2.1".to_string(),
        "/@alice".to_string(),
        format!("/api/v1/accounts/lookup?acct={}", alice.username),
    ] {
        let r = http.get(a.url(&path)).send().await.unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        seen.push(r.text().await.unwrap());
    }
    // The scan covers what alice published, so a leak would be in it.
    for public in [
        "Lesson plans",
        "Alice M.",
        "Maths teacher",
        "Open classroom",
    ] {
        assert!(seen.iter().any(|d| d.contains(public)), "{public} not seen");
    }
    for doc in &seen {
        for secret in SECRETS {
            assert!(
                !doc.contains(secret),
                "{secret} left the instance in:\n{doc}"
            );
        }
    }
}
