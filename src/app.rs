//! The running instance: [`AppState`] (axum's state and the federation
//! library's app data), start-up (database, migrations, storage), the HTTP
//! server with graceful shutdown, and [`spawn`] for tests that need a real
//! server on a real port. Depends on every other module; nothing depends on it
//! except through `AppState`.

use crate::{
    config::Config,
    db,
    domain::media::MediaStore,
    federation::urls::Urls,
    http::{self, web::Web},
    telemetry::Metrics,
};
use sea_orm::DatabaseConnection;
use std::{net::SocketAddr, ops::Deref, sync::Arc};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Shared, cheaply clonable state of one instance.
#[derive(Clone)]
pub struct AppState(Arc<StateInner>);

/// One Idempotency-Key's post, once made.
pub type IdempotencySlot = Arc<tokio::sync::Mutex<Option<i64>>>;

pub struct StateInner {
    pub config: Config,
    pub db: DatabaseConnection,
    pub urls: Urls,
    pub web: Web,
    pub media: MediaStore,
    pub metrics: Metrics,
    pub limits: http::limits::Limits,
    /// Cancelled on shutdown; background workers watch it.
    pub shutdown: CancellationToken,
    pub queues: Queues,
    /// Idempotency-Key → post id, per account, for an hour (as Mastodon).
    /// The slot is locked while its first request runs, so a retry sent
    /// before the first answer waits for it instead of posting twice.
    pub idempotency: moka::sync::Cache<(i64, String), IdempotencySlot>,
    /// Which instances we talk to (`federation.mode`).
    pub trust: crate::federation::trust::Trust,
    /// Remote hosts recently seen alive (spares the `hosts` row writes).
    pub host_health: crate::federation::health::HostHealth,
}

/// Wake-up calls for the queue workers when new work is stored.
#[derive(Default)]
pub struct Queues {
    pub deliveries: tokio::sync::Notify,
    pub inbox: tokio::sync::Notify,
}

impl Deref for AppState {
    type Target = StateInner;

    fn deref(&self) -> &StateInner {
        &self.0
    }
}

impl AppState {
    /// Connect, migrate and prepare storage. Used by `serve` and by the CLI.
    pub async fn init(config: Config) -> anyhow::Result<Self> {
        let db = db::connect(&config).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot open database {}: {e}",
                redact(&config.database_url())
            )
        })?;
        db::migrate(&db)
            .await
            .map_err(|e| anyhow::anyhow!("database migration failed: {e}"))?;
        let media = MediaStore::from_config(&config.storage, &config.data_dir.join("media"))
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot use the file storage (media directory under {}, or [storage]): {e}",
                    config.data_dir.display()
                )
            })?;
        let urls = Urls::new(config.base_url());
        let trust = crate::federation::trust::Trust::new(&config);
        Ok(Self(Arc::new(StateInner {
            web: Web::new()?,
            limits: http::limits::Limits::new(),
            metrics: Metrics::new(),
            shutdown: CancellationToken::new(),
            queues: Queues::default(),
            idempotency: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(std::time::Duration::from_secs(3600))
                .build(),
            trust,
            host_health: Default::default(),
            config,
            db,
            urls,
            media,
        })))
    }
}

/// Hide a password in a database URL before it reaches a log or an error.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// A server running in the background (tests, federation harness).
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn base_url(&self) -> String {
        self.state.urls.base().to_string()
    }

    /// Stop accepting requests and wait for the server to finish.
    pub async fn stop(self) {
        self.state.shutdown.cancel();
        let _ = self.task.await;
    }
}

/// Start an instance on `config.http.bind`. When `instance.domain` ends in
/// `:0`, the port actually bound replaces it, so tests can ask for any free
/// port and still get correct ActivityPub ids.
pub async fn spawn(mut config: Config) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(config.http.bind).await?;
    let addr = listener.local_addr()?;
    if let Some(host) = config.instance.domain.strip_suffix(":0") {
        config.instance.domain = format!("{host}:{}", addr.port());
    }
    let state = AppState::init(config).await?;
    let task_state = state.clone();
    let task = tokio::spawn(async move {
        if let Err(e) = run(task_state, listener).await {
            tracing::error!(error = %e, "server stopped with an error");
        }
    });
    Ok(Running { addr, state, task })
}

/// Run until SIGTERM or Ctrl-C (the `serve` command).
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.http.bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.http.bind))?;
    let state = AppState::init(config).await?;
    tracing::info!(
        address = %listener.local_addr()?,
        url = state.urls.base(),
        role = ?state.config.instance.role,
        "Staffroom is listening"
    );
    let shutdown = state.shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        shutdown.cancel();
    });
    run(state, listener).await
}

async fn run(state: AppState, listener: TcpListener) -> anyhow::Result<()> {
    let shutdown = state.shutdown.clone();
    let fed = crate::federation::client::federation_config(&state).await?;
    let app = http::router(state.clone(), fed.clone());
    let workers = crate::workers::start(&state, &fed);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await?;
    workers.join().await;
    state.db.clone().close().await.ok();
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
