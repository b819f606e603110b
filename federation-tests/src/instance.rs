//! One Staffroom server as a child process, and the accounts made on it.
//!
//! The process keeps its data directory, database and port across
//! [`Instance::restart`], because its ActivityPub ids (and so every follow
//! other instances hold) are built from `localhost:PORT`. Its stderr goes to
//! a log file whose tail is printed when a test panics, since a failed
//! delivery is usually explained only by the other side's log.

use crate::api::Api;
use std::{
    fs::{File, OpenOptions},
    io::{Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

/// Password of every account the harness creates.
pub const PASSWORD: &str = "correct horse battery staple";

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(20);
const LOG_TAIL_LINES: usize = 80;

/// The `staffroom` binary under test: `STAFFROOM_BIN`, else the workspace's
/// `target/debug/staffroom`. Panics with instructions when neither exists.
pub fn staffroom_binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let path = match std::env::var_os("STAFFROOM_BIN") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
                .join("debug")
                .join("staffroom"),
        };
        if !path.is_file() {
            panic!(
                "staffroom binary not found at {}: run `cargo build -p staffroom` first \
                 (or set STAFFROOM_BIN to a built binary)",
                path.display()
            );
        }
        let age = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .map(|d| format!("built {} s ago", d.as_secs()))
            .unwrap_or_default();
        eprintln!("federation-tests: using {} ({age})", path.display());
        path
    })
    .clone()
}

/// A PostgreSQL database that exists for one instance's lifetime.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    fn admin_url() -> Option<String> {
        std::env::var("STAFFROOM_TEST_POSTGRES_URL")
            .ok()
            .filter(|s| !s.is_empty())
    }

    async fn create(admin_url: String, label: &str) -> Self {
        let name = format!("staffroom_fed_{}", crate::marker(label).to_lowercase());
        let (client, connection) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("connect to STAFFROOM_TEST_POSTGRES_URL: {e}"));
        let conn = tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        drop(client);
        let _ = conn.await;
        let mut url = url::Url::parse(&admin_url).expect("STAFFROOM_TEST_POSTGRES_URL is a URL");
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
        // Drop may run inside a runtime that cannot block; a throwaway runtime
        // on its own thread does the async work.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok((client, connection)) =
                    tokio_postgres::connect(&admin_url, tokio_postgres::NoTls).await
                {
                    let conn = tokio::spawn(connection);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .await;
                    drop(client);
                    let _ = conn.await;
                }
            });
        })
        .join();
    }
}

/// An account on an instance, with a bearer token holding every scope.
#[derive(Debug, Clone)]
pub struct User {
    pub username: String,
    pub token: String,
    /// The account id in this instance's client API.
    pub id: String,
    /// `username@localhost:PORT`, the handle other instances search for.
    pub acct: String,
    /// The ActivityPub actor id (`uri` in the client API).
    pub actor_id: String,
    /// Base URL of the instance the account lives on.
    pub base_url: String,
}

/// Options for an [`Instance`] before it starts.
pub struct InstanceBuilder {
    name: String,
    env: Vec<(String, String)>,
    sqlite: bool,
}

impl InstanceBuilder {
    /// An extra `STAFFROOM__...` (or any) variable for the server and CLI,
    /// e.g. a test-only retry schedule.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Keep the embedded SQLite database even when STAFFROOM_TEST_POSTGRES_URL
    /// moves the other instances to PostgreSQL: for scenarios that test what
    /// only SQLite does (one writer at a time).
    pub fn sqlite(mut self) -> Self {
        self.sqlite = true;
        self
    }

    pub async fn start(self) -> Instance {
        let bin = staffroom_binary();
        let dir = tempfile::Builder::new()
            .prefix(&format!("staffroom-fed-{}-", self.name))
            .tempdir()
            .expect("create a temporary data directory");
        let port = crate::free_port();
        let pg = match PgDatabase::admin_url() {
            Some(admin) if !self.sqlite => Some(PgDatabase::create(admin, &self.name).await),
            _ => None,
        };
        let log_path = dir.path().join("staffroom.log");
        let mut instance = Instance {
            name: self.name,
            port,
            bin,
            log_path,
            extra_env: self.env,
            child: None,
            pg,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
            dir: Some(dir),
        };
        instance.spawn_and_wait_ready().await;
        instance
    }
}

