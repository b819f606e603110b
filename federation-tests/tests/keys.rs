//! Signatures over time: a peer that rotates its key is believed again
//! after one refetch of its actor, while the old key stops working; a
//! signature whose `Date` lies too far in the past is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use federation_tests::{
    Instance, Visibility, marker,
    peer::{Peer, Tamper},
    settle, wait_for,
};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_keys_are_refetched_and_stale_dates_refused() {
    let (a, peer) = tokio::join!(Instance::start("a"), Peer::start());
    let alice = a.create_user("alice").await;
    let alice_a = a.api(&alice);
    let pat = peer.add_user("pat").await;
    // A learns pat's first key with the Follow.
    peer.send_follow(&pat, &alice.actor_id)
        .await
        .assert_accepted();
    let posts = [
        alice_a
            .post_status(&marker("first"), Visibility::Public)
            .await,
        alice_a
            .post_status(&marker("second"), Visibility::Public)
            .await,
        alice_a
            .post_status(&marker("third"), Visibility::Public)
            .await,
    ];
    let uri = |i: usize| posts[i]["uri"].as_str().unwrap().to_string();
    let id = |i: usize| posts[i]["id"].as_str().unwrap().to_string();
    let inbox = format!("{}/inbox", alice.actor_id);
    let like = |n: u32, object: String| {
        peer.activity(
            &pat,
            "Like",
            format!("{}#likes/k{n}", pat.actor_id),
            json!(object),
        )
    };

    // New key: the first request fails against the stored key, A fetches
    // pat again and accepts it.
    let stale = pat.clone();
    let pat = peer.rotate_key(&pat).await;
    let d = peer.send_raw(&pat, &inbox, &like(1, uri(0))).await;
    assert!(d.status.is_success(), "{} {}", d.status, d.response);
    wait_for("the rotated key's Like counts", async || {
        let n = alice_a.status(&id(0)).await["favourites_count"].clone();
        (n == 1).then_some(()).ok_or(n.to_string())
    })
    .await;

    // The old key no longer signs for pat, even after a refetch.
    let d = peer.send_raw(&stale, &inbox, &like(2, uri(1))).await;
    assert_eq!(d.status, StatusCode::UNAUTHORIZED, "{}", d.response);

    // Dates: minutes of clock skew are fine, hours are not.
    let d = peer
        .send_tampered(&pat, &inbox, &like(3, uri(2)), Tamper::ShiftDate(-2 * 3600))
        .await;
    assert_eq!(d.status, StatusCode::UNAUTHORIZED, "{}", d.response);
    let d = peer
        .send_tampered(&pat, &inbox, &like(4, uri(1)), Tamper::ShiftDate(-120))
        .await;
    assert!(d.status.is_success(), "{} {}", d.status, d.response);

    settle().await;
    let mut got = Vec::new();
    for i in 0..3 {
        got.push(alice_a.status(&id(i)).await["favourites_count"].clone());
    }
    assert_eq!(got, [json!(1), json!(1), json!(0)]);
}
