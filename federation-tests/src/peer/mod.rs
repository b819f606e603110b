//! A fake Mastodon instance on `localhost:PORT`, in process.
//!
//! It speaks ActivityPub the way Mastodon does on the wire (WebFinger JRD,
//! `Person` actors with `publicKey` and `endpoints.sharedInbox`, statuses
//! under `/users/NAME/statuses/ID`, `conversation`/`atomUri` on notes, RSA
//! HTTP signatures over `(request-target) host date digest`), modelled on the
//! Mastodon fixtures in `shared/fixtures/activitypub`. Tests drive it
//! directly: it sends follows, notes, likes, boosts and undos, can sign a body
//! and then tamper with it, sign with someone else's key, or replay a request
//! byte for byte; and it records every activity it receives after verifying
//! its HTTP signature with activitypub_federation, so assertions can say
//! exactly what a Staffroom instance delivered and who signed it.
//!
//! State lives in memory and dies with the [`Peer`].

use crate::{Visibility, wait_for};
use activitypub_federation::{
    axum::inbox::{ActivityData, receive_activity},
    config::{Data, FederationConfig},
    error::Error as FedError,
    fetch::{fetch_object_http, object_id::ObjectId},
    http_signatures::{Keypair, generate_actor_keypair},
    protocol::verification::verify_domains_match,
    traits::{Activity, Actor, Object},
};
use async_trait::async_trait;
use axum::{
    Json, Router,
    body::Body,
    extract::{FromRequest, Path, Query, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::Engine;
use bytes::Bytes;
use reqwest_middleware::ClientWithMiddleware;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::{
    collections::{BTreeSet, HashMap, HashSet},
    fmt,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};
use url::Url;

/// The public audience collection.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
const AS_CONTEXT: &str = "https://www.w3.org/ns/activitystreams";
const SECURITY_CONTEXT: &str = "https://w3id.org/security/v1";
/// What Mastodon answers with for ActivityPub documents.
const AP_CONTENT_TYPE: &str = "application/activity+json; charset=utf-8";

// ------------------------------------------------------------------------
// Errors

/// Why the peer refused an incoming activity (and with which status).
#[derive(Debug)]
pub struct PeerError {
    pub status: StatusCode,
    pub message: String,
}

impl PeerError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl From<FedError> for PeerError {
    fn from(e: FedError) -> Self {
        // Like Mastodon: anything that prevents verifying who sent the
        // request (bad signature, digest, unreachable key) is 401; a body
        // that is not an activity is 400.
        let status = match e {
            FedError::ParseReceivedActivity { .. } => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNAUTHORIZED,
        };
        Self::new(status, e.to_string())
    }
}

// ------------------------------------------------------------------------
// ------------------------------------------------------------------------
// State

struct LocalUser {
    username: String,
    actor: ApActor,
    /// Signs as this user; `()` app data so no reference cycle with the state.
    signer: FederationConfig<()>,
}

/// A user of the peer, as tests refer to it.
#[derive(Clone)]
pub struct PeerUser {
    pub username: String,
    /// `http://localhost:PORT/users/NAME`.
    pub actor_id: String,
    /// `NAME@localhost:PORT`.
    pub acct: String,
    pub inbox: String,
    pub followers: String,
    local: Arc<LocalUser>,
}

impl fmt::Debug for PeerUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerUser")
            .field("actor_id", &self.actor_id)
            .finish()
    }
}

pub struct PeerState {
    base: String,
    domain: String,
    users: Mutex<HashMap<String, Arc<LocalUser>>>,
    instance_actor: Mutex<Option<ApActor>>,
    remote: Mutex<HashMap<Url, ApActor>>,
    /// Everything served by id: notes, activities.
    objects: Mutex<HashMap<String, Value>>,
    gone: Mutex<HashSet<String>>,
    /// Inboxes each note was delivered to, for its Update and Delete.
    note_inboxes: Mutex<HashMap<String, Vec<String>>>,
    outbox: Mutex<HashMap<String, Vec<Value>>>,
    followers: Mutex<HashMap<String, BTreeSet<String>>>,
    following: Mutex<HashMap<String, BTreeSet<String>>>,
    pending_follows: Mutex<Vec<Value>>,
    received: Mutex<Vec<Received>>,
    rejected: Mutex<Vec<Rejected>>,
    auto_sent: Mutex<Vec<Delivery>>,
    refuse_inbox: Mutex<Option<StatusCode>>,
    /// Sent with refusals, in seconds.
    retry_after: Mutex<Option<u64>>,
    hang_inbox: AtomicBool,
    hung_requests: AtomicU64,
    auto_accept: AtomicBool,
    seq: AtomicU64,
    http: reqwest::Client,
}

