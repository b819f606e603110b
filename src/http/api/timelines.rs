//! Mastodon's timelines, notifications, follow requests, bookmarks and
//! favourites lists.

use crate::{
    app::AppState,
    db::queries,
    domain::{follows, notifications, timelines},
    error::{AppError, AppResult},
    federation::publish,
    http::{
        api::{
            entities,
            pagination::{PageParams, paged},
            params::{bool_like, list, parse_id},
        },
        extract::{ApiMember, Auth, Path, Query},
    },
};
use axum::{
    Router,
    extract::{OriginalUri, State},
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/timelines/home", get(home))
        .route("/api/v1/timelines/public", get(public))
        .route("/api/v1/timelines/tag/{tag}", get(tag))
        .route("/api/v1/notifications", get(list_notifications))
        .route("/api/v1/notifications/clear", post(clear_notifications))
        .route("/api/v1/notifications/{id}", get(notification))
        .route(
            "/api/v1/notifications/{id}/dismiss",
            post(dismiss_notification),
        )
        .route("/api/v1/notifications/unread_count", get(unread_count))
        .route("/api/v1/follow_requests", get(follow_requests))
        .route("/api/v1/follow_requests/{id}/authorize", post(authorize))
        .route("/api/v1/follow_requests/{id}/reject", post(reject))
        .route("/api/v1/bookmarks", get(bookmarks))
        .route("/api/v1/favourites", get(favourites))
}

async fn respond(
    state: &AppState,
    uri: &axum::http::Uri,
    views: Vec<timelines::PostView>,
    limit: u64,
    viewer: bool,
) -> AppResult<Response> {
    let ids: Vec<i64> = views.iter().map(|v| v.status.id).collect();
    let body = entities::statuses(state, &views, viewer).await?;
    Ok(paged(
        uri,
        state.urls.base(),
        &ids,
        limit,
        Value::Array(body),
    ))
}

async fn home(
    State(state): State<AppState>,
    me: ApiMember,
    OriginalUri(uri): OriginalUri,
    Query(p): Query<PageParams>,
) -> AppResult<Response> {
    me.require_scope("read:statuses")?;
    let page = p.page(20, 40);
    let views = timelines::home(&state, &me.member.actor, page).await?;
    respond(&state, &uri, views, page.limit, true).await
}

#[derive(Deserialize, Default)]
struct PublicQuery {
    #[serde(default, deserialize_with = "bool_like")]
    local: Option<bool>,
    #[serde(default, deserialize_with = "bool_like")]
    remote: Option<bool>,
    max_id: Option<String>,
    since_id: Option<String>,
    min_id: Option<String>,
    limit: Option<String>,
}

impl PublicQuery {
    fn page(&self) -> PageParams {
        PageParams {
            max_id: self.max_id.clone(),
            since_id: self.since_id.clone(),
            min_id: self.min_id.clone(),
            limit: self.limit.clone(),
        }
    }
}

async fn public(
    State(state): State<AppState>,
    auth: Auth,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PublicQuery>,
) -> AppResult<Response> {
    if matches!(auth, Auth::BadToken) {
        return Err(AppError::unauthorized());
    }
    let viewer = auth.member().map(|m| m.actor.clone());
    let page = q.page().page(20, 40);
    let local = match (q.local, q.remote) {
        (Some(true), _) => Some(true),
        (_, Some(true)) => Some(false),
        _ => None,
    };
    let views = timelines::public(&state, viewer.as_ref(), local, page).await?;
    respond(&state, &uri, views, page.limit, viewer.is_some()).await
}

async fn tag(
    State(state): State<AppState>,
    auth: Auth,
    Path(tag): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PublicQuery>,
) -> AppResult<Response> {
    let viewer = auth.member().map(|m| m.actor.clone());
    let page = q.page().page(20, 40);
    let tag = tag.trim_start_matches('#').to_lowercase();
    let local = q.local.filter(|l| *l);
    let views = timelines::tag(&state, viewer.as_ref(), &tag, local, page).await?;
    respond(&state, &uri, views, page.limit, viewer.is_some()).await
}

#[derive(Deserialize, Default)]
struct NotificationQuery {
    #[serde(rename = "types[]", default, deserialize_with = "list")]
    types_brackets: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    types: Vec<String>,
    #[serde(rename = "exclude_types[]", default, deserialize_with = "list")]
    exclude_brackets: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    exclude_types: Vec<String>,
    account_id: Option<String>,
    max_id: Option<String>,
    since_id: Option<String>,
    min_id: Option<String>,
    limit: Option<String>,
}

async fn notification_json(
    state: &AppState,
    cache: &mut entities::AccountCache,
    me: &crate::db::entities::actors::Model,
    n: &crate::db::entities::notifications::Model,
) -> AppResult<Option<Value>> {
    let Some(from) = queries::actors::by_id(&state.db, n.from_actor_id).await? else {
        return Ok(None);
    };
    let status = match n.status_id {
        Some(sid) => match queries::statuses::by_id(&state.db, sid).await? {
            Some(s) if s.deleted_at.is_none() => {
                let views = timelines::hydrate(state, Some(me), vec![s]).await?;
                match views.first() {
                    Some(v) => Some(entities::status(state, cache, v, true).await?),
                    None => None,
                }
            }
            _ => return Ok(None),
        },
        None => None,
    };
    Ok(Some(json!({
        "id": n.id.to_string(),
        "type": n.kind,
        "created_at": entities::iso(n.created_at),
        "group_key": format!("ungrouped-{}", n.id),
        "account": cache.get(state, &from).await?,
        "status": status,
    })))
}