/// A running (or stopped) `staffroom serve` process. Dropping it kills the
/// process and removes its data, printing the log tail if the test panicked.
pub struct Instance {
    name: String,
    port: u16,
    bin: PathBuf,
    log_path: PathBuf,
    extra_env: Vec<(String, String)>,
    child: Option<Child>,
    pg: Option<PgDatabase>,
    http: reqwest::Client,
    // Last field: dropped after the process is gone.
    dir: Option<tempfile::TempDir>,
}

impl Instance {
    /// Starts `staffroom serve` named `name` on a fresh port and waits until
    /// `/healthz` and `/readyz` answer 200.
    pub async fn start(name: &str) -> Instance {
        Self::builder(name).start().await
    }

    pub fn builder(name: &str) -> InstanceBuilder {
        InstanceBuilder {
            name: name.to_string(),
            env: Vec::new(),
            sqlite: false,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `localhost:PORT`, the instance's domain in every ActivityPub id.
    pub fn domain(&self) -> String {
        format!("localhost:{}", self.port)
    }

    pub fn base_url(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    /// `http://localhost:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.as_ref().map(|d| d.path()).expect("data directory")
    }

    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// A client for this instance with `user`'s token.
    pub fn api(&self, user: &User) -> Api {
        Api::new(
            self.http.clone(),
            self.base_url(),
            user.token.clone(),
            format!("{}@{}", user.username, self.name),
        )
    }

    /// A client without a token, for public endpoints.
    pub fn anonymous(&self) -> Api {
        Api::new(
            self.http.clone(),
            self.base_url(),
            String::new(),
            format!("anonymous@{}", self.name),
        )
    }

    /// The environment shared by `serve` and the `admin` commands, so both
    /// see the same data directory, database and domain.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("STAFFROOM__") {
                cmd.env_remove(key);
            }
        }
        let log_level = std::env::var("STAFFROOM_FT_LOG").unwrap_or_else(|_| "info".into());
        cmd.env("STAFFROOM__DATA_DIR", self.data_dir())
            .env("STAFFROOM__HTTP__BIND", format!("127.0.0.1:{}", self.port))
            .env("STAFFROOM__INSTANCE__DOMAIN", self.domain())
            .env("STAFFROOM__INSTANCE__NAME", &self.name)
            .env("STAFFROOM__FEDERATION__ALLOW_INSECURE_LOOPBACK", "true")
            .env("STAFFROOM__REGISTRATION__MODE", "open")
            .env("STAFFROOM__LOG__LEVEL", log_level)
            .env("STAFFROOM__DATABASE__MAX_CONNECTIONS", "5")
            // Failed deliveries come back within seconds, not minutes.
            .env("STAFFROOM__FEDERATION__DELIVERY_RETRY_BASE_SECS", "1")
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG");
        if let Some(pg) = &self.pg {
            cmd.env("STAFFROOM__DATABASE__URL", &pg.url);
        }
        for (key, value) in &self.extra_env {
            cmd.env(key, value);
        }
        cmd
    }

    fn open_log(&self) -> File {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("open instance log")
    }

    async fn spawn_and_wait_ready(&mut self) {
        assert!(self.child.is_none(), "{} is already running", self.name);
        let mut log = self.open_log();
        let _ = writeln!(log, "=== federation-tests: starting {} ===", self.name);
        let stdout = log.try_clone().expect("clone log handle");
        let child = self
            .command(&["serve"])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.bin.display()));
        self.child = Some(child);
        let start = Instant::now();
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                panic!(
                    "{} exited during start-up with {status}\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            if self.probe("/healthz").await && self.probe("/readyz").await {
                return;
            }
            if start.elapsed() > READY_TIMEOUT {
                panic!(
                    "{} was not ready within {} s\n{}",
                    self.name,
                    READY_TIMEOUT.as_secs(),
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn probe(&self, path: &str) -> bool {
        match self
            .http
            .get(self.url(path))
            .timeout(Duration::from_secs(2))
            .send()
            .await
        {
            Ok(r) => r.status() == reqwest::StatusCode::OK,
            Err(_) => false,
        }
    }

    /// SIGTERM and wait for a graceful exit; panics if it takes longer than
    /// 20 s (after killing it), because a hung shutdown is a bug.
    pub async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = i32::try_from(child.id()).expect("pid fits in i32");
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        );
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let mut log = self.open_log();
                let _ = writeln!(log, "=== federation-tests: stopped ({status}) ===");
                return;
            }
            if start.elapsed() > STOP_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} did not exit within {} s of SIGTERM\n{}",
                    self.name,
                    STOP_TIMEOUT.as_secs(),
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL, as a crash or power cut would: no shutdown code runs.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            let mut log = self.open_log();
            let _ = writeln!(log, "=== federation-tests: killed ===");
        }
    }

    /// Starts the server again on the same port, data and database (after
    /// [`stop`](Self::stop) or [`kill`](Self::kill); stops it first if it is
    /// still running).
    pub async fn restart(&mut self) {
        if self.child.is_some() {
            self.stop().await;
        }
        // The old process may have left the port in TIME_WAIT; the server
        // sets SO_REUSEADDR like most, and readiness polling covers the rest.
        self.spawn_and_wait_ready().await;
    }

    /// Runs `staffroom admin ...` against this instance's data; returns
    /// stdout, panics with stderr on failure.
    pub async fn admin(&self, args: &[&str]) -> String {
        self.try_admin(args).await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`admin`](Self::admin), but a failure is returned (with stderr)
    /// instead of panicking, for commands expected to fail or to be retried.
    pub async fn try_admin(&self, args: &[&str]) -> Result<String, String> {
        let mut full = vec!["admin"];
        full.extend_from_slice(args);
        let mut cmd = tokio::process::Command::from(self.command(&full));
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap_or_else(|e| panic!("run {}: {e}", self.bin.display()));
        if !out.status.success() {
            return Err(format!(
                "`staffroom {}` on {} failed with {}:\n{}",
                full.join(" "),
                self.name,
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).to_string())
    }

    /// A browser-like client logged in to the web UI as `user` (cookies kept,
    /// redirects not followed), for what only the web offers (deleting an account).
    pub async fn web_login(&self, user: &User) -> reqwest::Client {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let token = self.web_csrf(&client, "/login").await;
        let r = client
            .post(self.url("/login"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("login", user.username.as_str()),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            reqwest::StatusCode::SEE_OTHER,
            "web login of {}",
            user.username
        );
        client
    }

    /// The CSRF token of the form on `path` for this client.
    pub async fn web_csrf(&self, client: &reqwest::Client, path: &str) -> String {
        let html = client
            .get(self.url(path))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let marker = r#"name="csrf_token" value=""#;
        let start = html
            .find(marker)
            .map(|i| i + marker.len())
            .expect("a form with a CSRF token");
        let end = html[start..]
            .find('"')
            .map(|i| i + start)
            .expect("end of token");
        html[start..end].to_string()
    }

    /// Creates an active member with the CLI, issues a token and reads the
    /// account back through `verify_credentials`.
    pub async fn create_user(&self, username: &str) -> User {
        self.create_user_with_role(username, "member").await
    }

    /// [`Instance::create_user`] with a role: `member`, `moderator` or `admin`.
    pub async fn create_user_with_role(&self, username: &str, role: &str) -> User {
        self.admin(&[
            "create-account",
            "--username",
            username,
            "--email",
            &format!("{username}@example.org"),
            "--password",
            PASSWORD,
            "--role",
            role,
        ])
        .await;
        let token = self
            .admin(&["token", "--username", username])
            .await
            .trim()
            .to_string();
        assert!(
            !token.is_empty() && !token.contains(char::is_whitespace),
            "`admin token` printed {token:?}, expected one token on one line"
        );
        let mut user = User {
            username: username.to_string(),
            token,
            id: String::new(),
            acct: format!("{username}@{}", self.domain()),
            actor_id: String::new(),
            base_url: self.base_url(),
        };
        let me = self.api(&user).verify_credentials().await;
        user.id = crate::str_field(&me, "id").to_string();
        user.actor_id = crate::str_field(&me, "uri").to_string();
        assert!(
            !user.id.is_empty() && !user.actor_id.is_empty(),
            "verify_credentials lacks id or uri: {me}"
        );
        user
    }

    /// The last lines of the instance's log, ANSI colours removed.
    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = File::open(&self.log_path) {
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            let _ = file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
            let mut bytes = Vec::new();
            let _ = file.read_to_end(&mut bytes);
            text = strip_ansi(&String::from_utf8_lossy(&bytes));
        }
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..];
        format!(
            "----- last {} lines of {} ({}) -----\n{}\n----- end of {} log -----",
            tail.len(),
            self.name,
            self.log_path.display(),
            tail.join("\n"),
            self.name
        )
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("\n{}\n", self.log_tail());
        }
        if std::env::var_os("STAFFROOM_FT_KEEP").is_some()
            && let Some(dir) = self.dir.take()
        {
            eprintln!("federation-tests: kept {}", dir.keep().display());
        }
    }
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
