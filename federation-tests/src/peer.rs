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
// Actors, local and remote, as activitypub_federation sees them

/// An actor document with its key: a remote actor the peer fetched, or one
/// of the peer's own users (which also has the private key).
#[derive(Debug, Clone)]
pub struct ApActor {
    id: Url,
    inbox: Url,
    shared_inbox: Option<Url>,
    public_key_pem: String,
    private_key_pem: Option<String>,
    json: Value,
}

impl ApActor {
    fn from_document(json: Value) -> Result<Self, PeerError> {
        let bad = |what: &str| PeerError::new(StatusCode::UNAUTHORIZED, format!("actor {what}"));
        let url = |v: &Value| v.as_str().and_then(|s| Url::parse(s).ok());
        let id = url(&json["id"]).ok_or_else(|| bad("without a valid id"))?;
        let inbox = url(&json["inbox"]).ok_or_else(|| bad("without an inbox"))?;
        let shared_inbox = url(&json["endpoints"]["sharedInbox"]);
        let public_key_pem = json["publicKey"]["publicKeyPem"]
            .as_str()
            .ok_or_else(|| bad("without publicKey.publicKeyPem"))?
            .to_string();
        Ok(Self {
            id,
            inbox,
            shared_inbox,
            public_key_pem,
            private_key_pem: None,
            json,
        })
    }

    pub fn id(&self) -> &Url {
        &self.id
    }

    pub fn document(&self) -> &Value {
        &self.json
    }

    /// Where deliveries to this actor go: the shared inbox if it has one.
    pub fn delivery_inbox(&self) -> Url {
        self.shared_inbox
            .clone()
            .unwrap_or_else(|| self.inbox.clone())
    }
}

#[async_trait]
impl Object for ApActor {
    type DataType = Arc<PeerState>;
    type Kind = Value;
    type Error = PeerError;

    fn id(&self) -> &Url {
        &self.id
    }

    async fn read_from_id(
        object_id: Url,
        data: &Data<Self::DataType>,
    ) -> Result<Option<Self>, Self::Error> {
        Ok(data.app_data().actor(&object_id))
    }

    async fn into_json(self, _data: &Data<Self::DataType>) -> Result<Self::Kind, Self::Error> {
        Ok(self.json)
    }

    async fn verify(
        json: &Self::Kind,
        expected_domain: &Url,
        _data: &Data<Self::DataType>,
    ) -> Result<(), Self::Error> {
        let id = json["id"]
            .as_str()
            .and_then(|s| Url::parse(s).ok())
            .ok_or_else(|| PeerError::new(StatusCode::UNAUTHORIZED, "actor without id"))?;
        verify_domains_match(&id, expected_domain)?;
        Ok(())
    }

    async fn from_json(json: Self::Kind, data: &Data<Self::DataType>) -> Result<Self, Self::Error> {
        let actor = ApActor::from_document(json)?;
        data.app_data()
            .remote
            .lock()
            .unwrap()
            .insert(actor.id.clone(), actor.clone());
        Ok(actor)
    }
}

impl Actor for ApActor {
    fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    fn private_key_pem(&self) -> Option<String> {
        self.private_key_pem.clone()
    }

    fn inbox(&self) -> Url {
        self.inbox.clone()
    }

    fn shared_inbox(&self) -> Option<Url> {
        self.shared_inbox.clone()
    }
}

/// Only what receive_activity needs to find the signer; the peer keeps the
/// raw JSON separately.
#[derive(Debug, Deserialize)]
struct InboundActivity {
    id: Url,
    actor: Url,
}

#[async_trait]
impl Activity for InboundActivity {
    type DataType = Arc<PeerState>;
    type Error = PeerError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    async fn verify(&self, _data: &Data<Self::DataType>) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn receive(self, _data: &Data<Self::DataType>) -> Result<(), Self::Error> {
        Ok(())
    }
}

// ------------------------------------------------------------------------
// Records

/// An activity that passed signature verification.
#[derive(Debug, Clone)]
pub struct Received {
    /// Request path: `/inbox` (shared) or `/users/NAME/inbox`.
    pub inbox: String,
    pub activity: Value,
    /// The activity's `actor`, whose public key verified the signature.
    pub actor: String,
    /// `keyId` from the Signature header.
    pub key_id: String,
    pub headers: Vec<(String, String)>,
    /// The body exactly as received.
    pub body: String,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl Received {
    pub fn kind(&self) -> &str {
        self.activity["type"].as_str().unwrap_or("")
    }

    pub fn id(&self) -> &str {
        self.activity["id"].as_str().unwrap_or("")
    }

    /// The embedded object, or `Null` when the object is a bare id.
    pub fn object(&self) -> &Value {
        &self.activity["object"]
    }

    /// The object's id, whether embedded or given as a string.
    pub fn object_id(&self) -> &str {
        value_id(&self.activity["object"])
    }

    fn summary(&self) -> String {
        format!(
            "{} {} from {} -> {}",
            self.kind(),
            self.id(),
            self.actor,
            self.inbox
        )
    }
}

/// A request the peer refused.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub inbox: String,
    pub status: StatusCode,
    pub reason: String,
    pub body: String,
    /// When it was refused.
    pub at: std::time::Instant,
}

