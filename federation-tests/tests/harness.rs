//! Checks of the harness itself, against what the server already offers:
//! several instances side by side, accounts and tokens from the command line,
//! graceful stop, crash and restart on the same domain, and the fake Mastodon
//! peer verifying its own signatures (so that a refusal in a federation test
//! means the server's request was wrong, not the peer).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use federation_tests::{
    Instance,
    peer::{NoteSpec, PUBLIC, Peer, Tamper},
    str_field,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_with_accounts_and_tokens() {
    let (a, b, c) = tokio::join!(
        Instance::start("a"),
        Instance::start("b"),
        Instance::start("c")
    );
    let ports = [a.port(), b.port(), c.port()];
    assert!(
        ports[0] != ports[1] && ports[1] != ports[2] && ports[0] != ports[2],
        "{ports:?}"
    );
    assert_eq!(a.domain(), format!("localhost:{}", a.port()));
    let (alice, bob, carol) = tokio::join!(
        a.create_user("alice"),
        b.create_user("bob"),
        c.create_user("carol")
    );
    for (instance, user) in [(&a, &alice), (&b, &bob), (&c, &carol)] {
        let me = instance.api(user).verify_credentials().await;
        assert_eq!(me["username"], user.username);
        assert_eq!(me["acct"], user.username, "local accounts have a bare acct");
        assert_eq!(
            me["uri"],
            format!("{}/users/{}", instance.base_url(), user.username)
        );
        assert_eq!(user.actor_id, str_field(&me, "uri"));
        assert_eq!(
            user.acct,
            format!("{}@{}", user.username, instance.domain())
        );
        assert_eq!(me["id"], user.id);
        // The token is for this instance only.
        let other = if instance.port() == a.port() { &b } else { &a };
        let reply = other
            .api(user)
            .try_get("/api/v1/accounts/verify_credentials")
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    }
    let anon = a
        .anonymous()
        .try_get("/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_kill_and_restart_keep_domain_and_data() {
    let mut a = Instance::start("a").await;
    let alice = a.create_user("alice").await;
    let base = a.base_url();

    a.stop().await;
    assert!(!a.is_running());
    let down = reqwest::get(a.url("/healthz")).await;
    assert!(down.is_err(), "nothing should answer after a stop");

    a.restart().await;
    assert_eq!(a.base_url(), base);
    let me = a.api(&alice).verify_credentials().await;
    assert_eq!(me["id"], alice.id, "same database after a graceful restart");

    a.kill();
    assert!(!a.is_running());
    a.restart().await;
    let me = a.api(&alice).verify_credentials().await;
    assert_eq!(me["id"], alice.id, "same database after a crash");
    assert_eq!(me["uri"], alice.actor_id);

    let log = std::fs::read_to_string(a.log_path()).unwrap();
    assert_eq!(
        log.matches("=== federation-tests: starting a ===").count(),
        3
    );
    assert!(log.contains("=== federation-tests: killed ==="));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_serves_mastodon_shaped_documents() {
    let peer = Peer::start().await;
    let pat = peer.add_user("pat").await;
    assert_eq!(pat.actor_id, format!("{}/users/pat", peer.base_url()));
    let http = reqwest::Client::new();

    let jrd: Value = http
        .get(format!("{}/.well-known/webfinger", peer.base_url()))
        .query(&[("resource", format!("acct:{}", pat.acct))])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jrd["subject"], format!("acct:{}", pat.acct));
    let self_link = jrd["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "self")
        .unwrap();
    assert_eq!(self_link["href"], pat.actor_id);
    assert_eq!(self_link["type"], "application/activity+json");

    let resp = http
        .get(&pat.actor_id)
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["content-type"],
        "application/activity+json; charset=utf-8"
    );
    let actor: Value = resp.json().await.unwrap();
    assert_eq!(actor["type"], "Person");
    assert_eq!(actor["preferredUsername"], "pat");
    assert_eq!(actor["inbox"], pat.inbox);
    assert_eq!(actor["endpoints"]["sharedInbox"], peer.shared_inbox());
    assert_eq!(actor["publicKey"]["owner"], pat.actor_id);
    assert_eq!(
        actor["publicKey"]["id"],
        format!("{}#main-key", pat.actor_id)
    );
    assert!(
        actor["publicKey"]["publicKeyPem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    let followers: Value = http
        .get(format!("{}/followers", pat.actor_id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(followers["type"], "OrderedCollection");
    assert_eq!(followers["totalItems"], 0);
}

/// Two peers talk to each other: follow, automatic Accept, a note to
/// followers, and the signature checks the federation tests rely on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_verify_each_others_signatures() {
    let (one, two) = tokio::join!(Peer::start(), Peer::start());
    let ann = one.add_user("ann").await;
    let eve = one.add_user("eve").await;
    let ben = two.add_user("ben").await;

    let follow = one.send_follow(&ann, &ben.actor_id).await;
    follow.assert_accepted();
    assert_eq!(follow.deliveries[0].inbox, ben.inbox);
    let got = two
        .wait_for_activity("Follow", |r| r.id() == follow.id())
        .await;
    assert_eq!(got.actor, ann.actor_id);
    assert_eq!(got.key_id, format!("{}#main-key", ann.actor_id));
    assert_eq!(got.inbox, "/users/ben/inbox");
    let accept = one
        .wait_for_activity("Accept", |r| r.object_id() == follow.id())
        .await;
    assert_eq!(accept.actor, ben.actor_id);
    assert_eq!(one.following_of(&ann), vec![ben.actor_id.clone()]);
    assert_eq!(two.followers_of(&ben), vec![ann.actor_id.clone()]);
    assert!(two.auto_sent().iter().all(|d| d.status.is_success()));

    // A note to followers goes to the follower's shared inbox.
    let note = two
        .send_note(&ben, NoteSpec::public("hello followers"))
        .await;
    note.assert_accepted();
    assert_eq!(note.deliveries.len(), 1);
    assert_eq!(note.deliveries[0].inbox, one.shared_inbox());
    let create = one
        .wait_for_activity("Create", |r| r.object_id() == note.object_id())
        .await;
    assert_eq!(create.inbox, "/inbox");
    assert_eq!(create.object()["to"], json!([PUBLIC]));
    assert_eq!(create.object()["cc"], json!([ben.followers]));
    // ...and is served at its id.
    let fetched = one.fetch(note.object_id()).await.unwrap();
    assert!(str_field(&fetched, "content").contains("hello followers"));

    // Spoiled requests are refused with 401 and never recorded.
    let like = one.activity(
        &ann,
        "Like",
        format!("{}#likes/x1", ann.actor_id),
        json!(note.object_id()),
    );
    let mut evil = like.clone();
    evil["object"] = json!(format!("{}/statuses/1", ben.actor_id));
    let evil = serde_json::to_vec(&evil).unwrap();
    for tamper in [
        Tamper::ReplaceBody(evil.clone()),
        Tamper::ReplaceBodyAndDigest(evil),
        Tamper::StripSignature,
        Tamper::StripDigest,
    ] {
        let d = one
            .send_tampered(&ann, &ben.inbox, &like, tamper.clone())
            .await;
        assert_eq!(
            d.status,
            StatusCode::UNAUTHORIZED,
            "{tamper:?}: {}",
            d.response
        );
    }
    // Signed by ann, claiming to be eve: refused.
    let forged = one.activity(
        &eve,
        "Like",
        format!("{}#likes/x2", eve.actor_id),
        json!(note.object_id()),
    );
    let d = one.send_raw(&ann, &ben.inbox, &forged).await;
    assert_eq!(d.status, StatusCode::UNAUTHORIZED, "{}", d.response);
    assert_eq!(two.received_of_type("Like").len(), 0);
    assert_eq!(two.rejected().len(), 5, "{}", two.report());

    // The honest request, then a byte-exact replay: both pass the signature
    // check (the peer does not deduplicate; Staffroom must).
    let first = one.send_raw(&ann, &ben.inbox, &like).await;
    first.assert_accepted();
    let again = one.replay(&first).await;
    again.assert_accepted();
    assert_eq!(again.request.headers, first.request.headers);
    assert_eq!(two.received_of_type("Like").len(), 2);

    // Undo of the follow removes the follower.
    one.send_undo(&ann, &follow).await.assert_accepted();
    assert!(two.followers_of(&ben).is_empty());
}

/// Every kind of activity the peer can send, checked on another peer: the
/// shapes the federation tests rely on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_activities_have_mastodon_shapes() {
    let (one, two) = tokio::join!(Peer::start(), Peer::start());
    let ann = one.add_user("ann").await;
    let ben = two.add_user("ben").await;
    one.send_follow(&ann, &ben.actor_id).await.assert_accepted();
    two.send_follow(&ben, &ann.actor_id).await.assert_accepted();
    federation_tests::wait_for("both follows are accepted", async || {
        !one.following_of(&ann).is_empty() && !two.following_of(&ben).is_empty()
    })
    .await;

    let parent = two.send_note(&ben, NoteSpec::public("parent")).await;
    parent.assert_accepted();
    let parent_id = parent.object_id().to_string();
    let conversation = parent.activity["object"]["conversation"].clone();
    assert!(parent_id.starts_with(&format!("{}/statuses/", ben.actor_id)));
    assert_eq!(parent.id(), format!("{parent_id}/activity"));

    // A reply mentions the parent's author and joins its conversation.
    let reply = one
        .send_note(&ann, NoteSpec::public("a reply").reply_to(&parent_id))
        .await;
    reply.assert_accepted();
    let note = &reply.activity["object"];
    assert_eq!(note["inReplyTo"], parent_id);
    assert_eq!(note["inReplyToAtomUri"], parent_id);
    assert_eq!(note["conversation"], conversation);
    assert_eq!(note["to"], json!([PUBLIC]));
    assert_eq!(note["cc"], json!([ann.followers, ben.actor_id]));
    assert_eq!(
        note["tag"],
        json!([{ "type": "Mention", "href": ben.actor_id, "name": format!("@ben@{}", two.domain()) }])
    );
    assert!(str_field(note, "content").contains("class=\"u-url mention\""));
    // To the shared inbox once, although ben is both follower and mentioned.
    assert_eq!(reply.deliveries.len(), 1);
    let got = two
        .wait_for_activity("Create", |r| r.object_id() == reply.object_id())
        .await;
    assert_eq!(got.object()["inReplyTo"], parent_id);

    let like = one.send_like(&ann, &parent_id).await;
    like.assert_accepted();
    assert_eq!(like.deliveries[0].inbox, ben.inbox);
    assert_eq!(like.activity["object"], parent_id);
    let announce = one.send_announce(&ann, &parent_id).await;
    announce.assert_accepted();
    assert_eq!(
        announce.activity["cc"],
        json!([ben.actor_id, ann.followers])
    );
    let undo = one.send_undo(&ann, &like).await;
    undo.assert_accepted();
    let got = two
        .wait_for_activity("Undo", |r| r.object_id() == like.id())
        .await;
    assert_eq!(got.object()["type"], "Like");
    assert!(got.object().get("@context").is_none());

    let update = one
        .send_update_note(&ann, reply.object_id(), "an edited reply")
        .await;
    update.assert_accepted();
    let got = two
        .wait_for_activity("Update", |r| r.object_id() == reply.object_id())
        .await;
    assert!(str_field(got.object(), "content").contains("an edited reply"));
    assert!(got.object()["updated"].is_string());
    let served = two.fetch(reply.object_id()).await.unwrap();
    assert!(str_field(&served, "content").contains("an edited reply"));

    one.send_delete_note(&ann, reply.object_id())
        .await
        .assert_accepted();
    two.wait_for_activity("Delete", |r| r.object_id() == reply.object_id())
        .await;
    assert!(
        two.fetch(reply.object_id()).await.is_err(),
        "410 after delete"
    );

    // Direct: only the mentioned actor, at the personal inbox.
    let direct = one
        .send_note(
            &ann,
            NoteSpec::new("just for ben", federation_tests::Visibility::Direct)
                .mention(&ben.actor_id),
        )
        .await;
    direct.assert_accepted();
    assert_eq!(direct.deliveries.len(), 1);
    assert_eq!(direct.deliveries[0].inbox, ben.inbox);
    assert_eq!(direct.activity["object"]["to"], json!([ben.actor_id]));
    assert_eq!(direct.activity["object"]["cc"], json!([]));

    // Downtime simulation.
    two.refuse_inbox(Some(StatusCode::SERVICE_UNAVAILABLE));
    let d = one.send_raw(&ann, &ben.inbox, &like.activity).await;
    assert_eq!(d.status, StatusCode::SERVICE_UNAVAILABLE);
    two.refuse_inbox(None);
    assert!(
        one.send_raw(&ann, &ben.inbox, &like.activity)
            .await
            .status
            .is_success()
    );
}
