//! Aggregation on the national portal: what its member instances relayed,
//! as one public feed (posts and resources), a cross-instance search over
//! posts, resources and events, a national calendar and a directory of the
//! member instances (from their NodeInfo) and of public groups. Portal
//! moderators hide single items from all of these; hiding changes nothing
//! at the origin or on other members.

use crate::{
    app::AppState,
    config::InstanceRole,
    db::{
        entities::{actors, calendar_events},
        queries::{self, Page},
        search,
    },
    domain::{
        calendar,
        follows::{ACCEPTED, PENDING},
        resources::{self, Resource},
        timelines::{self, PostView},
    },
    error::{AppError, AppResult},
    federation::portal,
};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// The aggregation pages exist on a portal only.
pub fn check_portal(state: &AppState) -> AppResult<()> {
    if state.config.instance.role == InstanceRole::Portal {
        Ok(())
    } else {
        Err(AppError::not_found())
    }
}

/// The servers national content comes from: the portal itself and its
/// approved member instances. Anyone else may reach the portal (a Mastodon
/// user answering it, a relay subscriber), but does not make the national
/// feed by doing so.
pub async fn member_domains(state: &AppState) -> AppResult<Vec<String>> {
    let mut domains = vec![state.config.instance.domain.clone()];
    if let Some(p) = portal::actor(state).await? {
        for a in portal::instances(state, &p, ACCEPTED).await? {
            if !domains.contains(&a.domain) {
                domains.push(a.domain);
            }
        }
    }
    Ok(domains)
}

/// The national feed's posts: public posts of the member instances, newest
/// first, without hidden ones (timelines leave those out on a portal).
pub async fn posts(state: &AppState, page: Page) -> AppResult<Vec<PostView>> {
    check_portal(state)?;
    let domains = member_domains(state).await?;
    timelines::public_from(state, None, &domains, page).await
}

/// The national library: public resources, newest first, without hidden ones.
pub async fn resources(state: &AppState, text: &str, limit: u64) -> AppResult<Vec<Resource>> {
    check_portal(state)?;
    let hidden = queries::portal::hidden(&state.db).await?;
    let q = resources::Library {
        text: text.to_string(),
        limit,
        ..Default::default()
    };
    let domains = member_domains(state).await?;
    let mut list = resources::library(state, None, &q).await?;
    list.retain(|r| !hidden.contains(&r.model.ap_id) && domains.contains(&r.owner.domain));
    Ok(list)
}

/// Public events of member instances from `from` on, soonest first, with
/// the subject `tag` if given, without hidden ones.
pub async fn events(
    state: &AppState,
    from: chrono::DateTime<Utc>,
    tag: Option<String>,
    limit: u64,
) -> AppResult<Vec<calendar_events::Model>> {
    check_portal(state)?;
    let filter = calendar::Filter {
        from: Some(from),
        tag,
        organizer_domains: Some(member_domains(state).await?),
        limit,
        ..Default::default()
    };
    let list = calendar::list(&state.db, None, &filter).await?;
    without_hidden_events(state, list).await
}

/// Events no portal moderator hid.
async fn without_hidden_events(
    state: &AppState,
    list: Vec<calendar_events::Model>,
) -> AppResult<Vec<calendar_events::Model>> {
    let hidden = queries::portal::hidden(&state.db).await?;
    if hidden.is_empty() {
        return Ok(list);
    }
    let ids: Vec<i64> = list.iter().map(|e| e.id).collect();
    let gone: Vec<i64> = queries::statuses::by_ids(&state.db, &ids)
        .await?
        .into_iter()
        .filter(|s| hidden.contains(&s.ap_id))
        .map(|s| s.id)
        .collect();
    Ok(list.into_iter().filter(|e| !gone.contains(&e.id)).collect())
}

/// What a search on the portal found, each list best first.
#[derive(Default)]
pub struct Found {
    pub posts: Vec<PostView>,
    pub resources: Vec<Resource>,
    pub events: Vec<calendar_events::Model>,
}

