//! The persistent delivery queue's retry rules against a peer that refuses
//! on purpose: a 429 waits for its Retry-After, a 410 is final, and a host
//! that keeps failing is left alone until it sends an activity, which brings
//! its deliveries back at once; followers on one server get one delivery
//! at its shared inbox. The queue's resumption across restarts is in
//! `federation.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use federation_tests::{
    Instance, User, Visibility, marker,
    peer::{NoteSpec, Peer, PeerUser},
    str_field, wait_until,
};
use reqwest::StatusCode;
use std::time::Duration;

async fn peer_follow(peer: &Peer, who: &PeerUser, target: &User) {
    let follow = peer.send_follow(who, &target.actor_id).await;
    follow.assert_accepted();
    peer.wait_for_activity("Accept", |r| r.object_id() == follow.id())
        .await;
}

fn refusals(peer: &Peer, status: StatusCode) -> Vec<std::time::Instant> {
    peer.rejected()
        .into_iter()
        .filter(|r| r.status == status)
        .map(|r| r.at)
        .collect()
}

fn arrived(peer: &Peer, needle: &str) -> Option<std::time::Instant> {
    peer.received_of_type("Create")
        .into_iter()
        .find(|r| str_field(r.object(), "content").contains(needle))
        .map(|r| r.at)
}

/// A 429 with Retry-After is retried no sooner than the peer asked (the
/// backoff alone would retry after about a second); a 410 is not retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_honoured_and_gone_is_final() {
    let (a, peer) = tokio::join!(Instance::start("a"), Peer::start());
    let alice = a.create_user("alice").await;
    let pat = peer.add_user("pat").await;
    peer_follow(&peer, &pat, &alice).await;
    let api = a.api(&alice);

    peer.refuse_inbox_retry_after(StatusCode::TOO_MANY_REQUESTS, 5);
    let limited = marker("rate-limited-");
    api.post_status(&limited, Visibility::Public).await;
    wait_until(
        Duration::from_secs(20),
        "the first attempt meets the 429",
        async || !refusals(&peer, StatusCode::TOO_MANY_REQUESTS).is_empty(),
    )
    .await;
    peer.refuse_inbox(None);
    let refused_at = refusals(&peer, StatusCode::TOO_MANY_REQUESTS)[0];
    peer.wait_for_activity("Create", |r| {
        str_field(r.object(), "content").contains(limited.as_str())
    })
    .await;
    let waited = arrived(&peer, &limited).unwrap() - refused_at;
    assert!(
        waited >= Duration::from_millis(4500),
        "retried after {waited:?}, before Retry-After"
    );
    assert_eq!(refusals(&peer, StatusCode::TOO_MANY_REQUESTS).len(), 1);

    peer.refuse_inbox(Some(StatusCode::GONE));
    let gone = marker("gone-");
    api.post_status(&gone, Visibility::Public).await;
    wait_until(
        Duration::from_secs(20),
        "the attempt meets the 410",
        async || !refusals(&peer, StatusCode::GONE).is_empty(),
    )
    .await;
    peer.refuse_inbox(None);
    // A retry would come within about a second; give it four.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(arrived(&peer, &gone).is_none(), "{}", peer.report());
    assert_eq!(refusals(&peer, StatusCode::GONE).len(), 1);
    // The host itself is fine: the next post goes out at once.
    let after = marker("after-gone-");
    api.post_status(&after, Visibility::Public).await;
    peer.wait_for_activity("Create", |r| {
        str_field(r.object(), "content").contains(after.as_str())
    })
    .await;
}

/// After `delivery_dead_after` failures in a row the host is dead: its
/// deliveries wait a day, not the backoff. An activity from it revives it
/// and what waited goes out at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_host_is_revived_by_its_own_activity() {
    let (a, peer) = tokio::join!(
        Instance::builder("a")
            .env("STAFFROOM__FEDERATION__DELIVERY_DEAD_AFTER", "2")
            .start(),
        Peer::start()
    );
    let alice = a.create_user("alice").await;
    let pat = peer.add_user("pat").await;
    peer_follow(&peer, &pat, &alice).await;

    peer.refuse_inbox(Some(StatusCode::SERVICE_UNAVAILABLE));
    let waiting = marker("while-dead-");
    a.api(&alice)
        .post_status(&waiting, Visibility::Public)
        .await;
    wait_until(Duration::from_secs(30), "two attempts fail", async || {
        refusals(&peer, StatusCode::SERVICE_UNAVAILABLE).len() >= 2
    })
    .await;
    peer.refuse_inbox(None);
    // A live host would get the third attempt within about 2.5 s.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(arrived(&peer, &waiting).is_none(), "{}", peer.report());
    assert_eq!(refusals(&peer, StatusCode::SERVICE_UNAVAILABLE).len(), 2);

    peer.send_note(
        &pat,
        NoteSpec::public("Back online").mention(alice.actor_id.clone()),
    )
    .await
    .assert_accepted();
    peer.wait_for_activity("Create", |r| {
        str_field(r.object(), "content").contains(waiting.as_str())
    })
    .await;
}

/// Followers on one server share its inbox: one post is one delivery to
/// the shared inbox, however many of them follow; an actor that offers no
/// shared inbox gets its own copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_on_one_server_share_one_delivery() {
    let (a, peer) = tokio::join!(Instance::start("a"), Peer::start());
    let alice = a.create_user("alice").await;
    let mut followers = Vec::new();
    for name in ["pat", "quinn", "rosa"] {
        followers.push(peer.add_user(name).await);
    }
    followers.push(
        peer.add_actor("solo", "Person", serde_json::json!({ "endpoints": {} }))
            .await,
    );
    for f in &followers {
        peer_follow(&peer, f, &alice).await;
    }
    let m = marker("shared-");
    a.api(&alice).post_status(&m, Visibility::Public).await;
    wait_until(
        Duration::from_secs(20),
        "the post reaches the peer",
        async || {
            peer.received_of_type("Create")
                .iter()
                .filter(|r| str_field(r.object(), "content").contains(&m))
                .count()
                >= 2
        },
    )
    .await;
    federation_tests::settle().await;
    let mut inboxes: Vec<String> = peer
        .received_of_type("Create")
        .into_iter()
        .filter(|r| str_field(r.object(), "content").contains(&m))
        .map(|r| r.inbox)
        .collect();
    inboxes.sort();
    assert_eq!(
        inboxes,
        ["/inbox", "/users/solo/inbox"],
        "{}",
        peer.report()
    );
}
