//! The persistent delivery queue's workers.
//!
//! Deliveries are rows in the database (see `publish`), so a restart loses
//! nothing: rows a dead process had leased become due again when the lease
//! expires. Workers take due rows, sign each request with the sending actor's
//! key (`SendActivityTask::prepare` + `sign_and_send` of the federation
//! library) and send it, at most `per_host` at a time to one host and
//! `federation.delivery_concurrency` in all. 2xx is done; other 4xx (except
//! 408 and 429) are final refusals; 408, 429, 5xx and network errors are tried
//! again with exponential backoff (honouring Retry-After) until
//! `federation.delivery_give_up_hours`. A host that keeps failing is marked
//! dead (`federation.delivery_dead_after` failures in a row) and tried once a
//! day until it answers or sends us something.
//!
//! On SQLite every write waits for the one write lock, so a busy queue is
//! worked in batches: finished deliveries are deleted together, and when
//! workers free up one by one the loop waits a few milliseconds for more
//! before claiming again. A crash between sending and that delete sends the
//! delivery again after the restart (at least once, as any retry: receivers
//! drop an activity id they have seen).

use crate::{
    app::AppState,
    db::{entities::deliveries, queries},
    federation::{actors::ApubActor, client::LAST_RESPONSE},
};
use activitypub_federation::{
    activity_sending::SendActivityTask,
    config::{Data, FederationConfig},
    traits::Activity,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::{
    cell::Cell,
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::sync::Semaphore;
use url::Url;

/// How long a worker holds a delivery before another may take it over.
const LEASE: Duration = Duration::from_secs(120);
/// How long a busy loop waits for more free workers before claiming again.
const COALESCE: Duration = Duration::from_millis(10);
/// How often the queue depth gauge is refreshed (it counts every row).
const GAUGE_EVERY: Duration = Duration::from_secs(1);
/// Deliveries in flight to one host at most.
pub const PER_HOST: usize = 8;
const DEAD_RETRY: chrono::Duration = chrono::Duration::hours(24);

/// A stored activity ready to sign: the JSON exactly as stored.
#[derive(Debug, Clone)]
pub struct RawActivity {
    id: Url,
    actor: Url,
    json: Value,
}

impl RawActivity {
    pub fn parse(json: &str) -> anyhow::Result<Self> {
        let json: Value = serde_json::from_str(json)?;
        let id = Url::parse(json.get("id").and_then(Value::as_str).unwrap_or_default())?;
        let actor = Url::parse(
            json.get("actor")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        )?;
        Ok(Self { id, actor, json })
    }
}

impl Serialize for RawActivity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(s)
    }
}

#[async_trait::async_trait]
impl Activity for RawActivity {
    type DataType = AppState;
    type Error = crate::federation::error::FedError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    async fn verify(&self, _: &Data<AppState>) -> Result<(), Self::Error> {
        Err(crate::federation::error::FedError::invalid(
            "outgoing activities are not received",
        ))
    }

    async fn receive(self, _: &Data<AppState>) -> Result<(), Self::Error> {
        Err(crate::federation::error::FedError::invalid(
            "outgoing activities are not received",
        ))
    }
}

/// Delay before attempt `attempts + 1`: base × 2^(attempts−1), at most 6 hours,
/// with up to 25% jitter so a host that comes back is not hit all at once.
fn backoff(base: Duration, attempts: i32) -> chrono::Duration {
    let exp = (attempts.clamp(1, 20) - 1) as u32;
    let secs = base.as_secs_f64() * 2f64.powi(exp as i32);
    let capped = secs.min(6.0 * 3600.0);
    let jitter = capped * 0.25 * (rand::random::<f64>());
    chrono::Duration::milliseconds(((capped + jitter) * 1000.0) as i64)
}

enum Outcome {
    Delivered,
    /// Refused for good (other 4xx, invalid inbox).
    Refused(String),
    Retry {
        status: Option<u16>,
        retry_after: Option<u64>,
        error: String,
    },
}

