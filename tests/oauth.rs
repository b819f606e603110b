//! OAuth as Mastodon apps use it, end to end over HTTP: app registration,
//! the consent page in a signed-in browser, the authorization code grant
//! with and without PKCE, refresh rotation, client credentials sent in the
//! body or as HTTP Basic, revocation by the app and by the member, and the
//! server metadata clients discover it all from.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::{Engine, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD};
use common::{Backend, PASSWORD, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use staffroom::domain::accounts::Role;

const CALLBACK: &str = "https://app.example/callback";

struct App {
    client_id: String,
    client_secret: String,
}

async fn register(app: &TestApp, scopes: &str) -> App {
    let r = app
        .api()
        .post(app.url("/api/v1/apps"))
        .json(&json!({
            "client_name": "Lesson Planner",
            "redirect_uris": format!("{CALLBACK}\nurn:ietf:wg:oauth:2.0:oob"),
            "scopes": scopes,
            "website": "https://app.example",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    App {
        client_id: v["client_id"].as_str().unwrap().into(),
        client_secret: v["client_secret"].as_str().unwrap().into(),
    }
}

fn query_param(location: &str, name: &str) -> Option<String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Approve (or deny) on the consent page; returns the redirect's Location.
async fn consent(
    b: &common::Browser,
    authorize_path: &str,
    fields: &[(&str, &str)],
    decision: &str,
) -> String {
    let page = b.get(authorize_path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.assert_contains("Lesson Planner");
    let csrf = common::extract_csrf(&page.body).unwrap();
    let mut all = fields.to_vec();
    all.push(("decision", decision));
    let done = b.post_form("/oauth/authorize", &csrf, &all).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    done.location.unwrap()
}

async fn token(app: &TestApp, body: Value) -> (StatusCode, Value) {
    let r = app
        .api()
        .post(app.url("/oauth/token"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

async fn status_of(app: &TestApp, path: &str, bearer: &str) -> StatusCode {
    app.api()
        .get(app.url(path))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
        .status()
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

db_test!(authorization_code_flows);
async fn authorization_code_flows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.member("alice", Role::Member).await;
    let client = register(&app, "read write follow").await;

    // Discovery: what a client reads before starting.
    let meta: Value = app
        .api()
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["token_endpoint"], app.url("/oauth/token"));
    assert_eq!(meta["authorization_endpoint"], app.url("/oauth/authorize"));
    assert!(
        meta["code_challenge_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("S256"))
    );

    // A public client (PKCE, no secret), as phone apps are.
    let verifier = "a-verifier-long-enough-to-satisfy-rfc-7636-minimum-43-chars";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let fields = [
        ("client_id", client.client_id.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "read write"),
        ("state", "xyz-42"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let query = serde_html_form::to_string(
        [("response_type", "code")]
            .iter()
            .chain(fields.iter())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let authorize = format!("/oauth/authorize?{query}");

    let b = app.browser();
    let anon = b.get(&authorize).await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
    let to_login = anon.location.unwrap();
    assert!(to_login.starts_with("/login?next="), "{to_login}");
    assert_eq!(
        b.login("alice", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );

    let location = consent(&b, &authorize, &fields, "approve").await;
    assert!(location.starts_with(CALLBACK), "{location}");
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz-42"));
    let code = query_param(&location, "code").unwrap();

    let (st, body) = token(
        &app,
        json!({"grant_type": "authorization_code", "client_id": client.client_id,
               "code": code, "redirect_uri": CALLBACK, "code_verifier": "not-the-verifier"}),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");

    let (st, body) = token(
        &app,
        json!({"grant_type": "authorization_code", "client_id": client.client_id,
               "code": code, "redirect_uri": CALLBACK, "code_verifier": verifier}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "read write");
    assert!(
        body.get("refresh_token").is_none_or(Value::is_null),
        "a public client cannot refresh, so gets no refresh token: {body}"
    );
    let public_token = body["access_token"].as_str().unwrap().to_string();
    let me: Value = app
        .api()
        .get(app.url("/api/v1/accounts/verify_credentials"))
        .bearer_auth(&public_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "alice");

    // A code works once.
    let (st, body) = token(
        &app,
        json!({"grant_type": "authorization_code", "client_id": client.client_id,
               "code": code, "redirect_uri": CALLBACK, "code_verifier": verifier}),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");

    // Denying sends the app its error, with its state.
    let location = consent(&b, &authorize, &fields, "deny").await;
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz-42"));
    assert!(query_param(&location, "code").is_none());

    // Requests the app was not registered for never reach the consent form.
    let foreign = authorize.replace(
        &serde_html_form::to_string([("redirect_uri", CALLBACK)]).unwrap(),
        "redirect_uri=https%3A%2F%2Fevil.example%2Fsteal",
    );
    assert_ne!(foreign, authorize);
    assert_eq!(b.get(&foreign).await.status, StatusCode::BAD_REQUEST);
    let greedy = authorize.replace("scope=read+write", "scope=read+write+admin%3Aread");
    assert_ne!(greedy, authorize);
    assert_eq!(b.get(&greedy).await.status, StatusCode::BAD_REQUEST);

    // A confidential client (secret, no PKCE): refresh rotates both tokens.
    let fields = [
        ("client_id", client.client_id.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "read"),
    ];
    let query = serde_html_form::to_string(fields).unwrap();
    let location = consent(&b, &format!("/oauth/authorize?{query}"), &fields, "approve").await;
    let code = query_param(&location, "code").unwrap();
    let (st, body) = token(
        &app,
        json!({"grant_type": "authorization_code", "client_id": client.client_id,
               "client_secret": "wrong", "code": code, "redirect_uri": CALLBACK}),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    let (st, body) = token(
        &app,
        json!({"grant_type": "authorization_code", "client_id": client.client_id,
               "client_secret": client.client_secret, "code": code, "redirect_uri": CALLBACK}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let access = body["access_token"].as_str().unwrap().to_string();
    let refresh = body["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(
        status_of(&app, "/api/v1/accounts/verify_credentials", &access).await,
        StatusCode::OK
    );
    // The refresh grant, with the client authenticated by HTTP Basic.
    let r = app
        .api()
        .post(app.url("/oauth/token"))
        .header(
            "authorization",
            basic(&client.client_id, &client.client_secret),
        )
        .form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let fresh: Value = r.json().await.unwrap();
    let new_access = fresh["access_token"].as_str().unwrap();
    assert_ne!(new_access, access);
    assert_eq!(fresh["scope"], "read");
    assert_eq!(
        status_of(&app, "/api/v1/accounts/verify_credentials", &access).await,
        StatusCode::UNAUTHORIZED,
        "the refreshed-away token is dead"
    );
    assert_eq!(
        status_of(&app, "/api/v1/accounts/verify_credentials", new_access).await,
        StatusCode::OK
    );
    let (st, body) = token(
        &app,
        json!({"grant_type": "refresh_token", "client_id": client.client_id,
               "client_secret": client.client_secret, "refresh_token": refresh}),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a refresh token works once");
    assert_eq!(body["error"], "invalid_grant");

    // The member sees the app in settings and can cut it off.
    let apps = b.get("/settings/apps").await;
    apps.assert_contains("Lesson Planner");
    let app_id = app
        .api()
        .get(app.url("/api/v1/apps/verify_credentials"))
        .bearer_auth(new_access)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let csrf = common::extract_csrf(&apps.body).unwrap();
    let done = b
        .post_form(&format!("/settings/apps/{app_id}/revoke"), &csrf, &[])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    for t in [new_access, public_token.as_str()] {
        assert_eq!(
            status_of(&app, "/api/v1/accounts/verify_credentials", t).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert!(
        !b.get("/settings/apps")
            .await
            .body
            .contains("Lesson Planner")
    );
    app.stop().await;
}

db_test!(client_credentials_and_revocation);
async fn client_credentials_and_revocation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = register(&app, "read write").await;

    // Credentials as HTTP Basic, the way RFC 6749 prefers.
    let r = app
        .api()
        .post(app.url("/oauth/token"))
        .header(
            "authorization",
            basic(&client.client_id, &client.client_secret),
        )
        .form(&[("grant_type", "client_credentials"), ("scope", "read")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let app_token = v["access_token"].as_str().unwrap().to_string();
    let who: Value = app
        .api()
        .get(app.url("/api/v1/apps/verify_credentials"))
        .bearer_auth(&app_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(who["name"], "Lesson Planner");
    assert!(who.get("client_secret").is_none(), "{who}");
    assert_eq!(
        status_of(&app, "/api/v1/accounts/verify_credentials", &app_token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an app token is no one's account (Mastodon: 422, needs a user)"
    );

    // Wrong or malformed Basic credentials, and body and header disagreeing.
    for auth in [
        basic(&client.client_id, "not-the-secret"),
        "Basic !!!not-base64".to_string(),
        basic("someone-else", &client.client_secret),
    ] {
        let r = app
            .api()
            .post(app.url("/oauth/token"))
            .header("authorization", auth.as_str())
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth}");
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
    }
    let r = app
        .api()
        .post(app.url("/oauth/token"))
        .header(
            "authorization",
            basic(&client.client_id, &client.client_secret),
        )
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "a-different-client"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Scopes beyond the registration, and grants Mastodon dropped.
    let (st, body) = token(
        &app,
        json!({"grant_type": "client_credentials", "client_id": client.client_id,
               "client_secret": client.client_secret, "scope": "admin:write"}),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_scope");
    let (st, body) = token(
        &app,
        json!({"grant_type": "password", "client_id": client.client_id,
               "client_secret": client.client_secret, "username": "a", "password": "b"}),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unsupported_grant_type");

    // Revocation: wrong secret refused, unknown token fine, real token dies.
    let revoke = |auth: String, token: String| {
        let app = &app;
        async move {
            app.api()
                .post(app.url("/oauth/revoke"))
                .header("authorization", auth)
                .form(&[("token", token)])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        revoke(basic(&client.client_id, "nope"), app_token.clone()).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_of(&app, "/api/v1/apps/verify_credentials", &app_token).await,
        StatusCode::OK
    );
    assert_eq!(
        revoke(
            basic(&client.client_id, &client.client_secret),
            "never-issued".into()
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        revoke(
            basic(&client.client_id, &client.client_secret),
            app_token.clone()
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        status_of(&app, "/api/v1/apps/verify_credentials", &app_token).await,
        StatusCode::UNAUTHORIZED
    );
    app.stop().await;
}

db_test!(idempotency_key_under_concurrent_retries);
async fn idempotency_key_under_concurrent_retries(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.member("alice", Role::Member).await;
    let token = app.token(&alice).await;
    // A flaky phone network: the app retries before the first answer came.
    let send = |key: &'static str| {
        let (client, url, token) = (app.api(), app.url("/api/v1/statuses"), token.clone());
        async move {
            let r = client
                .post(url)
                .bearer_auth(token)
                .header("idempotency-key", key)
                .json(&json!({"status": "Staff meeting moved to Thursday"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let results = futures_join(vec![
        send("retry-1"),
        send("retry-1"),
        send("retry-1"),
        send("retry-1"),
    ])
    .await;
    assert!(
        results.iter().all(|id| *id == results[0]),
        "every retry returns the one post: {results:?}"
    );
    let other = send("retry-2").await;
    assert_ne!(other, results[0], "a new key is a new post");
    // A restart empties the in-memory locks; the key is kept in the database.
    app.state().idempotency.invalidate_all();
    let after_restart = send("retry-1").await;
    assert_eq!(after_restart, results[0], "a retry after a restart");
    let me: Value = app
        .api()
        .get(app.url("/api/v1/accounts/verify_credentials"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = me["id"].as_str().unwrap();
    let timeline: Value = app
        .api()
        .get(app.url(&format!("/api/v1/accounts/{id}/statuses")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(timeline.as_array().unwrap().len(), 2, "{timeline}");
    app.stop().await;
}

/// Run the futures concurrently on the runtime and collect their results.
async fn futures_join<F>(futures: Vec<F>) -> Vec<String>
where
    F: std::future::Future<Output = String> + Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
