//! Synthetic remote instances on loopback.
//!
//! A [`Farm`] is a set of hosts, each an axum server on its own port named
//! `localhost:PORT`, all sharing one process and a handful of RSA keys. Any
//! actor name exists on every host: `/users/NAME` is generated on demand, so
//! ten thousand followers cost no setup beyond their Follow. Inboxes only
//! count and timestamp what arrives (no signature check: verifying would
//! spend the CPU the server under test needs); a host can be switched to
//! answer 503, to never answer, or to serve actor documents slowly (cold key
//! fetches). Requests are signed with activitypub_federation's own signer, one
//! signing configuration per actor, cached.

use activitypub_federation::{
    config::{Data, FederationConfig},
    http_signatures::{Keypair, generate_actor_keypair},
    traits::{Actor, Object},
};
use anyhow::{Context, Result, anyhow};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use reqwest_middleware::ClientWithMiddleware;
use serde::Deserialize;
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};
use url::Url;

pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// How a host answers its inboxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    Up = 0,
    /// 503 at once, like a server in maintenance.
    Down = 1,
    /// Accepts the connection and never answers.
    Hung = 2,
}

/// One POST that reached a farm inbox.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub at: Instant,
    pub host: usize,
    pub inbox: String,
    pub kind: String,
    pub object_id: String,
}

struct HostState {
    index: usize,
    base: String,
    shared_inbox: bool,
    mode: AtomicU8,
    /// Added before answering an actor document, to simulate a far peer.
    actor_delay_ms: AtomicU64,
}

struct FarmState {
    keys: Vec<Keypair>,
    arrivals: Mutex<Vec<Arrival>>,
    /// Arrivals by activity type, so polling does not scan `arrivals`.
    kinds: Mutex<HashMap<String, usize>>,
    posts: AtomicU64,
    actor_fetches: AtomicU64,
    /// Answer Follows from the server with a signed Accept.
    auto_accept: AtomicBool,
    signers: Mutex<HashMap<String, FederationConfig<()>>>,
    http: reqwest::Client,
}

#[derive(Clone)]
struct HostApp {
    host: Arc<HostState>,
    farm: Arc<FarmState>,
}

/// A signed POST ready to send (and resend byte for byte).
#[derive(Debug, Clone)]
pub struct Signed {
    pub url: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: Bytes,
}