struct Worker {
    state: AppState,
    fed: FederationConfig<AppState>,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    activities: moka::sync::Cache<i64, Arc<(RawActivity, ApubActor)>>,
    /// Deliveries done with (sent or refused for good), not yet deleted.
    finished: Mutex<Vec<i64>>,
}

impl Worker {
    fn host_slot(&self, host: &str) -> Arc<Semaphore> {
        super::lock(&self.hosts)
            .entry(host.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(PER_HOST)))
            .clone()
    }

    async fn load(&self, activity_id: i64) -> anyhow::Result<Arc<(RawActivity, ApubActor)>> {
        if let Some(hit) = self.activities.get(&activity_id) {
            return Ok(hit);
        }
        let row = queries::delivery::activity(&self.state.db, activity_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("activity {activity_id} is gone"))?;
        let actor = queries::actors::by_id(&self.state.db, row.actor_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("actor {} is gone", row.actor_id))?;
        let loaded = Arc::new((
            RawActivity::parse(&row.json)?,
            ApubActor::new(actor).map_err(|e| anyhow::anyhow!("{e}"))?,
        ));
        self.activities.insert(activity_id, loaded.clone());
        Ok(loaded)
    }

    async fn send(&self, d: &deliveries::Model) -> Outcome {
        let loaded = match self.load(d.activity_id).await {
            Ok(l) => l,
            Err(e) => return Outcome::Refused(e.to_string()),
        };
        let (activity, actor) = (&loaded.0, &loaded.1);
        let Ok(inbox) = Url::parse(&d.inbox_url) else {
            return Outcome::Refused("inbox is not a URL".into());
        };
        let data = self.fed.to_request_data();
        let tasks = match SendActivityTask::prepare(activity, actor, vec![inbox], &data).await {
            Ok(t) => t,
            Err(e) => {
                return Outcome::Retry {
                    status: None,
                    retry_after: None,
                    error: e.to_string(),
                };
            }
        };
        let Some(task) = tasks.into_iter().next() else {
            // The library dropped the inbox: not a valid target (local, private
            // address, blocked host).
            return Outcome::Refused("inbox refused by URL checks".into());
        };
        let cell = Cell::new(None);
        let (result, cell) = LAST_RESPONSE
            .scope(cell, async {
                let r = task.sign_and_send(&data).await;
                let captured = LAST_RESPONSE.with(Cell::take);
                (r, captured)
            })
            .await;
        match (result, cell) {
            (_, Some((status, _))) if (200..300).contains(&status) => Outcome::Delivered,
            (_, Some((status, retry_after))) if status == 408 || status == 429 || status >= 500 => {
                Outcome::Retry {
                    status: Some(status),
                    retry_after,
                    error: format!("HTTP {status}"),
                }
            }
            (_, Some((status, _))) if (400..500).contains(&status) => {
                Outcome::Refused(format!("HTTP {status}"))
            }
            (Err(e), other) => Outcome::Retry {
                status: other.map(|o| o.0),
                retry_after: None,
                error: e.to_string(),
            },
            (Ok(()), other) => Outcome::Retry {
                status: other.map(|o| o.0),
                retry_after: None,
                error: "unexpected answer".into(),
            },
        }
    }

    /// Hosts with no free slot. Their deliveries are not even claimed: a
    /// delivery waiting for a slow or hung host's slot must not hold one of
    /// the workers that every other host needs.
    fn busy_hosts(&self) -> Vec<String> {
        super::lock(&self.hosts)
            .iter()
            .filter(|(_, slots)| slots.available_permits() == 0)
            .map(|(host, _)| host.clone())
            .collect()
    }

    /// Keeps, in queue order, only as many deliveries per host as the host
    /// has free slots.
    fn within_host_limits(&self, due: Vec<deliveries::Model>) -> Vec<deliveries::Model> {
        let mut taken: HashMap<String, usize> = HashMap::new();
        due.into_iter()
            .filter(|d| {
                let free = self.host_slot(&d.host).available_permits();
                let n = taken.entry(d.host.clone()).or_default();
                *n += 1;
                *n <= free
            })
            .collect()
    }

    /// Sends one delivery; the caller holds a slot of its host.
    async fn deliver(&self, d: deliveries::Model) {
        let outcome = self.send(&d).await;
        let now = Utc::now();
        let db = &self.state.db;
        let result = match outcome {
            Outcome::Delivered => {
                let revived = self
                    .state
                    .host_health
                    .alive(db, &d.host, now)
                    .await
                    .unwrap_or(false);
                if revived {
                    let _ = queries::delivery::revive_host_deliveries(db, &d.host, now).await;
                    self.state.queues.deliveries.notify_one();
                }
                super::lock(&self.finished).push(d.id);
                Ok(())
            }
            Outcome::Refused(reason) => {
                tracing::info!(inbox = d.inbox_url, %reason, "delivery refused for good");
                super::lock(&self.finished).push(d.id);
                Ok(())
            }
            Outcome::Retry {
                status,
                retry_after,
                error,
            } => self.retry(&d, now, status, retry_after, &error).await,
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, delivery = d.id, "could not record delivery result");
        }
    }

    async fn retry(
        &self,
        d: &deliveries::Model,
        now: DateTime<Utc>,
        status: Option<u16>,
        retry_after: Option<u64>,
        error: &str,
    ) -> Result<(), sea_orm::DbErr> {
        let db = &self.state.db;
        let attempts = d.attempts + 1;
        let give_up =
            chrono::Duration::hours(self.state.config.federation.delivery_give_up_hours as i64);
        if now - d.created_at > give_up {
            tracing::warn!(
                inbox = d.inbox_url,
                attempts,
                error,
                "delivery abandoned after retrying"
            );
            return queries::delivery::delete_delivery(db, d.id).await;
        }
        let dead_after = self.state.config.federation.delivery_dead_after.max(1);
        self.state.host_health.failed(&d.host);
        let host = queries::delivery::host_failed(db, &d.host, now, dead_after).await?;
        let base =
            Duration::from_secs(self.state.config.federation.delivery_retry_base_secs.max(1));
        let mut next = now + backoff(base, attempts);
        if let Some(secs) = retry_after {
            next = next.max(now + chrono::Duration::seconds(secs.min(86_400) as i64));
        }
        if host.is_some_and(|h| h.dead_since.is_some()) {
            next = next.max(now + DEAD_RETRY);
        }
        tracing::debug!(inbox = d.inbox_url, attempts, error, %next, "delivery will be retried");
        queries::delivery::reschedule_delivery(
            db,
            d.id,
            attempts,
            next,
            status.map(i32::from),
            error,
        )
        .await
    }

    /// Deletes the finished deliveries in one statement; kept for the next
    /// round if the database refuses.
    async fn flush_finished(&self) {
        let ids = std::mem::take(&mut *super::lock(&self.finished));
        if ids.is_empty() {
            return;
        }
        if let Err(e) = queries::delivery::delete_deliveries(&self.state.db, &ids).await {
            tracing::warn!(error = %e, deliveries = ids.len(), "could not delete finished deliveries");
            super::lock(&self.finished).extend(ids);
        }
    }
}

