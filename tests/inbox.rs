//! The inbox's answers to what remote servers send, through the real HTTP
//! server: 401 without a valid signature or digest, 400 for malformed or
//! unsupported input, 403 for blocked hosts, 413 above 1 MiB (from
//! Content-Length alone), never 500. Signed traffic between real instances is
//! tested in `federation-tests`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::json;

fn create_from(actor: &str) -> serde_json::Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}/activities/1"),
        "type": "Create",
        "actor": actor,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": format!("{actor}/notes/1"), "type": "Note", "attributedTo": actor,
            "to": ["https://www.w3.org/ns/activitystreams#Public"], "content": "hello"
        }
    })
}

async fn inbox_answers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.member("alice", staffroom::domain::accounts::Role::Member)
        .await;
    let client = app.api();
    let post = |path: &str, body: Vec<u8>, ct: &str| {
        client
            .post(app.url(path))
            .header("content-type", ct.to_string())
            .body(body)
            .send()
    };
    let ap = "application/activity+json";
    for path in ["/inbox", "/users/alice/inbox"] {
        // No signature, no digest.
        let r = post(
            path,
            create_from("https://remote.example/users/bob")
                .to_string()
                .into_bytes(),
            ap,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
        // Not JSON.
        let r = post(path, b"{not json".to_vec(), ap).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        // JSON but not an activity.
        let r = post(path, br#"{"hello": "world"}"#.to_vec(), ap)
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        // An activity type we do not take.
        let mut lock = create_from("https://remote.example/users/bob");
        lock["type"] = json!("Listen");
        let r = post(path, lock.to_string().into_bytes(), ap).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(r.text().await.unwrap().contains("unsupported"));
        // A Create of something that is not a post.
        let mut chat = create_from("https://remote.example/users/bob");
        chat["object"]["type"] = json!("ChatMessage");
        assert_eq!(
            post(path, chat.to_string().into_bytes(), ap)
                .await
                .unwrap()
                .status(),
            StatusCode::BAD_REQUEST
        );
        // Claiming to be a local actor.
        let local = create_from(&format!("{}/users/alice", app.base));
        assert_eq!(
            post(path, local.to_string().into_bytes(), ap)
                .await
                .unwrap()
                .status(),
            StatusCode::BAD_REQUEST
        );
    }
    // Unknown local inbox.
    let r = post(
        "/users/nobody/inbox",
        create_from("https://remote.example/users/bob")
            .to_string()
            .into_bytes(),
        ap,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A blocked host gets 403 before anything else happens.
    staffroom::db::queries::delivery::set_host_blocked(
        &app.state().db,
        "blocked.example",
        true,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let r = post(
        "/inbox",
        create_from("https://blocked.example/users/troll")
            .to_string()
            .into_bytes(),
        ap,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Too large: refused before the body is read.
    let (status, _) = common::raw_request(
        app.running.addr,
        &format!("POST /inbox HTTP/1.1\r\nHost: {}\r\nContent-Type: {ap}\r\nContent-Length: 10485760\r\nConnection: close\r\n\r\n", app.state().urls.domain()),
    )
    .await;
    assert_eq!(status, 413);
    // Just over the limit with a real body.
    let r = post("/inbox", vec![b' '; 1024 * 1024 + 10], ap).await;
    if let Ok(r) = r {
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    // Nothing was stored from any of this.
    assert_eq!(
        staffroom::db::queries::delivery::count_inbox_pending(&app.state().db)
            .await
            .unwrap(),
        0
    );
    assert!(staffroom::db::ping(&app.state().db).await);
    app.stop().await;
}
db_test!(inbox_answers);

/// Without `federation.allow_insecure_loopback`, nothing is fetched from
/// loopback or private addresses, even when a member asks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_fetches_are_refused_in_production_mode() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.federation.allow_insecure_loopback = false
    })
    .await;
    let member = app
        .member("alice", staffroom::domain::accounts::Role::Member)
        .await;
    let token = app.token(&member).await;
    // A listener where a naive server would connect.
    let victim = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let victim_port = victim.local_addr().unwrap().port();
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((_s, _)) = victim.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let client = reqwest::Client::new();
    let base = format!("http://{}", app.running.addr);
    for q in [
        format!("@bob@localhost:{victim_port}"),
        "@bob@localhost".to_string(),
        format!("http://localhost:{victim_port}/users/bob"),
        format!("https://127.0.0.1:{victim_port}/users/bob"),
        "http://[::1]/users/bob".to_string(),
        "http://169.254.169.254/latest/meta-data".to_string(),
    ] {
        let r = client
            .get(format!("{base}/api/v2/search"))
            .query(&[("q", q.as_str()), ("resolve", "true")])
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{q}: {}", r.status());
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["accounts"].as_array().unwrap().len(), 0, "{q}");
        assert_eq!(v["statuses"].as_array().unwrap().len(), 0, "{q}");
    }
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a loopback address was contacted"
    );
    app.stop().await;
}
