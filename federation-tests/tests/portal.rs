//! Trust between instances (`federation.mode`): a Staffroom instance that
//! blocks a domain, one that federates only with an allowlist, and one that
//! trusts only the members a national portal lists. The portal here is a
//! Mastodon-like peer serving a portal actor and its `members` collection,
//! so the test controls the list and can change it mid-test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use federation_tests::{Instance, User, peer::Peer, wait_until};
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

/// One Follow from `peer`'s user `who` to `target`; the inbox's answer.
async fn follow_status(peer: &Peer, who: &str, target: &User) -> StatusCode {
    let user = peer.user(who);
    let sent = peer.send_follow(&user, &target.actor_id).await;
    assert_eq!(sent.deliveries.len(), 1, "one delivery to {}", target.acct);
    sent.deliveries[0].status
}

/// Sends Follows (each a new activity) until one gets `want`, for at most
/// 30 s: a changed portal list reaches the instance after a short delay.
async fn follow_until(peer: &Peer, who: &str, target: &User, want: StatusCode) {
    let start = Instant::now();
    loop {
        let got = follow_status(peer, who, target).await;
        if got == want {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "a Follow from {who}@{} still answered {got}, not {want}",
            peer.domain()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Does `instance` know the peer user, or can it fetch it (a search with
/// `resolve=true`: the stored copy, else WebFinger and the actor)?
async fn knows(instance: &Instance, user: &User, acct: &str) -> bool {
    instance.api(user).try_resolve_account(acct).await.is_some()
}

#[tokio::test]
async fn open_mode_refuses_blocked_domains_with_403_and_stores_nothing() {
    let blocked = Peer::start().await;
    blocked.add_user("spammer").await;
    let friendly = Peer::start().await;
    friendly.add_user("friend").await;
    let a = Instance::builder("a")
        .env(
            "STAFFROOM__FEDERATION__BLOCKED_DOMAINS",
            format!("[\"{}\"]", blocked.domain()),
        )
        .start()
        .await;
    let bob = a.create_user("bob").await;

    assert_eq!(
        follow_status(&blocked, "spammer", &bob).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        follow_status(&friendly, "friend", &bob).await,
        StatusCode::ACCEPTED
    );
    // Neither the refused Follow nor a search fetched the blocked actor.
    assert!(!knows(&a, &bob, &format!("spammer@{}", blocked.domain())).await);
    assert!(knows(&a, &bob, &format!("friend@{}", friendly.domain())).await);
    // The accepted Follow is processed after the 202; the refused one never.
    let want = vec![format!("friend@{}", friendly.domain())];
    wait_until(
        Duration::from_secs(30),
        "bob's followers are exactly the friend",
        async || {
            let followers = a.api(&bob).followers(&bob.id).await;
            let accts: Vec<String> = followers
                .iter()
                .filter_map(|f| f["acct"].as_str().map(String::from))
                .collect();
            if accts == want {
                Ok(())
            } else {
                Err(format!("{accts:?}"))
            }
        },
    )
    .await;
    let log = std::fs::read_to_string(a.log_path()).unwrap();
    assert!(log.contains("activity refused by federation.mode"), "{log}");
}

#[tokio::test]
async fn allowlist_mode_accepts_only_listed_domains() {
    let listed = Peer::start().await;
    listed.add_user("friend").await;
    let stranger = Peer::start().await;
    stranger.add_user("stranger").await;
    let a = Instance::builder("a")
        .env("STAFFROOM__FEDERATION__MODE", "allowlist")
        .env(
            "STAFFROOM__FEDERATION__ALLOWED_DOMAINS",
            format!("[\"{}\"]", listed.domain()),
        )
        .start()
        .await;
    let bob = a.create_user("bob").await;

    assert_eq!(
        follow_status(&listed, "friend", &bob).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        follow_status(&stranger, "stranger", &bob).await,
        StatusCode::FORBIDDEN
    );
    assert!(!knows(&a, &bob, &format!("stranger@{}", stranger.domain())).await);
}

#[tokio::test]
async fn portal_mode_trusts_exactly_the_members_the_portal_lists() {
    let portal = Peer::start().await;
    let members_url = format!("{}/portal/members", portal.base_url());
    portal
        .add_actor("portal", "Group", json!({ "members": members_url }))
        .await;
    let set_members = |hosts: &[&Peer]| {
        let items: Vec<String> = hosts
            .iter()
            .map(|p| format!("{}/actor", p.base_url()))
            .collect();
        portal.serve(json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": members_url,
            "type": "OrderedCollection",
            "totalItems": items.len(),
            "orderedItems": items,
        }));
    };
    set_members(&[]);
    let member = Peer::start().await;
    member.add_user("teacher").await;
    let a = Instance::builder("a")
        .env("STAFFROOM__FEDERATION__MODE", "portal")
        .env(
            "STAFFROOM__FEDERATION__PORTAL",
            format!("@portal@{}", portal.domain()),
        )
        .env("STAFFROOM__FEDERATION__PORTAL_REFRESH_SECS", "3600")
        .start()
        .await;
    let bob = a.create_user("bob").await;

    // Not (yet) a member: refused, and nothing about it is stored.
    assert_eq!(
        follow_status(&member, "teacher", &bob).await,
        StatusCode::FORBIDDEN
    );
    assert!(!knows(&a, &bob, &format!("teacher@{}", member.domain())).await);
    // The portal itself is always trusted.
    portal.add_user("editor").await;
    assert_eq!(
        follow_status(&portal, "editor", &bob).await,
        StatusCode::ACCEPTED
    );

    // It joins: the refused knock makes the instance read the list again
    // (long before the hour of portal_refresh_secs).
    set_members(&[&member]);
    follow_until(&member, "teacher", &bob, StatusCode::ACCEPTED).await;
    wait_until(
        Duration::from_secs(30),
        "the member's follow is recorded",
        async || {
            let followers = a.api(&bob).followers(&bob.id).await;
            followers
                .iter()
                .any(|f| f["acct"] == format!("teacher@{}", member.domain()))
        },
    )
    .await;

    // Suspended by the portal: refused again once the list is read again.
    set_members(&[]);
    let knock = Peer::start().await;
    knock.add_user("k").await;
    let start = Instant::now();
    loop {
        // Knocks from strangers trigger a re-read; the member's own
        // activities are trusted until then, so a third party knocks.
        assert_eq!(
            follow_status(&knock, "k", &bob).await,
            StatusCode::FORBIDDEN
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        if follow_status(&member, "teacher", &bob).await == StatusCode::FORBIDDEN {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the suspended member is still trusted"
        );
    }
}

/// The actor ids in a portal's `members` collection.
async fn portal_members(portal: &Instance) -> Vec<String> {
    let doc: serde_json::Value = reqwest::Client::new()
        .get(portal.url("/portal/members"))
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    doc["orderedItems"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// `metadata.staffroom` of an instance's NodeInfo 2.1.
async fn nodeinfo_staffroom(instance: &Instance) -> serde_json::Value {
    let doc: serde_json::Value = reqwest::Client::new()
        .get(instance.url("/nodeinfo/2.1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    doc["metadata"]["staffroom"].clone()
}

/// `follower` (on B) follows `target` (on A); true when A accepted.
async fn follow_accepted(b: &Instance, follower: &User, target: &User) -> bool {
    let api = b.api(follower);
    let id = api.account_id_of(&target.acct).await;
    api.follow(&id).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if api.relationship(&id).await["following"] == true {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// Occurrences of a refused activity from `host` in `instance`'s log.
fn refusals_from(instance: &Instance, host: &str) -> usize {
    std::fs::read_to_string(instance.log_path())
        .unwrap()
        .lines()
        .filter(|l| l.contains("activity refused by federation.mode") && l.contains(host))
        .count()
}

/// Longest time an instance in portal mode takes to see a changed list
/// (portal_refresh_secs = 1, but never more often than every 5 s), with a
/// margin for a loaded machine: a refused Follow is not retried.
const LIST_DELAY: Duration = Duration::from_secs(12);

#[tokio::test]
async fn instances_join_and_leave_a_staffroom_portal() {
    let p = Instance::builder("portal")
        .env("STAFFROOM__INSTANCE__ROLE", "portal")
        .start()
        .await;
    let a = Instance::builder("a")
        .env("STAFFROOM__FEDERATION__MODE", "portal")
        .env(
            "STAFFROOM__FEDERATION__PORTAL",
            format!("@portal@{}", p.domain()),
        )
        .env("STAFFROOM__FEDERATION__PORTAL_REFRESH_SECS", "1")
        .start()
        .await;
    let b = Instance::start("b").await;
    let alice = a.create_user("alice").await;

    // The portal actor is found by WebFinger and lists nobody yet.
    let doc: serde_json::Value = reqwest::Client::new()
        .get(p.url("/portal"))
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["type"], "Application");
    assert_eq!(doc["members"], p.url("/portal/members"));
    assert!(portal_members(&p).await.is_empty());

    // B is not a member: A refuses its activities.
    let bob1 = b.create_user("bob1").await;
    assert!(!follow_accepted(&b, &bob1, &alice).await);
    assert!(refusals_from(&a, &b.domain()) >= 1);

    // B applies; approving before the application arrived fails, then works.
    let asked = b
        .admin(&[
            "portal",
            "join",
            "--portal",
            &format!("@portal@{}", p.domain()),
        ])
        .await;
    assert!(asked.contains("asked"), "{asked}");
    let err = p
        .try_admin(&["portal", "approve", "--domain", "nowhere.example"])
        .await;
    assert!(err.unwrap_err().contains("no instance at nowhere.example"));
    wait_until(
        Duration::from_secs(30),
        "B's application reaches the portal",
        async || {
            p.try_admin(&["portal", "approve", "--domain", &b.domain()])
                .await
                .is_ok()
        },
    )
    .await;
    assert_eq!(portal_members(&p).await, vec![b.url("/actor")]);
    assert_eq!(nodeinfo_staffroom(&p).await["portalMembers"], 1);
    // B learns it was admitted (the Accept) and shows it.
    wait_until(
        Duration::from_secs(30),
        "B shows its membership",
        async || nodeinfo_staffroom(&b).await["portals"] == json!([p.url("/portal")]),
    )
    .await;
    assert_eq!(nodeinfo_staffroom(&a).await["federationMode"], "portal");

    // Once A has read the new list, B's activities are accepted.
    tokio::time::sleep(LIST_DELAY).await;
    let bob2 = b.create_user("bob2").await;
    assert!(follow_accepted(&b, &bob2, &alice).await);

    // B's admin leaves from the web admin page (Undo{Follow}) and comes back
    // the same way.
    let b_admin = b.create_user_with_role("bea", "admin").await;
    let web = b.web_login(&b_admin).await;
    let admin_page = async |web: &reqwest::Client| {
        web.get(b.url("/admin/portal"))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let page = admin_page(&web).await;
    assert!(
        page.contains(&format!("@portal@{}", p.domain())) && page.contains("Member"),
        "{page}"
    );
    let about = reqwest::get(b.url("/about"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        about.contains(&format!("@portal@{}", p.domain())),
        "{about}"
    );
    let web_post = async |web: &reqwest::Client, action: &str, fields: &[(&str, &str)]| {
        let token = b.web_csrf(web, "/admin/portal").await;
        let mut form = vec![("csrf_token", token.as_str())];
        form.extend_from_slice(fields);
        web.post(b.url(action))
            .header("accept", "text/html")
            .form(&form)
            .send()
            .await
            .unwrap()
    };
    let portal_actor_id = p.url("/portal");
    let r = web_post(&web, "/admin/portal/leave", &[("portal", &portal_actor_id)]).await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    wait_until(Duration::from_secs(30), "the portal drops B", async || {
        portal_members(&p).await.is_empty()
    })
    .await;
    assert_eq!(nodeinfo_staffroom(&b).await["portals"], json!([]));
    assert!(admin_page(&web).await.contains("has not joined"));
    // A handle that is not a portal is refused with a message.
    let r = web_post(&web, "/admin/portal/join", &[("portal", "not a handle")]).await;
    assert_eq!(r.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("like @portal@portal.example")
    );
    let handle = format!("@portal@{}", p.domain());
    let r = web_post(&web, "/admin/portal/join", &[("portal", &handle)]).await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    assert!(admin_page(&web).await.contains("Waiting for the portal"));
    wait_until(
        Duration::from_secs(30),
        "B's new application arrives",
        async || {
            p.try_admin(&["portal", "approve", "--domain", &b.domain()])
                .await
                .is_ok()
        },
    )
    .await;
    wait_until(Duration::from_secs(30), "B is a member again", async || {
        nodeinfo_staffroom(&b).await["portals"] == json!([p.url("/portal")])
    })
    .await;

    // Suspended: off the list, and refused again.
    p.admin(&["portal", "suspend", "--domain", &b.domain()])
        .await;
    assert!(portal_members(&p).await.is_empty());
    wait_until(
        Duration::from_secs(30),
        "B no longer shows a membership",
        async || nodeinfo_staffroom(&b).await["portals"] == json!([]),
    )
    .await;
    tokio::time::sleep(LIST_DELAY).await;
    let before = refusals_from(&a, &b.domain());
    let bob3 = b.create_user("bob3").await;
    assert!(!follow_accepted(&b, &bob3, &alice).await);
    assert!(refusals_from(&a, &b.domain()) > before);

    // The suspension holds: B's new application is refused at once (B sees
    // it is not a member and has no open application)...
    assert!(admin_page(&web).await.contains("has not joined"));
    let r = web_post(&web, "/admin/portal/join", &[("portal", &handle)]).await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    wait_until(
        Duration::from_secs(30),
        "the portal refuses B's application",
        async || admin_page(&web).await.contains("has not joined"),
    )
    .await;
    assert!(
        p.try_admin(&["portal", "approve", "--domain", &b.domain()])
            .await
            .is_err()
    );
    // ...until an admin lifts it: then B applies and is admitted again.
    let lifted = p
        .admin(&["portal", "lift-suspension", "--domain", &b.domain()])
        .await;
    assert!(lifted.contains("no longer suspended"), "{lifted}");
    let r = web_post(&web, "/admin/portal/join", &[("portal", &handle)]).await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    wait_until(
        Duration::from_secs(30),
        "B's application after the suspension",
        async || {
            p.try_admin(&["portal", "approve", "--domain", &b.domain()])
                .await
                .is_ok()
        },
    )
    .await;
    wait_until(
        Duration::from_secs(30),
        "B is a member once more",
        async || nodeinfo_staffroom(&b).await["portals"] == json!([p.url("/portal")]),
    )
    .await;
}
