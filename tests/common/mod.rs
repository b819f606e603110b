//! Shared test harness: a real Staffroom server on a free loopback port with
//! its own fresh database (SQLite in a temporary directory, or a PostgreSQL
//! database created for the test and dropped afterwards), and HTTP clients
//! that behave like a browser (cookies, CSRF tokens) or a script (bearer token).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use reqwest::{Client, StatusCode, header};
use staffroom::{
    app::{self, Running},
    config::{Config, RegistrationMode},
    domain::accounts::{self, Member, Role, SignUp},
};
use std::sync::Arc;

pub const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Run `$test(Backend)` once per database: `mod $test { sqlite, postgres }`.
#[macro_export]
macro_rules! db_test {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::common::postgres_url().is_none() {
                    $crate::common::require_outside_ci("the PostgreSQL variant (STAFFROOM_TEST_POSTGRES_URL)");
                    eprintln!("skipped: set STAFFROOM_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run the PostgreSQL variant");
                    return;
                }
                super::$name($crate::common::Backend::Postgres).await;
            }
        }
    };
}

/// Is this a CI run (`CI=true`), where nothing may be skipped?
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A test that would skip for want of `what` fails instead under CI: a
/// green CI run means every variant ran.
pub fn require_outside_ci(what: &str) {
    assert!(!under_ci(), "CI must run {what}, but it is not available");
}

pub fn postgres_url() -> Option<String> {
    std::env::var("STAFFROOM_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A PostgreSQL database that exists for one test.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create() -> Self {
        use sea_orm::{ConnectionTrait, Database};
        let admin_url = postgres_url().expect("STAFFROOM_TEST_POSTGRES_URL");
        let name = format!("staffroom_test_{}", staffroom::domain::auth::random_code());
        let conn = Database::connect(&admin_url)
            .await
            .expect("connect to PostgreSQL");
        conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create test database");
        conn.close().await.ok();
        let mut url = url::Url::parse(&admin_url).expect("postgres url");
        url.set_path(&format!("/{name}"));
        Self {
            admin_url,
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside async; a short-lived runtime on its own thread does the work.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    use sea_orm::{ConnectionTrait, Database};
                    if let Ok(conn) = Database::connect(&admin_url).await {
                        let _ = conn
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .await;
                        conn.close().await.ok();
                    }
                });
            }
        })
        .join();
    }
}