pub struct Farm {
    hosts: Vec<Arc<HostState>>,
    state: Arc<FarmState>,
    servers: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Farm {
    fn drop(&mut self) {
        for s in &self.servers {
            s.abort();
        }
    }
}

/// The key an actor name uses: a few keys shared by many actors.
fn key_index(name: &str, keys: usize) -> usize {
    name.bytes()
        .fold(7usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
        % keys.max(1)
}

impl Farm {
    /// Starts `hosts` hosts; with `shared_inbox` their actors advertise
    /// `/inbox` as shared inbox, otherwise each actor only has its own inbox.
    pub async fn start(hosts: usize, shared_inbox: bool) -> Result<Farm> {
        let mut keys = Vec::new();
        for _ in 0..4 {
            keys.push(
                tokio::task::spawn_blocking(generate_actor_keypair)
                    .await?
                    .map_err(|e| anyhow!("key generation: {e}"))?,
            );
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(256)
            .timeout(Duration::from_secs(60))
            .build()?;
        let state = Arc::new(FarmState {
            keys,
            arrivals: Mutex::default(),
            kinds: Mutex::default(),
            posts: AtomicU64::new(0),
            actor_fetches: AtomicU64::new(0),
            auto_accept: AtomicBool::new(true),
            signers: Mutex::default(),
            http,
        });
        let mut farm = Farm {
            hosts: Vec::new(),
            state,
            servers: Vec::new(),
        };
        for index in 0..hosts {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let port = listener.local_addr()?.port();
            let host = Arc::new(HostState {
                index,
                base: format!("http://localhost:{port}"),
                shared_inbox,
                mode: AtomicU8::new(Mode::Up as u8),
                actor_delay_ms: AtomicU64::new(0),
            });
            let app = HostApp {
                host: host.clone(),
                farm: farm.state.clone(),
            };
            let router = Router::new()
                .route("/.well-known/webfinger", get(webfinger))
                .route("/users/{name}", get(actor))
                .route("/users/{name}/inbox", post(inbox))
                .route("/inbox", post(inbox))
                .with_state(app);
            farm.hosts.push(host);
            farm.servers.push(tokio::spawn(async move {
                let _ = axum::serve(listener, router).await;
            }));
        }
        Ok(farm)
    }

    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    pub fn base(&self, host: usize) -> &str {
        &self.hosts[host % self.hosts.len()].base
    }

    pub fn domain(&self, host: usize) -> &str {
        self.base(host).trim_start_matches("http://")
    }

    /// The actor id of `name` on `host`.
    pub fn actor_id(&self, host: usize, name: &str) -> String {
        format!("{}/users/{name}", self.base(host))
    }

    pub fn set_mode(&self, host: usize, mode: Mode) {
        self.hosts[host % self.hosts.len()]
            .mode
            .store(mode as u8, Ordering::SeqCst);
    }

    pub fn set_actor_delay(&self, host: usize, delay: Duration) {
        self.hosts[host % self.hosts.len()]
            .actor_delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Every POST received so far.
    pub fn arrivals(&self) -> Vec<Arrival> {
        lock(&self.state.arrivals).clone()
    }

    /// The arrivals whose activity has this type.
    pub fn arrivals_of(&self, kind: &str) -> Vec<Arrival> {
        lock(&self.state.arrivals)
            .iter()
            .filter(|a| a.kind == kind)
            .cloned()
            .collect()
    }

    pub fn arrival_count(&self) -> usize {
        lock(&self.state.arrivals).len()
    }

    /// Arrivals of this type since the last [`clear_arrivals`](Self::clear_arrivals).
    pub fn count_of(&self, kind: &str) -> usize {
        lock(&self.state.kinds).get(kind).copied().unwrap_or(0)
    }

    /// Arrivals of type `kind` whose object is one of `ids` (scans them all).
    pub fn count_matching(&self, kind: &str, ids: &std::collections::HashSet<String>) -> usize {
        lock(&self.state.arrivals)
            .iter()
            .filter(|a| a.kind == kind && ids.contains(&a.object_id))
            .count()
    }

    pub fn clear_arrivals(&self) {
        let mut arrivals = lock(&self.state.arrivals);
        arrivals.clear();
        lock(&self.state.kinds).clear();
    }

    /// POSTs received by any inbox, whatever their answer.
    pub fn posts(&self) -> u64 {
        self.state.posts.load(Ordering::Relaxed)
    }

    pub fn actor_fetches(&self) -> u64 {
        self.state.actor_fetches.load(Ordering::Relaxed)
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.state.http
    }

    /// Signs many requests on all cores; `items` are (actor id, inbox, body).
    pub async fn sign_all(&self, items: Vec<(String, String, Vec<u8>)>) -> Result<Vec<Signed>> {
        let mut out = Vec::with_capacity(items.len());
        let mut set = tokio::task::JoinSet::new();
        let chunk = items.len().div_ceil(4).max(1);
        let mut items = items.into_iter().peekable();
        let mut order = 0usize;
        while items.peek().is_some() {
            let batch: Vec<_> = items.by_ref().take(chunk).collect();
            let state = self.state.clone();
            let n = order;
            order += 1;
            set.spawn(async move {
                let mut signed = Vec::with_capacity(batch.len());
                for (actor, inbox, body) in batch {
                    signed.push(sign(&state, &actor, &inbox, body).await?);
                }
                Ok::<_, anyhow::Error>((n, signed))
            });
        }
        let mut parts = Vec::new();
        while let Some(r) = set.join_next().await {
            parts.push(r??);
        }
        parts.sort_by_key(|p| p.0);
        for (_, p) in parts {
            out.extend(p);
        }
        Ok(out)
    }

    /// A Create(Note) from `actor_id`, public, with a unique id `n`.
    pub fn create_note(&self, actor_id: &str, n: u64, text: &str) -> Value {
        let note_id = format!("{actor_id}/statuses/{n}");
        let followers = format!("{actor_id}/followers");
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{note_id}/activity"),
            "type": "Create",
            "actor": actor_id,
            "published": now(),
            "to": [PUBLIC],
            "cc": [followers],
            "object": {
                "id": note_id,
                "type": "Note",
                "attributedTo": actor_id,
                "content": format!("<p>{text}</p>"),
                "published": now(),
                "url": note_id,
                "to": [PUBLIC],
                "cc": [followers],
            }
        })
    }

    /// A Follow of `target` by `actor_id`.
    pub fn follow(&self, actor_id: &str, target: &str) -> Value {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{actor_id}#follows/{}", rand::random::<u64>()),
            "type": "Follow",
            "actor": actor_id,
            "object": target,
        })
    }
}

fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// An actor of the farm as the federation library's signer sees it.
#[derive(Debug, Clone)]
struct SigningActor {
    id: Url,
    inbox: Url,
    public_key_pem: String,
    private_key_pem: String,
}

#[async_trait::async_trait]
impl Object for SigningActor {
    type DataType = ();
    type Kind = Value;
    type Error = anyhow::Error;

    fn id(&self) -> &Url {
        &self.id
    }

    async fn read_from_id(_: Url, _: &Data<()>) -> Result<Option<Self>> {
        Ok(None)
    }

    async fn into_json(self, _: &Data<()>) -> Result<Value> {
        Ok(Value::Null)
    }

    async fn verify(_: &Value, _: &Url, _: &Data<()>) -> Result<()> {
        Err(anyhow!("the farm does not receive actors"))
    }

    async fn from_json(_: Value, _: &Data<()>) -> Result<Self> {
        Err(anyhow!("the farm does not receive actors"))
    }
}

impl Actor for SigningActor {
    fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    fn private_key_pem(&self) -> Option<String> {
        Some(self.private_key_pem.clone())
    }

    fn inbox(&self) -> Url {
        self.inbox.clone()
    }
}

async fn signer(state: &FarmState, actor_id: &str) -> Result<FederationConfig<()>> {
    if let Some(cfg) = lock(&state.signers).get(actor_id) {
        return Ok(cfg.clone());
    }
    let id = Url::parse(actor_id)?;
    let name = id.path().rsplit('/').next().unwrap_or_default().to_string();
    let key = &state.keys[key_index(&name, state.keys.len())];
    let actor = SigningActor {
        inbox: Url::parse(&format!("{actor_id}/inbox"))?,
        id,
        public_key_pem: key.public_key.clone(),
        private_key_pem: key.private_key.clone(),
    };
    let cfg = FederationConfig::builder()
        .domain(actor.id.authority().to_string())
        .app_data(())
        .debug(true)
        .http_signature_compat(true)
        .client(ClientWithMiddleware::from(state.http.clone()))
        .signed_fetch_actor(&actor)
        .build()
        .await
        .map_err(|e| anyhow!("signer for {actor_id}: {e}"))?;
    lock(&state.signers).insert(actor_id.to_string(), cfg.clone());
    Ok(cfg)
}

async fn sign(state: &FarmState, actor_id: &str, inbox: &str, body: Vec<u8>) -> Result<Signed> {
    let url = Url::parse(inbox).with_context(|| format!("inbox {inbox}"))?;
    let cfg = signer(state, actor_id).await?;
    let date = chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let builder = ClientWithMiddleware::from(state.http.clone())
        .post(inbox)
        .header(header::CONTENT_TYPE.as_str(), "application/activity+json")
        .header(header::HOST.as_str(), url.authority())
        .header(header::DATE.as_str(), date);
    let body = Bytes::from(body);
    let mut request = cfg
        .to_request_data()
        .sign_request(builder, body.clone())
        .await
        .map_err(|e| anyhow!("sign for {inbox}: {e}"))?;
    request
        .headers_mut()
        .remove(header::CONTENT_LENGTH.as_str());
    Ok(Signed {
        url: inbox.to_string(),
        headers: request.headers().clone(),
        body,
    })
}