async fn list_notifications(
    State(state): State<AppState>,
    me: ApiMember,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<NotificationQuery>,
) -> AppResult<Response> {
    me.require_scope("read:notifications")?;
    let page = PageParams {
        max_id: q.max_id.clone(),
        since_id: q.since_id.clone(),
        min_id: q.min_id.clone(),
        limit: q.limit.clone(),
    }
    .page(40, 80);
    let filter = notifications::Filter {
        types: [q.types_brackets, q.types].concat(),
        exclude_types: [q.exclude_brackets, q.exclude_types].concat(),
        account_id: q.account_id.as_deref().and_then(parse_id),
    };
    let mut list = notifications::list(&state, &me.member.actor, &filter, page).await?;
    if page.min_id.is_some() {
        list.reverse();
    }
    let mut cache = entities::AccountCache::default();
    let mut out = Vec::new();
    for n in &list {
        if let Some(v) = notification_json(&state, &mut cache, &me.member.actor, n).await? {
            out.push(v);
        }
    }
    let ids: Vec<i64> = list.iter().map(|n| n.id).collect();
    Ok(paged(
        &uri,
        state.urls.base(),
        &ids,
        page.limit,
        Value::Array(out),
    ))
}

async fn notification(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("read:notifications")?;
    let n = notifications::get(
        &state,
        &me.member.actor,
        parse_id(&id).ok_or_else(AppError::not_found)?,
    )
    .await?;
    notification_json(
        &state,
        &mut entities::AccountCache::default(),
        &me.member.actor,
        &n,
    )
    .await?
    .map(axum::Json)
    .ok_or_else(AppError::not_found)
}

async fn dismiss_notification(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:notifications")?;
    notifications::dismiss(
        &state,
        &me.member.actor,
        parse_id(&id).ok_or_else(AppError::not_found)?,
    )
    .await?;
    Ok(axum::Json(json!({})))
}

async fn clear_notifications(
    State(state): State<AppState>,
    me: ApiMember,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:notifications")?;
    notifications::clear(&state, &me.member.actor).await?;
    Ok(axum::Json(json!({})))
}

async fn unread_count(
    State(state): State<AppState>,
    me: ApiMember,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("read:notifications")?;
    Ok(axum::Json(
        json!({ "count": notifications::unread(&state, &me.member.actor).await? }),
    ))
}

async fn follow_requests(
    State(state): State<AppState>,
    me: ApiMember,
    OriginalUri(uri): OriginalUri,
    Query(p): Query<PageParams>,
) -> AppResult<Response> {
    me.require_scope("read:follows")?;
    let page = p.page(40, 80);
    let rows = follows::requests(&state, &me.member.actor, page).await?;
    let mut cache = entities::AccountCache::default();
    let mut out = Vec::new();
    for (_, a) in &rows {
        out.push(cache.get(&state, a).await?);
    }
    let ids: Vec<i64> = rows.iter().map(|(f, _)| f.id).collect();
    Ok(paged(
        &uri,
        state.urls.base(),
        &ids,
        page.limit,
        Value::Array(out),
    ))
}

async fn answer(
    state: &AppState,
    me: &ApiMember,
    id: &str,
    accept: bool,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:follows")?;
    let follower = parse_id(id).ok_or_else(AppError::not_found)?;
    let events = if accept {
        follows::authorize(state, &me.member.actor, follower).await?
    } else {
        follows::reject(state, &me.member.actor, follower).await?
    };
    publish::publish(state, events).await;
    let r = follows::relationship(state, me.member.actor.id, follower).await?;
    Ok(axum::Json(entities::relationship(follower, &r)))
}

async fn authorize(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    answer(&state, &me, &id, true).await
}

async fn reject(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    answer(&state, &me, &id, false).await
}

/// A page of statuses someone marked (bookmarks, favourites), in the order
/// of the marks, paged by the marks' ids. `marked` holds (mark id, status id).
async fn marked_statuses(
    state: &AppState,
    me: &ApiMember,
    uri: &axum::http::Uri,
    page: queries::Page,
    marked: Vec<(i64, i64)>,
) -> AppResult<Response> {
    let statuses = queries::statuses::by_ids(
        &state.db,
        &marked.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
    )
    .await?;
    let ordered: Vec<_> = marked
        .iter()
        .filter_map(|(_, sid)| statuses.iter().find(|s| s.id == *sid).cloned())
        .collect();
    let views = timelines::visible_views(state, Some(&me.member.actor), ordered).await?;
    let body = entities::statuses(state, &views, true).await?;
    let ids: Vec<i64> = marked.iter().map(|(id, _)| *id).collect();
    Ok(paged(
        uri,
        state.urls.base(),
        &ids,
        page.limit,
        Value::Array(body),
    ))
}

async fn bookmarks(
    State(state): State<AppState>,
    me: ApiMember,
    OriginalUri(uri): OriginalUri,
    Query(p): Query<PageParams>,
) -> AppResult<Response> {
    me.require_scope("read:bookmarks")?;
    let page = p.page(20, 40);
    let rows = queries::relations::bookmarks_by_actor(&state.db, me.member.actor.id, page).await?;
    let marked = rows.iter().map(|r| (r.id, r.status_id)).collect();
    marked_statuses(&state, &me, &uri, page, marked).await
}

async fn favourites(
    State(state): State<AppState>,
    me: ApiMember,
    OriginalUri(uri): OriginalUri,
    Query(p): Query<PageParams>,
) -> AppResult<Response> {
    me.require_scope("read:favourites")?;
    let page = p.page(20, 40);
    let rows = queries::relations::favourites_by_actor(&state.db, me.member.actor.id, page).await?;
    let marked = rows.iter().map(|r| (r.id, r.status_id)).collect();
    marked_statuses(&state, &me, &uri, page, marked).await
}
