//! Trust between instances: which hosts this instance talks to at all.
//!
//! `federation.mode` decides: `open` refuses only `blocked_domains`,
//! `allowlist` accepts only `allowed_domains`, `portal` accepts the member
//! instances the national portal lists (plus the portal and
//! `allowed_domains`). The verdict is enforced in two places that every
//! exchange passes: the inbox (403 before the signature is even checked, so
//! not even the sender's key is fetched) and the federation library's URL
//! check (fetching and delivering). Hosts blocked by admins in the database
//! are checked beside this, in `client`.
//!
//! In `portal` mode the member list lives in memory and is refreshed by
//! [`run`]: every `federation.portal_refresh_secs`, and soon after an
//! unknown instance knocks (a new member should not wait minutes), but at
//! most every [`MIN_REFRESH`] so that strangers cannot make us hammer the
//! portal. Until the first reading succeeds only the portal and
//! `allowed_domains` are trusted: failing closed is the point of the mode.

use crate::{
    app::AppState,
    config::{Config, FederationMode, portal_handle},
    federation::{
        actors::ApubActor,
        error::FedError,
        protocol::{authority, id_of, ids_of},
    },
};
use activitypub_federation::{
    config::{Data, FederationConfig},
    fetch::{fetch_object_http, webfinger::webfinger_resolve_actor},
};
use serde_json::Value;
use std::{
    collections::HashSet,
    sync::RwLock,
    time::{Duration, Instant},
};
use tokio::sync::Notify;
use url::Url;

/// Shortest time between two readings of the portal's member list.
pub const MIN_REFRESH: Duration = Duration::from_secs(5);

/// Pages of the member collection read at most (50 pages of members).
const MAX_PAGES: usize = 50;

pub struct Trust {
    mode: FederationMode,
    local: String,
    blocked: Vec<String>,
    allowed: Vec<String>,
    /// The portal's host (`portal` mode, or any instance that names one).
    portal_host: Option<String>,
    members: RwLock<Members>,
    refresh: Notify,
}

#[derive(Default)]
struct Members {
    hosts: HashSet<String>,
    last_attempt: Option<Instant>,
}

impl Trust {
    pub fn new(config: &Config) -> Self {
        let lower = |list: &[String]| list.iter().map(|d| d.to_ascii_lowercase()).collect();
        Self {
            mode: config.federation.mode,
            local: config.instance.domain.to_ascii_lowercase(),
            blocked: lower(&config.federation.blocked_domains),
            allowed: lower(&config.federation.allowed_domains),
            portal_host: portal_handle(&config.federation.portal).map(|(_, host)| host),
            members: RwLock::new(Members::default()),
            refresh: Notify::new(),
        }
    }

    pub fn mode(&self) -> FederationMode {
        self.mode
    }

    /// May we exchange anything with this host (`host` or `host:port`)?
    /// `Err` carries the reason, for the log and the 403.
    pub fn check_host(&self, host: &str) -> Result<(), String> {
        let host = host.to_ascii_lowercase();
        if host == self.local {
            return Ok(());
        }
        match self.mode {
            FederationMode::Open => match self.blocked.iter().find(|e| covers(e, &host)) {
                Some(entry) => Err(format!("{host} is blocked ({entry})")),
                None => Ok(()),
            },
            FederationMode::Allowlist => {
                if self.allowed.iter().any(|e| covers(e, &host)) {
                    Ok(())
                } else {
                    Err(format!("{host} is not in federation.allowed_domains"))
                }
            }
            FederationMode::Portal => {
                let trusted = self.portal_host.as_deref() == Some(host.as_str())
                    || self.allowed.iter().any(|e| covers(e, &host))
                    || read(&self.members).hosts.contains(&host);
                if trusted {
                    Ok(())
                } else {
                    self.refresh.notify_one();
                    Err(format!("{host} is not a member instance of the portal"))
                }
            }
        }
    }

    pub fn check_url(&self, url: &Url) -> Result<(), String> {
        self.check_host(&authority(url))
    }

    /// The member hosts as last read (sorted), for the admin page and tests.
    pub fn member_hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = read(&self.members).hosts.iter().cloned().collect();
        hosts.sort();
        hosts
    }

    fn set_members(&self, hosts: HashSet<String>) {
        let mut m = write(&self.members);
        m.hosts = hosts;
    }

    fn mark_attempt(&self) {
        write(&self.members).last_attempt = Some(Instant::now());
    }

    fn since_last_attempt(&self) -> Option<Duration> {
        read(&self.members).last_attempt.map(|t| t.elapsed())
    }
}