/// Full-text search over everything public the portal holds.
pub async fn search(state: &AppState, text: &str) -> AppResult<Found> {
    check_portal(state)?;
    if search::words(text).is_empty() {
        return Ok(Found::default());
    }
    let hidden = queries::portal::hidden(&state.db).await?;
    let statuses = crate::domain::search::posts(state, None, text, 20, 0).await?;
    // Events are posts (of type Event) in the index.
    let (events, posts): (Vec<_>, Vec<_>) = statuses.into_iter().partition(|s| s.kind == "Event");
    let posts: Vec<_> = posts
        .into_iter()
        .filter(|s| !hidden.contains(&s.ap_id))
        .collect();
    let domains = member_domains(state).await?;
    let mut posts = timelines::hydrate(state, None, posts).await?;
    posts.retain(|p| domains.contains(&p.author.domain));
    let event_ids: Vec<i64> = events
        .iter()
        .filter(|s| !hidden.contains(&s.ap_id))
        .map(|s| s.id)
        .collect();
    let mut found_events = Vec::new();
    for id in event_ids {
        if let Some(e) = queries::calendar::by_id(&state.db, id).await?
            && calendar::can_see(&state.db, None, &e).await?
        {
            found_events.push(e);
        }
    }
    let organizer_ids: Vec<i64> = found_events.iter().map(|e| e.organizer_id).collect();
    let organizers = queries::actors::by_ids(&state.db, &organizer_ids).await?;
    found_events.retain(|e| {
        organizers
            .iter()
            .any(|a| a.id == e.organizer_id && domains.contains(&a.domain))
    });
    Ok(Found {
        posts,
        resources: resources(state, text, 20).await?,
        events: found_events,
    })
}

/// Hide an item (post, resource, event: its ActivityPub id) from the
/// aggregated feeds, or show it again.
pub async fn set_hidden(
    state: &AppState,
    moderator: &actors::Model,
    ap_id: &str,
    hidden: bool,
) -> AppResult<()> {
    check_portal(state)?;
    let ap_id = ap_id.trim();
    if url::Url::parse(ap_id).is_err() {
        return Err(AppError::Unprocessable(crate::msg!(
            "error-invalid-query",
            detail = "id"
        )));
    }
    queries::portal::set_hidden(&state.db, ap_id, Some(moderator.id), hidden).await?;
    Ok(())
}

/// One member instance (or applicant) in the directory.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Member {
    pub domain: String,
    pub name: String,
    /// `member` or `applied`.
    pub status: &'static str,
    pub joined: DateTime<Utc>,
    pub last_seen: Option<DateTime<Utc>>,
    pub users: Option<i64>,
    pub posts: Option<i64>,
    pub languages: Vec<String>,
    pub description: String,
    pub software: String,
    /// The public contact the instance gives in its NodeInfo.
    pub contact: Option<String>,
}

/// The suspended instances and since when, most recent first.
pub async fn suspended(state: &AppState) -> AppResult<Vec<(String, DateTime<Utc>)>> {
    check_portal(state)?;
    Ok(queries::portal::suspended(&state.db)
        .await?
        .into_iter()
        .filter_map(|i| i.suspended_at.map(|at| (i.domain, at)))
        .collect())
}