/// A signed request as it went on the wire, for byte-exact replays.
#[derive(Debug, Clone)]
pub struct SentRequest {
    pub url: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: Bytes,
}

/// One POST to one inbox and what it answered.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub inbox: String,
    pub status: StatusCode,
    pub response: String,
    pub request: SentRequest,
}

impl Delivery {
    pub fn assert_accepted(&self) {
        assert!(
            self.status.is_success(),
            "POST {} answered {}: {}\nbody sent: {}",
            self.inbox,
            self.status,
            self.response,
            String::from_utf8_lossy(&self.request.body)
        );
    }
}

/// An activity the peer sent and the deliveries it made.
#[derive(Debug, Clone)]
pub struct Sent {
    pub activity: Value,
    pub deliveries: Vec<Delivery>,
}

impl Sent {
    pub fn id(&self) -> &str {
        self.activity["id"].as_str().unwrap_or("")
    }

    /// The object's id (the note for a Create, the target for a Like).
    pub fn object_id(&self) -> &str {
        value_id(&self.activity["object"])
    }

    /// Panics unless there was at least one delivery and every one was 2xx.
    pub fn assert_accepted(&self) -> &Self {
        assert!(
            !self.deliveries.is_empty(),
            "{} {} was delivered nowhere",
            self.activity["type"],
            self.id()
        );
        for d in &self.deliveries {
            d.assert_accepted();
        }
        self
    }
}

/// Ways to spoil a correctly signed request after signing.
#[derive(Debug, Clone)]
pub enum Tamper {
    None,
    /// Swap the body; the Digest header no longer matches it.
    ReplaceBody(Vec<u8>),
    /// Swap the body and recompute Digest; the signature (which covers the
    /// digest) no longer matches.
    ReplaceBodyAndDigest(Vec<u8>),
    /// Send without a Signature header.
    StripSignature,
    /// Send without a Digest header.
    StripDigest,
    /// Sign with a `Date` this many seconds from now (negative: in the
    /// past), as a slow queue or a replaying attacker would.
    ShiftDate(i64),
    /// Label the signature `algorithm="hs2019"` (the signature itself is
    /// unchanged, as the algorithm is not signed), as Pleroma, Akkoma and
    /// GoToSocial send it.
    Hs2019,
}

/// A note for [`Peer::send_note`], addressed the way Mastodon addresses it.
#[derive(Debug, Clone)]
pub struct NoteSpec {
    pub text: String,
    pub visibility: Visibility,
    pub in_reply_to: Option<String>,
    /// Actor ids to mention (tagged, linked in the content and addressed).
    pub mentions: Vec<String>,
    pub summary: Option<String>,
}

impl NoteSpec {
    pub fn new(text: impl Into<String>, visibility: Visibility) -> Self {
        Self {
            text: text.into(),
            visibility,
            in_reply_to: None,
            mentions: Vec::new(),
            summary: None,
        }
    }

    pub fn public(text: impl Into<String>) -> Self {
        Self::new(text, Visibility::Public)
    }

    /// A reply; like Mastodon's compose box, the parent's author is mentioned
    /// automatically.
    pub fn reply_to(mut self, parent_id: impl Into<String>) -> Self {
        self.in_reply_to = Some(parent_id.into());
        self
    }

    pub fn mention(mut self, actor_id: impl Into<String>) -> Self {
        self.mentions.push(actor_id.into());
        self
    }