/// Sends a signed request; returns the status and how long the answer took.
pub async fn send(http: &reqwest::Client, req: &Signed) -> (u16, Duration) {
    let start = Instant::now();
    let status = match http
        .post(&req.url)
        .headers(req.headers.clone())
        .body(req.body.clone())
        .send()
        .await
    {
        Ok(r) => {
            let s = r.status().as_u16();
            let _ = r.bytes().await;
            s
        }
        Err(_) => 0,
    };
    (status, start.elapsed())
}

// ------------------------------------------------------------------------
// The hosts' HTTP side

fn ap_json(value: Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/activity+json")],
        value.to_string(),
    )
        .into_response()
}

fn actor_document(app: &HostApp, name: &str) -> Value {
    let id = format!("{}/users/{name}", app.host.base);
    let key = &app.farm.keys[key_index(name, app.farm.keys.len())];
    let mut doc = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": id,
        "type": "Person",
        "preferredUsername": name,
        "name": name,
        "inbox": format!("{id}/inbox"),
        "outbox": format!("{id}/outbox"),
        "followers": format!("{id}/followers"),
        "following": format!("{id}/following"),
        "url": id,
        "manuallyApprovesFollowers": false,
        "publicKey": {
            "id": format!("{id}#main-key"),
            "owner": id,
            "publicKeyPem": key.public_key,
        },
    });
    if app.host.shared_inbox {
        doc["endpoints"] = json!({ "sharedInbox": format!("{}/inbox", app.host.base) });
    }
    doc
}

async fn actor(State(app): State<HostApp>, Path(name): Path<String>) -> Response {
    app.farm.actor_fetches.fetch_add(1, Ordering::Relaxed);
    let delay = app.host.actor_delay_ms.load(Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    ap_json(actor_document(&app, &name))
}

#[derive(Deserialize)]
struct WebfingerQuery {
    resource: String,
}

async fn webfinger(State(app): State<HostApp>, Query(q): Query<WebfingerQuery>) -> Response {
    let Some(name) = q
        .resource
        .strip_prefix("acct:")
        .and_then(|r| r.split('@').next())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let id = format!("{}/users/{name}", app.host.base);
    let domain = app.host.base.trim_start_matches("http://");
    Json(json!({
        "subject": format!("acct:{name}@{domain}"),
        "links": [{ "rel": "self", "type": "application/activity+json", "href": id }],
    }))
    .into_response()
}

fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    }
}

async fn inbox(
    State(app): State<HostApp>,
    uri: axum::http::Uri,
    _headers: HeaderMap,
    body: Bytes,
) -> Response {
    app.farm.posts.fetch_add(1, Ordering::Relaxed);
    match app.host.mode.load(Ordering::Relaxed) {
        m if m == Mode::Down as u8 => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        m if m == Mode::Hung as u8 => std::future::pending::<()>().await,
        _ => {}
    }
    let at = Instant::now();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let kind = json
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    {
        let mut arrivals = lock(&app.farm.arrivals);
        arrivals.push(Arrival {
            at,
            host: app.host.index,
            inbox: uri.path().to_string(),
            kind: kind.clone(),
            object_id: str_of(&json["object"]),
        });
        *lock(&app.farm.kinds).entry(kind.clone()).or_default() += 1;
    }
    if kind == "Follow" && app.farm.auto_accept.load(Ordering::Relaxed) {
        tokio::spawn(accept(app.clone(), json));
    }
    StatusCode::ACCEPTED.into_response()
}

/// Accepts a Follow from the server, signed by the followed farm actor.
async fn accept(app: HostApp, follow: Value) {
    let target = str_of(&follow["object"]);
    let follower = str_of(&follow["actor"]);
    let Ok(follower_url) = Url::parse(&follower) else {
        return;
    };
    let inbox = format!("http://{}/inbox", follower_url.authority());
    let activity = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{target}#accepts/{}", rand::random::<u64>()),
        "type": "Accept",
        "actor": target,
        "object": follow,
    });
    if let Ok(signed) = sign(
        &app.farm,
        &target,
        &inbox,
        activity.to_string().into_bytes(),
    )
    .await
    {
        let _ = send(&app.farm.http, &signed).await;
    }
}
