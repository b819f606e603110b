//! Driving requests at the server and summarising what came back:
//! closed loop (N clients, each sending as soon as its previous answer
//! arrived: throughput) and open loop (a fixed offered rate, whatever the
//! answers: latency under a given load).

use crate::peers::{Signed, send};
use std::{
    collections::BTreeMap,
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

/// Latencies and status codes of a run.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
    pub statuses: BTreeMap<u16, usize>,
}

impl Outcome {
    pub fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `p`th percentile (0–100) in milliseconds.
    pub fn pct_ms(&self, p: f64) -> f64 {
        percentile_ms(&self.latencies, p)
    }

    /// How many answers had a status in `range`.
    pub fn with_status(&self, range: std::ops::RangeInclusive<u16>) -> usize {
        self.statuses
            .iter()
            .filter(|(s, _)| range.contains(s))
            .map(|(_, n)| n)
            .sum()
    }

    pub fn status_summary(&self) -> String {
        self.statuses
            .iter()
            .map(|(s, n)| format!("{s}×{n}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

pub fn percentile_ms(values: &[Duration], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v: Vec<Duration> = values.to_vec();
    v.sort();
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1].as_secs_f64() * 1000.0
}

/// Sends every request with `concurrency` clients in a closed loop.
pub async fn closed_loop(http: &reqwest::Client, reqs: &[Signed], concurrency: usize) -> Outcome {
    let reqs: Arc<Vec<Signed>> = Arc::new(reqs.to_vec());
    let http = http.clone();
    run_closed(concurrency, reqs.len(), move |i| {
        let http = http.clone();
        let reqs = reqs.clone();
        async move { send(&http, &reqs[i]).await }
    })
    .await
}

/// Runs `total` jobs (`job(i)` answers a status and a latency) with
/// `concurrency` workers taking the next index as soon as they are free.
pub async fn run_closed<F, Fut>(concurrency: usize, total: usize, job: F) -> Outcome
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = (u16, Duration)> + Send,
{
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let job = Arc::new(job);
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let next = next.clone();
        let job = job.clone();
        set.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    break;
                }
                mine.push(job(i).await);
            }
            mine
        });
    }
    let mut out = Outcome::default();
    while let Some(Ok(mine)) = set.join_next().await {
        for (status, latency) in mine {
            out.latencies.push(latency);
            *out.statuses.entry(status).or_default() += 1;
        }
    }
    out.elapsed = start.elapsed();
    out
}

/// Sends the requests at `rate` per second regardless of answers.
pub async fn open_loop(http: &reqwest::Client, reqs: &[Signed], rate: f64) -> Outcome {
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for (i, req) in reqs.iter().enumerate() {
        let due = start + Duration::from_secs_f64(i as f64 / rate.max(1e-9));
        tokio::time::sleep_until(due.into()).await;
        let http = http.clone();
        let req = req.clone();
        set.spawn(async move { send(&http, &req).await });
    }
    let mut out = Outcome::default();
    while let Some(Ok((status, latency))) = set.join_next().await {
        out.latencies.push(latency);
        *out.statuses.entry(status).or_default() += 1;
    }
    out.elapsed = start.elapsed();
    out
}

/// Polls `check` every `every` until it is true or `timeout` passes; returns
/// the time it took, or `None` on timeout. Checks that query the server's
/// database should poll slowly: they compete with the server for the CPU.
pub async fn wait_until<F, Fut>(
    timeout: Duration,
    every: Duration,
    mut check: F,
) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return Some(start.elapsed());
        }
        if start.elapsed() > timeout {
            return None;
        }
        tokio::time::sleep(every).await;
    }
}
