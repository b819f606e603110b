//! Scenarios on the receiving side: inbox ingest (1), duplicate storm (2),
//! cold keys (3) and oversized POSTs (12).

use super::{Ctx, actors, creates, send_all_ok};
use crate::{load, peers::Farm, report::Report, server::Server};
use anyhow::{Result, bail};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const INBOX_ROWS: &str = "SELECT COUNT(*) FROM inbox_items";
const INBOX_DISTINCT: &str = "SELECT COUNT(DISTINCT ap_id) FROM inbox_items";
const INBOX_PENDING: &str = "SELECT COUNT(*) FROM inbox_items WHERE processed_at IS NULL";

/// Waits until the inbox worker has processed everything stored.
async fn drain_inbox(server: &Server, limit: Duration) -> Result<Option<Duration>> {
    let start = Instant::now();
    loop {
        if server.count(INBOX_PENDING).await? == 0 {
            return Ok(Some(start.elapsed()));
        }
        if start.elapsed() > limit {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// 1. Unique signed Create(Note)s from many actors whose keys are cached.
pub async fn ingest(ctx: &Ctx) -> Result<Report> {
    let mut r = ctx.report("1-ingest", "inbox ingest, warm keys");
    let farm = Farm::start(ctx.size(10, 2), false).await?;
    let server = Server::start("ingest", &[]).await?;
    let idle = server.memory();
    let who = actors(&farm, "a", ctx.size(1000, 10));
    // Warm-up: one activity per actor, so every key is fetched and cached.
    let warm = creates(&farm, &server, &who, who.len()).await?;
    send_all_ok(&farm, &warm, 32).await?;

    let n = ctx.size(10_000, 100);
    let sign_start = Instant::now();
    let burst = creates(&farm, &server, &who, n).await?;
    let signed_per_sec = n as f64 / sign_start.elapsed().as_secs_f64();
    let paced_rate = if ctx.smoke { 50.0 } else { 500.0 };
    let paced_n = ctx.size(5_000, 50);
    let paced = creates(&farm, &server, &who, paced_n).await?;

    let saturated = load::closed_loop(farm.http(), &burst, 64).await;
    let open = load::open_loop(farm.http(), &paced, paced_rate).await;
    let processed = drain_inbox(&server, Duration::from_secs(300)).await?;
    let peak = server.memory();

    let expected = (who.len() + n + paced_n) as i64;
    let rows = server.count(INBOX_ROWS).await?;
    let distinct = server.count(INBOX_DISTINCT).await?;
    let accepted = saturated.with_status(200..=299) + open.with_status(200..=299);

    r.figure("actors (keys cached)", who.len() as f64, "");
    r.figure("bench signing rate (setup)", signed_per_sec, "req/s");
    r.figure("saturated: activities", n as f64, "");
    r.figure(
        "saturated: throughput (64 clients)",
        saturated.rate(),
        "act/s",
    );
    r.figure("saturated: p50", saturated.pct_ms(50.0), "ms");
    r.figure("saturated: p99", saturated.pct_ms(99.0), "ms");
    r.figure(
        &format!("paced {paced_rate}/s: p50"),
        open.pct_ms(50.0),
        "ms",
    );
    r.figure(
        &format!("paced {paced_rate}/s: p90"),
        open.pct_ms(90.0),
        "ms",
    );
    r.figure(
        &format!("paced {paced_rate}/s: p99"),
        open.pct_ms(99.0),
        "ms",
    );
    r.figure("accepted (2xx)", accepted as f64, "");
    r.figure("inbox rows stored", rows as f64, "");
    r.figure("distinct activity ids stored", distinct as f64, "");
    if let Some(p) = processed {
        r.figure("inbox worker: drained after load", p.as_secs_f64(), "s");
    }
    r.figure("RSS idle", idle.rss_mb, "MiB");
    r.figure("RSS peak (VmHWM)", peak.peak_mb, "MiB");
    r.note(format!(
        "statuses: saturated {} / paced {}",
        saturated.status_summary(),
        open.status_summary()
    ));
    r.target("≥ 1,000 activities/s sustained", saturated.rate() >= 1000.0);
    r.target(
        format!("p99 ≤ 50 ms at {paced_rate}/s offered"),
        open.pct_ms(99.0) <= 50.0,
    );
    r.target(
        "every activity stored once",
        rows == expected && distinct == expected && accepted == n + paced_n,
    );
    r.target(
        "RSS ≤ 200 MB during ingest (scenario 11)",
        peak.peak_mb <= 200.0,
    );
    Ok(r)
}

/// 2. Each activity sent ten times: the nine repeats must be cheap.
pub async fn duplicates(ctx: &Ctx) -> Result<Report> {
    let mut r = ctx.report("2-duplicates", "duplicate storm");
    let farm = Farm::start(ctx.size(10, 2), false).await?;
    let server = Server::start("duplicates", &[]).await?;
    let who = actors(&farm, "d", ctx.size(100, 5));
    let warm = creates(&farm, &server, &who, who.len()).await?;
    send_all_ok(&farm, &warm, 32).await?;
    let n = ctx.size(1_000, 20);
    let originals = creates(&farm, &server, &who, n).await?;
    let first = send_all_ok(&farm, &originals, 64).await?;
    let repeats: Vec<_> = (0..9).flat_map(|_| originals.iter().cloned()).collect();
    let storm = load::closed_loop(farm.http(), &repeats, 64).await;
    let rows = server.count(INBOX_ROWS).await?;
    let expected = (who.len() + n) as i64;
    r.figure("unique activities", n as f64, "");
    r.figure("first sends: throughput", first.rate(), "act/s");
    r.figure("duplicates sent", repeats.len() as f64, "");
    r.figure("duplicates: throughput (64 clients)", storm.rate(), "req/s");
    r.figure("duplicates: p50", storm.pct_ms(50.0), "ms");
    r.figure("duplicates: p99", storm.pct_ms(99.0), "ms");
    r.figure("inbox rows", rows as f64, "");
    r.note(format!("duplicate answers: {}", storm.status_summary()));
    r.target("duplicates answered at ≥ 5,000/s", storm.rate() >= 5000.0);
    r.target(
        "no extra rows, every duplicate answered 2xx",
        rows == expected && storm.with_status(200..=299) == repeats.len(),
    );
    Ok(r)
}

/// Scenario 3: every activity from a new actor whose key comes from a slow peer,
/// while warm traffic continues.
pub async fn cold_keys(ctx: &Ctx) -> Result<Report> {
    let mut r = ctx.report("3-cold-keys", "cold keys (100 ms key fetch)");
    // Host 0: warm actors; hosts 1..: cold actors, answering after 100 ms.
    let farm = Farm::start(ctx.size(5, 2), false).await?;
    for h in 1..farm.len() {
        farm.set_actor_delay(h, Duration::from_millis(100));
    }
    let server = Server::start("coldkeys", &[]).await?;
    let warm_actors: Vec<_> = (0..ctx.size(100, 5))
        .map(|i| (0usize, format!("w{i}")))
        .collect();
    let warm = creates(&farm, &server, &warm_actors, warm_actors.len()).await?;
    send_all_ok(&farm, &warm, 32).await?;

    let n = ctx.size(3_000, 20);
    let cold_actors: Vec<_> = (0..n)
        .map(|i| (1 + i % (farm.len() - 1), format!("c{i}")))
        .collect();
    let cold = creates(&farm, &server, &cold_actors, n).await?;
    let warm_rate = if ctx.smoke { 20.0 } else { 100.0 };
    let warm_n = ctx.size(1_500, 20);
    let steady = creates(&farm, &server, &warm_actors, warm_n).await?;
    let fetches_before = farm.actor_fetches();

    let http = farm.http().clone();
    let steady_task = {
        let http = http.clone();
        tokio::spawn(async move { load::open_loop(&http, &steady, warm_rate).await })
    };
    let cold_out = load::closed_loop(&http, &cold, 128).await;
    let warm_out = steady_task.await?;
    let fetches = farm.actor_fetches() - fetches_before;
    let rows = server.count(INBOX_ROWS).await?;

    r.figure("cold actors", n as f64, "");
    r.figure("cold: throughput (128 clients)", cold_out.rate(), "act/s");
    r.figure("cold: p50", cold_out.pct_ms(50.0), "ms");
    r.figure("cold: p99", cold_out.pct_ms(99.0), "ms");
    r.figure("actor documents fetched", fetches as f64, "");
    r.figure(
        &format!("warm {warm_rate}/s meanwhile: p50"),
        warm_out.pct_ms(50.0),
        "ms",
    );
    r.figure(
        &format!("warm {warm_rate}/s meanwhile: p99"),
        warm_out.pct_ms(99.0),
        "ms",
    );
    r.figure("inbox rows", rows as f64, "");
    r.note(format!(
        "statuses: cold {} / warm {}",
        cold_out.status_summary(),
        warm_out.status_summary()
    ));
    r.target("cold-key activities ≥ 200/s", cold_out.rate() >= 200.0);
    r.target(
        "warm traffic p99 < 100 ms meanwhile",
        warm_out.pct_ms(99.0) < 100.0,
    );
    r.target(
        "all accepted and stored",
        cold_out.with_status(200..=299) == n
            && warm_out.with_status(200..=299) == warm_n
            && rows == (warm_actors.len() + n + warm_n) as i64,
    );
    Ok(r)
}

/// One POST announcing 10 MB and sending none of it; the status answered.
async fn oversized_post(port: u16, head: &[u8]) -> (u16, Duration) {
    let start = Instant::now();
    let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return (0, start.elapsed());
    };
    // Reset instead of FIN on close: a hundred thousand client sockets in
    // TIME_WAIT would exhaust the loopback's ephemeral ports.
    #[allow(deprecated)]
    let _ = stream.set_linger(Some(Duration::ZERO));
    if stream.write_all(head).await.is_err() {
        return (0, start.elapsed());
    }
    let mut buf = [0u8; 512];
    let mut got = Vec::new();
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let status = std::str::from_utf8(&got)
        .ok()
        .and_then(|s| s.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, start.elapsed())
}

/// 12. 10 MB POSTs to the inbox must be refused from Content-Length alone.
pub async fn oversized(ctx: &Ctx) -> Result<Report> {
    let mut r = ctx.report("12-oversized", "oversized POSTs (10 MB Content-Length)");
    let server = Server::start("oversized", &[]).await?;
    let port = server.instance.port();
    let head = format!(
        "POST /inbox HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Type: application/activity+json\r\nContent-Length: {}\r\n\r\n",
        10 * 1024 * 1024
    )
    .into_bytes();
    let (status, _) = oversized_post(port, &head).await;
    if status != 413 {
        bail!("a 10 MB POST was answered {status}, not 413");
    }
    let before = server.memory();
    let total = ctx.size(100_000, 500);
    let head = std::sync::Arc::new(head);
    let out = load::run_closed(64, total, move |_| {
        let head = head.clone();
        async move { oversized_post(port, &head).await }
    })
    .await;
    let after = server.memory();
    r.figure("requests", total as f64, "");
    r.figure("refusals per second (64 connections)", out.rate(), "req/s");
    r.figure("p50", out.pct_ms(50.0), "ms");
    r.figure("p99", out.pct_ms(99.0), "ms");
    r.figure("RSS before", before.rss_mb, "MiB");
    r.figure("RSS after", after.rss_mb, "MiB");
    r.figure("RSS peak (VmHWM)", after.peak_mb, "MiB");
    r.note(format!("answers: {}", out.status_summary()));
    r.target("refused at ≥ 20,000/s", out.rate() >= 20_000.0);
    r.target(
        "every request answered 413",
        out.with_status(413..=413) == total,
    );
    r.target(
        "flat memory (RSS grows < 10 MiB)",
        after.rss_mb - before.rss_mb < 10.0,
    );
    Ok(r)
}