    pub fn content_warning(mut self, summary: impl Into<String>) -> Self {
        self.summary = Some(summary.into());
        self
    }
}

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
        let router = Router::new()
            .route("/.well-known/webfinger", get(webfinger))
            .route("/.well-known/nodeinfo", get(nodeinfo_links))
            .route("/nodeinfo/2.0", get(nodeinfo))
            .route("/actor", get(instance_actor))
            .route("/actor/inbox", post(inbox))
            .route("/inbox", post(inbox))
            .route("/users/{name}", get(actor))
            .route("/users/{name}/inbox", post(inbox))
            .route("/users/{name}/followers", get(followers))
            .route("/users/{name}/following", get(following))
            .route("/users/{name}/outbox", get(outbox))
            .route("/users/{name}/collections/featured", get(featured))
            .fallback(stored_object)
            .with_state(app);
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

    // --- what arrived ---------------------------------------------------

    /// Every activity that passed verification, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    pub fn received_of_type(&self, kind: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.kind() == kind)
            .collect()
    }

    /// Requests the peer refused (bad signature, unknown inbox, ...).
    pub fn rejected(&self) -> Vec<Rejected> {
        self.state.rejected.lock().unwrap().clone()
    }

    /// Deliveries the peer made on its own (Accepts of follows).
    pub fn auto_sent(&self) -> Vec<Delivery> {
        self.state.auto_sent.lock().unwrap().clone()
    }

    /// Actor ids following `user` (accepted follows).
    pub fn followers_of(&self, user: &PeerUser) -> Vec<String> {
        self.state
            .followers
            .lock()
            .unwrap()
            .get(&user.username)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Actor ids whose Accept `user` has received.
    pub fn following_of(&self, user: &PeerUser) -> Vec<String> {
        self.state
            .following
            .lock()
            .unwrap()
            .get(&user.username)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Follow activities received while auto-accept was off.
    pub fn pending_follows(&self) -> Vec<Value> {
        self.state.pending_follows.lock().unwrap().clone()
    }

    /// What the peer saw, for failure messages.
    pub fn report(&self) -> String {
        let received: Vec<String> = self.received().iter().map(Received::summary).collect();
        let rejected: Vec<String> = self
            .rejected()
            .iter()
            .map(|r| format!("{} at {}: {}", r.status, r.inbox, r.reason))
            .collect();
        format!(
            "----- peer {} -----\nreceived ({}):\n  {}\nrejected ({}):\n  {}\n-----",
            self.state.domain,
            received.len(),
            received.join("\n  "),
            rejected.len(),
            rejected.join("\n  ")
        )
    }

    /// Waits (up to 30 s) for a verified activity of type `kind` matching
    /// `predicate`, and returns it.
    pub async fn wait_for_activity(
        &self,
        kind: &str,
        predicate: impl Fn(&Received) -> bool,
    ) -> Received {
        wait_for(
            &format!("peer {} receives a {kind}", self.domain()),
            async || {
                self.received()
                    .into_iter()
                    .find(|r| r.kind() == kind && predicate(r))
                    .ok_or_else(|| self.report())
            },
        )
        .await
    }

    // --- fetching -------------------------------------------------------

    /// Fetches and caches an actor (signed fetch as the instance actor).
    pub async fn resolve_actor(&self, actor_id: &str) -> ApActor {
        let id = ObjectId::<ApActor>::parse(actor_id)
            .unwrap_or_else(|e| panic!("actor id {actor_id}: {e}"));
        id.dereference(&self.data())
            .await
            .unwrap_or_else(|e| panic!("peer could not fetch actor {actor_id}: {e}"))
    }

    /// GET an ActivityPub document, signed as the instance actor; checks the
    /// content type and that the `id` matches, as Mastodon does.
    pub async fn fetch(&self, url: &str) -> Result<Value, String> {
        let url = Url::parse(url).map_err(|e| e.to_string())?;
        fetch_object_http::<_, Value>(&url, &self.data().reset_request_count())
            .await
            .map(|r| r.object)
            .map_err(|e| e.to_string())
    }

    async fn author_of(&self, object_id: &str) -> ApActor {
        let object = self
            .fetch(object_id)
            .await
            .unwrap_or_else(|e| panic!("peer could not fetch {object_id}: {e}"));
        let author = match &object["attributedTo"] {
            Value::Array(list) => list.first().map(value_id).unwrap_or(""),
            other => value_id(other),
        }
        .to_string();
        assert!(
            !author.is_empty(),
            "{object_id} has no attributedTo: {object}"
        );
        self.resolve_actor(&author).await
    }

    async fn follower_inboxes(&self, user: &PeerUser) -> Vec<String> {
        let mut inboxes = Vec::new();
        for follower in self.followers_of(user) {
            let actor = self.resolve_actor(&follower).await;
            inboxes.push(actor.delivery_inbox().to_string());
        }
        inboxes
    }

    // --- sending --------------------------------------------------------

    /// Signs `body` as `signer` (rsa-sha256 over `(request-target) host date
    /// digest content-type`, as the crate does for Mastodon), spoils it as
    /// `tamper` says, POSTs it to `inbox` and reports the answer.
    pub async fn deliver(
        &self,
        signer: &PeerUser,
        inbox: &str,
        body: Vec<u8>,
        tamper: Tamper,
    ) -> Delivery {
        sign_and_post(&self.state.http, &signer.local, inbox, body, tamper)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Sends the exact bytes and headers of an earlier delivery again
    /// (same Date, same signature), as an attacker who captured it would.
    pub async fn replay(&self, earlier: &Delivery) -> Delivery {
        post_signed(&self.state.http, earlier.request.clone())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Signs and sends any JSON as `signer`; the JSON's `actor` need not be
    /// the signer (that is the point of some tests).
    pub async fn send_raw(&self, signer: &PeerUser, inbox: &str, activity: &Value) -> Delivery {
        self.send_tampered(signer, inbox, activity, Tamper::None)
            .await
    }

    pub async fn send_tampered(
        &self,
        signer: &PeerUser,
        inbox: &str,
        activity: &Value,
        tamper: Tamper,
    ) -> Delivery {
        let body = serde_json::to_vec(activity).expect("serialise activity");
        self.deliver(signer, inbox, body, tamper).await
    }

    async fn send_to(&self, from: &PeerUser, activity: Value, inboxes: Vec<String>) -> Sent {
        if let Some(id) = activity["id"].as_str() {
            self.state
                .objects
                .lock()
                .unwrap()
                .insert(id.to_string(), activity.clone());
        }
        let mut unique: Vec<String> = Vec::new();
        for inbox in inboxes {
            if !unique.contains(&inbox) && !inbox.starts_with(&format!("{}/", self.state.base)) {
                unique.push(inbox);
            }
        }
        let mut deliveries = Vec::new();
        for inbox in unique {
            deliveries.push(self.send_raw(from, &inbox, &activity).await);
        }
        Sent {
            activity,
            deliveries,
        }
    }

    /// A new activity object with Mastodon's plain context.
    pub fn activity(&self, from: &PeerUser, kind: &str, id: String, object: Value) -> Value {
        json!({
            "@context": AS_CONTEXT,
            "id": id,
            "type": kind,
            "actor": from.actor_id,
            "object": object,
        })
    }

    /// Follow `target_actor_id`, delivered to the target's own inbox.
    pub async fn send_follow(&self, from: &PeerUser, target_actor_id: &str) -> Sent {
        let target = self.resolve_actor(target_actor_id).await;
        let id = format!("{}/{}", self.state.base, self.state.uuid());
        let follow = self.activity(from, "Follow", id, json!(target_actor_id));
        self.send_to(from, follow, vec![target.inbox.to_string()])
            .await
    }

    /// Creates a Mastodon-shaped Note and delivers it to the mentioned
    /// actors and (unless direct) to the user's followers. The note is then
    /// served at its id.
    pub async fn send_note(&self, from: &PeerUser, spec: NoteSpec) -> Sent {
        let snowflake = self.state.snowflake();
        let note_id = format!("{}/statuses/{snowflake}", from.actor_id);
        let published = now();
        let mut mentions = spec.mentions.clone();
        let mut conversation = None;
        if let Some(parent) = &spec.in_reply_to {
            let parent_doc = self
                .fetch(parent)
                .await
                .unwrap_or_else(|e| panic!("peer could not fetch parent {parent}: {e}"));
            if let Some(c) = parent_doc["conversation"]
                .as_str()
                .or_else(|| parent_doc["context"].as_str())
            {
                conversation = Some(c.to_string());
            }
            let author = value_id(&parent_doc["attributedTo"]).to_string();
            if !author.is_empty() && !mentions.contains(&author) && author != from.actor_id {
                mentions.insert(0, author);
            }
        }
        let conversation = conversation.unwrap_or_else(|| {
            format!(
                "tag:{},{}:objectId={snowflake}:objectType=Conversation",
                self.state.domain,
                chrono::Utc::now().format("%Y-%m-%d")
            )
        });
        let mut tags = Vec::new();
        let mut spans = String::new();
        let mut inboxes = Vec::new();
        for mention in &mentions {
            let actor = self.resolve_actor(mention).await;
            let doc = actor.document();
            let username = doc["preferredUsername"].as_str().unwrap_or("someone");
            let host = match (actor.id.host_str(), actor.id.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_string(),
                _ => String::new(),
            };
            let profile = doc["url"].as_str().unwrap_or(mention);
            spans.push_str(&format!(
                "<span class=\"h-card\" translate=\"no\"><a href=\"{}\" class=\"u-url mention\">@<span>{}</span></a></span> ",
                escape_html(profile),
                escape_html(username)
            ));
            tags.push(json!({
                "type": "Mention",
                "href": mention,
                "name": format!("@{username}@{host}"),
            }));
            // Mastodon sends mentions to the personal inbox for direct
            // messages and to the shared one otherwise.
            inboxes.push(if spec.visibility == Visibility::Direct {
                actor.inbox.to_string()
            } else {
                actor.delivery_inbox().to_string()
            });
        }
        let content = format!("<p>{spans}{}</p>", escape_html(&spec.text));
        let mention_ids: Vec<Value> = mentions.iter().map(|m| json!(m)).collect();
        let (to, cc) = match spec.visibility {
            Visibility::Public => {
                let mut cc = vec![json!(from.followers)];
                cc.extend(mention_ids);
                (vec![json!(PUBLIC)], cc)
            }
            Visibility::Unlisted => {
                let mut cc = vec![json!(PUBLIC)];
                cc.extend(mention_ids);
                (vec![json!(from.followers)], cc)
            }
            Visibility::Private => (vec![json!(from.followers)], mention_ids),
            Visibility::Direct => (mention_ids, Vec::new()),
        };
        if spec.visibility != Visibility::Direct {
            inboxes.extend(self.follower_inboxes(from).await);
        }
        let note = json!({
            "id": note_id,
            "type": "Note",
            "summary": spec.summary,
            "inReplyTo": spec.in_reply_to,
            "published": published,
            "url": format!("{}/@{}/{snowflake}", self.state.base, from.username),
            "attributedTo": from.actor_id,
            "to": to,
            "cc": cc,
            "sensitive": spec.summary.is_some(),
            "atomUri": note_id,
            "inReplyToAtomUri": spec.in_reply_to,
            "conversation": conversation,
            "content": content,
            "contentMap": { "en": content },
            "attachment": [],
            "tag": tags,
            "replies": {
                "id": format!("{note_id}/replies"),
                "type": "Collection",
                "first": {
                    "type": "CollectionPage",
                    "next": format!("{note_id}/replies?only_other_accounts=true&page=true"),
                    "partOf": format!("{note_id}/replies"),
                    "items": []
                }
            }
        });
        let mut served = note.clone();
        served["@context"] = note_context();
        self.state
            .objects
            .lock()
            .unwrap()
            .insert(note_id.clone(), served);
        let create = json!({
            "@context": note_context(),
            "id": format!("{note_id}/activity"),
            "type": "Create",
            "actor": from.actor_id,
            "published": published,
            "to": note["to"],
            "cc": note["cc"],
            "object": note,
        });
        if matches!(spec.visibility, Visibility::Public | Visibility::Unlisted) {
            self.state
                .outbox
                .lock()
                .unwrap()
                .entry(from.username.clone())
                .or_default()
                .push(create.clone());
        }
        self.state
            .note_inboxes
            .lock()
            .unwrap()
            .insert(note_id, inboxes.clone());
        self.send_to(from, create, inboxes).await
    }

    /// Edits one of the peer's notes (Update with `updated`), delivered where
    /// the note went.
    pub async fn send_update_note(&self, from: &PeerUser, note_id: &str, text: &str) -> Sent {
        let mut note = self
            .state
            .objects
            .lock()
            .unwrap()
            .get(note_id)
            .cloned()
            .unwrap_or_else(|| panic!("the peer did not create {note_id}"));
        let content = format!("<p>{}</p>", escape_html(text));
        let updated = now();
        note["content"] = json!(content);
        note["contentMap"] = json!({ "en": content });
        note["updated"] = json!(updated);
        self.state
            .objects
            .lock()
            .unwrap()
            .insert(note_id.to_string(), note.clone());
        let update = json!({
            "@context": note_context(),
            "id": format!("{note_id}#updates/{}", chrono::Utc::now().timestamp()),
            "type": "Update",
            "actor": from.actor_id,
            "published": updated,
            "to": note["to"],
            "cc": note["cc"],
            "object": without_context(&note),
        });
        let inboxes = self.note_inboxes(note_id);
        self.send_to(from, update, inboxes).await
    }

    /// Deletes one of the peer's notes: Delete with a Tombstone; the note's
    /// URL answers 410 afterwards.
    pub async fn send_delete_note(&self, from: &PeerUser, note_id: &str) -> Sent {
        self.state.gone.lock().unwrap().insert(note_id.to_string());
        let delete = json!({
            "@context": [AS_CONTEXT, { "ostatus": "http://ostatus.org#", "atomUri": "ostatus:atomUri" }],
            "id": format!("{note_id}#delete"),
            "type": "Delete",
            "actor": from.actor_id,
            "to": [PUBLIC],
            "object": { "id": note_id, "type": "Tombstone", "atomUri": note_id },
        });
        let inboxes = self.note_inboxes(note_id);
        self.send_to(from, delete, inboxes).await
    }

    fn note_inboxes(&self, note_id: &str) -> Vec<String> {
        self.state
            .note_inboxes
            .lock()
            .unwrap()
            .get(note_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Likes `object_id`, delivered to its author's inbox.
    pub async fn send_like(&self, from: &PeerUser, object_id: &str) -> Sent {
        let author = self.author_of(object_id).await;
        let id = format!("{}#likes/{}", from.actor_id, self.state.next());
        let like = self.activity(from, "Like", id, json!(object_id));
        self.send_to(from, like, vec![author.inbox.to_string()])
            .await
    }

    /// Boosts `object_id`, delivered to its author and the user's followers.
    pub async fn send_announce(&self, from: &PeerUser, object_id: &str) -> Sent {
        let author = self.author_of(object_id).await;
        let snowflake = self.state.snowflake();
        let announce = json!({
            "@context": AS_CONTEXT,
            "id": format!("{}/statuses/{snowflake}/activity", from.actor_id),
            "type": "Announce",
            "actor": from.actor_id,
            "published": now(),
            "to": [PUBLIC],
            "cc": [author.id.to_string(), from.followers],
            "object": object_id,
        });
        let mut inboxes = vec![author.delivery_inbox().to_string()];
        inboxes.extend(self.follower_inboxes(from).await);
        self.send_to(from, announce, inboxes).await
    }

    /// Undoes an earlier Follow, Like or Announce, delivered where it went.
    pub async fn send_undo(&self, from: &PeerUser, original: &Sent) -> Sent {
        let mut undo = json!({
            "@context": AS_CONTEXT,
            "id": format!("{}/undo", original.id()),
            "type": "Undo",
            "actor": from.actor_id,
            "object": without_context(&original.activity),
        });
        if let Some(to) = original.activity.get("to") {
            undo["to"] = to.clone();
        }
        let inboxes = original
            .deliveries
            .iter()
            .map(|d| d.inbox.clone())
            .collect();
        self.send_to(from, undo, inboxes).await
    }
}

// ------------------------------------------------------------------------
// HTTP side

fn ap_json(value: Value) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(AP_CONTENT_TYPE),
        )],
        value.to_string(),
    )
        .into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": "Record not found" })),
    )
        .into_response()
}

