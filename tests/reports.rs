//! Reports on one instance: a member reports an account and a post through
//! Mastodon's `POST /api/v1/reports` and through the web form; bad reports
//! get clear errors; the moderators are notified, list, resolve and reopen
//! them through the admin API and the admin page; members cannot.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, PASSWORD, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use staffroom::domain::accounts::Role;

async fn call(
    app: &TestApp,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app.api().request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn reports(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let bea = app.member("bea", Role::Member).await;
    let carl = app.member("carl", Role::Member).await;
    let mona = app.member("mona", Role::Moderator).await;
    let (bea_t, carl_t, mona_t) = (
        app.token(&bea).await,
        app.token(&carl).await,
        app.token(&mona).await,
    );
    let bea_id = bea.actor.id.to_string();
    let carl_id = carl.actor.id.to_string();
    let mona_id = mona.actor.id.to_string();
    let (s, post) = call(
        &app,
        Some(&bea_t),
        Method::POST,
        "/api/v1/statuses",
        Some(json!({"status": "Buy cheap essays here", "visibility": "public"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{post}");
    let post_id = post["id"].as_str().unwrap().to_string();

    // Carl reports Bea's post from a Mastodon app.
    let (s, report) = call(
        &app,
        Some(&carl_t),
        Method::POST,
        "/api/v1/reports",
        Some(json!({
            "account_id": bea_id,
            "status_ids": [post_id],
            "comment": "Advertising in the staffroom",
            "category": "spam",
        })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert!(report["id"].is_string());
    assert_eq!(report["target_account"]["id"], bea_id);
    assert_eq!(report["status_ids"], json!([post_id]));
    assert_eq!(report["comment"], "Advertising in the staffroom");
    assert_eq!(report["category"], "spam");
    assert_eq!(report["action_taken"], false);
    assert_eq!(report["forwarded"], false);

    let mona =
        async |method: Method, path: &str| call(&app, Some(&mona_t), method, path, None).await;
    // Bad reports, each a clear error.
    let bad = [
        (
            json!({"account_id": carl.actor.id.to_string()}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "yourself",
        ),
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY, "account_id"),
        (
            json!({"account_id": "999999999"}),
            StatusCode::NOT_FOUND,
            "",
        ),
        (
            json!({"account_id": bea_id, "category": "boring"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "categor",
        ),
        (
            json!({"account_id": bea_id, "comment": "x".repeat(1001)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "1000",
        ),
        (
            json!({"account_id": mona_id, "status_ids": [post_id]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "posts",
        ),
        (
            json!({"account_id": bea_id, "status_ids": ["nope"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "posts",
        ),
    ];
    for (body, status, words) in bad {
        let (s, v) = call(
            &app,
            Some(&carl_t),
            Method::POST,
            "/api/v1/reports",
            Some(body.clone()),
        )
        .await;
        assert_eq!(s, status, "{body} -> {v}");
        assert!(
            v["error"].as_str().unwrap_or_default().contains(words),
            "{body} -> {v}"
        );
    }
    let (s, _) = call(
        &app,
        None,
        Method::POST,
        "/api/v1/reports",
        Some(json!({"account_id": bea_id})),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // The moderator is told, and sees the report; members see nothing.
    let (_, notes) = mona(Method::GET, "/api/v1/notifications").await;
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["type"] == "admin.report"
                && n["account"]["id"].as_str() == Some(carl_id.as_str())),
        "{notes}"
    );
    let (s, _) = call(
        &app,
        Some(&carl_t),
        Method::GET,
        "/api/v1/admin/reports",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, open) = mona(Method::GET, "/api/v1/admin/reports").await;
    assert_eq!(s, StatusCode::OK, "{open}");
    let open = open.as_array().unwrap().clone();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["account"]["id"], carl_id.as_str());
    assert_eq!(open[0]["target_account"]["id"], bea_id);
    let id = open[0]["id"].as_str().unwrap().to_string();
    let (s, v) = mona(Method::GET, "/api/v1/admin/reports?resolved=maybe").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = mona(Method::GET, "/api/v1/admin/reports/12x").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");

    // Forwarding a report about one of our own members is refused.
    let (s, v) = mona(Method::POST, &format!("/api/v1/admin/reports/{id}/forward")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    // Resolve, then reopen.
    let (s, v) = mona(Method::POST, &format!("/api/v1/admin/reports/{id}/resolve")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["action_taken"], true);
    let (_, open) = mona(Method::GET, "/api/v1/admin/reports").await;
    assert_eq!(open, json!([]));
    let (_, done) = mona(Method::GET, "/api/v1/admin/reports?resolved=true").await;
    assert_eq!(done.as_array().unwrap().len(), 1, "{done}");
    let (s, v) = mona(Method::POST, &format!("/api/v1/admin/reports/{id}/reopen")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["action_taken"], false);

    // The same through the browser: Carl reports from the post's link, the
    // moderator reads and resolves it on the admin page.
    let carl_web = app.browser();
    carl_web.login("carl", PASSWORD).await;
    let form = carl_web.get(&format!("/report?status={post_id}")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    form.assert_contains("Buy cheap essays here");
    let sent = carl_web
        .submit(
            &format!("/report?status={post_id}"),
            "/report",
            &[
                ("account", bea_id.as_str()),
                ("status", post_id.as_str()),
                ("category", "violation"),
                ("comment", "Second time this week"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let refused = carl_web
        .submit(
            &format!("/report?status={post_id}"),
            "/report",
            &[("account", bea_id.as_str()), ("category", "boring")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    refused.assert_contains("categor");
    let denied = carl_web.get("/admin/reports").await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    let mona_web = app.browser();
    mona_web.login("mona", PASSWORD).await;
    let page = mona_web.get("/admin/reports").await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("Second time this week");
    page.assert_contains("Advertising in the staffroom");
    let (_, open) = mona(Method::GET, "/api/v1/admin/reports").await;
    let newest = open[0]["id"].as_str().unwrap().to_string();
    assert_eq!(open[0]["comment"], "Second time this week");
    assert_eq!(open[0]["category"], "violation");
    let done = mona_web
        .submit(
            "/admin/reports",
            &format!("/admin/reports/{newest}/resolve"),
            &[],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = mona_web.get("/admin/reports?resolved=1").await;
    page.assert_contains("Second time this week");
    app.stop().await;
}

db_test!(reports);
