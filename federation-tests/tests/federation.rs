//! Federation scenarios between real Staffroom processes (A, B, C on their
//! own `localhost:PORT` domains) and a fake Mastodon peer. Each test starts
//! what it needs and cleans up on drop; each asserts concrete values (who
//! follows whom, which post reached which timeline or inbox, exact counts),
//! so a server that delivers too much fails as surely as one that delivers
//! too little. See README.md for what each scenario proves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use federation_tests::{
    Api, Instance, User, Visibility, accts, marker,
    peer::{NoteSpec, PUBLIC, Peer, PeerUser, Received, Tamper},
    settle, str_field, wait_for, wait_until, with_content,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

// ------------------------------------------------------------------------
// Helpers

fn contents(list: &[Value]) -> String {
    let items: Vec<&str> = list.iter().map(|s| str_field(s, "content")).collect();
    format!("{items:?}")
}

/// `follower` (on its own instance) follows `target` and waits until the
/// follow is accepted; returns the target's account id on the follower's
/// instance.
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

/// A peer user follows a Staffroom user and waits for the Accept.
async fn peer_follow(peer: &Peer, who: &PeerUser, target: &User) {
    let follow = peer.send_follow(who, &target.actor_id).await;
    follow.assert_accepted();
    let accept = peer
        .wait_for_activity("Accept", |r| r.object_id() == follow.id())
        .await;
    assert_eq!(accept.actor, target.actor_id);
    assert_eq!(accept.key_id, format!("{}#main-key", target.actor_id));
}

/// Waits until `api`'s home timeline shows a status containing `needle`.
async fn wait_home(api: &Api, needle: &str, who: &str) -> Value {
    wait_for(
        &format!("{who}'s home timeline shows {needle}"),
        async || {
            let home = api.home().await;
            with_content(&home, needle)
                .first()
                .map(|s| (*s).clone())
                .ok_or_else(|| contents(&home))
        },
    )
    .await
}

/// Waits until a status on `api`'s instance has these counts.
async fn wait_counts(api: &Api, id: &str, favourites: u64, reblogs: u64) {
    wait_for(
        &format!("status {id} has {favourites} favourites and {reblogs} reblogs"),
        async || {
            let s = api.status(id).await;
            if s["favourites_count"] == favourites && s["reblogs_count"] == reblogs {
                Ok(())
            } else {
                Err(format!(
                    "favourites_count={} reblogs_count={}",
                    s["favourites_count"], s["reblogs_count"]
                ))
            }
        },
    )
    .await;
}

fn uri(status: &Value) -> String {
    str_field(status, "uri").to_string()
}

fn id(v: &Value) -> String {
    str_field(v, "id").to_string()
}

/// Creates received by the peer whose note content contains `needle`.
fn creates_with(peer: &Peer, needle: &str) -> Vec<Received> {
    peer.received_of_type("Create")
        .into_iter()
        .filter(|r| str_field(r.object(), "content").contains(needle))
        .collect()
}

fn audience(activity: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for key in ["to", "cc"] {
        match &activity[key] {
            Value::Array(list) => {
                out.extend(list.iter().filter_map(Value::as_str).map(String::from))
            }
            Value::String(s) => {
                out.insert(s.clone());
            }
            _ => {}
        }
    }
    out
}

// ------------------------------------------------------------------------
// Scenarios

/// A locked account on B gets a follow request from A; authorising it makes
/// the follow visible on both sides, rejecting it leaves no trace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_with_manual_approval_across_instances() {
    let (a, b) = tokio::join!(Instance::start("a"), Instance::start("b"));
    let (alice, carol, bob) = tokio::join!(
        a.create_user("alice"),
        a.create_user("carol"),
        b.create_user("bob")
    );
    let (alice_a, carol_a, bob_b) = (a.api(&alice), a.api(&carol), b.api(&bob));
    assert_eq!(bob_b.set_locked(true).await["locked"], true);

    // --- approval ---
    let bob_on_a = alice_a.account_id_of(&bob.acct).await;
    assert_eq!(
        alice_a.account(&bob_on_a).await["locked"],
        true,
        "A learns from bob's actor (manuallyApprovesFollowers) that he is locked"
    );
    let rel = alice_a.follow(&bob_on_a).await;
    assert_eq!(rel["following"], false, "{rel}");
    assert_eq!(rel["requested"], true, "{rel}");

    let request = wait_for("bob's follow requests on B list alice", async || {
        let list = bob_b.follow_requests().await;
        list.iter()
            .find(|acc| str_field(acc, "acct") == alice.acct)
            .cloned()
            .ok_or_else(|| format!("{:?}", accts(&list)))
    })
    .await;
    let alice_on_b = id(&request);
    assert_eq!(
        accts(&bob_b.notifications_of("follow_request").await),
        vec![alice.acct.clone()]
    );
    assert!(
        bob_b.followers(&bob.id).await.is_empty(),
        "not a follower before approval"
    );

    let rel = bob_b.authorize_follow(&alice_on_b).await;
    assert_eq!(rel["followed_by"], true, "{rel}");
    wait_for("A sees alice following bob", async || {
        let r = alice_a.relationship(&bob_on_a).await;
        if r["following"] == true && r["requested"] == false {
            Ok(())
        } else {
            Err(r.to_string())
        }
    })
    .await;
    assert!(bob_b.follow_requests().await.is_empty());
    assert_eq!(
        accts(&bob_b.followers(&bob.id).await),
        vec![alice.acct.clone()]
    );
    assert_eq!(bob_b.verify_credentials().await["followers_count"], 1);
    assert_eq!(
        accts(&alice_a.following(&alice.id).await),
        vec![bob.acct.clone()]
    );
    assert_eq!(alice_a.verify_credentials().await["following_count"], 1);

    // --- rejection ---
    let rel = carol_a.follow(&bob_on_a).await;
    assert_eq!(rel["requested"], true, "{rel}");
    let request = wait_for("bob's follow requests on B list carol", async || {
        let list = bob_b.follow_requests().await;
        list.iter()
            .find(|acc| str_field(acc, "acct") == carol.acct)
            .cloned()
            .ok_or_else(|| format!("{:?}", accts(&list)))
    })
    .await;
    bob_b.reject_follow(&id(&request)).await;
    wait_for("A learns that carol's request was rejected", async || {
        let r = carol_a.relationship(&bob_on_a).await;
        if r["requested"] == false && r["following"] == false {
            Ok(())
        } else {
            Err(r.to_string())
        }
    })
    .await;
    assert!(bob_b.follow_requests().await.is_empty());
    assert_eq!(
        accts(&bob_b.followers(&bob.id).await),
        vec![alice.acct.clone()]
    );
    assert_eq!(bob_b.verify_credentials().await["followers_count"], 1);
    assert_eq!(carol_a.verify_credentials().await["following_count"], 0);
    assert!(carol_a.following(&carol.id).await.is_empty());
}