impl PeerState {
    fn actor(&self, id: &Url) -> Option<ApActor> {
        if let Some(user) = self.local_user_by_id(id.as_str()) {
            return Some(user.actor.clone());
        }
        if let Some(actor) = self.instance_actor.lock().unwrap().as_ref()
            && &actor.id == id
        {
            return Some(actor.clone());
        }
        self.remote.lock().unwrap().get(id).cloned()
    }

    fn local_user_by_id(&self, actor_id: &str) -> Option<Arc<LocalUser>> {
        let name = actor_id.strip_prefix(&format!("{}/users/", self.base))?;
        self.users.lock().unwrap().get(name).cloned()
    }

    fn user(&self, name: &str) -> Option<Arc<LocalUser>> {
        self.users.lock().unwrap().get(name).cloned()
    }

    fn next(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// A Mastodon-like snowflake: milliseconds shifted, plus a sequence.
    fn snowflake(&self) -> String {
        let ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
        ((ms << 16) | (self.next() & 0xffff)).to_string()
    }

    fn uuid(&self) -> String {
        let n = self.next();
        let ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            ms & 0xffff_ffff,
            (ms >> 32) & 0xffff,
            n & 0xfff,
            (n >> 12) & 0xfff,
            n
        )
    }
}

#[derive(Clone)]
struct App {
    state: Arc<PeerState>,
    fed: FederationConfig<Arc<PeerState>>,
}

/// The fake Mastodon server. Dropping it stops the server.
pub struct Peer {
    state: Arc<PeerState>,
    fed: FederationConfig<Arc<PeerState>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.server.abort();
        if std::thread::panicking() {
            eprintln!("\n{}\n", self.report());
        }
    }
}

async fn keypair() -> Keypair {
    tokio::task::spawn_blocking(|| generate_actor_keypair().expect("generate an RSA key pair"))
        .await
        .expect("key generation task")
}

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn value_id(v: &Value) -> &str {
    match v {
        Value::String(s) => s,
        Value::Object(o) => o.get("id").and_then(Value::as_str).unwrap_or(""),
        _ => "",
    }
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn without_context(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("@context");
    }
    v
}

fn note_context() -> Value {
    json!([
        AS_CONTEXT,
        {
            "ostatus": "http://ostatus.org#",
            "atomUri": "ostatus:atomUri",
            "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
            "conversation": "ostatus:conversation",
            "sensitive": "as:sensitive",
            "toot": "http://joinmastodon.org/ns#",
            "votersCount": "toot:votersCount"
        }
    ])
}