pub struct TestApp {
    pub running: Running,
    pub base: String,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

pub fn test_config(backend_url: Option<String>, dir: &std::path::Path) -> Config {
    let mut config = Config::defaults().unwrap();
    config.data_dir = dir.to_path_buf();
    config.http.bind = "127.0.0.1:0".parse().unwrap();
    config.instance.domain = "localhost:0".into();
    config.instance.name = "Test Teachers".into();
    config.federation.allow_insecure_loopback = true;
    config.registration.mode = RegistrationMode::Approval;
    config.log.level = "warn".into();
    if let Some(url) = backend_url {
        config.database.url = url;
    }
    config.database.max_connections = 5;
    config
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PgDatabase::create().await),
        };
        let mut config = test_config(pg.as_ref().map(|p| p.url.clone()), dir.path());
        adjust(&mut config);
        let running = app::spawn(config).await.expect("spawn test server");
        let base = running.base_url();
        Self {
            running,
            base,
            _dir: dir,
            _pg: pg,
        }
    }

    pub fn state(&self) -> &staffroom::app::AppState {
        &self.running.state
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// An active account made directly through the domain layer.
    pub async fn member(&self, username: &str, role: Role) -> Member {
        accounts::create_active(
            self.state(),
            SignUp {
                username: username.into(),
                email: format!("{username}@school.example"),
                password: PASSWORD.into(),
                display_name: Some(format!("{username} display")),
                ..Default::default()
            },
            role,
            None,
        )
        .await
        .expect("create member")
    }

    /// A bearer token with every scope, as `staffroom admin token` makes.
    pub async fn token(&self, member: &Member) -> String {
        staffroom::domain::sessions::issue_token(
            self.state(),
            Some(member.account.id),
            None,
            staffroom::cli::ALL_SCOPES,
            false,
        )
        .await
        .unwrap()
        .0
    }

    /// A browser-like client: keeps cookies, does not follow redirects, asks for HTML.
    pub fn browser(&self) -> Browser {
        self.browser_with_jar().0
    }

    /// [`browser`](Self::browser), with its cookie jar for the test to read.
    pub fn browser_with_jar(&self) -> (Browser, Arc<reqwest::cookie::Jar>) {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .default_headers({
                let mut h = header::HeaderMap::new();
                h.insert(
                    header::ACCEPT,
                    "text/html,application/xhtml+xml".parse().unwrap(),
                );
                h.insert(header::ACCEPT_LANGUAGE, "en".parse().unwrap());
                h
            })
            .build()
            .unwrap();
        let browser = Browser {
            client: Arc::new(client),
            base: self.base.clone(),
        };
        (browser, jar)
    }

    /// A plain JSON client.
    pub fn api(&self) -> Client {
        Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub async fn stop(self) {
        self.running.stop().await;
    }
}

#[derive(Clone)]
pub struct Browser {
    pub client: Arc<Client>,
    pub base: String,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
    pub headers: header::HeaderMap,
}

impl Page {
    pub fn assert_contains(&self, needle: &str) {
        assert!(
            self.body.contains(needle),
            "expected {needle:?} in page (status {}):\n{}",
            self.status,
            self.body
        );
    }
}

impl Browser {
    pub async fn get(&self, path: &str) -> Page {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        Self::page(r).await
    }

    async fn page(r: reqwest::Response) -> Page {
        let status = r.status();
        let headers = r.headers().clone();
        let location = headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        let body = r.text().await.unwrap();
        Page {
            status,
            location,
            body,
            headers,
        }
    }

    /// The CSRF token of the form on `path`.
    pub async fn csrf(&self, path: &str) -> String {
        let page = self.get(path).await;
        extract_csrf(&page.body)
            .unwrap_or_else(|| panic!("no csrf token on {path}:\n{}", page.body))
    }

    /// Submit a form found on `form_page` to `action`, with the page's CSRF token.
    pub async fn submit(&self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf(form_page).await;
        self.post_form(action, &token, fields).await
    }

    pub async fn post_form(&self, action: &str, token: &str, fields: &[(&str, &str)]) -> Page {
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", token)];
        form.extend_from_slice(fields);
        let r = self
            .client
            .post(format!("{}{action}", self.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        Self::page(r).await
    }

    pub async fn login(&self, login: &str, password: &str) -> Page {
        self.submit(
            "/login",
            "/login",
            &[("login", login), ("password", password)],
        )
        .await
    }
}

pub fn extract_csrf(html: &str) -> Option<String> {
    let marker = r#"name="csrf_token" value=""#;
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

/// Send a raw HTTP/1.1 request head (no body) and read the status and body.
pub async fn raw_request(addr: std::net::SocketAddr, head: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut buf),
    )
    .await;
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The Python that runs the external checkers (Mastodon.py, fediverse-pasture,
/// schemathesis), if it has `module`. `STAFFROOM_TEST_PYTHON` names it
/// (default `python3`). Without it the calling test skips with a message,
/// except under CI, where the tool is required and the test fails.
pub fn python_with(module: &str, package: &str) -> Option<String> {
    let py = std::env::var("STAFFROOM_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = std::process::Command::new(&py)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(py);
    }
    require_outside_ci(&format!(
        "{package} (pip install {package}; set STAFFROOM_TEST_PYTHON)"
    ));
    eprintln!(
        "skipped: {package} not installed (pip install {package}; STAFFROOM_TEST_PYTHON=...)"
    );
    None
}