/// Public, followers-only and direct posts reach exactly their audience,
/// on Staffroom instances and on a Mastodon peer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_reach_exactly_their_audience() {
    let (a, b, c, peer) = tokio::join!(
        Instance::start("a"),
        Instance::start("b"),
        Instance::start("c"),
        Peer::start()
    );
    let (alice, bob, carol, dave) = tokio::join!(
        a.create_user("alice"),
        b.create_user("bob"),
        c.create_user("carol"),
        c.create_user("dave")
    );
    let pat = peer.add_user("pat").await;
    // Follows nobody: nothing may arrive in her inbox.
    let _quinn = peer.add_user("quinn").await;
    let (alice_a, bob_b, carol_c, dave_c) =
        (a.api(&alice), b.api(&bob), c.api(&carol), c.api(&dave));

    follow_and_wait(&bob_b, &alice).await;
    peer_follow(&peer, &pat, &alice).await;
    wait_for("alice has two followers", async || {
        let me = alice_a.verify_credentials().await;
        (me["followers_count"] == 2)
            .then_some(())
            .ok_or(me.to_string())
    })
    .await;

    let public_m = marker("public");
    let unlisted_m = marker("unlisted");
    let followers_m = marker("followers");
    let direct_m = marker("direct");
    let direct = alice_a
        .post_status(&format!("@{} {direct_m}", dave.acct), Visibility::Direct)
        .await;
    let private = alice_a.post_status(&followers_m, Visibility::Private).await;
    let public = alice_a.post_status(&public_m, Visibility::Public).await;
    let unlisted = alice_a.post_status(&unlisted_m, Visibility::Unlisted).await;
    assert_eq!(unlisted["visibility"], "unlisted");
    assert_eq!(direct["visibility"], "direct");
    assert_eq!(private["visibility"], "private");
    assert_eq!(public["visibility"], "public");

    // The follower on B sees public and followers-only.
    wait_home(&bob_b, &public_m, "bob").await;
    let private_on_b = wait_home(&bob_b, &followers_m, "bob").await;
    assert_eq!(private_on_b["visibility"], "private");
    assert_eq!(private_on_b["uri"], private["uri"]);
    assert_eq!(private_on_b["account"]["acct"], alice.acct);
    // Unlisted: home of followers, never the public timelines.
    let unlisted_on_b = wait_home(&bob_b, &unlisted_m, "bob").await;
    assert_eq!(unlisted_on_b["visibility"], "unlisted");

    // The mentioned user on C gets the direct post.
    let mention = wait_for("dave on C is notified of the direct post", async || {
        let list = dave_c.notifications_of("mention").await;
        list.iter()
            .find(|n| str_field(&n["status"], "content").contains(&direct_m))
            .cloned()
            .ok_or_else(|| format!("{list:?}"))
    })
    .await;
    assert_eq!(mention["account"]["acct"], alice.acct);
    assert_eq!(mention["status"]["visibility"], "direct");
    assert_eq!(mention["status"]["uri"], direct["uri"]);

    // The peer's follower gets public and followers-only, signed by alice.
    let pub_create = peer
        .wait_for_activity("Create", |r| {
            str_field(r.object(), "content").contains(&public_m)
        })
        .await;
    let priv_create = peer
        .wait_for_activity("Create", |r| {
            str_field(r.object(), "content").contains(&followers_m)
        })
        .await;
    let unl_create = peer
        .wait_for_activity("Create", |r| {
            str_field(r.object(), "content").contains(&unlisted_m)
        })
        .await;
    for create in [&pub_create, &priv_create, &unl_create] {
        assert_eq!(create.actor, alice.actor_id);
        assert_eq!(create.key_id, format!("{}#main-key", alice.actor_id));
        assert_eq!(create.object()["attributedTo"], alice.actor_id);
    }
    assert_eq!(pub_create.object_id(), uri(&public));
    assert!(audience(pub_create.object()).contains(PUBLIC));
    // Mastodon's unlisted shape: the followers in `to`, Public only in `cc`.
    let unl = unl_create.object();
    assert!(
        unl["to"].as_array().unwrap().iter().all(|t| t != PUBLIC),
        "{unl}"
    );
    assert!(
        unl["cc"].as_array().unwrap().iter().any(|t| t == PUBLIC),
        "{unl}"
    );
    assert_eq!(priv_create.object_id(), uri(&private));
    let priv_audience = audience(priv_create.object());
    assert!(!priv_audience.contains(PUBLIC), "{priv_audience:?}");
    assert!(
        priv_audience.contains(&format!("{}/followers", alice.actor_id)),
        "followers-only is addressed to the followers collection: {priv_audience:?}"
    );

    settle().await;

    // Nothing more than that.
    let home = bob_b.home().await;
    assert_eq!(
        with_content(&home, &public_m).len(),
        1,
        "{}",
        contents(&home)
    );
    assert_eq!(
        with_content(&home, &followers_m).len(),
        1,
        "{}",
        contents(&home)
    );
    assert!(
        with_content(&home, &direct_m).is_empty(),
        "{}",
        contents(&home)
    );
    for (api, who) in [(&bob_b, "B"), (&alice_a, "A")] {
        let public = api.public().await;
        assert_eq!(
            with_content(&public, &public_m).len(),
            1,
            "{who}'s public timeline: {}",
            contents(&public)
        );
        for m in [&unlisted_m, &followers_m, &direct_m] {
            assert!(
                with_content(&public, m).is_empty(),
                "{who}'s public timeline shows {m}: {}",
                contents(&public)
            );
        }
    }
    for (api, who) in [(&carol_c, "carol"), (&dave_c, "dave")] {
        let home = api.home().await;
        for m in [&public_m, &unlisted_m, &followers_m] {
            assert!(
                with_content(&home, m).is_empty(),
                "{who} follows nobody but sees {m}: {}",
                contents(&home)
            );
        }
    }
    assert!(with_content(&carol_c.home().await, &direct_m).is_empty());
    assert!(
        carol_c.try_resolve_status(&uri(&private)).await.is_none(),
        "a non-follower's instance must not obtain the followers-only post"
    );
    assert!(
        carol_c.try_resolve_status(&uri(&direct)).await.is_none(),
        "an unmentioned user's instance must not obtain the direct post"
    );
    let public_on_c = carol_c.resolve_status(&uri(&public)).await;
    assert!(str_field(&public_on_c, "content").contains(&public_m));

    let received = peer.received();
    assert!(
        received.iter().all(|r| !r.body.contains(&direct_m)),
        "the direct post leaked to the peer:\n{}",
        peer.report()
    );
    assert!(
        received.iter().all(|r| !r.inbox.contains("/users/quinn/")),
        "quinn follows nobody:\n{}",
        peer.report()
    );
    let from_alice: BTreeSet<String> = peer
        .received_of_type("Create")
        .iter()
        .filter(|r| r.actor == alice.actor_id)
        .map(|r| r.object_id().to_string())
        .collect();
    assert_eq!(
        from_alice,
        BTreeSet::from([uri(&public), uri(&unlisted), uri(&private)]),
        "{}",
        peer.report()
    );
    assert!(
        peer.fetch(&uri(&private)).await.is_err(),
        "A serves the followers-only note to a non-follower's signed fetch"
    );
    let fetched = peer.fetch(&uri(&public)).await.unwrap();
    assert!(str_field(&fetched, "content").contains(&public_m));
    let fetched = peer.fetch(&uri(&unlisted)).await.unwrap();
    assert!(str_field(&fetched, "content").contains(&unlisted_m));
    let on_c = carol_c.resolve_status(&uri(&unlisted)).await;
    assert_eq!(on_c["visibility"], "unlisted", "{on_c}");
}

