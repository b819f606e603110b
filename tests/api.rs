//! The JSON API base: Mastodon-shaped instance and account endpoints, bearer
//! tokens from the CLI, the admin registry API, Staffroom's own endpoints and
//! the OpenAPI document.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::Value;
use staffroom::domain::accounts::Role;

async fn instance_and_accounts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.member("director", Role::Admin).await;
    let token = app.token(&admin).await;
    let api = app.api();

    for path in ["/api/v1/instance", "/api/v1/instance/", "/api/v2/instance"] {
        let r = api.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let v: Value = r.json().await.unwrap();
        // Mastodon client libraries parse "X.Y.Z" before the first space.
        let version = v["version"].as_str().unwrap();
        let numeric = version.split(' ').next().unwrap();
        assert_eq!(
            numeric
                .split('.')
                .filter(|p| p.parse::<u32>().is_ok())
                .count(),
            3,
            "{version}"
        );
        assert_eq!(
            version,
            format!(
                "4.3.0 (compatible; Staffroom {})",
                env!("CARGO_PKG_VERSION")
            )
        );
        assert_eq!(v["title"], "Test Teachers");
    }
    let v2: Value = api
        .get(app.url("/api/v2/instance"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v2["registrations"]["approval_required"], true);
    assert!(
        v2["configuration"]["statuses"]["max_characters"]
            .as_u64()
            .unwrap()
            >= 500
    );
    assert_eq!(v2["contact"]["account"]["username"], "director");
    assert_eq!(v2["api_versions"]["mastodon"], 2);

    let me: Value = api
        .get(app.url("/api/v1/accounts/verify_credentials"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "director");
    assert_eq!(me["acct"], "director");
    assert!(me["source"]["note"].is_string());
    assert!(me["avatar"].as_str().unwrap().starts_with("http"));
    let id = me["id"].as_str().unwrap().to_string();
    let shown: Value = api
        .get(app.url(&format!("/api/v1/accounts/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["username"], "director");
    assert!(shown.get("source").is_none() && shown.get("email").is_none());
    let looked: Value = api
        .get(app.url("/api/v1/accounts/lookup?acct=@director"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(looked["id"], id);
    let created = looked["created_at"].as_str().unwrap();
    assert!(created.ends_with("T00:00:00.000Z"), "{created}");

    // A read-only token may not write.
    let (ro, _, _) = staffroom::domain::sessions::issue_token(
        app.state(),
        Some(admin.account.id),
        None,
        "read",
        false,
    )
    .await
    .unwrap();
    let r = api
        .post(app.url("/api/v1/staffroom/invites"))
        .bearer_auth(&ro)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("admin:write"));
    app.stop().await;
}
db_test!(instance_and_accounts);

async fn admin_api_and_own_endpoints(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.member("director", Role::Admin).await;
    let token = app.token(&admin).await;
    let api = app.api();

    // Someone applies through the web; the admin approves through the API.
    let b = app.browser();
    b.submit(
        "/signup",
        "/signup",
        &[
            ("username", "applicant"),
            ("email", "app@example.org"),
            ("password", common::PASSWORD),
            ("password_confirmation", common::PASSWORD),
            ("reason", "hello"),
        ],
    )
    .await;
    let pending: Vec<Value> = api
        .get(app.url("/api/v1/admin/accounts?status=pending"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["email"], "app@example.org");
    assert_eq!(pending[0]["approved"], false);
    let id = pending[0]["id"].as_str().unwrap();
    let approved: Value = api
        .post(app.url(&format!("/api/v1/admin/accounts/{id}/approve")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(approved["status"], "active");
    // Approving twice is a conflict, not a crash.
    let again = api
        .post(app.url(&format!("/api/v1/admin/accounts/{id}/approve")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let mastodon_style: Vec<Value> = api
        .get(app.url("/api/v1/admin/accounts?active=true"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mastodon_style.len(), 2);
    let suspended: Value = api
        .post(app.url(&format!("/api/v1/admin/accounts/{id}/action")))
        .bearer_auth(&token)
        .form(&[("type", "suspend")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(suspended["suspended"], true);
    let role: Value = api
        .post(app.url(&format!("/api/v1/admin/accounts/{id}/role")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"role": "moderator"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(role["role"]["name"], "moderator");

    // Invites and settings.
    let invite: Value = api
        .post(app.url("/api/v1/staffroom/invites"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"max_uses": 3, "expires_in_hours": 48, "comment": "staff room"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(invite["valid"], true);
    assert!(invite["url"].as_str().unwrap().contains("/signup?invite="));
    let list: Vec<Value> = api
        .get(app.url("/api/v1/staffroom/invites"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    let r = api
        .delete(app.url(&format!(
            "/api/v1/staffroom/invites/{}",
            invite["id"].as_str().unwrap()
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let settings: Value = api
        .put(app.url("/api/v1/staffroom/settings"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "Renamed", "description": "d", "contact_email": "board@example.org", "rules": "One\nTwo", "registration_mode": "invite"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(settings["registration_mode"], "invite");
    let rules: Vec<Value> = api
        .get(app.url("/api/v1/instance/rules"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rules.len(), 2);
    let v1: Value = api
        .get(app.url("/api/v1/instance"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v1["title"], "Renamed");
    assert_eq!(v1["registrations"], true);

    // The OpenAPI document describes these endpoints.
    let doc: Value = api
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/staffroom/invites",
        "/api/v1/staffroom/settings",
        "/api/v1/staffroom/export",
        "/api/v1/admin/accounts/{id}/approve",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from OpenAPI"
        );
    }
    app.stop().await;
}
db_test!(admin_api_and_own_endpoints);
