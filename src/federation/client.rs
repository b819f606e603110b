//! The outgoing HTTP client and the federation library's configuration.
//!
//! Every request carries `User-Agent: Staffroom/x.y; +https://domain`, never
//! follows redirects on its own (the library follows one, re-checking it),
//! times out after 10 seconds, and resolves host names through a resolver that
//! refuses loopback, private, link-local and unspecified addresses, unless
//! `federation.allow_insecure_loopback` is on. A middleware records each
//! response's status and `Retry-After` for the delivery workers, which the
//! library's send function does not report.

use crate::{app::AppState, federation::actors::ApubActor};
use activitypub_federation::{
    config::{FederationConfig, UrlVerifier},
    error::Error as LibError,
    resolver::ValidatingDnsResolver,
};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};
use std::{cell::Cell, time::Duration};
use url::Url;

pub const TIMEOUT: Duration = Duration::from_secs(10);

tokio::task_local! {
    /// Status and Retry-After (seconds) of the last response in this task.
    pub static LAST_RESPONSE: Cell<Option<(u16, Option<u64>)>>;
}

struct CaptureResponse;

#[async_trait::async_trait]
impl Middleware for CaptureResponse {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let res = next.run(req, extensions).await;
        if let Ok(r) = &res {
            let retry_after = r
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let status = r.status().as_u16();
            let _ = LAST_RESPONSE.try_with(|cell| cell.set(Some((status, retry_after))));
        }
        res
    }
}

/// Seconds from a Retry-After value (delta-seconds or an HTTP date).
pub(crate) fn parse_retry_after(v: &str) -> Option<u64> {
    if let Ok(secs) = v.trim().parse::<u64>() {
        return Some(secs);
    }
    let when = httpdate::parse_http_date(v.trim()).ok()?;
    when.duration_since(std::time::SystemTime::now())
        .ok()
        .map(|d| d.as_secs())
}

/// May we fetch `url` ourselves, outside the library's own checks? Only
/// https, and never an IP literal: the resolver guards names, but a literal
/// address is dialled without asking it (DNS names only, as the library
/// requires of actors). `insecure` is `federation.allow_insecure_loopback`.
pub fn check_fetchable(url: &Url, insecure: bool) -> Result<(), String> {
    if insecure {
        return Ok(());
    }
    if url.scheme() != "https" {
        return Err(format!("{url} is not https"));
    }
    match url.host() {
        Some(url::Host::Domain(_)) => Ok(()),
        Some(_) => Err(format!("{url} names an IP address, not a domain")),
        None => Err(format!("{url} has no host")),
    }
}

pub fn user_agent(state: &AppState) -> String {
    format!(
        "Staffroom/{}; +{}",
        env!("CARGO_PKG_VERSION"),
        state.urls.base()
    )
}

pub fn http_client(state: &AppState) -> anyhow::Result<ClientWithMiddleware> {
    let insecure = state.config.federation.allow_insecure_loopback;
    let client = reqwest::Client::builder()
        .user_agent(user_agent(state))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .pool_max_idle_per_host(8)
        .dns_resolver(ValidatingDnsResolver::new(Vec::new(), !insecure))
        .build()?;
    Ok(ClientBuilder::new(client).with(CaptureResponse).build())
}

/// Refuses blocked and untrusted hosts (`federation.mode`) everywhere the
/// library checks URLs (fetching, delivering, receiving).
#[derive(Clone)]
struct BlockedHosts {
    state: AppState,
}

#[async_trait::async_trait]
impl UrlVerifier for BlockedHosts {
    async fn verify(&self, url: &Url) -> Result<(), LibError> {
        self.state.trust.check_url(url).map_err(LibError::Other)?;
        let host = crate::federation::protocol::authority(url);
        match crate::db::queries::delivery::host(&self.state.db, &host).await {
            Ok(Some(h)) if h.blocked => Err(LibError::Other(format!("host {host} is blocked"))),
            _ => Ok(()),
        }
    }
}

pub async fn federation_config(state: &AppState) -> anyhow::Result<FederationConfig<AppState>> {
    let instance_actor = crate::federation::actors::ensure_instance_actor(state)
        .await
        .map_err(|e| anyhow::anyhow!("instance actor: {e}"))?;
    let signer =
        ApubActor::new(instance_actor).map_err(|e| anyhow::anyhow!("instance actor: {e}"))?;
    crate::federation::portal::ensure_actor(state)
        .await
        .map_err(|e| anyhow::anyhow!("portal actor: {e}"))?;
    crate::federation::topics::ensure_actors(state)
        .await
        .map_err(|e| anyhow::anyhow!("portal topic channels: {e}"))?;
    let insecure = state.config.federation.allow_insecure_loopback;
    let config = FederationConfig::builder()
        .domain(state.config.instance.domain.clone())
        .app_data(state.clone())
        .client(http_client(state)?)
        // `debug` allows http, ports and local addresses (tests only). We never
        // use the library's in-memory queue, so its synchronous sending in
        // debug mode does not apply.
        .debug(insecure)
        .allow_http_urls(insecure)
        .http_fetch_limit(25)
        .request_timeout(TIMEOUT)
        .url_verifier(Box::new(BlockedHosts {
            state: state.clone(),
        }))
        .signed_fetch_actor(&signer)
        .build()
        .await?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::check_fetchable;
    use url::Url;

    #[test]
    fn only_https_domains_are_fetched() {
        let ok = |u: &str| check_fetchable(&Url::parse(u).unwrap(), false);
        assert!(ok("https://assoc.example/.well-known/nodeinfo").is_ok());
        for refused in [
            "http://assoc.example/.well-known/nodeinfo",
            "https://127.0.0.1/nodeinfo",
            "https://10.1.2.3/nodeinfo",
            "https://192.168.0.10/nodeinfo",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/nodeinfo",
            "https://[fc00::1]/nodeinfo",
            "https://[::ffff:127.0.0.1]/nodeinfo",
            // A public address is still not a domain an actor could have.
            "https://8.8.8.8/nodeinfo",
            "https://2130706433/nodeinfo",
        ] {
            assert!(ok(refused).is_err(), "{refused} must be refused");
        }
        let insecure = Url::parse("http://localhost:8081/nodeinfo").unwrap();
        assert!(check_fetchable(&insecure, true).is_ok());
    }
}
