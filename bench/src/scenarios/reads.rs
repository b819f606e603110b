//! Scenario 10: reading the home timeline of a member who follows 500
//! remote accounts with 100,000 posts stored, on the web and the API.

use super::{Ctx, actors, creates, send_all_ok};
use crate::{load, report::Report, server::Server};
use anyhow::{Result, bail};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

/// Received activities the server has not processed yet.
const UNPROCESSED: &str = "SELECT COUNT(*) FROM inbox_items WHERE processed_at IS NULL";

pub async fn reads(ctx: &Ctx) -> Result<Report> {
    let mut r = ctx.report("10-reads", "home timeline reads");
    let farm = crate::peers::Farm::start(ctx.size(5, 1), true).await?;
    let server = Server::start("reads", &[]).await?;
    let reader = server.user("reader").await;
    let api = server.instance.api(&reader);
    let followed = actors(&farm, "w", ctx.size(500, 5));

    // The member follows them through the API; the farm accepts.
    let t0 = Instant::now();
    let accts: Vec<String> = followed
        .iter()
        .map(|(h, n)| format!("{n}@{}", farm.domain(*h)))
        .collect();
    let accts = Arc::new(accts);
    let follow_out = load::run_closed(8, accts.len(), {
        let accts = accts.clone();
        let api = api.clone();
        move |i| {
            let accts = accts.clone();
            let api = api.clone();
            async move {
                let start = Instant::now();
                let account = api.resolve_account(&accts[i]).await;
                api.follow(federation_tests::str_field(&account, "id"))
                    .await;
                (200, start.elapsed())
            }
        }
    })
    .await;
    let want = followed.len() as i64;
    let accepted = load::wait_until(
        Duration::from_secs(120),
        Duration::from_millis(250),
        || async {
            server
                .count("SELECT COUNT(*) FROM follows WHERE state = 'accepted'")
                .await
                .is_ok_and(|n| n >= want)
        },
    )
    .await;
    if accepted.is_none() {
        bail!("the follows were not all accepted");
    }
    let follow_setup = t0.elapsed();
    eprintln!(
        "reads set-up: {} follows accepted after {:.0} s",
        followed.len(),
        follow_setup.as_secs_f64()
    );

    // Their posts arrive through the inbox, signed, in batches.
    let total = ctx.size(100_000, 100);
    let t1 = Instant::now();
    let batch = 5_000.min(total);
    let mut sent = 0;
    while sent < total {
        let n = batch.min(total - sent);
        let reqs = creates(&farm, &server, &followed, n).await?;
        send_all_ok(&farm, &reqs, 32).await?;
        sent += n;
        // Set-up takes minutes at full size; show where it stands.
        let pending = server.count(UNPROCESSED).await.unwrap_or(-1);
        eprintln!(
            "reads set-up: {sent} of {total} posts sent in {:.0} s, {pending} not yet processed",
            t1.elapsed().as_secs_f64()
        );
    }
    let drained = load::wait_until(
        Duration::from_secs(600),
        Duration::from_millis(500),
        || async { server.count(UNPROCESSED).await.is_ok_and(|n| n == 0) },
    )
    .await;
    if drained.is_none() {
        bail!("the inbox was not processed within 10 minutes");
    }
    let ingest = t1.elapsed();
    eprintln!(
        "reads set-up: posts processed after {:.0} s",
        ingest.as_secs_f64()
    );
    let statuses = server.count("SELECT COUNT(*) FROM statuses").await?;
    let home = api.home().await;
    if home.is_empty() {
        bail!("the home timeline is empty after ingest");
    }

    let requests = ctx.size(5_000, 128);
    let base = server.instance.base_url();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .build()?;
    let token = reader.token.clone();
    let api_url = format!("{base}/api/v1/timelines/home");
    let api_out = load::run_closed(64, requests, {
        let http = http.clone();
        move |_| {
            let http = http.clone();
            let url = api_url.clone();
            let token = token.clone();
            async move { timed_get(http.get(url).bearer_auth(token)).await }
        }
    })
    .await;
    let web = server.instance.web_login(&reader).await;
    let web_url = format!("{base}/home");
    let web_out = load::run_closed(64, requests, {
        move |_| {
            let web = web.clone();
            let url = web_url.clone();
            async move { timed_get(web.get(url).header("accept", "text/html")).await }
        }
    })
    .await;

    r.figure("accounts followed", followed.len() as f64, "");
    r.figure("setup: follows accepted", follow_setup.as_secs_f64(), "s");
    r.figure(
        "setup: follow p50 (resolve + follow)",
        follow_out.pct_ms(50.0),
        "ms",
    );
    r.figure("posts ingested", total as f64, "");
    r.figure("setup: ingest + processing", ingest.as_secs_f64(), "s");
    r.figure("statuses stored", statuses as f64, "");
    r.figure("API: requests/s (64 clients)", api_out.rate(), "req/s");
    r.figure("API: p50", api_out.pct_ms(50.0), "ms");
    r.figure("API: p99", api_out.pct_ms(99.0), "ms");
    r.figure("web: requests/s (64 clients)", web_out.rate(), "req/s");
    r.figure("web: p50", web_out.pct_ms(50.0), "ms");
    r.figure("web: p99", web_out.pct_ms(99.0), "ms");
    r.note(format!(
        "answers: API {} / web {}",
        api_out.status_summary(),
        web_out.status_summary()
    ));
    r.target(
        "API home timeline p99 ≤ 20 ms at 64 clients",
        api_out.pct_ms(99.0) <= 20.0 && api_out.with_status(200..=200) == requests,
    );
    r.target(
        "web home page p99 ≤ 20 ms at 64 clients",
        web_out.pct_ms(99.0) <= 20.0 && web_out.with_status(200..=200) == requests,
    );
    Ok(r)
}

async fn timed_get(req: reqwest::RequestBuilder) -> (u16, Duration) {
    let start = Instant::now();
    let status = match req.send().await {
        Ok(resp) => {
            let s = resp.status().as_u16();
            let _ = resp.bytes().await;
            s
        }
        Err(_) => 0,
    };
    (status, start.elapsed())
}