#[derive(Deserialize)]
struct WebfingerQuery {
    resource: String,
}

async fn webfinger(State(app): State<App>, Query(q): Query<WebfingerQuery>) -> Response {
    let state = &app.state;
    let resource = q.resource.to_lowercase();
    let name = if let Some(acct) = resource.strip_prefix("acct:") {
        match acct.rsplit_once('@') {
            Some((name, domain)) if domain == state.domain => name.to_string(),
            _ => return not_found(),
        }
    } else if let Some(name) = resource.strip_prefix(&format!("{}/users/", state.base)) {
        name.to_string()
    } else if let Some(name) = resource.strip_prefix(&format!("{}/@", state.base)) {
        name.to_string()
    } else {
        return not_found();
    };
    let (subject_name, self_href, profile) = if name == state.domain {
        (
            state.domain.clone(),
            format!("{}/actor", state.base),
            format!("{}/about/more?instance_actor=true", state.base),
        )
    } else if let Some(user) = state.user(&name) {
        (
            user.username.clone(),
            user.actor.id.to_string(),
            format!("{}/@{}", state.base, user.username),
        )
    } else {
        return not_found();
    };
    let jrd = json!({
        "subject": format!("acct:{subject_name}@{}", state.domain),
        "aliases": [profile, self_href],
        "links": [
            { "rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profile },
            { "rel": "self", "type": "application/activity+json", "href": self_href },
            { "rel": "http://ostatus.org/schema/1.0/subscribe", "template": format!("{}/authorize_interaction?uri={{uri}}", state.base) }
        ]
    });
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/jrd+json; charset=utf-8"),
        )],
        jrd.to_string(),
    )
        .into_response()
}

