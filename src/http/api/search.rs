//! Search: `/api/v2/search` finds accounts (local by name, remote by
//! `@user@host` through WebFinger when `resolve=true`), posts (by URL, fetched
//! from their origin when `resolve=true`, or by their words) and hashtags.

use crate::{
    app::AppState,
    db::{entities::actors, queries},
    domain::{posts, timelines},
    error::{AppError, AppResult},
    federation::resolve::{self, Resolved},
    http::{
        api::{entities, params::bool_like},
        extract::{Auth, Query},
    },
};
use activitypub_federation::config::Data;
use axum::{Router, routing::get};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v2/search", get(search))
}

/// Accounts matching a query: an exact handle (resolved if asked), or local
/// and known accounts whose name starts with it.
pub async fn accounts(
    data: &Data<AppState>,
    query: &str,
    resolve: bool,
    limit: usize,
) -> AppResult<Vec<actors::Model>> {
    let q = query.trim();
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let mut out: Vec<actors::Model> = Vec::new();
    let looks_like_handle = q.trim_start_matches('@').contains('@') || q.starts_with('@');
    if looks_like_handle {
        match resolve::handle(data, q, resolve).await {
            Ok(Some(a)) => out.push(a),
            Ok(None) => {}
            Err(e) => tracing::debug!(query = q, error = %e, "account not resolved"),
        }
    } else if (q.starts_with("http://") || q.starts_with("https://"))
        && resolve
        && let Ok(Some(Resolved::Actor(a))) = resolve::url(data, q).await
    {
        out.push(*a);
    }
    let name = q
        .trim_start_matches('@')
        .split('@')
        .next()
        .unwrap_or_default();
    if !name.is_empty() && out.len() < limit {
        for a in queries::actors::search_by_name(&data.db, name, limit as u64).await? {
            if !out.iter().any(|o| o.id == a.id) && crate::domain::actors::visible(data, &a).await?
            {
                out.push(a);
            }
        }
    }
    out.truncate(limit);
    Ok(out)
}

#[derive(Deserialize, Default)]
struct SearchQuery {
    q: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "bool_like")]
    resolve: Option<bool>,
    limit: Option<String>,
    offset: Option<String>,
}

async fn search(
    data: Data<AppState>,
    auth: Auth,
    Query(q): Query<SearchQuery>,
) -> AppResult<axum::Json<Value>> {
    if matches!(auth, Auth::BadToken) {
        return Err(AppError::unauthorized());
    }
    let viewer = auth.member().map(|m| m.actor.clone());
    // Fetching from other servers is for signed-in members only.
    let resolve = q.resolve.unwrap_or(false) && viewer.is_some();
    let query = q.q.unwrap_or_default();
    let limit = q
        .limit
        .as_deref()
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(20)
        .clamp(1, 40);
    let kind = q.kind.unwrap_or_default();
    let want = |k: &str| kind.is_empty() || kind == k;
    let mut accounts_json = Vec::new();
    let mut statuses_json = Vec::new();
    let mut hashtags = Vec::new();
    let trimmed = query.trim();
    if want("statuses") && (trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
        let found = match queries::statuses::by_ap_id(&data.db, trimmed).await? {
            Some(s) => Some(s),
            None => match queries::statuses::by_url(&data.db, trimmed).await? {
                Some(s) => Some(s),
                None if resolve => match resolve::url(&data, trimmed).await {
                    Ok(Some(Resolved::Post(s))) => Some(*s),
                    Ok(Some(Resolved::Actor(a))) if want("accounts") => {
                        accounts_json.push(
                            entities::account_full(&data, &a)
                                .await
                                .map(|a| serde_json::to_value(a).unwrap_or(Value::Null))?,
                        );
                        None
                    }
                    Ok(_) => None,
                    Err(e) => {
                        tracing::debug!(query = trimmed, error = %e, "post not resolved");
                        None
                    }
                },
                None => None,
            },
        };
        if let Some(s) = found
            && posts::can_view(&data, viewer.as_ref(), &s).await?
        {
            let views = timelines::hydrate(&data, viewer.as_ref(), vec![s]).await?;
            statuses_json = entities::statuses(&data, &views, viewer.is_some()).await?;
        }
    }
    // Words, not a URL: full-text search of posts, for signed-in members
    // (as on Mastodon), who see what they may read.
    if want("statuses")
        && viewer.is_some()
        && statuses_json.is_empty()
        && !(trimmed.starts_with("http://") || trimmed.starts_with("https://"))
        && !trimmed.is_empty()
    {
        let offset = q
            .offset
            .as_deref()
            .and_then(|o| o.parse::<u64>().ok())
            .unwrap_or(0)
            .min(10_000);
        let found =
            crate::domain::search::posts(&data, viewer.as_ref(), trimmed, limit as u64, offset)
                .await?;
        let views = timelines::hydrate(&data, viewer.as_ref(), found).await?;
        statuses_json = entities::statuses(&data, &views, viewer.is_some()).await?;
    }
    if want("accounts") && accounts_json.is_empty() {
        let found = accounts(&data, trimmed, resolve, limit).await?;
        let mut cache = entities::AccountCache::default();
        for a in &found {
            accounts_json.push(cache.get(&data, a).await?);
        }
    }
    if want("hashtags") {
        let tag = trimmed.trim_start_matches('#');
        if !tag.is_empty() && tag.chars().all(|c| c.is_alphanumeric() || c == '_') {
            hashtags.push(json!({ "name": tag.to_lowercase(), "url": format!("{}/tags/{}", data.urls.base(), tag.to_lowercase()), "history": [] }));
        }
    }
    Ok(axum::Json(
        json!({ "accounts": accounts_json, "statuses": statuses_json, "hashtags": hashtags }),
    ))
}