/// Does a configured entry cover this host? An entry with a port matches
/// only itself; one without covers the host on any port and its subdomains.
fn covers(entry: &str, host: &str) -> bool {
    if entry == host {
        return true;
    }
    if entry.contains(':') {
        return false;
    }
    let name = host.split(':').next().unwrap_or(host);
    name == entry
        || name
            .strip_suffix(entry)
            .is_some_and(|rest| rest.ends_with('.'))
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    match l.read() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    match l.write() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Keep the portal's member list fresh (`portal` mode only) until shutdown.
pub async fn run(state: AppState, fed: FederationConfig<AppState>) {
    if state.trust.mode() != FederationMode::Portal {
        return;
    }
    let period = Duration::from_secs(state.config.federation.portal_refresh_secs);
    loop {
        if let Some(since) = state.trust.since_last_attempt()
            && since < MIN_REFRESH
        {
            tokio::select! {
                () = state.shutdown.cancelled() => return,
                () = tokio::time::sleep(MIN_REFRESH - since) => {}
            }
        }
        state.trust.mark_attempt();
        let data = fed.to_request_data();
        match portal_members(&data).await {
            Ok(hosts) => {
                tracing::debug!(members = hosts.len(), "portal member list read");
                state.trust.set_members(hosts);
            }
            Err(e) => tracing::warn!(error = %e, "could not read the portal's member list"),
        }
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            () = state.trust.refresh.notified() => {}
            () = tokio::time::sleep(period) => {}
        }
    }
}

/// The hosts of the instances the portal lists in its `members` collection.
pub async fn portal_members(data: &Data<AppState>) -> Result<HashSet<String>, FedError> {
    let handle = data.config.federation.portal.trim().trim_start_matches('@');
    let actor = webfinger_resolve_actor::<AppState, ApubActor>(handle, data).await?;
    let actor_url = Url::parse(&actor.model.ap_id)?;
    let doc = fetch_object_http::<AppState, Value>(&actor_url, data)
        .await?
        .object;
    let members = doc
        .get("members")
        .and_then(id_of)
        .ok_or_else(|| FedError::invalid("the portal actor has no members collection"))?;
    collection_hosts(data, members).await
}

/// Every item's host across the pages of a collection of actor ids.
async fn collection_hosts(data: &Data<AppState>, url: Url) -> Result<HashSet<String>, FedError> {
    let mut hosts = HashSet::new();
    let mut next = Some(url);
    for _ in 0..MAX_PAGES {
        let Some(url) = next.take() else { break };
        let page = fetch_object_http::<AppState, Value>(&url, data)
            .await?
            .object;
        let items = page
            .get("orderedItems")
            .or_else(|| page.get("items"))
            .map(ids_of)
            .unwrap_or_default();
        for item in items {
            if let Ok(u) = Url::parse(&item) {
                hosts.insert(authority(&u));
            }
        }
        // A collection with its items inline has no pages; one without them
        // starts at `first`.
        next = page
            .get("next")
            .or_else(|| page.get("first"))
            .and_then(id_of);
    }
    Ok(hosts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trust(toml: &str) -> Trust {
        use figment::{
            Figment,
            providers::{Format, Toml},
        };
        let config: Config = Figment::new()
            .merge(Toml::string(crate::config::DEFAULT_TOML))
            .merge(Toml::string(toml))
            .extract()
            .unwrap();
        config.validate().unwrap();
        Trust::new(&config)
    }

    #[test]
    fn open_mode_refuses_blocked_domains_and_their_subdomains() {
        let t = trust("[federation]\nblocked_domains = [\"spam.example\", \"localhost:9\"]");
        assert!(t.check_host("good.example").is_ok());
        assert!(t.check_host("spam.example").is_err());
        assert!(t.check_host("a.spam.example:8443").is_err());
        assert!(t.check_host("notspam.example").is_ok());
        assert!(t.check_host("localhost:9").is_err());
        assert!(t.check_host("localhost:10").is_ok());
        assert!(t.check_host("SPAM.example").is_err());
    }

    #[test]
    fn allowlist_mode_accepts_only_listed_domains() {
        let t =
            trust("[federation]\nmode = \"allowlist\"\nallowed_domains = [\"friends.example\"]");
        assert!(t.check_host("friends.example").is_ok());
        assert!(t.check_host("www.friends.example").is_ok());
        assert!(t.check_host("stranger.example").is_err());
        // Our own host is always ours.
        assert!(t.check_host("localhost:8080").is_ok());
    }

    #[test]
    fn portal_mode_accepts_the_portal_allowed_domains_and_members() {
        let t = trust(
            "[federation]\nmode = \"portal\"\nportal = \"@portal@portal.example\"\nallowed_domains = [\"friends.example\"]",
        );
        assert!(t.check_host("portal.example").is_ok());
        assert!(t.check_host("friends.example").is_ok());
        assert!(t.check_host("member.example").is_err());
        t.set_members(HashSet::from(["member.example".to_string()]));
        assert!(t.check_host("member.example").is_ok());
        assert!(t.check_host("sub.member.example").is_err());
        assert_eq!(t.member_hosts(), vec!["member.example".to_string()]);
        t.set_members(HashSet::new());
        assert!(t.check_host("member.example").is_err());
    }
}