async fn nodeinfo_links(State(app): State<App>) -> Response {
    Json(json!({
        "links": [{
            "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
            "href": format!("{}/nodeinfo/2.0", app.state.base)
        }]
    }))
    .into_response()
}

async fn nodeinfo(State(app): State<App>) -> Response {
    let users = app.state.users.lock().unwrap().len();
    Json(json!({
        "version": "2.0",
        "software": { "name": "mastodon", "version": "4.3.0" },
        "protocols": ["activitypub"],
        "services": { "outbound": [], "inbound": [] },
        "usage": { "users": { "total": users, "activeMonth": users, "activeHalfyear": users }, "localPosts": 0 },
        "openRegistrations": false,
        "metadata": { "nodeName": "federation-tests peer" }
    }))
    .into_response()
}

async fn instance_actor(State(app): State<App>) -> Response {
    match app.state.instance_actor.lock().unwrap().as_ref() {
        Some(actor) => ap_json(actor.json.clone()),
        None => not_found(),
    }
}

async fn actor(State(app): State<App>, Path(name): Path<String>) -> Response {
    match app.state.user(&name) {
        Some(user) => ap_json(user.actor.json.clone()),
        None => not_found(),
    }
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<String>,
}

fn collection(id: &str, items: Vec<Value>, page: bool) -> Response {
    if page {
        ap_json(json!({
            "@context": AS_CONTEXT,
            "id": format!("{id}?page=1"),
            "type": "OrderedCollectionPage",
            "totalItems": items.len(),
            "partOf": id,
            "orderedItems": items,
        }))
    } else {
        ap_json(json!({
            "@context": AS_CONTEXT,
            "id": id,
            "type": "OrderedCollection",
            "totalItems": items.len(),
            "first": format!("{id}?page=1"),
        }))
    }
}