/// A reply thread across three instances: A posts, B replies, C replies to
/// B. Once the posts are resolved, each instance's context shows the chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_thread_spanning_three_instances() {
    let (a, b, c) = tokio::join!(
        Instance::start("a"),
        Instance::start("b"),
        Instance::start("c")
    );
    let (alice, bob, carol) = tokio::join!(
        a.create_user("alice"),
        b.create_user("bob"),
        c.create_user("carol")
    );
    let (alice_a, bob_b, carol_c) = (a.api(&alice), b.api(&bob), c.api(&carol));

    let root_m = marker("root");
    let bob_m = marker("bobreply");
    let carol_m = marker("carolreply");
    let root = alice_a.post_status(&root_m, Visibility::Public).await;

    let root_on_b = bob_b.resolve_status(&uri(&root)).await;
    assert_eq!(root_on_b["account"]["acct"], alice.acct);
    assert!(str_field(&root_on_b, "content").contains(&root_m));
    let bob_reply = bob_b
        .reply(
            &id(&root_on_b),
            &format!("@{} {bob_m}", alice.acct),
            Visibility::Public,
        )
        .await;
    assert_eq!(bob_reply["in_reply_to_id"], root_on_b["id"]);

    let bob_reply_on_c = carol_c.resolve_status(&uri(&bob_reply)).await;
    assert_eq!(bob_reply_on_c["account"]["acct"], bob.acct);
    let carol_reply = carol_c
        .reply(
            &id(&bob_reply_on_c),
            &format!("@{} @{} {carol_m}", bob.acct, alice.acct),
            Visibility::Public,
        )
        .await;
    assert_eq!(carol_reply["in_reply_to_id"], bob_reply_on_c["id"]);

    let chain = [uri(&root), uri(&bob_reply), uri(&carol_reply)];

    // Delivery: the mentioned authors are notified.
    wait_for("alice is notified by both replies", async || {
        let got = accts(&alice_a.notifications_of("mention").await);
        (got == vec![bob.acct.clone(), carol.acct.clone()])
            .then_some(())
            .ok_or(format!("{got:?}"))
    })
    .await;
    wait_for("bob is notified of carol's reply", async || {
        let got = accts(&bob_b.notifications_of("mention").await);
        (got == vec![carol.acct.clone()])
            .then_some(())
            .ok_or(format!("{got:?}"))
    })
    .await;

    // Each instance's own copy of the three posts: the author's instance
    // knows its post by id, the others resolve it by URL.
    let created = [&root, &bob_reply, &carol_reply];
    for (home, (api, name)) in [(&alice_a, "A"), (&bob_b, "B"), (&carol_c, "C")]
        .into_iter()
        .enumerate()
    {
        let mut local: Vec<Value> = Vec::new();
        for (i, u) in chain.iter().enumerate() {
            let status = if i == home {
                api.status(&id(created[i])).await
            } else {
                api.resolve_status(u).await
            };
            assert_eq!(&uri(&status), u, "on {name}");
            local.push(status);
        }
        assert_eq!(local[1]["in_reply_to_id"], local[0]["id"], "on {name}");
        assert_eq!(local[2]["in_reply_to_id"], local[1]["id"], "on {name}");
        wait_for(&format!("{name} shows the whole thread"), async || {
            let root_ctx = api.context(&id(&local[0])).await;
            let leaf_ctx = api.context(&id(&local[2])).await;
            let mid_ctx = api.context(&id(&local[1])).await;
            let uris = |v: &Value| -> Vec<String> {
                v.as_array()
                    .map(|l| l.iter().map(uri).collect())
                    .unwrap_or_default()
            };
            let ok = uris(&root_ctx["ancestors"]).is_empty()
                && uris(&root_ctx["descendants"]) == vec![chain[1].clone(), chain[2].clone()]
                && uris(&mid_ctx["ancestors"]) == vec![chain[0].clone()]
                && uris(&mid_ctx["descendants"]) == vec![chain[2].clone()]
                && uris(&leaf_ctx["ancestors"]) == vec![chain[0].clone(), chain[1].clone()]
                && uris(&leaf_ctx["descendants"]).is_empty();
            ok.then_some(()).ok_or(format!(
                "root {root_ctx}\nmiddle {mid_ctx}\nleaf {leaf_ctx}"
            ))
        })
        .await;
    }

    wait_for("A counts one direct reply to the root", async || {
        let s = alice_a.status(&id(&root)).await;
        (s["replies_count"] == 1)
            .then_some(())
            .ok_or(s["replies_count"].to_string())
    })
    .await;
}

