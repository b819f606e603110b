//! The inbox, in two halves.
//!
//! Receiving (in the request): refuse what cannot be an activity of ours
//! (malformed JSON, unsupported types: 400; blocked or untrusted hosts, see
//! `trust`: 403, logged), answer a
//! repeat of a known activity id at once, then verify the HTTP signature and
//! digest with the federation library (fetching the actor's key; refetching it
//! once if verification fails, for rotated keys; 401 on failure), and store
//! the activity. Only then 202: an accepted activity is in the database and
//! survives a restart.
//!
//! Processing (in `run`, a worker): apply stored activities in arrival order
//! through `activities::apply`, retrying those that failed for a transient
//! reason (a peer down while we fetch a reply's parent).

use crate::{
    app::AppState,
    db::{entities::inbox_items, ids, queries},
    federation::{
        activities::{self, SUPPORTED},
        actors::{ACTOR_TYPES, ApubActor},
        error::FedError,
        objects::POST_TYPES,
        protocol::{authority, id_of, type_of},
    },
};
use activitypub_federation::{
    axum::inbox::{ActivityData, receive_activity},
    config::{Data, FederationConfig},
    fetch::object_id::ObjectId,
    traits::Activity,
};
use axum::{body::Body, extract::FromRequest, http::Request};
use bytes::Bytes;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};
use url::Url;

/// What we know of an activity before processing it: enough for the library
/// to check its id and verify the signature of its actor.
#[derive(Debug, Clone)]
pub struct Envelope {
    id: Url,
    actor: Url,
    kind: String,
    json: Value,
}

impl Envelope {
    pub fn from_value(json: Value) -> Result<Self, FedError> {
        let id = json
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Url::parse(s).ok())
            .ok_or_else(|| FedError::invalid("activity has no valid id"))?;
        let actor = json
            .get("actor")
            .and_then(id_of)
            .ok_or_else(|| FedError::invalid("activity has no valid actor"))?;
        let kind = type_of(&json).ok_or_else(|| FedError::invalid("activity has no type"))?;
        Ok(Self {
            id,
            actor,
            kind,
            json,
        })
    }
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Self::from_value(v).map_err(serde::de::Error::custom)
    }
}

#[async_trait::async_trait]
impl Activity for Envelope {
    type DataType = AppState;
    type Error = FedError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    async fn verify(&self, _data: &Data<AppState>) -> Result<(), FedError> {
        // The library checked that id and actor share a domain, ignoring
        // ports; check the full authority.
        if authority(&self.id) != authority(&self.actor) {
            return Err(FedError::invalid(
                "activity id and actor are on different hosts",
            ));
        }
        Ok(())
    }

    async fn receive(self, data: &Data<AppState>) -> Result<(), FedError> {
        let now = Utc::now();
        let stored = queries::delivery::insert_inbox(
            &data.db,
            inbox_items::ActiveModel {
                id: Set(ids::next_id()),
                ap_id: Set(self.id.to_string()),
                actor_ap_id: Set(self.actor.to_string()),
                kind: Set(self.kind.clone()),
                json: Set(self.json.to_string()),
                received_at: Set(now),
                processed_at: Set(None),
                attempts: Set(0),
                next_attempt_at: Set(None),
                last_error: Set(None),
            },
        )
        .await?;
        // Any sign of life from a host revives deliveries waiting for it.
        let host = authority(&self.actor);
        if data.host_health.alive(&data.db, &host, now).await? {
            queries::delivery::revive_host_deliveries(&data.db, &host, now).await?;
            data.queues.deliveries.notify_one();
        }
        if stored {
            data.queues.inbox.notify_one();
        }
        Ok(())
    }
}

/// The answer the HTTP layer gives.
pub enum Received {
    Accepted,
    /// Seen before: accepted again, nothing done.
    Duplicate,
    /// The actor is gone (a Delete for an account we never knew): accepted.
    Ignored,
}

/// Is this something we can take in? An activity with an id, a type we
/// support and an actor; an embedded object of a type we understand.
pub fn check_shape(json: Value) -> Result<Envelope, FedError> {
    let envelope = Envelope::from_value(json)?;
    if !SUPPORTED.contains(&envelope.kind.as_str()) {
        return Err(FedError::invalid(format!(
            "unsupported activity type {}",
            envelope.kind
        )));
    }
    let object_type = envelope
        .json
        .get("object")
        .filter(|o| o.is_object())
        .and_then(type_of);
    if let Some(t) = object_type {
        let understood = match envelope.kind.as_str() {
            "Create" => POST_TYPES.contains(&t.as_str()),
            "Update" => POST_TYPES.contains(&t.as_str()) || ACTOR_TYPES.contains(&t.as_str()),
            _ => true,
        };
        if !understood {
            return Err(FedError::invalid(format!(
                "unsupported object type {t} in {}",
                envelope.kind
            )));
        }
    }
    Ok(envelope)
}

impl Envelope {
    pub fn kind(&self) -> &str {
        &self.kind
    }

    pub fn json(&self) -> &Value {
        &self.json
    }
}

