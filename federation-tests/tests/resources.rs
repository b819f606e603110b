//! Teaching resources across instances: a public resource published on A
//! reaches B's library with its licence and attribution (files linked at A,
//! not copied), an edit arrives as a new revision, a delete removes it, a
//! Mastodon-like peer gets a readable `Page`, and a members-only resource
//! never leaves A. In a group with a member on B, the group's public
//! resources reach that member and its members-only ones stay on A.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use federation_tests::{
    Api, Instance, User, marker,
    peer::{Peer, PeerUser},
    settle, str_field, wait_for,
};
use reqwest::{
    StatusCode,
    multipart::{Form, Part},
};
use serde_json::{Value, json};

const BASE: &str = "/api/v1/staffroom/resources";
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn follow_and_wait(follower: &Api, target: &User) {
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
}

async fn peer_follow(peer: &Peer, who: &PeerUser, target: &User) {
    let follow = peer.send_follow(who, &target.actor_id).await;
    follow.assert_accepted();
    peer.wait_for_activity("Accept", |r| r.object_id() == follow.id())
        .await;
}

/// Send a multipart form as `user` to their own instance.
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
        .text(
            "description",
            "Three worksheets on fractions, with solutions.\n\nFor year 7.",
        )
        .text("licence", "CC-BY-4.0")
        .text("attribution", "Maths team, Collège Jean Moulin")
        .text("authors", "Alice Martin")
        .text("subjects", "mathematics")
        .text("levels", "isced-2")
        .text("tags", "worksheets")
        .text("languages", "fr")
        .text("visibility", visibility.to_string())
        .text("publish", "true")
        .part(
            "files",
            Part::bytes(PDF.to_vec())
                .file_name("fractions.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        )
}

async fn library(api: &Api, query: &[(&str, &str)]) -> Vec<Value> {
    api.list(BASE, query).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_reach_libraries_and_mastodon() {
    let (a, b, peer) = tokio::join!(Instance::start("a"), Instance::start("b"), Peer::start());
    let alice = a.create_user("alice").await;
    let bob = b.create_user("bob").await;
    let pat = peer.add_user("pat").await;
    let bob_b = b.api(&bob);
    follow_and_wait(&bob_b, &alice).await;
    peer_follow(&peer, &pat, &alice).await;

    // Published on A: B's library has it, with licence and attribution.
    let title = marker("Fractions");
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
    let on_b = wait_for("B's library lists the resource", async || {
        library(&bob_b, &[("q", &title)])
            .await
            .into_iter()
            .next()
            .ok_or_else(|| "not yet".to_string())
    })
    .await;
    assert_eq!(on_b["uri"], uri.as_str());
    assert_eq!(on_b["licence"]["id"], "CC-BY-4.0");
    assert_eq!(
        on_b["licence"]["url"],
        "https://creativecommons.org/licenses/by/4.0/"
    );
    assert_eq!(on_b["attribution"], "Maths team, Collège Jean Moulin");
    assert_eq!(on_b["authors"][0], "Alice Martin");
    assert_eq!(on_b["subjects"][0], "mathematics");
    assert_eq!(on_b["levels"][0], "isced-2");
    assert_eq!(
        on_b["tags"],
        json!(["worksheets"]),
        "free tags travel; subjects and levels stay what they are"
    );
    assert_eq!(on_b["local"], false);
    assert_eq!(on_b["origin"], a.domain());
    assert_eq!(on_b["owner"]["acct"], alice.acct.as_str());
    assert!(
        on_b["description"]
            .as_str()
            .unwrap()
            .contains("Three worksheets")
    );
    let file_url = on_b["files"][0]["url"].as_str().unwrap();
    assert!(
        file_url.starts_with(&a.url("/files/")),
        "linked at A: {file_url}"
    );
    assert_eq!(on_b["files"][0]["content_type"], "application/pdf");
    let from_a = library(
        &bob_b,
        &[("instance", &a.domain()), ("subject", "mathematics")],
    )
    .await;
    assert_eq!(from_a.len(), 1);
    let id_b = str_field(&on_b, "id").to_string();

    // The peer got a Page that reads well in Mastodon.
    let create = peer
        .wait_for_activity("Create", |r| r.object_id() == uri)
        .await;
    let page = create.object();
    assert_eq!(page["type"], "Page");
    assert_eq!(page["name"], title.as_str());
    // Mastodon builds the status of a Page from name, summary and url only.
    let summary = str_field(page, "summary");
    assert!(
        summary.contains("Three worksheets on fractions"),
        "the description's first line is what Mastodon shows: {summary}"
    );
    assert!(
        summary.contains(r#"href="https://creativecommons.org/licenses/by/4.0/""#),
        "the licence, linked: {summary}"
    );
    assert!(
        summary.contains("Maths team, Collège Jean Moulin"),
        "the attribution: {summary}"
    );
    assert!(
        !summary.contains(&title),
        "the title is the name: {summary}"
    );
    let content = str_field(page, "content");
    assert!(content.contains(&title), "{content}");
    assert!(
        content.contains("Three worksheets on fractions"),
        "{content}"
    );
    assert!(
        content.contains("https://creativecommons.org/licenses/by/4.0/"),
        "{content}"
    );
    assert!(
        content.contains(&a.url(&format!("/resources/{id_a}"))),
        "{content}"
    );
    assert_eq!(
        page["license"],
        "https://creativecommons.org/licenses/by/4.0/"
    );
    assert_eq!(page["url"], a.url(&format!("/resources/{id_a}")));
    assert_eq!(page["attributedTo"], alice.actor_id.as_str());
    let doc = &page["attachment"][0];
    assert_eq!(doc["type"], "Document");
    assert_eq!(doc["mediaType"], "application/pdf");
    assert_eq!(doc["size"], PDF.len());
    assert!(
        page["tag"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["type"] == "Hashtag" && t["name"] == "#mathematics")
    );
    assert!(page["published"].is_string() && page["updated"].is_string());
    // Its page answers in ActivityPub too, and the file is a file.
    let fetched = peer.fetch(&uri).await.unwrap();
    assert_eq!(fetched["type"], "Page");
    let file = reqwest::Client::new()
        .get(file_url)
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(file.headers()["content-type"], "application/pdf");

    // An edit on A is a new revision on B.
    let new_title = marker("Fractions, revised");
    multipart(
        &a,
        &alice,
        reqwest::Method::PATCH,
        &format!("{BASE}/{id_a}"),
        Form::new().text("title", new_title.clone()),
    )
    .await;
    wait_for("B shows the new revision", async || {
        let r = bob_b.get(&format!("{BASE}/{id_b}")).await;
        if r["title"] == new_title.as_str() && r["revision"] == 2 {
            Ok(())
        } else {
            Err(r.to_string())
        }
    })
    .await;
    let revisions = bob_b.list(&format!("{BASE}/{id_b}/revisions"), &[]).await;
    assert_eq!(revisions.len(), 2);
    let diff = bob_b.get(&format!("{BASE}/{id_b}/diff")).await;
    assert_eq!(diff["fields"][0]["field"], "title", "{diff}");
    // The file did not change: the diff on B says so, as it does on A.
    assert_eq!(diff["files"], serde_json::json!([]), "{diff}");
    let on_a = a.api(&alice).get(&format!("{BASE}/{id_a}/diff")).await;
    assert_eq!(on_a["files"], serde_json::json!([]), "{on_a}");
    let files_b = bob_b.get(&format!("{BASE}/{id_b}")).await["files"].clone();
    assert_eq!(files_b.as_array().map(Vec::len), Some(1), "{files_b}");
    peer.wait_for_activity("Update", |r| r.object_id() == uri)
        .await;

    // Members only: never leaves A.
    let private_title = marker("Staff room only");
    multipart(
        &a,
        &alice,
        reqwest::Method::POST,
        BASE,
        resource(&private_title, "instance"),
    )
    .await;

    // Withdrawn on A (members only now): gone from B; public again: back.
    multipart(
        &a,
        &alice,
        reqwest::Method::PATCH,
        &format!("{BASE}/{id_a}"),
        Form::new().text("visibility", "instance"),
    )
    .await;
    wait_for("B no longer lists the withdrawn resource", async || {
        let r = bob_b.try_get(&format!("{BASE}/{id_b}")).await;
        if r.status == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(r.status.to_string())
        }
    })
    .await;
    multipart(
        &a,
        &alice,
        reqwest::Method::PATCH,
        &format!("{BASE}/{id_a}"),
        Form::new().text("visibility", "public"),
    )
    .await;
    wait_for("B has the republished resource again", async || {
        let r = bob_b.try_get(&format!("{BASE}/{id_b}")).await;
        if r.status == StatusCode::OK && r.body["title"] == new_title.as_str() {
            Ok(())
        } else {
            Err(format!("{} {}", r.status, r.text))
        }
    })
    .await;
    assert_eq!(library(&bob_b, &[("q", &new_title)]).await.len(), 1);

    // Deleted on A: gone from B.
    let r = reqwest::Client::new()
        .delete(a.url(&format!("{BASE}/{id_a}")))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    wait_for("B no longer has the resource", async || {
        let r = bob_b.try_get(&format!("{BASE}/{id_b}")).await;
        if r.status == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(r.status.to_string())
        }
    })
    .await;
    assert!(library(&bob_b, &[("q", &new_title)]).await.is_empty());
    peer.wait_for_activity("Delete", |r| r.object_id() == uri)
        .await;

    settle().await;
    assert!(library(&bob_b, &[("q", &private_title)]).await.is_empty());
    assert!(
        !peer
            .received()
            .iter()
            .any(|r| r.body.contains(&private_title)),
        "a members-only resource reached the peer"
    );
}

/// In a group with a member on B: a public resource shared in the group
/// reaches B's member through the group; one for the group's members only
/// never leaves A, not to the member on B nor to a Mastodon follower, and A
/// does not hand it out to a signed fetch either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_only_resources_stay_on_their_instance() {
    let (a, b, peer) = tokio::join!(Instance::start("a"), Instance::start("b"), Peer::start());
    let olga = a.create_user("olga").await;
    let bea = b.create_user("bea").await;
    let pat = peer.add_user("pat").await;
    let (olga_a, bea_b) = (a.api(&olga), b.api(&bea));
    peer_follow(&peer, &pat, &olga).await;
    let group = olga_a
        .post(
            "/api/v1/staffroom/groups",
            &json!({ "username": "science", "display_name": "Science teachers" }),
        )
        .await;
    let group_a = str_field(&group, "id").to_string();
    let group_b = bea_b
        .account_id_of(&format!("science@{}", a.domain()))
        .await;
    bea_b.follow(&group_b).await;
    wait_for("bea is a member of the group", async || {
        let r = bea_b.relationship(&group_b).await;
        (r["following"] == true)
            .then_some(())
            .ok_or_else(|| r.to_string())
    })
    .await;

    let shared = marker("Circuits lab");
    let public = multipart(
        &a,
        &olga,
        reqwest::Method::POST,
        BASE,
        resource(&shared, "public").text("group_id", group_a.clone()),
    )
    .await;
    wait_for("B's library has the group's public resource", async || {
        library(&bea_b, &[("q", &shared)])
            .await
            .into_iter()
            .next()
            .ok_or_else(|| "not yet".to_string())
    })
    .await;

    let private = marker("Internal marking scheme");
    let created = multipart(
        &a,
        &olga,
        reqwest::Method::POST,
        BASE,
        resource(&private, "group").text("group_id", group_a.clone()),
    )
    .await;
    assert_eq!(created["visibility"], "group", "{created}");
    let uri = str_field(&created, "uri").to_string();
    // Olga sees it at home; a later public resource overtakes it on the way.
    assert_eq!(library(&olga_a, &[("q", &private)]).await.len(), 1);
    let later = marker("Open lab day");
    multipart(
        &a,
        &olga,
        reqwest::Method::POST,
        BASE,
        resource(&later, "public").text("group_id", group_a.clone()),
    )
    .await;
    wait_for("B has the later public resource", async || {
        library(&bea_b, &[("q", &later)])
            .await
            .into_iter()
            .next()
            .ok_or_else(|| "not yet".to_string())
    })
    .await;
    settle().await;
    assert!(library(&bea_b, &[("q", &private)]).await.is_empty());
    assert!(
        !peer.received().iter().any(|r| r.body.contains(&private)),
        "a group-only resource reached the peer"
    );
    let public_uri = str_field(&public, "uri").to_string();
    assert!(
        peer.fetch(&public_uri).await.is_ok(),
        "the public one is fetchable"
    );
    assert!(
        peer.fetch(&uri).await.is_err(),
        "A hands a group-only resource to a signed fetch"
    );
}