/// The member instances and open applications, with what their NodeInfo said.
pub async fn directory(state: &AppState) -> AppResult<Vec<Member>> {
    check_portal(state)?;
    let Some(p) = portal::actor(state).await? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (follow_state, status) in [(ACCEPTED, "member"), (PENDING, "applied")] {
        for a in portal::instances(state, &p, follow_state).await? {
            let joined = queries::follows::get(&state.db, a.id, p.id)
                .await?
                .map(|f| f.updated_at)
                .unwrap_or(a.created_at);
            let known = queries::portal::instance(&state.db, &a.domain).await?;
            let info: Value = known
                .as_ref()
                .and_then(|k| serde_json::from_str(&k.nodeinfo).ok())
                .unwrap_or(Value::Null);
            let usage = &info["usage"];
            let meta = &info["metadata"];
            let languages = meta["languages"]
                .as_array()
                .or_else(|| meta["staffroom"]["languages"].as_array())
                .map(|l| {
                    l.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            out.push(Member {
                domain: a.domain.clone(),
                name: meta["nodeName"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| a.display_name.clone()),
                status,
                joined,
                last_seen: known.as_ref().and_then(|k| k.last_seen_at),
                users: usage["users"]["total"].as_i64(),
                posts: usage["localPosts"].as_i64(),
                languages,
                description: meta["nodeDescription"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .take(500)
                    .collect(),
                software: info["software"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                contact: meta["maintainer"]["email"]
                    .as_str()
                    .filter(|e| e.contains('@') && e.len() <= 320)
                    .map(str::to_string),
            });
        }
    }
    Ok(out)
}

/// Public groups the portal knows of on its member instances.
pub async fn groups(state: &AppState) -> AppResult<Vec<actors::Model>> {
    check_portal(state)?;
    let Some(p) = portal::actor(state).await? else {
        return Ok(Vec::new());
    };
    let domains: Vec<String> = portal::instances(state, &p, ACCEPTED)
        .await?
        .into_iter()
        .map(|a| a.domain)
        .collect();
    let mut out = Vec::new();
    for d in &domains {
        for a in queries::actors::remote_groups_of(&state.db, d).await? {
            if let Some(g) = crate::domain::groups::of_actor(&state.db, a.clone()).await?
                && !g.members_only()
                && a.deleted_at.is_none()
            {
                out.push(a);
            }
        }
    }
    Ok(out)
}

/// Read a member instance's NodeInfo 2.x and remember it for the
/// directory. Failures are logged: the directory shows what it last knew.
pub async fn refresh_nodeinfo(state: &AppState, instance_actor: &actors::Model) {
    if let Err(e) = fetch_nodeinfo(state, instance_actor).await {
        tracing::info!(domain = %instance_actor.domain, error = %e, "could not read a member's NodeInfo");
    }
}

async fn fetch_nodeinfo(state: &AppState, instance_actor: &actors::Model) -> anyhow::Result<()> {
    let doc = read_nodeinfo(state, instance_actor).await?;
    queries::portal::set_nodeinfo(&state.db, &instance_actor.domain, &doc, Utc::now()).await?;
    Ok(())
}

/// The software an instance actor's server names in its NodeInfo
/// (`staffroom`, `pleroma`, ...), or `None` when it cannot be read.
pub async fn software_of(state: &AppState, instance_actor: &actors::Model) -> Option<String> {
    match read_nodeinfo(state, instance_actor).await {
        Ok(doc) => doc["software"]["name"]
            .as_str()
            .map(|s| s.trim().to_lowercase()),
        Err(e) => {
            tracing::info!(domain = %instance_actor.domain, error = %e, "could not read NodeInfo");
            None
        }
    }
}

/// The most a NodeInfo document (or its links) may weigh.
const NODEINFO_MAX_BYTES: usize = 256 * 1024;

/// Read another server's NodeInfo through the federation client: its
/// resolver refuses private addresses, the trust policy applies, and the
/// answer is cut off past a size limit.
async fn read_nodeinfo(state: &AppState, instance_actor: &actors::Model) -> anyhow::Result<Value> {
    let origin = url::Url::parse(&instance_actor.ap_id)?;
    let well_known = origin.join("/.well-known/nodeinfo")?;
    let client = crate::federation::client::http_client(state)?;
    let links = get_json(state, &client, &well_known).await?;
    // Only a document on the member's own host is believed.
    let href = links["links"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["href"].as_str())
        .filter_map(|h| url::Url::parse(h).ok())
        .find(|u| crate::federation::protocol::same_origin(u, &origin))
        .ok_or_else(|| anyhow::anyhow!("no NodeInfo link on the member's host"))?;
    get_json(state, &client, &href).await
}

async fn get_json(
    state: &AppState,
    client: &reqwest_middleware::ClientWithMiddleware,
    url: &url::Url,
) -> anyhow::Result<Value> {
    state.trust.check_url(url).map_err(|e| anyhow::anyhow!(e))?;
    crate::federation::client::check_fetchable(
        url,
        state.config.federation.allow_insecure_loopback,
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    let mut res = client
        .get(url.as_str())
        .header("Accept", "application/json")
        .send()
        .await?
        .error_for_status()?;
    if res
        .content_length()
        .is_some_and(|n| n as usize > NODEINFO_MAX_BYTES)
    {
        anyhow::bail!("{url} is larger than {NODEINFO_MAX_BYTES} bytes");
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await? {
        body.extend_from_slice(&chunk);
        if body.len() > NODEINFO_MAX_BYTES {
            anyhow::bail!("{url} is larger than {NODEINFO_MAX_BYTES} bytes");
        }
    }
    Ok(serde_json::from_slice(&body)?)
}

/// Refresh the NodeInfo of a member when it was never read or is older
/// than six hours; in the background, so relaying never waits for it.
pub async fn refresh_if_stale(state: &AppState, instance_actor: &actors::Model) -> AppResult<()> {
    let known = queries::portal::instance(&state.db, &instance_actor.domain).await?;
    let stale = known
        .and_then(|k| k.fetched_at)
        .is_none_or(|t| Utc::now() - t > chrono::Duration::hours(6));
    if stale {
        queries::portal::set_nodeinfo_attempt(&state.db, &instance_actor.domain, Utc::now())
            .await?;
        let state = state.clone();
        let actor = instance_actor.clone();
        tokio::spawn(async move { refresh_nodeinfo(&state, &actor).await });
    }
    Ok(())
}