/// Run the delivery workers until shutdown.
pub async fn run(state: AppState, fed: FederationConfig<AppState>) {
    let concurrency = state.config.federation.delivery_concurrency.max(1);
    let worker = Arc::new(Worker {
        state: state.clone(),
        fed,
        global: Arc::new(Semaphore::new(concurrency)),
        hosts: Mutex::new(HashMap::new()),
        activities: moka::sync::Cache::builder()
            .max_capacity(1000)
            .time_to_idle(Duration::from_secs(600))
            .build(),
        finished: Mutex::new(Vec::new()),
    });
    let mut gauge_at = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    match queries::delivery::release_all_leases(&state.db).await {
        Ok(n) if n > 0 => tracing::info!(
            deliveries = n,
            "resuming deliveries interrupted by a restart"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not release delivery leases"),
    }
    loop {
        if state.shutdown.is_cancelled() {
            break;
        }
        worker.flush_finished().await;
        let free = worker.global.available_permits();
        let mut claimed = Vec::new();
        if free > 0 {
            let now = Utc::now();
            let busy = worker.busy_hosts();
            match queries::delivery::due_deliveries(&state.db, now, free as u64, &busy).await {
                Ok(due) => {
                    let due = worker.within_host_limits(due);
                    let ids: Vec<i64> = due.iter().map(|d| d.id).collect();
                    let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
                    match queries::delivery::claim_deliveries(&state.db, &ids, now, until).await {
                        Ok(got) => {
                            claimed = due.into_iter().filter(|d| got.contains(&d.id)).collect()
                        }
                        Err(e) => tracing::warn!(error = %e, "could not claim deliveries"),
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not read the delivery queue"),
            }
        }
        let got_some = !claimed.is_empty();
        for d in claimed {
            // Only this loop takes slots, so the counts checked above still
            // hold; a miss is released for the next round all the same.
            let Ok(host) = worker.host_slot(&d.host).try_acquire_owned() else {
                if let Err(e) = queries::delivery::release_lease(&state.db, d.id).await {
                    tracing::warn!(error = %e, delivery = d.id, "could not release a lease");
                }
                continue;
            };
            let Ok(permit) = worker.global.clone().acquire_owned().await else {
                break;
            };
            let w = worker.clone();
            tasks.spawn(async move {
                w.deliver(d).await;
                drop(host);
                drop(permit);
            });
        }
        while tasks.try_join_next().is_some() {}
        if got_some && worker.global.available_permits() > 0 {
            continue;
        }
        // Sleep until something is queued, a worker frees up, or the next
        // retry falls due.
        let wait = match queries::delivery::next_delivery_time(&state.db).await {
            Ok(Some(t)) => (t - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(Duration::from_secs(5)),
            _ => Duration::from_secs(5),
        };
        tokio::select! {
            () = state.shutdown.cancelled() => break,
            () = state.queues.deliveries.notified() => {}
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {
                // Under load workers free up one at a time; wait a moment for
                // a quarter of them so one claim and one delete cover many.
                let batch = concurrency.div_ceil(4);
                let until = tokio::time::Instant::now() + COALESCE;
                while worker.global.available_permits() < batch {
                    tokio::select! {
                        Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                        () = tokio::time::sleep_until(until) => break,
                    }
                }
            }
            () = tokio::time::sleep(wait.max(Duration::from_millis(50))) => {}
        }
        if gauge_at.elapsed() < GAUGE_EVERY {
            continue;
        }
        gauge_at = tokio::time::Instant::now();
        if let Ok(n) = queries::delivery::count_deliveries(&state.db).await {
            state
                .metrics
                .queue_depth
                .get_or_create(&crate::telemetry::QueueLabels {
                    queue: "deliveries".into(),
                })
                .set(n as i64);
        }
    }
    // Let running deliveries finish (bounded by the request timeout).
    let _ = tokio::time::timeout(Duration::from_secs(15), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    worker.flush_finished().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_secs(30);
        let first = backoff(base, 1).num_seconds();
        assert!((30..=38).contains(&first), "{first}");
        assert!(backoff(base, 5).num_seconds() >= 480);
        assert!(backoff(base, 30).num_seconds() <= 6 * 3600 * 5 / 4);
        // Seventeen attempts span the two days after which a delivery is abandoned.
        let total: i64 = (1..=17).map(|n| backoff(base, n).num_seconds()).sum();
        assert!(total > 48 * 3600, "{total}");
    }

    #[test]
    fn retry_after_parses() {
        assert_eq!(
            crate::federation::client::parse_retry_after("120"),
            Some(120)
        );
        assert_eq!(crate::federation::client::parse_retry_after("soon"), None);
    }
}
