//! A profile's outbox as other servers walk it: `totalItems` counts every
//! public post (not one page's worth), `first` and `next` page back through
//! all of them, and `last` (`min_id=0`) is the oldest page, newest first
//! like the others, with `prev` leading back up. Unlisted posts stay out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestApp};
use serde_json::{Value, json};
use staffroom::domain::accounts::Role;
use std::collections::BTreeSet;

async fn get(app: &TestApp, url: &str) -> Value {
    let r = app
        .api()
        .get(url)
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{url}");
    r.json().await.unwrap()
}

fn contents(page: &Value) -> Vec<String> {
    page["orderedItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["object"]["content"].as_str().unwrap().trim().to_string())
        .collect()
}

async fn outbox_pages_through_everything(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let writer = app.member("writer", Role::Member).await;
    let token = app.token(&writer).await;
    const PUBLIC: usize = 45;
    for i in 0..PUBLIC {
        let visibility = "public";
        let r = app
            .api()
            .post(app.url("/api/v1/statuses"))
            .bearer_auth(&token)
            .json(&json!({ "status": format!("post-{i:02}"), "visibility": visibility }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        if i % 20 == 0 {
            let r = app
                .api()
                .post(app.url("/api/v1/statuses"))
                .bearer_auth(&token)
                .json(&json!({ "status": format!("quiet-{i:02}"), "visibility": "unlisted" }))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
        }
    }
    let outbox = get(&app, &app.url("/users/writer/outbox")).await;
    assert_eq!(outbox["type"], "OrderedCollection");
    assert_eq!(outbox["totalItems"], PUBLIC, "{outbox}");

    // Walk first → next → ... : every public post once, newest first.
    let mut seen = Vec::new();
    let mut url = outbox["first"].as_str().unwrap().to_string();
    let mut pages = 0;
    loop {
        let page = get(&app, &url).await;
        assert_eq!(page["type"], "OrderedCollectionPage");
        seen.extend(contents(&page));
        pages += 1;
        match page["next"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
        assert!(pages < 10, "next never ends");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), PUBLIC);
    let expected: Vec<String> = (0..PUBLIC)
        .rev()
        .map(|i| format!("<p>post-{i:02}</p>"))
        .collect();
    assert_eq!(seen, expected);
    assert!(seen.iter().all(|c| !c.contains("quiet")));

    // The last page holds the oldest twenty, newest first, and leads up.
    let last = get(&app, outbox["last"].as_str().unwrap()).await;
    let oldest = contents(&last);
    assert_eq!(oldest, expected[PUBLIC - 20..].to_vec(), "{last}");
    assert!(last["next"].is_null(), "{last}");
    let prev = get(&app, last["prev"].as_str().unwrap()).await;
    let newer = contents(&prev);
    assert_eq!(newer, expected[PUBLIC - 40..PUBLIC - 20].to_vec());
    let all: BTreeSet<_> = oldest.iter().chain(newer.iter()).collect();
    assert_eq!(all.len(), 40);
    app.stop().await;
}
db_test!(outbox_pages_through_everything);
