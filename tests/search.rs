//! Full-text search of posts through `/api/v2/search`, on SQLite (FTS5) and
//! PostgreSQL (`tsvector`): words match as prefixes, all required, whatever
//! their case (and accents on SQLite); titles and hashtags count; what the
//! searcher may not read, deleted posts and query syntax never come back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestApp};
use serde_json::{Value, json};
use staffroom::domain::accounts::Role;

async fn search(app: &TestApp, token: &str, q: &str) -> Vec<String> {
    let v: Value = app
        .api()
        .get(app.url("/api/v2/search"))
        .bearer_auth(token)
        .query(&[("q", q), ("type", "statuses")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["content"].as_str().unwrap().to_string())
        .collect()
}

async fn post(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app
        .api()
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

async fn full_text_search(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ann = app.member("ann", Role::Member).await;
    let ben = app.member("ben", Role::Member).await;
    let (ann_t, ben_t) = (app.token(&ann).await, app.token(&ben).await);

    post(
        &app,
        &ann_t,
        json!({ "status": "Worksheet on equivalent fractions for Year 7 #numeracy" }),
    )
    .await;
    post(
        &app,
        &ann_t,
        json!({ "status": "Photosynthesis lab notes" }),
    )
    .await;
    post(
        &app,
        &ann_t,
        json!({ "status": "Les élèves adorent la géométrie", "language": "fr" }),
    )
    .await;
    post(
        &app,
        &ann_t,
        json!({ "status": "Body text only", "title": "Assessment rubric for essays" }),
    )
    .await;
    let private = post(
        &app,
        &ann_t,
        json!({ "status": "Staff-room gossip about fractions", "visibility": "private" }),
    )
    .await;

    // Prefixes, all words required, case-insensitive.
    let hits = search(&app, &ben_t, "FRACT worksheet").await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(hits[0].contains("equivalent fractions"));
    assert!(
        search(&app, &ben_t, "fractions photosynthesis")
            .await
            .is_empty()
    );
    // Titles and hashtags are searched.
    assert_eq!(search(&app, &ben_t, "rubric").await.len(), 1);
    assert_eq!(search(&app, &ben_t, "numeracy").await.len(), 1);
    // Accented words.
    let geo = search(&app, &ben_t, "géométrie").await;
    assert_eq!(geo.len(), 1, "{geo:?}");
    // A followers-only post is found only by those who may read it.
    assert!(search(&app, &ben_t, "gossip").await.is_empty());
    assert_eq!(search(&app, &ann_t, "gossip").await.len(), 1);
    let ann_id = ann.actor.id.to_string();
    let r = app
        .api()
        .post(app.url(&format!("/api/v1/accounts/{ann_id}/follow")))
        .bearer_auth(&ben_t)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(search(&app, &ben_t, "gossip").await.len(), 1);
    // Query syntax is just words.
    for q in [
        "\"",
        "fract*",
        "NEAR(a b)",
        "a OR b",
        "-- ;",
        "fractions AND",
    ] {
        let r = app
            .api()
            .get(app.url("/api/v2/search"))
            .bearer_auth(&ben_t)
            .query(&[("q", q), ("type", "statuses")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{q}");
    }
    // Deleted posts leave the index.
    let id = private["id"].as_str().unwrap();
    let r = app
        .api()
        .delete(app.url(&format!("/api/v1/statuses/{id}")))
        .bearer_auth(&ann_t)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert!(search(&app, &ann_t, "gossip").await.is_empty());
    app.stop().await;
}
db_test!(full_text_search);
