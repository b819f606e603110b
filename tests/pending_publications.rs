//! The transactional outbox: what a use case will tell other servers is
//! written in the same commit as the change. Published at once it leaves no
//! trace; if the process stops before publishing, or queueing fails, the
//! retry worker sends it later — rescheduled with its error while it fails,
//! given up after `federation.delivery_give_up_hours`, dropped if unreadable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestApp};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::json;
use staffroom::{
    db::{entities::pending_publications, queries},
    domain::{
        accounts::Role,
        events::Event,
        outbox::{GRACE, Outbox},
        posts::{Compose, Visibility},
    },
    federation::{pending, publish},
};

fn compose(text: &str) -> Compose {
    Compose {
        text: text.into(),
        title: None,
        spoiler_text: None,
        sensitive: false,
        visibility: Visibility::Public,
        in_reply_to_id: None,
        language: None,
        media_ids: None,
        poll: None,
        group_id: None,
    }
}

async fn activity_stored(app: &TestApp, ap_id: &str) -> bool {
    queries::delivery::activity_by_ap_id(&app.state().db, ap_id)
        .await
        .unwrap()
        .is_some()
}

/// A request that publishes leaves nothing behind; a change whose process
/// "died" right after its commit (the outbox dropped unpublished) is still
/// announced, by the worker, once the grace period is over.
async fn committed_changes_are_announced_after_a_crash(backend: Backend) {
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
    let uri = post["uri"].as_str().unwrap();
    assert!(activity_stored(&app, &format!("{uri}/activity")).await);
    assert!(
        queries::publications::all(&state.db)
            .await
            .unwrap()
            .is_empty(),
        "a published event keeps no outbox row"
    );

    let (status, outbox) = staffroom::domain::posts::create(
        state,
        &alice.actor,
        compose("Staff meeting moved"),
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(outbox.len(), 1);
    drop(outbox); // the process stops here, before `publish`
    let create = format!("{}/activity", status.ap_id);
    assert!(!activity_stored(&app, &create).await);
    let rows = queries::publications::all(&state.db).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].event.contains("PostCreated"), "{rows:?}");
    assert_eq!(rows[0].attempts, 0);

    // Within the grace period the row still belongs to its request.
    let now = chrono::Utc::now();
    assert_eq!(pending::retry_due(state, now).await.unwrap(), 0);
    assert!(!activity_stored(&app, &create).await);

    let later = now + GRACE + chrono::Duration::seconds(1);
    assert_eq!(pending::retry_due(state, later).await.unwrap(), 1);
    assert!(activity_stored(&app, &create).await);
    assert!(
        queries::publications::all(&state.db)
            .await
            .unwrap()
            .is_empty()
    );

    // A row is tried by one worker at a time.
    let outbox = Outbox::record(&state.db, vec![Event::PostUpdated(status.id)])
        .await
        .unwrap();
    drop(outbox);
    let row = queries::publications::all(&state.db).await.unwrap()[0].clone();
    let until = later + chrono::Duration::minutes(10);
    assert!(
        queries::publications::claim(&state.db, row.id, later, until)
            .await
            .unwrap()
    );
    assert!(
        !queries::publications::claim(&state.db, row.id, later, until)
            .await
            .unwrap()
    );
    assert_eq!(pending::retry_due(state, later).await.unwrap(), 0);
    app.stop().await;
}
db_test!(committed_changes_are_announced_after_a_crash);

async fn failing_publications_are_retried_then_given_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let state = app.state();
    let alice = app.member("alice", Role::Member).await;
    let (status, outbox) =
        staffroom::domain::posts::create(state, &alice.actor, compose("Reading list"), vec![])
            .await
            .unwrap();
    publish::publish(state, outbox).await;

    // What cannot be queued (here: a post that is gone) stays, with its
    // error, due after the first back-off.
    let outbox = Outbox::record(&state.db, vec![Event::PostUpdated(i64::MAX)])
        .await
        .unwrap();
    publish::publish(state, outbox).await;
    let rows = queries::publications::all(&state.db).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].attempts, 1);
    assert!(rows[0].last_error.as_deref().is_some_and(|e| !e.is_empty()));
    let now = chrono::Utc::now();
    assert!(rows[0].next_attempt_at > now);

    let later = now + chrono::Duration::minutes(2);
    assert_eq!(pending::retry_due(state, later).await.unwrap(), 0);
    let rows = queries::publications::all(&state.db).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].attempts, 2);
    assert!(rows[0].next_attempt_at > later);

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
    let outbox = Outbox::record(&state.db, vec![Event::PostUpdated(status.id)])
        .await
        .unwrap();
    drop(outbox);
    assert_eq!(pending::retry_due(state, later).await.unwrap(), 1);
    assert!(
        queries::publications::all(&state.db)
            .await
            .unwrap()
            .is_empty()
    );
    app.stop().await;
}
db_test!(failing_publications_are_retried_then_given_up);
