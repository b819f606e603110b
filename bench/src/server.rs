//! The server under test: a `staffroom serve` process started by the
//! federation test harness (temp data dir, `localhost:PORT`, loopback peers
//! allowed), plus what the bench reads from outside it: its memory and CPU
//! from `/proc`, and row counts from its database.

use anyhow::{Context, Result, anyhow};
use federation_tests::{Instance, User};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use std::time::Duration;

pub struct Server {
    pub instance: Instance,
    db: tokio::sync::OnceCell<DatabaseConnection>,
}

/// Memory of the server process, in MiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    pub rss_mb: f64,
    /// The private part of RSS (heap, stacks): RssAnon.
    pub anon_mb: f64,
    /// The file-backed part of RSS: the executable's code and data pages,
    /// SQLite's shared-memory index (RssFile + RssShmem). The kernel may
    /// drop these and read them again.
    pub file_mb: f64,
    pub peak_mb: f64,
    pub threads: u64,
}

impl Server {
    /// Starts a server; `env` adds `STAFFROOM__...` settings.
    pub async fn start(name: &str, env: &[(&str, &str)]) -> Result<Server> {
        let mut builder = Instance::builder(name)
            .env("STAFFROOM__LOG__LEVEL", "warn")
            .env("STAFFROOM__DATABASE__MAX_CONNECTIONS", "16");
        for (k, v) in env {
            builder = builder.env(*k, *v);
        }
        let instance = builder.start().await;
        Ok(Server {
            instance,
            db: tokio::sync::OnceCell::new(),
        })
    }

    pub fn shared_inbox(&self) -> String {
        self.instance.url("/inbox")
    }

    pub async fn user(&self, name: &str) -> User {
        self.instance.create_user(name).await
    }

    /// The pid of the `serve` process, found by its bind address (the harness
    /// does not expose it, and it changes on restart).
    pub fn pid(&self) -> Option<u32> {
        let needle = format!("STAFFROOM__HTTP__BIND=127.0.0.1:{}\0", self.instance.port());
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                continue;
            };
            if !cmdline.split(|b| *b == 0).any(|a| a == b"serve") {
                continue;
            }
            if let Ok(env) = std::fs::read(format!("/proc/{pid}/environ"))
                && String::from_utf8_lossy(&env).contains(&needle)
            {
                return Some(pid);
            }
        }
        None
    }

    pub fn memory(&self) -> Memory {
        let Some(pid) = self.pid() else {
            return Memory::default();
        };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| -> f64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        Memory {
            rss_mb: field("VmRSS:") / 1024.0,
            anon_mb: field("RssAnon:") / 1024.0,
            file_mb: (field("RssFile:") + field("RssShmem:")) / 1024.0,
            peak_mb: field("VmHWM:") / 1024.0,
            threads: field("Threads:") as u64,
        }
    }

    /// CPU seconds (user + system) the server process has used.
    pub fn cpu_secs(&self) -> f64 {
        let Some(pid) = self.pid() else {
            return 0.0;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Fields after the command name, which is in parentheses.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // utime and stime are fields 14 and 15 of stat, 12 and 13 here.
        (ticks(11) + ticks(12)) / 100.0
    }

    /// Open file descriptors (sockets included) of the server.
    pub fn open_fds(&self) -> usize {
        self.pid()
            .and_then(|pid| std::fs::read_dir(format!("/proc/{pid}/fd")).ok())
            .map(|d| d.count())
            .unwrap_or(0)
    }

    async fn db(&self) -> Result<&DatabaseConnection> {
        self.db.get_or_try_init(|| self.connect()).await
    }

    async fn connect(&self) -> Result<DatabaseConnection> {
        {
            let pid = self.pid().ok_or_else(|| anyhow!("server not running"))?;
            let env = std::fs::read(format!("/proc/{pid}/environ"))?;
            let env = String::from_utf8_lossy(&env);
            let url = env
                .split('\0')
                .find_map(|kv| kv.strip_prefix("STAFFROOM__DATABASE__URL="))
                .filter(|u| !u.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| {
                    format!(
                        "sqlite://{}?mode=rw",
                        self.instance.data_dir().join("staffroom.db").display()
                    )
                });
            let mut opts = sea_orm::ConnectOptions::new(url);
            opts.max_connections(2)
                .sqlx_logging(false)
                .acquire_timeout(Duration::from_secs(30));
            Database::connect(opts).await.context("open the database")
        }
    }

    /// One number from an SQL query (`SELECT COUNT(*) ...`).
    pub async fn count(&self, sql: &str) -> Result<i64> {
        let db = self.db().await?;
        let backend = db.get_database_backend();
        let row = db
            .query_one_raw(Statement::from_string(backend, sql.to_string()))
            .await?
            .ok_or_else(|| anyhow!("no row for {sql}"))?;
        let n: i64 = row.try_get_by_index(0)?;
        Ok(n)
    }
}