async fn followers(
    State(app): State<App>,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let Some(user) = app.state.user(&name) else {
        return not_found();
    };
    let items = app
        .state
        .followers
        .lock()
        .unwrap()
        .get(&name)
        .map(|s| s.iter().map(|a| json!(a)).collect())
        .unwrap_or_default();
    collection(
        &format!("{}/followers", user.actor.id),
        items,
        q.page.is_some(),
    )
}

async fn following(
    State(app): State<App>,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let Some(user) = app.state.user(&name) else {
        return not_found();
    };
    let items = app
        .state
        .following
        .lock()
        .unwrap()
        .get(&name)
        .map(|s| s.iter().map(|a| json!(a)).collect())
        .unwrap_or_default();
    collection(
        &format!("{}/following", user.actor.id),
        items,
        q.page.is_some(),
    )
}

async fn outbox(
    State(app): State<App>,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let Some(user) = app.state.user(&name) else {
        return not_found();
    };
    let mut items: Vec<Value> = app
        .state
        .outbox
        .lock()
        .unwrap()
        .get(&name)
        .map(|v| v.iter().map(without_context).collect())
        .unwrap_or_default();
    items.reverse();
    collection(
        &format!("{}/outbox", user.actor.id),
        items,
        q.page.is_some(),
    )
}

