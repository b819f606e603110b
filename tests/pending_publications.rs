//! A publication that could not be queued when its use case finished waits
//! in the database and is tried again: sent and forgotten once it works,
//! rescheduled with its error while it fails, given up after
//! `federation.delivery_give_up_hours`, dropped if unreadable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestApp};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::json;
use staffroom::{
    db::{entities::pending_publications, queries},
    domain::{accounts::Role, events::Event},
    error::AppError,
    federation::pending,
};

async fn pending_publications_are_retried(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let state = app.state();
    let alice = app.member("alice", Role::Member).await;
    let token = app.token(&alice).await;
    let post: serde_json::Value = app
        .api()
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&token)
        .json(&json!({"status": "Parents' evening on Tuesday"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let post_id: i64 = post["id"].as_str().unwrap().parse().unwrap();
    let cause = AppError::Unavailable("the queue could not be written".into());

    // What `publish` cannot queue, it keeps (here: a post that is gone).
    staffroom::federation::publish::publish(state, vec![Event::PostUpdated(i64::MAX)]).await;
    pending::keep(state, &Event::PostCreated(post_id), &cause).await;
    let rows = queries::publications::all(&state.db).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r.attempts == 0 && r.last_error.is_some())
    );

    // Not due yet: nothing happens.
    let now = chrono::Utc::now();
    assert_eq!(pending::retry_due(state, now).await.unwrap(), 0);
    assert_eq!(
        queries::publications::all(&state.db).await.unwrap().len(),
        2
    );

    // Due: the good one goes out and is forgotten, the bad one waits longer.
    let later = now + chrono::Duration::minutes(1);
    assert_eq!(pending::retry_due(state, later).await.unwrap(), 1);
    let rows = queries::publications::all(&state.db).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let failing = &rows[0];
    assert!(failing.event.contains("PostUpdated"), "{failing:?}");
    assert_eq!(failing.attempts, 1);
    assert!(failing.next_attempt_at > later);
    assert!(failing.last_error.as_deref().is_some_and(|e| !e.is_empty()));

    // Past the give-up horizon it is dropped.
    let hours = state.config.federation.delivery_give_up_hours as i64;
    let much_later = now + chrono::Duration::hours(hours + 1);
    assert_eq!(pending::retry_due(state, much_later).await.unwrap(), 0);
    assert!(
        queries::publications::all(&state.db)
            .await
            .unwrap()
            .is_empty()
    );

    // A row no version of Staffroom can read does not block the rest.
    pending_publications::ActiveModel {
        id: Set(1),
        event: Set("{\"NoSuchEvent\":1}".into()),
        attempts: Set(0),
        last_error: Set(None),
        next_attempt_at: Set(now),
        created_at: Set(now),
    }
    .insert(&state.db)
    .await
    .unwrap();
    pending::keep(state, &Event::PostCreated(post_id), &cause).await;
    assert_eq!(pending::retry_due(state, later).await.unwrap(), 1);
    assert!(
        queries::publications::all(&state.db)
            .await
            .unwrap()
            .is_empty()
    );
    app.stop().await;
}
db_test!(pending_publications_are_retried);