/// An edit reaches the follower's instance (content, edited_at, history),
/// and a delete removes the post there (404) and from the timeline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_and_delete_propagate() {
    let (a, b, peer) = tokio::join!(Instance::start("a"), Instance::start("b"), Peer::start());
    let (alice, bob) = tokio::join!(a.create_user("alice"), b.create_user("bob"));
    let pat = peer.add_user("pat").await;
    let (alice_a, bob_b) = (a.api(&alice), b.api(&bob));
    follow_and_wait(&bob_b, &alice).await;
    peer_follow(&peer, &pat, &alice).await;

    let first_m = marker("original");
    let second_m = marker("edited");
    let post = alice_a.post_status(&first_m, Visibility::Public).await;
    assert!(post["edited_at"].is_null());
    let on_b = wait_home(&bob_b, &first_m, "bob").await;
    let on_b_id = id(&on_b);
    assert!(on_b["edited_at"].is_null());

    let edited = alice_a.edit_status(&id(&post), &second_m).await;
    assert!(str_field(&edited, "content").contains(&second_m));
    assert!(!edited["edited_at"].is_null(), "{edited}");

    let seen = wait_for("the edit reaches B", async || {
        let s = bob_b.status(&on_b_id).await;
        if str_field(&s, "content").contains(&second_m) && !s["edited_at"].is_null() {
            Ok(s)
        } else {
            Err(s.to_string())
        }
    })
    .await;
    assert!(!str_field(&seen, "content").contains(&first_m));
    assert_eq!(seen["uri"], post["uri"], "an edit keeps the id");
    let history = bob_b.history(&on_b_id).await;
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(str_field(&history[0], "content").contains(&first_m));
    assert!(str_field(&history[1], "content").contains(&second_m));
    let update = peer
        .wait_for_activity("Update", |r| r.object_id() == uri(&post))
        .await;
    assert_eq!(update.actor, alice.actor_id);
    assert!(str_field(update.object(), "content").contains(&second_m));
    assert!(
        !update.object()["updated"].is_null(),
        "Mastodon needs `updated` on edits"
    );

    alice_a.delete_status(&id(&post)).await;
    assert_eq!(
        alice_a.try_status(&id(&post)).await.status,
        StatusCode::NOT_FOUND
    );
    wait_for("the delete reaches B", async || {
        let r = bob_b.try_status(&on_b_id).await;
        (r.status == StatusCode::NOT_FOUND)
            .then_some(())
            .ok_or(format!("{} {}", r.status, r.text))
    })
    .await;
    let home = bob_b.home().await;
    assert!(
        with_content(&home, &second_m).is_empty(),
        "{}",
        contents(&home)
    );
    let delete = peer
        .wait_for_activity("Delete", |r| r.object_id() == uri(&post))
        .await;
    assert_eq!(delete.actor, alice.actor_id);
    let gone = peer.fetch(&uri(&post)).await;
    assert!(gone.is_err(), "A still serves the deleted note: {gone:?}");
}

/// Favourites and boosts from B, C and a Mastodon peer are counted on the
/// author's instance and notified; undoing them brings the counts down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn likes_and_boosts_are_counted() {
    let (a, b, c, peer) = tokio::join!(
        Instance::start("a"),
        Instance::start("b"),
        Instance::start("c"),
        Peer::start()
    );
    let (alice, bob, carol) = tokio::join!(
        a.create_user("alice"),
        b.create_user("bob"),
        c.create_user("carol")
    );
    let pat = peer.add_user("pat").await;
    let (alice_a, bob_b, carol_c) = (a.api(&alice), b.api(&bob), c.api(&carol));

    let post = alice_a
        .post_status(&marker("likeme"), Visibility::Public)
        .await;
    let post_id = id(&post);

    let on_b = bob_b.resolve_status(&uri(&post)).await;
    let fav = bob_b.favourite(&id(&on_b)).await;
    assert_eq!(fav["favourited"], true);
    let boost = bob_b.reblog(&id(&on_b)).await;
    assert_eq!(boost["reblog"]["uri"], post["uri"]);
    let on_c = carol_c.resolve_status(&uri(&post)).await;
    carol_c.favourite(&id(&on_c)).await;
    let like = peer.send_like(&pat, &uri(&post)).await;
    like.assert_accepted();
    assert_eq!(
        like.deliveries[0].inbox,
        format!("{}/inbox", alice.actor_id)
    );
    let announce = peer.send_announce(&pat, &uri(&post)).await;
    announce.assert_accepted();

    wait_counts(&alice_a, &post_id, 3, 2).await;
    wait_for("alice has three favourite notifications", async || {
        let got = accts(&alice_a.notifications_of("favourite").await);
        let mut want = vec![bob.acct.clone(), carol.acct.clone(), pat.acct.clone()];
        want.sort();
        (got == want).then_some(()).ok_or(format!("{got:?}"))
    })
    .await;
    let mut want = vec![bob.acct.clone(), pat.acct.clone()];
    want.sort();
    assert_eq!(accts(&alice_a.notifications_of("reblog").await), want);
    for n in alice_a.notifications_of("favourite").await {
        assert_eq!(n["status"]["id"], post["id"], "{n}");
    }

    bob_b.unfavourite(&id(&on_b)).await;
    bob_b.unreblog(&id(&on_b)).await;
    peer.send_undo(&pat, &like).await.assert_accepted();
    wait_counts(&alice_a, &post_id, 1, 1).await;
}