async fn featured(State(app): State<App>, Path(name): Path<String>) -> Response {
    let Some(user) = app.state.user(&name) else {
        return not_found();
    };
    ap_json(json!({
        "@context": AS_CONTEXT,
        "id": format!("{}/collections/featured", user.actor.id),
        "type": "OrderedCollection",
        "totalItems": 0,
        "orderedItems": [],
    }))
}

/// Notes and activities the peer minted, by id; 410 once deleted.
async fn stored_object(State(app): State<App>, method: Method, uri: Uri) -> Response {
    if method != Method::GET {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let id = format!("{}{}", app.state.base, uri.path());
    if app.state.gone.lock().unwrap().contains(&id) {
        return (StatusCode::GONE, Json(json!({ "error": "Gone" }))).into_response();
    }
    match app.state.objects.lock().unwrap().get(&id) {
        Some(object) => ap_json(object.clone()),
        None => not_found(),
    }
}

fn key_id(headers: &HeaderMap) -> String {
    let signature = headers
        .get("signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    signature
        .split(',')
        .find_map(|part| part.trim().strip_prefix("keyId=\""))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or("")
        .to_string()
}

async fn inbox(State(app): State<App>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let state = &app.state;
    let reject = |status: StatusCode, reason: String, body: &[u8]| {
        state.rejected.lock().unwrap().push(Rejected {
            inbox: path.clone(),
            status,
            reason: reason.clone(),
            body: String::from_utf8_lossy(body).to_string(),
            at: std::time::Instant::now(),
        });
        (status, Json(json!({ "error": reason }))).into_response()
    };
    let refusal = *state.refuse_inbox.lock().unwrap();
    if let Some(status) = refusal {
        let mut response = reject(status, "inbox refusing on purpose".into(), b"");
        if let Some(secs) = *state.retry_after.lock().unwrap() {
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_str(&secs.to_string()).unwrap(),
            );
        }
        return response;
    }
    if state.hang_inbox.load(Ordering::SeqCst) {
        state.hung_requests.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<()>().await;
    }
    if let Some(name) = path
        .strip_prefix("/users/")
        .and_then(|rest| rest.strip_suffix("/inbox"))
        && state.user(name).is_none()
    {
        return reject(StatusCode::NOT_FOUND, format!("no user {name}"), b"");
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, 2 * 1024 * 1024).await {
        Ok(b) => b,
        Err(e) => return reject(StatusCode::PAYLOAD_TOO_LARGE, e.to_string(), b""),
    };
    let headers = parts.headers.clone();
    let rebuilt = Request::from_parts(parts, Body::from(bytes.clone()));
    let activity_data = match ActivityData::from_request(rebuilt, &()).await {
        Ok(d) => d,
        Err(resp) => return resp,
    };
    let data = app.fed.to_request_data();
    if let Err(e) =
        receive_activity::<InboundActivity, ApActor, Arc<PeerState>>(activity_data, &data).await
    {
        return reject(e.status, e.message, &bytes);
    }
    let activity: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let actor = value_id(&activity["actor"]).to_string();
    let key = key_id(&headers);
    // Mastodon also insists that the key belongs to the activity's actor;
    // the crate verifies with the actor's key whatever keyId says.
    let owner = key.split('#').next().unwrap_or("");
    if owner != actor {
        return reject(
            StatusCode::UNAUTHORIZED,
            format!("keyId {key} does not belong to actor {actor}"),
            &bytes,
        );
    }
    let received = Received {
        inbox: path.clone(),
        activity: activity.clone(),
        actor,
        key_id: key,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: String::from_utf8_lossy(&bytes).to_string(),
        at: std::time::Instant::now(),
    };
    state.received.lock().unwrap().push(received);
    side_effects(&app, &activity);
    StatusCode::ACCEPTED.into_response()
}

/// What Mastodon would do on its own: accept follows, forget undone ones,
/// remember accepted ones.
fn side_effects(app: &App, activity: &Value) {
    let state = &app.state;
    let kind = activity["type"].as_str().unwrap_or("");
    let actor = value_id(&activity["actor"]).to_string();
    match kind {
        "Follow" => {
            let Some(user) = state.local_user_by_id(value_id(&activity["object"])) else {
                return;
            };
            if !state.auto_accept.load(Ordering::Relaxed) {
                state.pending_follows.lock().unwrap().push(activity.clone());
                return;
            }
            state
                .followers
                .lock()
                .unwrap()
                .entry(user.username.clone())
                .or_default()
                .insert(actor.clone());
            let app = app.clone();
            let follow = without_context(activity);
            tokio::spawn(async move {
                accept_follow(app, user, actor, follow).await;
            });
        }
        "Undo" => {
            let inner = &activity["object"];
            if inner["type"].as_str() == Some("Follow")
                && let Some(user) = state.local_user_by_id(value_id(&inner["object"]))
                && let Some(set) = state.followers.lock().unwrap().get_mut(&user.username)
            {
                set.remove(&actor);
            }
        }
        "Accept" | "Reject" => {
            // The object is our Follow, embedded or by id.
            let follow = match &activity["object"] {
                Value::String(id) => state.objects.lock().unwrap().get(id).cloned(),
                other => Some(other.clone()),
            };
            let Some(follow) = follow else { return };
            let Some(user) = state.local_user_by_id(value_id(&follow["actor"])) else {
                return;
            };
            let target = value_id(&follow["object"]).to_string();
            let mut following = state.following.lock().unwrap();
            let set = following.entry(user.username.clone()).or_default();
            if kind == "Accept" {
                set.insert(target);
            } else {
                set.remove(&target);
            }
        }
        _ => {}
    }
}

async fn accept_follow(app: App, user: Arc<LocalUser>, follower: String, follow: Value) {
    let state = &app.state;
    let data = app.fed.to_request_data();
    let Ok(id) = ObjectId::<ApActor>::parse(&follower) else {
        return;
    };
    let Ok(actor) = id.dereference(&data).await else {
        return;
    };
    let accept = json!({
        "@context": AS_CONTEXT,
        "id": format!("{}#accepts/follows/{}", user.actor.id, state.next()),
        "type": "Accept",
        "actor": user.actor.id.to_string(),
        "object": follow,
    });
    let body = serde_json::to_vec(&accept).unwrap_or_default();
    let delivery =
        match sign_and_post(&state.http, &user, actor.inbox.as_str(), body, Tamper::None).await {
            Ok(d) => d,
            Err(e) => Delivery {
                inbox: actor.inbox.to_string(),
                status: StatusCode::BAD_GATEWAY,
                response: e,
                request: SentRequest {
                    url: actor.inbox.to_string(),
                    headers: Default::default(),
                    body: Bytes::new(),
                },
            },
        };
    state.auto_sent.lock().unwrap().push(delivery);
}

/// Signs `body` as `signer` (rsa-sha256 over `(request-target) host date
/// digest content-type`, as the crate does for Mastodon), spoils it as
/// `tamper` says, POSTs it and reports the answer.
async fn sign_and_post(
    http: &reqwest::Client,
    signer: &LocalUser,
    inbox: &str,
    body: Vec<u8>,
    tamper: Tamper,
) -> Result<Delivery, String> {
    let url = Url::parse(inbox).map_err(|e| format!("inbox {inbox}: {e}"))?;
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_string(),
    };
    let shift = match tamper {
        Tamper::ShiftDate(secs) => chrono::Duration::seconds(secs),
        _ => chrono::Duration::zero(),
    };
    let date = (chrono::Utc::now() + shift)
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let builder = ClientWithMiddleware::from(http.clone())
        .post(inbox)
        .header(header::CONTENT_TYPE, "application/activity+json")
        .header(header::HOST, host)
        .header(header::DATE, date);
    let mut request = signer
        .signer
        .to_request_data()
        .sign_request(builder, Bytes::from(body.clone()))
        .await
        .map_err(|e| format!("sign request to {inbox}: {e}"))?;
    let mut final_body = Bytes::from(body);
    match tamper {
        Tamper::None | Tamper::ShiftDate(_) => {}
        Tamper::ReplaceBody(new) => final_body = Bytes::from(new),
        Tamper::ReplaceBodyAndDigest(new) => {
            let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&new));
            request.headers_mut().insert(
                "digest",
                HeaderValue::from_str(&format!("SHA-256={digest}")).map_err(|e| e.to_string())?,
            );
            final_body = Bytes::from(new);
        }
        Tamper::StripSignature => {
            request.headers_mut().remove("signature");
        }
        Tamper::StripDigest => {
            request.headers_mut().remove("digest");
        }
        Tamper::Hs2019 => {
            let signature = request
                .headers()
                .get("signature")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .replace(r#"algorithm="rsa-sha256""#, r#"algorithm="hs2019""#);
            if !signature.contains("hs2019") {
                return Err(format!("no rsa-sha256 algorithm to relabel in {signature}"));
            }
            request.headers_mut().insert(
                "signature",
                HeaderValue::from_str(&signature).map_err(|e| e.to_string())?,
            );
        }
    }
    request.headers_mut().remove(header::CONTENT_LENGTH);
    post_signed(
        http,
        SentRequest {
            url: inbox.to_string(),
            headers: request.headers().clone(),
            body: final_body,
        },
    )
    .await
}

async fn post_signed(http: &reqwest::Client, sent: SentRequest) -> Result<Delivery, String> {
    let resp = http
        .post(&sent.url)
        .headers(sent.headers.clone())
        .body(sent.body.clone())
        .send()
        .await
        .map_err(|e| format!("POST {}: {e}", sent.url))?;
    let status = resp.status();
    let response = resp.text().await.unwrap_or_default();
    Ok(Delivery {
        inbox: sent.url.clone(),
        status,
        response,
        request: sent,
    })
}
