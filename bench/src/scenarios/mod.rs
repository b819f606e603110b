//! The twelve scenarios of issue 9, and the set-up they share (remote
//! followers gained through the inbox, posts made through the client API).

pub mod delivery;
pub mod ingest;
pub mod reads;

use crate::{
    load::{self, Outcome},
    peers::{Farm, Signed},
    report::Report,
    server::Server,
};
use anyhow::{Result, bail};
use federation_tests::{User, Visibility};
use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

/// How a scenario is run.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub smoke: bool,
    pub backend: String,
}

impl Ctx {
    /// `full` normally, `smoke` in smoke mode.
    pub fn size(&self, full: usize, smoke: usize) -> usize {
        if self.smoke { smoke } else { full }
    }

    pub fn secs(&self, full: f64, smoke: f64) -> Duration {
        Duration::from_secs_f64(if self.smoke { smoke } else { full })
    }

    pub fn report(&self, scenario: &str, title: &str) -> Report {
        Report::new(scenario, title, &self.backend, self.smoke)
    }
}

pub const ALL: [&str; 12] = [
    "ingest",
    "duplicates",
    "cold-keys",
    "fanout",
    "shared-inbox",
    "drain",
    "hung",
    "backlog",
    "crash",
    "reads",
    "memory",
    "oversized",
];

/// Runs one scenario by name (or its number, 1–12).
pub async fn run(name: &str, ctx: &Ctx) -> Result<Report> {
    let name = match name.parse::<usize>() {
        Ok(n) if (1..=12).contains(&n) => ALL[n - 1],
        _ => name,
    };
    let mut report = match name {
        "ingest" => ingest::ingest(ctx).await?,
        "duplicates" => ingest::duplicates(ctx).await?,
        "cold-keys" => ingest::cold_keys(ctx).await?,
        "oversized" => ingest::oversized(ctx).await?,
        "fanout" => delivery::fanout(ctx).await?,
        "shared-inbox" => delivery::shared_inbox(ctx).await?,
        "drain" => delivery::drain(ctx, false).await?,
        "crash" => delivery::drain(ctx, true).await?,
        "hung" => delivery::hung(ctx).await?,
        "backlog" => delivery::backlog(ctx).await?,
        "memory" => delivery::memory(ctx).await?,
        "reads" => reads::reads(ctx).await?,
        other => bail!("unknown scenario {other}; one of {}", ALL.join(", ")),
    };
    report.finish();
    Ok(report)
}

/// A number never used before in this process, for unique activity ids.
pub fn unique() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Signed Create(Note)s to the server's shared inbox, one per actor in turn.
pub async fn creates(
    farm: &Farm,
    server: &Server,
    actors: &[(usize, String)],
    count: usize,
) -> Result<Vec<Signed>> {
    let inbox = server.shared_inbox();
    let items = (0..count)
        .map(|i| {
            let (host, name) = &actors[i % actors.len()];
            let actor = farm.actor_id(*host, name);
            let body = farm
                .create_note(&actor, unique(), "bench note")
                .to_string()
                .into_bytes();
            (actor, inbox.clone(), body)
        })
        .collect();
    farm.sign_all(items).await
}

/// Sends requests and fails unless every one was accepted (2xx).
pub async fn send_all_ok(farm: &Farm, reqs: &[Signed], concurrency: usize) -> Result<Outcome> {
    let out = load::closed_loop(farm.http(), reqs, concurrency).await;
    let ok = out.with_status(200..=299);
    if ok != reqs.len() {
        bail!(
            "{} of {} requests accepted ({})",
            ok,
            reqs.len(),
            out.status_summary()
        );
    }
    Ok(out)
}

/// Makes `followers` (host, name) follow `target` through the server's
/// inbox and waits until the server has answered each with an Accept.
/// Follows whose Accept does not come (on SQLite the server can lose the
/// Accept's delivery to "database is locked", see BENCHMARKS.md) are sent
/// again with a new id, up to five rounds; the rounds are reported.
pub async fn gain_followers(
    farm: &Farm,
    server: &Server,
    target: &str,
    followers: &[(usize, String)],
) -> Result<Duration> {
    let start = Instant::now();
    let inbox = server.shared_inbox();
    let mut missing: Vec<usize> = (0..followers.len()).collect();
    for round in 0..5 {
        let mut by_follow = std::collections::HashMap::new();
        let items = missing
            .iter()
            .map(|&i| {
                let (host, name) = &followers[i];
                let actor = farm.actor_id(*host, name);
                let follow = farm.follow(&actor, target);
                by_follow.insert(follow["id"].as_str().unwrap_or_default().to_string(), i);
                (actor, inbox.clone(), follow.to_string().into_bytes())
            })
            .collect();
        let reqs = farm.sign_all(items).await?;
        send_all_ok(farm, &reqs, 32).await?;
        let ids: std::collections::HashSet<String> = by_follow.keys().cloned().collect();
        let want = ids.len();
        let limit = Duration::from_secs(20 + want as u64 / 50);
        load::wait_until(limit, Duration::from_millis(200), || async {
            farm.count_matching("Accept", &ids) >= want
        })
        .await;
        let accepted: std::collections::HashSet<usize> = farm
            .arrivals_of("Accept")
            .iter()
            .filter_map(|a| by_follow.get(&a.object_id).copied())
            .collect();
        missing.retain(|i| !accepted.contains(i));
        if missing.is_empty() {
            if round > 0 {
                eprintln!("note: follows needed {} rounds", round + 1);
            }
            return Ok(start.elapsed());
        }
        eprintln!(
            "note: {} of {} follows not accepted, sending them again",
            missing.len(),
            followers.len()
        );
    }
    bail!(
        "{} of {} follows were never accepted",
        missing.len(),
        followers.len()
    )
}

/// Actor names `prefix0..prefixN`, spread over the farm's hosts.
pub fn actors(farm: &Farm, prefix: &str, n: usize) -> Vec<(usize, String)> {
    (0..n)
        .map(|i| (i % farm.len(), format!("{prefix}{i}")))
        .collect()
}

/// Posts a public status as `user`; returns its ActivityPub id and when the
/// request was sent.
pub async fn post(server: &Server, user: &User, text: &str) -> (String, Instant) {
    let at = Instant::now();
    let status = server
        .instance
        .api(user)
        .post_status(text, Visibility::Public)
        .await;
    (federation_tests::str_field(&status, "uri").to_string(), at)
}

/// Time in ms from `t0` to `t`.
pub fn ms_since(t0: Instant, t: Instant) -> f64 {
    t.saturating_duration_since(t0).as_secs_f64() * 1000.0
}