/// B is down while A posts three times; after B restarts, A's retries
/// deliver all three, once each. A peer answering 503 is retried the same
/// way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_receiver_gets_everything_after_restart() {
    let (a, mut b, peer) = tokio::join!(Instance::start("a"), Instance::start("b"), Peer::start());
    let (alice, bob) = tokio::join!(a.create_user("alice"), b.create_user("bob"));
    let pat = peer.add_user("pat").await;
    let alice_a = a.api(&alice);
    follow_and_wait(&b.api(&bob), &alice).await;
    peer_follow(&peer, &pat, &alice).await;

    b.stop().await;
    peer.refuse_inbox(Some(StatusCode::SERVICE_UNAVAILABLE));
    let markers: Vec<String> = (1..=3)
        .map(|i| marker(&format!("while-down{i}-")))
        .collect();
    for m in &markers {
        alice_a.post_status(m, Visibility::Public).await;
    }
    // A first attempt must fail for real before anyone comes back (one is
    // enough: the server may hold back a failing host's other deliveries).
    wait_until(
        Duration::from_secs(10),
        "A tries to deliver to the peer while it answers 503",
        async || {
            peer.rejected()
                .iter()
                .any(|r| r.status == StatusCode::SERVICE_UNAVAILABLE)
        },
    )
    .await;
    // B has been down for at least as long.
    tokio::time::sleep(Duration::from_secs(1)).await;
    b.restart().await;
    peer.refuse_inbox(None);

    let bob_b = b.api(&bob);
    for m in &markers {
        wait_home(&bob_b, m, "bob").await;
        peer.wait_for_activity("Create", |r| {
            str_field(r.object(), "content").contains(m.as_str())
        })
        .await;
    }
    settle().await;
    let home = bob_b.home().await;
    for m in &markers {
        assert_eq!(with_content(&home, m).len(), 1, "{m}: {}", contents(&home));
        assert_eq!(creates_with(&peer, m).len(), 1, "{m}: {}", peer.report());
    }
}

/// Forty Mastodon users follow one Staffroom user at the same moment, on
/// SQLite. Each Follow is applied and each is answered with an Accept: none
/// is lost to SQLite's one-writer rule ("database is locked" when a
/// transaction that read first then writes after another connection has
/// committed), which once dropped about half of the Accepts under such a
/// burst.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_follows_on_sqlite_is_answered_in_full() {
    const FOLLOWERS: usize = 40;
    let (a, peer) = tokio::join!(Instance::builder("a").sqlite().start(), Peer::start());
    let alice = a.create_user("alice").await;
    let mut users = Vec::with_capacity(FOLLOWERS);
    for i in 0..FOLLOWERS {
        users.push(peer.add_user(&format!("fan{i}")).await);
    }
    // Resolve once so that the burst below is only the inbox POSTs.
    peer.resolve_actor(&alice.actor_id).await;
    let sent =
        futures::future::join_all(users.iter().map(|u| peer.send_follow(u, &alice.actor_id))).await;
    for follow in &sent {
        follow.assert_accepted();
    }
    let follow_ids: BTreeSet<String> = sent.iter().map(|f| f.id().to_string()).collect();
    wait_until(
        Duration::from_secs(60),
        "every Follow of the burst is answered with an Accept",
        async || {
            let answered: BTreeSet<String> = peer
                .received_of_type("Accept")
                .iter()
                .map(|r| r.object_id().to_string())
                .collect();
            follow_ids.is_subset(&answered)
        },
    )
    .await;
    let accepts = peer.received_of_type("Accept");
    assert_eq!(accepts.len(), FOLLOWERS, "{}", peer.report());
    assert!(accepts.iter().all(|r| r.actor == alice.actor_id));
    let account = a
        .anonymous()
        .get(&format!("/api/v1/accounts/{}", alice.id))
        .await;
    assert_eq!(account["followers_count"], FOLLOWERS as u64, "{account}");
    assert!(
        !a.log_tail()
            .contains("could not queue federation deliveries"),
        "{}",
        a.log_tail()
    );
}

