//! Mastodon.py (PyPI `mastodon.py`), the client library Mastodon bots and
//! tools use, drives two instances: OAuth code flow through the consent page,
//! post, reply, edit, history, favourite, boost, media upload with a
//! description, resolving and following an account on the other instance,
//! home timeline, notifications, resolving a remote post, token revocation;
//! and on one instance the social features (profile fields, follow requests,
//! notification filters, paging by Link header, mute, block, media focus,
//! Idempotency-Key).
//!
//! Needs a Python with `mastodon.py` (see `common::python_with`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, PASSWORD, TestApp, python_with};
use staffroom::domain::accounts::Role;
use std::process::Command;

/// Run `tests/clients/{script}` with `args` and return the JSON object it
/// prints last; fails the test with its output if it fails.
async fn run_script(py: String, script: &str, args: Vec<String>) -> serde_json::Value {
    let path = format!("{}/tests/clients/{script}", env!("CARGO_MANIFEST_DIR"));
    let output = tokio::task::spawn_blocking(move || {
        Command::new(py).arg(path).args(args).output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "Mastodon.py script {script} failed:\n{stdout}\n{stderr}"
    );
    let r: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("no JSON from the script ({e}):\n{stdout}\n{stderr}"));
    eprintln!("Mastodon.py saw: {r}");
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mastodon_py_drives_two_instances() {
    let Some(py) = python_with("mastodon", "mastodon.py") else {
        return;
    };
    let (a, b) = tokio::join!(
        TestApp::spawn(Backend::Sqlite),
        TestApp::spawn(Backend::Sqlite)
    );
    a.member("alice", Role::Member).await;
    let bob = b.member("bob", Role::Member).await;
    let bob_token = b.token(&bob).await;
    let args = vec![a.base.clone(), b.base.clone(), PASSWORD.into(), bob_token];
    let r = run_script(py, "mastodon_py_flow.py", args).await;
    assert_eq!(r["login"], "alice");
    assert!(r["instance_version"].as_str().unwrap().starts_with("4."));
    for check in [
        "reply_to",
        "edited",
        "favourited",
        "reblogged",
        "context_descendants",
        "follow_sent",
        "following",
        "home_has_bob",
        "resolved_post",
        "revoked",
        "bob_notifications_follow",
    ] {
        assert_eq!(r[check], true, "{check}: {r}");
    }
    assert_eq!(r["history"], 2);
    assert_eq!(r["media"], "A single blue pixel");
    assert_eq!(r["media_type"], "image");
    assert_eq!(r["media_kept_on_edit"], 1);
    assert_eq!(r["resolved"], format!("bob@{}", b.state().urls.domain()));
    assert_eq!(
        r["bob_notified_by"],
        format!("alice@{}", a.state().urls.domain())
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mastodon_py_social_features() {
    let Some(py) = python_with("mastodon", "mastodon.py") else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut tokens = Vec::new();
    for name in ["alice", "bob", "carol"] {
        let m = app.member(name, Role::Member).await;
        tokens.push(app.token(&m).await);
    }
    let args = [vec![app.base.clone()], tokens].concat();
    let r = run_script(py, "mastodon_py_social.py", args).await;
    use serde_json::json;
    let expect = json!({
        "display_name": "Bob the Biologist",
        "locked": true,
        "fields": [["Subject", "Biology"], ["School", "Lycée Nord"]],
        "source_note": "Teaches biology and runs the school garden.",
        "avatar_changed": true,
        "seen_by_alice": ["Bob the Biologist", true, 2],
        "alice_requested": [false, true],
        "requests": ["alice", "carol"],
        "requests_after": 0,
        "alice_rel": [true, false],
        "carol_rel": [false, false],
        "bob_followers": ["alice"],
        "pages": [3, 3, 1],
        "paged_in_order": true,
        "previous_is_page1": true,
        "favourited_by": ["alice"],
        "reblogged_by": ["alice"],
        "bookmarks": true,
        "favourites": true,
        "bookmarked_flag": true,
        "request_notifications": ["alice", "carol"],
        // A decided request's notice goes (as in Mastodon); the accepted
        // one becomes a plain follow.
        "notification_types": ["favourite", "follow", "mention", "reblog"],
        "mentions_only": ["mention"],
        "excluded_left": ["follow", "mention"],
        "get_by_id": true,
        "dismissed_gone": true,
        "cleared": 0,
        "muting": true,
        "unmuted": true,
        "blocking": true,
        "block_cut_follow": true,
        "unblocked": true,
        "unfollowed": true,
        "focus": [0.5, -0.25],
        "idempotent": true,
    });
    for (key, want) in expect.as_object().unwrap() {
        assert_eq!(&r[key], want, "{key}: {r}");
    }
    app.stop().await;
}