/// Receive one POSTed activity. `parts` and `body` are the raw request.
pub async fn receive(
    data: &Data<AppState>,
    parts: &axum::http::request::Parts,
    body: Bytes,
) -> Result<Received, FedError> {
    let json: Value = serde_json::from_slice(&body)
        .map_err(|e| FedError::invalid(format!("body is not JSON: {e}")))?;
    let envelope = check_shape(json)?;
    if queries::delivery::inbox_seen(&data.db, envelope.id.as_str()).await? {
        return Ok(Received::Duplicate);
    }
    let host = authority(&envelope.actor);
    if let Err(reason) = data.trust.check_host(&host) {
        tracing::info!(
            activity = %envelope.id,
            kind = envelope.kind,
            %reason,
            "activity refused by federation.mode"
        );
        return Err(FedError::forbidden(reason));
    }
    if queries::delivery::host(&data.db, &host)
        .await?
        .is_some_and(|h| h.blocked)
    {
        return Err(FedError::forbidden(format!("{host} is blocked")));
    }
    if data.urls.is_local(envelope.actor.as_str()) {
        return Err(FedError::invalid("activity claims a local actor"));
    }
    match verify_and_store(data, parts, body.clone()).await {
        Ok(()) => Ok(Received::Accepted),
        Err(FedError::Signature(first)) => {
            // The key may have been rotated: fetch the actor again, once.
            let refreshed = ObjectId::<ApubActor>::from(envelope.actor.clone())
                .dereference_forced(&data.reset_request_count())
                .await;
            match refreshed {
                Ok(_) => verify_and_store(data, parts, body)
                    .await
                    .map(|()| Received::Accepted),
                Err(_) => Err(FedError::Signature(first)),
            }
        }
        Err(FedError::Gone(_)) if envelope.kind == "Delete" => Ok(Received::Ignored),
        Err(FedError::NotFound(_) | FedError::Unavailable(_) | FedError::Gone(_)) => Err(
            FedError::Signature("the signing actor's key could not be fetched".into()),
        ),
        Err(e) => Err(e),
    }
}

async fn verify_and_store(
    data: &Data<AppState>,
    parts: &axum::http::request::Parts,
    body: Bytes,
) -> Result<(), FedError> {
    let mut builder = Request::builder()
        .method(parts.method.clone())
        .uri(parts.uri.clone());
    for (name, value) in &parts.headers {
        builder = builder.header(name, value);
    }
    let request = builder
        .body(Body::from(body))
        .map_err(|e| FedError::invalid(e.to_string()))?;
    let activity_data = ActivityData::from_request(request, &())
        .await
        .map_err(|_| FedError::invalid("could not read the request"))?;
    receive_activity::<Envelope, ApubActor, AppState>(activity_data, data).await
}

/// Process stored activities until shutdown.
pub async fn run(state: AppState, fed: FederationConfig<AppState>) {
    let workers = state.config.federation.inbox_workers.max(1);
    let in_flight: Arc<Mutex<HashSet<i64>>> = Arc::default();
    let mut tasks = tokio::task::JoinSet::new();
    // Activities of one actor always go to the same worker, keeping their
    // order (a Create before its Update before its Delete).
    let mut senders = Vec::with_capacity(workers);
    for _ in 0..workers {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<inbox_items::Model>(256);
        senders.push(tx);
        let state = state.clone();
        let fed = fed.clone();
        let in_flight = in_flight.clone();
        tasks.spawn(async move {
            while let Some(item) = rx.recv().await {
                let id = item.id;
                process(&state, &fed, item).await;
                super::lock(&in_flight).remove(&id);
                state.queues.inbox.notify_one();
            }
        });
    }
    loop {
        if state.shutdown.is_cancelled() {
            break;
        }
        let due = match queries::delivery::due_inbox(&state.db, Utc::now(), 500).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the inbox queue");
                Vec::new()
            }
        };
        for item in due {
            if !super::lock(&in_flight).insert(item.id) {
                continue;
            }
            let shard = (fxhash(&item.actor_ap_id) % workers as u64) as usize;
            if let Some(tx) = senders.get(shard)
                && tx.send(item).await.is_err()
            {
                break;
            }
        }
        if let Ok(n) = queries::delivery::count_inbox_pending(&state.db).await {
            state
                .metrics
                .queue_depth
                .get_or_create(&crate::telemetry::QueueLabels {
                    queue: "inbox".into(),
                })
                .set(n as i64);
        }
        tokio::select! {
            () = state.shutdown.cancelled() => break,
            () = state.queues.inbox.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
    drop(senders);
    let _ = tokio::time::timeout(Duration::from_secs(15), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

async fn process(state: &AppState, fed: &FederationConfig<AppState>, item: inbox_items::Model) {
    // The reader may have listed this item just before its previous run
    // finished; applying it twice would answer twice (a second Accept).
    match queries::delivery::inbox_unchanged(&state.db, item.id, item.attempts).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the inbox queue");
            return;
        }
    }
    let now = Utc::now();
    let data = fed.to_request_data();
    let result = match serde_json::from_str::<Value>(&item.json) {
        Ok(json) => activities::apply(&data, json).await,
        Err(e) => Err(FedError::invalid(e.to_string())),
    };
    let db = &state.db;
    let outcome = match result {
        Ok(()) => queries::delivery::finish_inbox(db, item.id, now, None).await,
        Err(e) if e.is_transient() && item.attempts < 8 => {
            let delay = chrono::Duration::seconds(15 * 2i64.pow(item.attempts.clamp(0, 10) as u32));
            tracing::info!(activity = item.ap_id, error = %e, "activity will be processed again later");
            queries::delivery::retry_inbox(
                db,
                item.id,
                item.attempts + 1,
                now + delay,
                &e.to_string(),
            )
            .await
        }
        Err(e) => {
            tracing::info!(activity = item.ap_id, kind = item.kind, error = %e, "activity not applied");
            queries::delivery::finish_inbox(db, item.id, now, Some(&e.to_string())).await
        }
    };
    if let Err(e) = outcome {
        tracing::warn!(error = %e, "could not record inbox processing");
    }
}
