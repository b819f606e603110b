//! Platform promises: SQLite runs in WAL mode, cookies are Secure behind
//! https, pages carry protective headers, the database is reachable for
//! readiness, and migrations are idempotent on both databases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestApp};
use sea_orm::{ConnectionTrait, Statement};

async fn database_setup(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.state().db;
    if backend == Backend::Sqlite {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "PRAGMA journal_mode",
            ))
            .await
            .unwrap()
            .unwrap();
        let mode: String = row.try_get("", "journal_mode").unwrap();
        assert_eq!(mode.to_lowercase(), "wal");
    }
    // Running migrations again changes nothing and fails nothing.
    staffroom::db::migrate(db).await.unwrap();
    assert!(staffroom::db::ping(db).await);
    app.stop().await;
}
db_test!(database_setup);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_are_secure_behind_https() {
    // A public name: `localhost` alone would be served (and linked) over http.
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.federation.allow_insecure_loopback = false;
        c.instance.domain = "assoc.example:0".into();
    })
    .await;
    assert!(app.base.starts_with("https://"));
    let addr = app.running.addr;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .get(format!("http://{addr}/login"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    for attr in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} missing: {cookie}");
    }
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.headers().contains_key("referrer-policy"));
    // Pages run no script and take styles from this server only; remote
    // images only over https when loopback federation is off.
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    for part in [
        "default-src 'self'",
        "script-src 'none'",
        "style-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{part} missing: {csp}");
    }
    assert!(csp.contains("img-src 'self' data: https:;"), "{csp}");
    // JSON is no page: it gets no page policy.
    let r = client
        .get(format!("http://{addr}/api/v1/instance"))
        .send()
        .await
        .unwrap();
    assert!(!r.headers().contains_key("content-security-policy"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_without_https_are_not_secure() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app
        .api()
        .get(app.url("/login"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && !cookie.contains("Secure"),
        "{cookie}"
    );
    app.stop().await;
}

/// NodeInfo tells other servers (and the portal's directory) which
/// languages the instance speaks: its own, then those of its public posts.
async fn nodeinfo_lists_languages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let member = app
        .member("lena", staffroom::domain::accounts::Role::Member)
        .await;
    let token = app.token(&member).await;
    for (text, language, visibility) in [
        ("Bonjour à toutes et à tous", "fr", "public"),
        ("Encore un message", "fr", "public"),
        ("Hallo zusammen", "de", "public"),
        ("Hola, solo para mis seguidores", "es", "private"),
    ] {
        let r = app
            .api()
            .post(app.url("/api/v1/statuses"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "status": text, "language": language, "visibility": visibility }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
    let doc: serde_json::Value = app
        .api()
        .get(app.url("/nodeinfo/2.1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["metadata"]["languages"],
        serde_json::json!(["en", "fr", "de"]),
        "{doc}"
    );
    app.stop().await;
}
db_test!(nodeinfo_lists_languages);