/// One follower's server stops answering: it takes each request and never
/// replies. Bob's forty posts queue up for it, then Alice posts for a healthy
/// follower. Alice's posts arrive at once: deliveries waiting for the hung
/// host do not hold the workers every other host needs, and the hung host
/// never has more than its share of requests in flight. (Before, 32 of them
/// held every worker until the 10 s request timeout, then the next ones.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_follower_does_not_hold_up_the_others() {
    let (a, hung, healthy) = tokio::join!(Instance::start("a"), Peer::start(), Peer::start());
    let (alice, bob) = tokio::join!(a.create_user("alice"), a.create_user("bob"));
    let (stuck, fine) = tokio::join!(hung.add_user("stuck"), healthy.add_user("fine"));
    peer_follow(&hung, &stuck, &bob).await;
    peer_follow(&healthy, &fine, &alice).await;
    hung.hang_inbox(true);

    let bob_a = a.api(&bob);
    for i in 0..40 {
        bob_a
            .post_status(&marker(&format!("queued{i}-")), Visibility::Public)
            .await;
    }
    wait_until(
        Duration::from_secs(10),
        "the hung follower has requests in flight",
        async || hung.hung_requests() > 0,
    )
    .await;
    let alice_a = a.api(&alice);
    let markers: Vec<String> = (0..5).map(|i| marker(&format!("meanwhile{i}-"))).collect();
    for m in &markers {
        alice_a.post_status(m, Visibility::Public).await;
    }
    let in_flight_when_done = wait_until(
        Duration::from_secs(60),
        "the healthy follower receives Alice's five posts",
        async || {
            let in_flight = hung.hung_requests();
            let arrived = markers
                .iter()
                .filter(|m| !creates_with(&healthy, m).is_empty())
                .count();
            if arrived == markers.len() {
                Ok(in_flight)
            } else {
                Err(format!("{arrived} arrived"))
            }
        },
    )
    .await;
    assert!(
        in_flight_when_done <= 8,
        "the healthy follower waited for the hung one's timeouts: {in_flight_when_done} requests reached the hung inbox first"
    );
}

/// A is killed (SIGKILL) right after posting to followers on B, C and three
/// peers; after restart its persistent queue finishes the fan-out. Staffroom
/// receivers show each post once; peers may see an in-flight delivery twice
/// but always the same activity (ids are not re-minted on restart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_sender_resumes_fan_out() {
    let (mut a, b, c) = tokio::join!(
        Instance::start("a"),
        Instance::start("b"),
        Instance::start("c")
    );
    let (p1, p2, p3) = tokio::join!(Peer::start(), Peer::start(), Peer::start());
    let (alice, bob, carol) = tokio::join!(
        a.create_user("alice"),
        b.create_user("bob"),
        c.create_user("carol")
    );
    let peers = [&p1, &p2, &p3];
    for (i, peer) in peers.iter().enumerate() {
        let user = peer.add_user(&format!("reader{i}")).await;
        peer_follow(peer, &user, &alice).await;
    }
    let (bob_b, carol_c) = (b.api(&bob), c.api(&carol));
    follow_and_wait(&bob_b, &alice).await;
    follow_and_wait(&carol_c, &alice).await;
    let alice_a = a.api(&alice);
    wait_for("alice has five followers", async || {
        let me = alice_a.verify_credentials().await;
        (me["followers_count"] == 5)
            .then_some(())
            .ok_or(me["followers_count"].to_string())
    })
    .await;

    let markers: Vec<String> = (1..=5).map(|i| marker(&format!("fanout{i}-"))).collect();
    let mut uris = Vec::new();
    for m in &markers {
        uris.push(uri(&alice_a.post_status(m, Visibility::Public).await));
    }
    a.kill();
    a.restart().await;

    for m in &markers {
        wait_home(&bob_b, m, "bob").await;
        wait_home(&carol_c, m, "carol").await;
        for peer in peers {
            peer.wait_for_activity("Create", |r| {
                str_field(r.object(), "content").contains(m.as_str())
            })
            .await;
        }
    }
    settle().await;
    for (api, who) in [(&bob_b, "bob"), (&carol_c, "carol")] {
        let home = api.home().await;
        for m in &markers {
            assert_eq!(
                with_content(&home, m).len(),
                1,
                "{who} {m}: {}",
                contents(&home)
            );
        }
    }
    for peer in peers {
        for (m, u) in markers.iter().zip(&uris) {
            let creates = creates_with(peer, m);
            let ids: BTreeSet<&str> = creates.iter().map(|r| r.id()).collect();
            assert_eq!(ids.len(), 1, "{m}: one activity id\n{}", peer.report());
            assert!(creates.len() <= 2, "{m}: delivered {} times", creates.len());
            assert_eq!(creates[0].object_id(), u);
        }
    }
}

