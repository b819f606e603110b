//! Reports across servers. A member of B reports a post by a member of A
//! and asks for it to be forwarded: A's moderators get it as a `Flag` from
//! B's instance actor (the reporter's name stays on B), naming A's post.
//! A report kept on B at first is forwarded later by B's moderator, as the
//! portal's moderators pass on what they see in the national feed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use federation_tests::{
    Api, Instance, Visibility, marker, peer::Peer, settle, str_field, wait_for, with_content,
};
use serde_json::{Value, json};

async fn reports_on(api: &Api) -> Vec<Value> {
    api.list("/api/v1/admin/reports", &[]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_reach_the_server_of_the_account_reported() {
    let (a, b) = tokio::join!(Instance::start("a"), Instance::start("b"));
    let (alice, amod, bob, bmod) = tokio::join!(
        a.create_user("alice"),
        a.create_user_with_role("amod", "moderator"),
        b.create_user("bob"),
        b.create_user_with_role("bmod", "moderator"),
    );
    let (alice_a, amod_a, bob_b, bmod_b) = (a.api(&alice), a.api(&amod), b.api(&bob), b.api(&bmod));
    let alice_on_b = bob_b.account_id_of(&alice.acct).await;
    bob_b.follow(&alice_on_b).await;
    wait_for("bob follows alice", async || {
        let r = bob_b.relationship(&alice_on_b).await;
        if r["following"] == true {
            Ok(())
        } else {
            Err(r.to_string())
        }
    })
    .await;
    let text = marker("cheap-essays-");
    let post_a = alice_a.post_status(&text, Visibility::Public).await;
    let post_b = wait_for("the post reaches bob", async || {
        let home = bob_b.home().await;
        with_content(&home, &text)
            .first()
            .map(|s| (*s).clone())
            .ok_or_else(|| format!("{home:?}"))
    })
    .await;

    // Bob reports it and asks for it to be forwarded.
    let report = bob_b
        .post(
            "/api/v1/reports",
            &json!({
                "account_id": alice_on_b,
                "status_ids": [str_field(&post_b, "id")],
                "comment": "Advertising essays to pupils",
                "category": "spam",
                "forward": true,
            }),
        )
        .await;
    assert_eq!(report["forwarded"], true, "{report}");
    let on_a = wait_for("A's moderators have the report", async || {
        let list = reports_on(&amod_a).await;
        list.iter()
            .find(|r| r["comment"] == "Advertising essays to pupils")
            .cloned()
            .ok_or_else(|| format!("{list:?}"))
    })
    .await;
    assert_eq!(on_a["target_account"]["id"], alice.id.as_str(), "{on_a}");
    assert_eq!(
        on_a["status_ids"],
        json!([str_field(&post_a, "id")]),
        "{on_a}"
    );
    let reporter = str_field(&on_a["account"], "acct");
    assert!(reporter.ends_with(&format!("@{}", b.domain())), "{on_a}");
    assert!(
        !on_a.to_string().contains("bob"),
        "the reporter is named: {on_a}"
    );
    let notes = amod_a.notifications().await;
    assert!(
        notes.iter().any(|n| n["type"] == "admin.report"),
        "{notes:?}"
    );

    // A second report stays on B until B's moderator forwards it.
    bob_b
        .post(
            "/api/v1/reports",
            &json!({ "account_id": alice_on_b, "comment": "Rude replies too" }),
        )
        .await;
    let on_b = reports_on(&bmod_b).await;
    let kept = on_b
        .iter()
        .find(|r| r["comment"] == "Rude replies too")
        .cloned()
        .unwrap_or_else(|| panic!("{on_b:?}"));
    assert_eq!(kept["forwarded"], false);
    assert_eq!(kept["account"]["acct"], "bob");
    settle().await;
    assert_eq!(reports_on(&amod_a).await.len(), 1);
    let forwarded = bmod_b
        .post(
            &format!("/api/v1/admin/reports/{}/forward", str_field(&kept, "id")),
            &json!({}),
        )
        .await;
    assert_eq!(forwarded["forwarded"], true, "{forwarded}");
    wait_for("A gets the forwarded report", async || {
        let list = reports_on(&amod_a).await;
        if list.iter().any(|r| r["comment"] == "Rude replies too") {
            Ok(())
        } else {
            Err(format!("{list:?}"))
        }
    })
    .await;
    // Forwarding again sends nothing more.
    bmod_b
        .post(
            &format!("/api/v1/admin/reports/{}/forward", str_field(&kept, "id")),
            &json!({}),
        )
        .await;
    settle().await;
    assert_eq!(reports_on(&amod_a).await.len(), 2);
}

/// Lemmy reports a post alone, with the comment in `summary`; Mastodon
/// names the account and posts, with the comment in `content`. Both become
/// one report each for A's moderators, however often they arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_from_lemmy_and_mastodon_become_reports() {
    let (a, peer) = tokio::join!(Instance::start("a"), Peer::start());
    let (alice, amod) = tokio::join!(
        a.create_user("alice"),
        a.create_user_with_role("amod", "moderator"),
    );
    let amod_a = a.api(&amod);
    let post = a
        .api(&alice)
        .post_status(&marker("reported-"), Visibility::Public)
        .await;
    let post_uri = str_field(&post, "uri").to_string();
    let reporter = peer.add_user("reporter").await;
    let lemmy = json!({
        "id": format!("{}/activities/flag/1", peer.base_url()),
        "type": "Flag",
        "actor": reporter.actor_id,
        "to": [alice.actor_id],
        "object": post_uri,
        "summary": "report this post",
    });
    let mastodon = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/flags/2", peer.base_url()),
        "type": "Flag",
        "actor": reporter.actor_id,
        "to": alice.actor_id,
        "object": [alice.actor_id, post_uri, format!("{}/unknown/3", a.base_url())],
        "content": "Please take a look at this user and their posts",
    });
    let inbox = a.url("/inbox");
    for flag in [&lemmy, &mastodon, &lemmy] {
        peer.send_raw(&reporter, &inbox, flag)
            .await
            .assert_accepted();
    }
    wait_for("A's moderators have both reports", async || {
        let list = amod_a.list("/api/v1/admin/reports", &[]).await;
        if list.len() >= 2 {
            Ok(())
        } else {
            Err(format!("{list:?}"))
        }
    })
    .await;
    settle().await;
    let list = amod_a.list("/api/v1/admin/reports", &[]).await;
    assert_eq!(list.len(), 2, "{list:?}");
    for r in &list {
        assert_eq!(r["target_account"]["id"], alice.id.as_str(), "{r}");
        assert_eq!(r["status_ids"], json!([str_field(&post, "id")]), "{r}");
    }
    let comments: Vec<&str> = list.iter().map(|r| str_field(r, "comment")).collect();
    assert!(comments.contains(&"report this post"), "{comments:?}");
    assert!(
        comments.contains(&"Please take a look at this user and their posts"),
        "{comments:?}"
    );
}
