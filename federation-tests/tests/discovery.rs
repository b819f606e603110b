//! Discovery seen from another server: host-meta leads to WebFinger, which
//! leads to a member's Person and to the instance actor (FEP-d556); NodeInfo
//! is found through its well-known document, names the software and links
//! the instance actor (FEP-2677); the actor documents come back on a signed
//! fetch and their keys are the ones that sign what the instance sends. A
//! delivery whose signature says `algorithm="hs2019"` is accepted as Pleroma,
//! Akkoma and GoToSocial send it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use federation_tests::{
    Instance, marker,
    peer::{Peer, Tamper},
    wait_for,
};
use serde_json::{Value, json};

async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    let resp = http
        .get(url)
        .header("accept", "application/jrd+json, application/json")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "GET {url}: {}", resp.status());
    resp.json().await.unwrap()
}

fn link<'a>(jrd: &'a Value, rel: &str) -> &'a str {
    jrd["links"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["rel"] == rel))
        .and_then(|l| l["href"].as_str())
        .unwrap_or_else(|| panic!("no {rel} link in {jrd}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_discovers_the_instance_and_its_members() {
    let (mut a, peer) = tokio::join!(Instance::start("a"), Peer::start());
    let alice = a.create_user("alice").await;
    let domain = a.domain();
    let http = reqwest::Client::new();

    // host-meta gives the WebFinger template, as older servers look it up.
    let xml = http
        .get(a.url("/.well-known/host-meta"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = xml.find("template=\"").expect("lrdd template") + "template=\"".len();
    let template = &xml[start..start + xml[start..].find('"').unwrap()];
    assert!(template.contains("{uri}"), "{xml}");

    let wf = get_json(
        &http,
        &template.replace("{uri}", &format!("acct:alice@{domain}")),
    )
    .await;
    assert_eq!(wf["subject"], format!("acct:alice@{domain}"));
    let self_link = wf["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "self")
        .unwrap();
    assert_eq!(self_link["type"], "application/activity+json");
    assert_eq!(self_link["href"], alice.actor_id.as_str());

    let person = peer.fetch(&alice.actor_id).await.unwrap();
    assert_eq!(person["type"], "Person");
    assert_eq!(person["preferredUsername"], "alice");
    assert_eq!(person["publicKey"]["owner"], alice.actor_id.as_str());

    // The server itself: by WebFinger, in both FEP-d556 spellings.
    let by_acct = get_json(
        &http,
        &template.replace("{uri}", &format!("acct:{domain}@{domain}")),
    )
    .await;
    let by_url = get_json(
        &http,
        &a.url(&format!(
            "/.well-known/webfinger?resource={}",
            url::form_urlencoded::byte_serialize(a.url("/").as_bytes()).collect::<String>()
        )),
    )
    .await;
    let instance_actor = link(&by_acct, "self").to_string();
    assert_eq!(link(&by_url, "self"), instance_actor);
    assert_eq!(
        link(
            &by_acct,
            "https://www.w3.org/ns/activitystreams#Application"
        ),
        instance_actor
    );

    // NodeInfo: found, counting members without naming them, and pointing
    // to the same instance actor.
    let well_known = get_json(&http, &a.url("/.well-known/nodeinfo")).await;
    assert_eq!(
        link(
            &well_known,
            "https://www.w3.org/ns/activitystreams#Application"
        ),
        instance_actor
    );
    let nodeinfo_url = link(
        &well_known,
        "http://nodeinfo.diaspora.software/ns/schema/2.1",
    );
    let nodeinfo = get_json(&http, nodeinfo_url).await;
    assert_eq!(nodeinfo["version"], "2.1");
    assert_eq!(nodeinfo["software"]["name"], "staffroom");
    assert_eq!(nodeinfo["protocols"], json!(["activitypub"]));
    assert!(
        nodeinfo["usage"]["users"]["total"].as_u64().unwrap() >= 1,
        "{nodeinfo}"
    );
    assert!(!nodeinfo.to_string().contains("alice"), "{nodeinfo}");

    // The instance actor is an Application with a key and an inbox.
    let app = peer.fetch(&instance_actor).await.unwrap();
    assert_eq!(app["type"], "Application");
    assert_eq!(app["id"], instance_actor.as_str());
    assert_eq!(app["publicKey"]["owner"], instance_actor.as_str());
    assert!(
        app["publicKey"]["publicKeyPem"]
            .as_str()
            .is_some_and(|k| k.contains("BEGIN PUBLIC KEY")),
        "{app}"
    );
    assert!(
        app["inbox"].as_str().is_some_and(|i| !i.is_empty()),
        "{app}"
    );

    // Its key is stable: the same after a restart.
    let pem = app["publicKey"]["publicKeyPem"].clone();
    a.restart().await;
    let again = peer.fetch(&instance_actor).await.unwrap();
    assert_eq!(again["publicKey"]["publicKeyPem"], pem);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hs2019_labelled_signatures_are_accepted() {
    let (a, peer) = tokio::join!(Instance::start("a"), Peer::start());
    let alice = a.create_user("alice").await;
    let pat = peer.add_user("pat").await;
    let follow = peer.activity(
        &pat,
        "Follow",
        format!("{}#follows/{}", pat.actor_id, marker("hs")),
        json!(alice.actor_id),
    );
    let inbox = format!("{}/inbox", alice.actor_id);
    let sent = peer
        .send_tampered(&pat, &inbox, &follow, Tamper::Hs2019)
        .await;
    sent.assert_accepted();
    assert!(
        sent.request
            .headers
            .get("signature")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|s| s.contains(r#"algorithm="hs2019""#)),
        "{:?}",
        sent.request.headers
    );
    let alice_a = a.api(&alice);
    wait_for("pat follows alice", async || {
        let followers = alice_a.followers(&alice.id).await;
        if followers.iter().any(|f| f["acct"] == pat.acct.as_str()) {
            Ok(())
        } else {
            Err(format!("{followers:?}"))
        }
    })
    .await;
}