/// Requests to A's inbox whose body was changed after signing, that lack a
/// signature or digest, or that are signed by someone other than the actor
/// are refused with 401 and have no effect; a replayed activity is answered
/// 2xx but counted once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_forged_and_replayed_activities_are_refused() {
    let (a, peer) = tokio::join!(Instance::start("a"), Peer::start());
    let alice = a.create_user("alice").await;
    let pat = peer.add_user("pat").await;
    let mallory = peer.add_user("mallory").await;
    let alice_a = a.api(&alice);
    let liked = alice_a
        .post_status(&marker("liked"), Visibility::Public)
        .await;
    let target = alice_a
        .post_status(&marker("target"), Visibility::Public)
        .await;
    let shared_inbox = a.url("/inbox");
    let personal_inbox = format!("{}/inbox", alice.actor_id);

    let like = peer.activity(
        &pat,
        "Like",
        format!("{}#likes/1", pat.actor_id),
        json!(uri(&liked)),
    );
    let first = peer.send_raw(&pat, &shared_inbox, &like).await;
    first.assert_accepted();
    wait_counts(&alice_a, &id(&liked), 1, 0).await;

    // Signed honestly, then the body swapped for a Like of another post.
    let honest = peer.activity(
        &pat,
        "Like",
        format!("{}#likes/2", pat.actor_id),
        json!(uri(&liked)),
    );
    let mut swapped = honest.clone();
    swapped["object"] = json!(uri(&target));
    let swapped = serde_json::to_vec(&swapped).unwrap();
    let mut refusals = BTreeMap::new();
    for (name, tamper) in [
        (
            "body changed after signing",
            Tamper::ReplaceBody(swapped.clone()),
        ),
        (
            "body and digest changed after signing",
            Tamper::ReplaceBodyAndDigest(swapped.clone()),
        ),
        ("no signature", Tamper::StripSignature),
        ("no digest", Tamper::StripDigest),
    ] {
        for inbox in [&shared_inbox, &personal_inbox] {
            let d = peer
                .send_tampered(&pat, inbox, &honest, tamper.clone())
                .await;
            refusals.insert(format!("{name} to {inbox}"), d.status);
        }
    }
    // Signed by pat, claiming to be mallory.
    let forged = peer.activity(
        &mallory,
        "Like",
        format!("{}#likes/1", mallory.actor_id),
        json!(uri(&target)),
    );
    for inbox in [&shared_inbox, &personal_inbox] {
        let d = peer.send_raw(&pat, inbox, &forged).await;
        refusals.insert(format!("actor/key mismatch to {inbox}"), d.status);
    }
    let wrong: Vec<_> = refusals
        .iter()
        .filter(|(_, s)| **s != StatusCode::UNAUTHORIZED)
        .collect();
    assert!(wrong.is_empty(), "expected 401 for all of these: {wrong:?}");

    // The same request byte for byte, then the same activity signed anew.
    let replay = peer.replay(&first).await;
    assert!(
        replay.status.is_success(),
        "replay: {} {}",
        replay.status,
        replay.response
    );
    let resent = peer.send_raw(&pat, &shared_inbox, &like).await;
    assert!(
        resent.status.is_success(),
        "resend: {} {}",
        resent.status,
        resent.response
    );

    settle().await;
    wait_counts(&alice_a, &id(&liked), 1, 0).await;
    wait_counts(&alice_a, &id(&target), 0, 0).await;
    let favs = alice_a.notifications_of("favourite").await;
    assert_eq!(accts(&favs), vec![pat.acct.clone()], "{favs:?}");
    assert_eq!(favs[0]["status"]["id"], liked["id"]);
    if let Some(m) = alice_a.try_resolve_account(&mallory.acct).await {
        let notifications = alice_a.notifications().await;
        assert!(
            notifications.iter().all(|n| n["account"]["id"] != m["id"]),
            "the forged Like must not notify in mallory's name: {notifications:?}"
        );
    }
}

/// The Mastodon-like peer follows a Staffroom user (and gets the Accept),
/// receives her public post, replies, and the reply is threaded on Staffroom.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mastodon_peer_follows_receives_and_replies() {
    let (a, peer) = tokio::join!(Instance::start("a"), Peer::start());
    let alice = a.create_user("alice").await;
    let pat = peer.add_user("pat").await;
    let alice_a = a.api(&alice);

    // Discovery, as Mastodon does it: WebFinger, then the actor.
    let resp = reqwest::Client::new()
        .get(a.url("/.well-known/webfinger"))
        .query(&[("resource", format!("acct:{}", alice.acct))])
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert_eq!(
        status,
        StatusCode::OK,
        "WebFinger for {}: {text}",
        alice.acct
    );
    let jrd: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(jrd["subject"], format!("acct:{}", alice.acct));
    let self_href = jrd["links"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["rel"] == "self"))
        .map(|l| l["href"].clone());
    assert_eq!(self_href, Some(json!(alice.actor_id)), "{jrd}");
    let actor = peer.resolve_actor(&alice.actor_id).await;
    let doc = actor.document();
    assert_eq!(doc["type"], "Person");
    assert_eq!(doc["preferredUsername"], "alice");
    assert_eq!(doc["inbox"], format!("{}/inbox", alice.actor_id));
    assert_eq!(doc["endpoints"]["sharedInbox"], a.url("/inbox"));
    assert_eq!(doc["publicKey"]["owner"], alice.actor_id);

    // Follow and Accept.
    let follow = peer.send_follow(&pat, &alice.actor_id).await;
    follow.assert_accepted();
    assert_eq!(
        follow.deliveries[0].inbox,
        format!("{}/inbox", alice.actor_id)
    );
    let accept = peer
        .wait_for_activity("Accept", |r| r.object_id() == follow.id())
        .await;
    assert_eq!(accept.actor, alice.actor_id);
    assert_eq!(accept.key_id, format!("{}#main-key", alice.actor_id));
    let user_agent = accept
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    assert!(
        user_agent.starts_with("Staffroom/") && user_agent.contains(&a.domain()),
        "User-Agent {user_agent:?}"
    );
    assert_eq!(peer.following_of(&pat), vec![alice.actor_id.clone()]);
    wait_for("alice's followers on A list pat", async || {
        let got = accts(&alice_a.followers(&alice.id).await);
        (got == vec![pat.acct.clone()])
            .then_some(())
            .ok_or(format!("{got:?}"))
    })
    .await;
    assert_eq!(
        accts(&alice_a.notifications_of("follow").await),
        vec![pat.acct.clone()]
    );
    let pat_on_a = alice_a.resolve_account(&pat.acct).await;
    assert_eq!(pat_on_a["username"], "pat");
    assert_eq!(pat_on_a["display_name"], "pat (Mastodon)");

    // Her public post reaches the peer as a Create Note.
    let post_m = marker("hello-mastodon");
    let post = alice_a.post_status(&post_m, Visibility::Public).await;
    let create = peer
        .wait_for_activity("Create", |r| {
            str_field(r.object(), "content").contains(&post_m)
        })
        .await;
    assert_eq!(create.actor, alice.actor_id);
    assert_eq!(create.key_id, format!("{}#main-key", alice.actor_id));
    assert_eq!(create.object()["type"], "Note");
    assert_eq!(create.object_id(), uri(&post));
    assert_eq!(create.object()["attributedTo"], alice.actor_id);
    assert!(audience(create.object()).contains(PUBLIC));
    assert!(audience(&create.activity).contains(PUBLIC));
    let fetched = peer.fetch(&uri(&post)).await.unwrap();
    assert_eq!(fetched["id"], post["uri"]);
    assert!(str_field(&fetched, "content").contains(&post_m));

    // The peer replies; Staffroom threads it.
    let reply_m = marker("reply-from-mastodon");
    let reply = peer
        .send_note(&pat, NoteSpec::public(&reply_m).reply_to(uri(&post)))
        .await;
    reply.assert_accepted();
    assert_eq!(reply.activity["object"]["inReplyTo"], post["uri"]);
    assert_eq!(reply.activity["object"]["tag"][0]["href"], alice.actor_id);
    let descendant = wait_for("the reply is threaded under alice's post", async || {
        let ctx = alice_a.context(&id(&post)).await;
        ctx["descendants"]
            .as_array()
            .and_then(|d| d.iter().find(|s| s["uri"] == reply.object_id()).cloned())
            .ok_or(ctx.to_string())
    })
    .await;
    assert!(str_field(&descendant, "content").contains(&reply_m));
    assert_eq!(descendant["in_reply_to_id"], post["id"]);
    assert_eq!(descendant["account"]["acct"], pat.acct);
    assert_eq!(
        accts(&alice_a.notifications_of("mention").await),
        vec![pat.acct.clone()]
    );
    assert_eq!(alice_a.status(&id(&post)).await["replies_count"], 1);

    // Unfollow.
    peer.send_undo(&pat, &follow).await.assert_accepted();
    wait_for("pat no longer follows alice", async || {
        let got = alice_a.followers(&alice.id).await;
        got.is_empty()
            .then_some(())
            .ok_or(format!("{:?}", accts(&got)))
    })
    .await;
}

