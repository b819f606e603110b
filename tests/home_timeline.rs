//! The home timeline query reads the newest posts in id order first and asks
//! the indexes only for what that window does not hold. Whatever the window,
//! every page must be the one the plain index query gives: same posts, same
//! order, cursors honoured.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestApp};
use serde_json::json;
use staffroom::{
    db::queries::{Page, statuses},
    domain::accounts::Role,
};

async fn post(app: &TestApp, token: &str, text: &str, visibility: &str) -> i64 {
    let r = app
        .api()
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(token)
        .json(&json!({ "status": text, "visibility": visibility }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let v: serde_json::Value = r.json().await.unwrap();
    v["id"].as_str().unwrap().parse().unwrap()
}

fn ids(rows: &[staffroom::db::entities::statuses::Model]) -> Vec<i64> {
    rows.iter().map(|s| s.id).collect()
}

async fn windowed_home_pages_match_the_index_query(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let reader = app.member("reader", Role::Member).await;
    let followed = app.member("followed", Role::Member).await;
    let stranger = app.member("stranger", Role::Member).await;
    let (reader_t, followed_t, stranger_t) = (
        app.token(&reader).await,
        app.token(&followed).await,
        app.token(&stranger).await,
    );
    let r = app
        .api()
        .post(app.url(&format!("/api/v1/accounts/{}/follow", followed.actor.id)))
        .bearer_auth(&reader_t)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());

    // Home posts are sparse among the newest: runs of strangers' posts sit
    // between them, so small windows must fall back to the indexes.
    let mut expected = Vec::new();
    for round in 0..4 {
        expected.push(post(&app, &followed_t, &format!("followed {round}"), "public").await);
        expected.push(
            post(
                &app,
                &followed_t,
                &format!("for followers {round}"),
                "private",
            )
            .await,
        );
        expected.push(post(&app, &reader_t, &format!("own {round}"), "public").await);
        for n in 0..3 {
            post(
                &app,
                &stranger_t,
                &format!("stranger {round}.{n}"),
                "public",
            )
            .await;
        }
    }
    expected.reverse();

    let db = &app.state().db;
    let me = reader.actor.id;
    let all = statuses::home_with_window(
        db,
        me,
        Page {
            limit: 40,
            ..Page::default()
        },
        1_000_000,
    )
    .await
    .unwrap();
    assert_eq!(ids(&all), expected);

    for window in [1, 2, 3, 5, 8, 1_000] {
        for limit in [1, 2, 5, 40] {
            for cursor in [None, Some(expected[3]), Some(expected[10])] {
                let page = Page {
                    max_id: cursor,
                    limit,
                    ..Page::default()
                };
                let got = statuses::home_with_window(db, me, page, window)
                    .await
                    .unwrap();
                let want: Vec<i64> = expected
                    .iter()
                    .copied()
                    .filter(|id| cursor.is_none_or(|c| *id < c))
                    .take(limit as usize)
                    .collect();
                assert_eq!(
                    ids(&got),
                    want,
                    "window {window}, limit {limit}, max_id {cursor:?}"
                );
            }
            let since = Page {
                since_id: Some(expected[6]),
                limit,
                ..Page::default()
            };
            let got = statuses::home_with_window(db, me, since, window)
                .await
                .unwrap();
            let want: Vec<i64> = expected[..6].iter().copied().take(limit as usize).collect();
            assert_eq!(ids(&got), want, "window {window}, limit {limit}, since_id");
        }
    }
    // The stranger's posts never show, and the public API agrees.
    let r = app
        .api()
        .get(app.url("/api/v1/timelines/home?limit=40"))
        .bearer_auth(&reader_t)
        .send()
        .await
        .unwrap();
    let v: Vec<serde_json::Value> = r.json().await.unwrap();
    let api_ids: Vec<i64> = v
        .iter()
        .map(|s| s["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(api_ids, expected);
}

db_test!(windowed_home_pages_match_the_index_query);