impl Peer {
    /// Starts the peer on a free loopback port, with its instance actor
    /// (`/actor`, which signs its fetches as Mastodon's does).
    pub async fn start() -> Peer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the peer's port");
        let port = listener.local_addr().expect("peer address").port();
        let domain = format!("localhost:{port}");
        let base = format!("http://{domain}");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("HTTP client");
        let state = Arc::new(PeerState {
            base: base.clone(),
            domain: domain.clone(),
            users: Mutex::default(),
            instance_actor: Mutex::default(),
            remote: Mutex::default(),
            objects: Mutex::default(),
            gone: Mutex::default(),
            note_inboxes: Mutex::default(),
            outbox: Mutex::default(),
            followers: Mutex::default(),
            following: Mutex::default(),
            pending_follows: Mutex::default(),
            received: Mutex::default(),
            rejected: Mutex::default(),
            auto_sent: Mutex::default(),
            refuse_inbox: Mutex::default(),
            retry_after: Mutex::default(),
            hang_inbox: AtomicBool::new(false),
            hung_requests: AtomicU64::new(0),
            auto_accept: AtomicBool::new(true),
            seq: AtomicU64::new(0),
            http: http.clone(),
        });
        let keys = keypair().await;
        let instance_id = format!("{base}/actor");
        let instance_json = json!({
            "@context": [AS_CONTEXT, SECURITY_CONTEXT],
            "id": instance_id,
            "type": "Application",
            "inbox": format!("{instance_id}/inbox"),
            "outbox": format!("{instance_id}/outbox"),
            "preferredUsername": domain,
            "url": format!("{base}/about/more?instance_actor=true"),
            "manuallyApprovesFollowers": true,
            "publicKey": {
                "id": format!("{instance_id}#main-key"),
                "owner": instance_id,
                "publicKeyPem": keys.public_key,
            },
            "endpoints": { "sharedInbox": format!("{base}/inbox") },
        });
        let mut instance = ApActor::from_document(instance_json).expect("instance actor");
        instance.private_key_pem = Some(keys.private_key);
        *state.instance_actor.lock().unwrap() = Some(instance.clone());
        let fed = FederationConfig::builder()
            .domain(domain)
            .app_data(state.clone())
            .debug(true)
            .http_signature_compat(true)
            .client(ClientWithMiddleware::from(http))
            .signed_fetch_actor(&instance)
            .build()
            .await
            .expect("federation config");
        let app = App {
            state: state.clone(),
            fed: fed.clone(),
        };
        let router = server::router(app);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Peer { state, fed, server }
    }

    pub fn domain(&self) -> &str {
        &self.state.domain
    }

    pub fn base_url(&self) -> &str {
        &self.state.base
    }

    /// The shared inbox, `http://localhost:PORT/inbox`.
    pub fn shared_inbox(&self) -> String {
        format!("{}/inbox", self.state.base)
    }

    fn data(&self) -> Data<Arc<PeerState>> {
        self.fed.to_request_data()
    }

    /// Adds a user with a fresh RSA key.
    pub async fn add_user(&self, username: &str) -> PeerUser {
        self.add_actor(username, "Person", json!({})).await
    }

    /// Adds a Lemmy-style community: a `Group` actor with a moderators
    /// collection (`attributedTo`) and a `featured` collection. It signs
    /// like any peer user and accepts follows the same way.
    pub async fn add_group(&self, name: &str) -> PeerUser {
        let id = format!("{}/users/{name}", self.state.base);
        self.add_actor(
            name,
            "Group",
            json!({
                "attributedTo": format!("{id}/moderators"),
                "postingRestrictedToMods": false,
                "name": format!("{name} (Lemmy community)"),
                "summary": "<p>A community on a Lemmy-like server.</p>",
            }),
        )
        .await
    }

    /// An actor of the given type; `extra` fields override the defaults.
    pub async fn add_actor(&self, username: &str, kind: &str, extra: Value) -> PeerUser {
        let base = &self.state.base;
        let id = format!("{base}/users/{username}");
        let keys = keypair().await;
        let json = json!({
            "@context": [
                AS_CONTEXT,
                SECURITY_CONTEXT,
                {
                    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
                    "toot": "http://joinmastodon.org/ns#",
                    "featured": { "@id": "toot:featured", "@type": "@id" },
                    "featuredTags": { "@id": "toot:featuredTags", "@type": "@id" },
                    "alsoKnownAs": { "@id": "as:alsoKnownAs", "@type": "@id" },
                    "movedTo": { "@id": "as:movedTo", "@type": "@id" },
                    "schema": "http://schema.org#",
                    "PropertyValue": "schema:PropertyValue",
                    "value": "schema:value",
                    "discoverable": "toot:discoverable",
                    "indexable": "toot:indexable",
                    "memorial": "toot:memorial"
                }
            ],
            "id": id,
            "type": kind,
            "following": format!("{id}/following"),
            "followers": format!("{id}/followers"),
            "inbox": format!("{id}/inbox"),
            "outbox": format!("{id}/outbox"),
            "featured": format!("{id}/collections/featured"),
            "featuredTags": format!("{id}/collections/tags"),
            "preferredUsername": username,
            "name": format!("{username} (Mastodon)"),
            "summary": "<p>A teacher on a Mastodon-like server.</p>",
            "url": format!("{base}/@{username}"),
            "manuallyApprovesFollowers": false,
            "discoverable": true,
            "indexable": true,
            "published": "2026-01-01T00:00:00Z",
            "memorial": false,
            "publicKey": {
                "id": format!("{id}#main-key"),
                "owner": id,
                "publicKeyPem": keys.public_key,
            },
            "tag": [],
            "attachment": [],
            "endpoints": { "sharedInbox": format!("{base}/inbox") },
        });
        let mut json = json;
        if let (Some(doc), Value::Object(extra)) = (json.as_object_mut(), extra) {
            doc.extend(extra);
        }
        let mut actor = ApActor::from_document(json).expect("peer actor");
        actor.private_key_pem = Some(keys.private_key);
        self.install(username, actor).await
    }

    /// Makes `actor` (with its private key) the peer's user `username`.
    async fn install(&self, username: &str, actor: ApActor) -> PeerUser {
        let signer = FederationConfig::builder()
            .domain(self.state.domain.clone())
            .app_data(())
            .debug(true)
            .http_signature_compat(true)
            .client(ClientWithMiddleware::from(self.state.http.clone()))
            .signed_fetch_actor(&actor)
            .build()
            .await
            .expect("signing config");
        let local = Arc::new(LocalUser {
            username: username.to_string(),
            actor,
            signer,
        });
        self.state
            .users
            .lock()
            .unwrap()
            .insert(username.to_string(), local.clone());
        self.peer_user(local)
    }

    /// Gives the user a new key pair, as an admin rotating keys would: the
    /// actor document serves the new public key (same key id) and the
    /// returned user signs with the new private key. A `PeerUser` kept from
    /// before still signs with the old one.
    pub async fn rotate_key(&self, user: &PeerUser) -> PeerUser {
        let keys = keypair().await;
        let mut actor = user.local.actor.clone();
        actor.json["publicKey"]["publicKeyPem"] = json!(keys.public_key);
        actor.public_key_pem = keys.public_key;
        actor.private_key_pem = Some(keys.private_key);
        self.install(&user.username, actor).await
    }

    fn peer_user(&self, local: Arc<LocalUser>) -> PeerUser {
        let actor_id = local.actor.id.to_string();
        PeerUser {
            username: local.username.clone(),
            acct: format!("{}@{}", local.username, self.state.domain),
            inbox: format!("{actor_id}/inbox"),
            followers: format!("{actor_id}/followers"),
            actor_id,
            local,
        }
    }

    pub fn user(&self, username: &str) -> PeerUser {
        let local = self
            .state
            .user(username)
            .unwrap_or_else(|| panic!("no peer user {username}"));
        self.peer_user(local)
    }

    /// Changes fields of one of the peer's actor documents (a renamed
    /// community, for instance); the key stays.
    pub fn update_actor(&self, user: &PeerUser, changes: Value) {
        let mut users = self.state.users.lock().unwrap();
        let Some(old) = users.get(&user.username).cloned() else {
            panic!("no peer user {}", user.username);
        };
        let mut actor = old.actor.clone();
        if let (Some(doc), Value::Object(changes)) = (actor.json.as_object_mut(), changes) {
            doc.extend(changes);
        }
        users.insert(
            user.username.clone(),
            Arc::new(LocalUser {
                username: old.username.clone(),
                actor,
                signer: old.signer.clone(),
            }),
        );
    }

    /// Serves `doc` at its `id` (a post or activity the test made, for
    /// example a Lemmy fixture rewritten to the peer's host).
    pub fn serve(&self, doc: Value) {
        let id = value_id(&doc).to_string();
        self.state.objects.lock().unwrap().insert(id, doc);
    }

    /// Whether Follows to the peer's users are accepted at once (the
    /// default, like an unlocked Mastodon account) or kept pending.
    pub fn set_auto_accept(&self, on: bool) {
        self.state.auto_accept.store(on, Ordering::Relaxed);
    }

    /// Makes every inbox answer `status` without looking at the request
    /// (`None` to recover), to simulate an instance that is down.
    pub fn refuse_inbox(&self, status: Option<StatusCode>) {
        *self.state.retry_after.lock().unwrap() = None;
        *self.state.refuse_inbox.lock().unwrap() = status;
    }

    /// Like [`refuse_inbox`](Self::refuse_inbox), with a `Retry-After`
    /// header of `secs` seconds (as a rate-limited server answers 429).
    pub fn refuse_inbox_retry_after(&self, status: StatusCode, secs: u64) {
        *self.state.retry_after.lock().unwrap() = Some(secs);
        *self.state.refuse_inbox.lock().unwrap() = Some(status);
    }

    /// Makes every inbox take the request and never answer (`false` to
    /// recover), like a server stuck behind a proxy that keeps connections
    /// open: the sender only gets out by its own timeout.
    pub fn hang_inbox(&self, on: bool) {
        self.state.hang_inbox.store(on, Ordering::SeqCst);
    }

    /// How many requests reached an inbox while it was hanging.
    pub fn hung_requests(&self) -> u64 {
        self.state.hung_requests.load(Ordering::SeqCst)
    }
}

mod actor;
mod inspect;
mod records;
mod send;
mod server;

pub use actor::ApActor;
use actor::InboundActivity;
pub use records::{Delivery, NoteSpec, Received, Rejected, Sent, SentRequest, Tamper};
use send::sign_and_post;