/// A member deletes their account: followers' instances forget the account
/// and its posts; the actor answers 410; the key of the remaining instance
/// stays the same across a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_deletion_reaches_followers_and_keys_survive_restarts() {
    let (a, mut b) = tokio::join!(Instance::start("a"), Instance::start("b"));
    let (alice, bob) = tokio::join!(a.create_user("alice"), b.create_user("bob"));
    let (alice_a, bob_b) = (a.api(&alice), b.api(&bob));
    follow_and_wait(&bob_b, &alice).await;
    let m = marker("farewell-");
    alice_a.post_status(&m, Visibility::Public).await;
    wait_home(&bob_b, &m, "bob").await;

    // Keys are made once: the actor document is the same after a restart.
    let fetch_key = |inst: &Instance, user: &User| {
        let url = inst.url(&format!("/users/{}", user.username));
        async move {
            let doc: Value = reqwest::Client::new()
                .get(url)
                .header("accept", "application/activity+json")
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            doc["publicKey"]["publicKeyPem"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
    };
    let before = fetch_key(&b, &bob).await;
    assert!(before.contains("BEGIN PUBLIC KEY"));
    b.restart().await;
    assert_eq!(
        fetch_key(&b, &bob).await,
        before,
        "key changed across a restart"
    );

    // Alice deletes her account in the web UI.
    let web = a.web_login(&alice).await;
    let token = a.web_csrf(&web, "/settings/account").await;
    let r = web
        .post(a.url("/settings/delete"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("confirm_username", "alice"),
            ("password", federation_tests::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "account deletion");
    let gone = reqwest::Client::new()
        .get(a.url("/users/alice"))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::GONE);

    let bob_b = b.api(&bob);
    wait_for("B forgets alice and her posts", async || {
        let home = bob_b.home().await;
        let still = with_content(&home, &m).len();
        let lookup = bob_b
            .request(
                reqwest::Method::GET,
                "/api/v1/accounts/lookup",
                &[("acct", alice.acct.as_str())],
                None,
            )
            .await;
        (still == 0 && lookup.status == StatusCode::NOT_FOUND)
            .then_some(())
            .ok_or(format!("{still} posts left, lookup {}", lookup.status))
    })
    .await;
}

/// A block ends the follow both ways on both instances, and the blocked
/// account cannot follow again; unblocking allows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_end_follows_across_instances() {
    let (a, b) = tokio::join!(Instance::start("a"), Instance::start("b"));
    let (alice, bob) = tokio::join!(a.create_user("alice"), b.create_user("bob"));
    let (alice_a, bob_b) = (a.api(&alice), b.api(&bob));
    follow_and_wait(&bob_b, &alice).await;
    let bob_on_a = alice_a.resolve_account(&bob.acct).await;
    let bob_id = bob_on_a["id"].as_str().unwrap().to_string();
    let rel = alice_a.block(&bob_id).await;
    assert_eq!(rel["blocking"], true);
    assert_eq!(rel["followed_by"], false);
    let alice_on_b = bob_b.resolve_account(&alice.acct).await;
    let alice_id = alice_on_b["id"].as_str().unwrap().to_string();
    wait_for("B learns that bob no longer follows alice", async || {
        let r = bob_b.relationship(&alice_id).await;
        (r["following"] == false && r["requested"] == false)
            .then_some(())
            .ok_or(r.to_string())
    })
    .await;
    // While the block stands B itself refuses the follow, as Mastodon does.
    let refused = bob_b
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/accounts/{alice_id}/follow"),
            &[],
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    settle().await;
    assert!(accts(&alice_a.followers(&alice.id).await).is_empty());
    // After the Undo of the block reaches B, bob may follow again.
    alice_a.unblock(&bob_id).await;
    wait_for("bob can follow alice again", async || {
        let r = bob_b
            .request(
                reqwest::Method::POST,
                &format!("/api/v1/accounts/{alice_id}/follow"),
                &[],
                None,
            )
            .await;
        r.status.is_success().then_some(()).ok_or(r.text)
    })
    .await;
    wait_for("alice is followed by bob again", async || {
        let got = accts(&alice_a.followers(&alice.id).await);
        (got == vec![bob.acct.clone()])
            .then_some(())
            .ok_or(format!("{got:?}"))
    })
    .await;
}
