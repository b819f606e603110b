//! The ActivityPub surface: actor documents, posts and activities as JSON,
//! collections (outbox, followers, following, featured), and the inboxes.
//! The same URLs give HTML to browsers (content negotiation).

use crate::{
    app::AppState,
    db::{
        entities::{actors, statuses},
        queries::{self, Page},
    },
    domain::posts::{self, Visibility},
    error::{AppError, AppResult},
    federation::{
        actors::person,
        error::FedError,
        inbox::{self, Received},
        objects::note,
        protocol::{PUBLIC, with_context},
        signatures,
    },
    http::extract::{Path, Query},
};
use activitypub_federation::config::Data;
use axum::{
    Router,
    body::Bytes,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

pub mod groups;
pub mod portal;

/// Inbox bodies above this are refused (413) from Content-Length alone.
pub const INBOX_LIMIT: usize = 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users/{name}", get(actor))
        .route("/users/{name}/statuses/{id}", get(status))
        .route("/users/{name}/statuses/{id}/activity", get(status_activity))
        .route("/users/{name}/outbox", get(outbox))
        .route("/users/{name}/followers", get(followers))
        .route("/users/{name}/following", get(following))
        .route("/users/{name}/collections/featured", get(featured))
        .route("/actor", get(instance_actor))
        .route("/actor/outbox", get(empty_outbox))
        .route("/activities/{id}", get(stored_activity))
        .route("/contexts/{id}", get(context_collection))
        .merge(groups::routes())
        .merge(portal::routes())
}

/// Inboxes get their own, small body limit (see `http::router`).
pub fn inbox_routes() -> Router<AppState> {
    Router::new()
        .route("/inbox", post(shared_inbox))
        .route("/users/{name}/inbox", post(user_inbox))
        .route("/actor/inbox", post(shared_inbox))
        .merge(groups::inbox_routes())
        .merge(portal::inbox_routes())
}

/// Does the client want ActivityPub JSON?
pub fn wants_activitypub(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| {
            a.contains("application/activity+json") || a.contains("application/ld+json")
        })
}

/// An ActivityPub JSON response with our context.
pub fn ap_json(status: StatusCode, doc: Value) -> Response {
    let body = with_context(doc);
    let mut res = (status, axum::Json(body)).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/activity+json; charset=utf-8"),
    );
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    res
}

pub(crate) fn fed(e: FedError) -> AppError {
    e.into()
}

async fn local_person(state: &AppState, name: &str) -> AppResult<actors::Model> {
    let a = queries::actors::local_by_username(&state.db, name)
        .await?
        .filter(|a| a.kind == "Person" || a.kind == "Group")
        .ok_or_else(AppError::not_found)?;
    // Applicants and suspended members have no public actor.
    if let Some(account_id) = a.account_id {
        let active = queries::accounts::by_id(&state.db, account_id)
            .await?
            .is_some_and(|acc| acc.status == "active");
        if !active {
            return Err(AppError::not_found());
        }
    }
    Ok(a)
}

/// The actor document of a local account (also used for `/@name`).
pub async fn actor_document(state: &AppState, name: &str) -> AppResult<Response> {
    let a = match queries::actors::local_by_username(&state.db, name).await? {
        Some(a) if a.deleted_at.is_some() => {
            return Ok(ap_json(
                StatusCode::GONE,
                json!({ "id": a.ap_id, "type": "Tombstone" }),
            ));
        }
        _ => local_person(state, name).await?,
    };
    let doc = serde_json::to_value(
        crate::federation::actors::actor_document(state, &a)
            .await
            .map_err(fed)?,
    )
    .map_err(AppError::internal)?;
    Ok(ap_json(StatusCode::OK, doc))
}

async fn actor(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> AppResult<Response> {
    if wants_activitypub(&headers) {
        return actor_document(&state, &name).await;
    }
    Ok(Redirect::to(&format!("/@{name}")).into_response())
}

async fn instance_actor(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    if !wants_activitypub(&headers)
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
    {
        return Ok(Redirect::to("/about").into_response());
    }
    let a = queries::actors::by_ap_id(&state.db, &state.urls.instance_actor())
        .await?
        .ok_or_else(AppError::not_found)?;
    let doc = serde_json::to_value(person(&state, &a).map_err(fed)?).map_err(AppError::internal)?;
    Ok(ap_json(StatusCode::OK, doc))
}

/// Serve a post as ActivityPub: public and unlisted posts to anyone;
/// followers-only and direct posts only to a request signed by an actor in
/// their audience (everyone else gets 404, not 403).
pub async fn status_document(
    data: &Data<AppState>,
    parts: &axum::http::request::Parts,
    s: &statuses::Model,
) -> AppResult<Response> {
    if s.deleted_at.is_some() {
        return Ok(ap_json(
            StatusCode::GONE,
            json!({ "id": s.ap_id, "type": "Tombstone" }),
        ));
    }
    if !s.local || s.reblog_of_id.is_some() {
        return Err(AppError::not_found());
    }
    if !matches!(Visibility::of(s), Visibility::Public | Visibility::Unlisted) {
        let signer = signatures::signer(data, parts).await.unwrap_or(None);
        if !posts::can_view(data, signer.as_ref(), s).await?
            && !remote_group_insider(data, s, signer.as_ref()).await
        {
            return Err(AppError::not_found());
        }
    }
    let doc =
        serde_json::to_value(note(data, s).await.map_err(fed)?).map_err(AppError::internal)?;
    Ok(ap_json(StatusCode::OK, doc))
}

/// Our post in a members-only group on another server: the group's member
/// list decides (a failure to read it refuses).
async fn remote_group_insider(
    data: &Data<AppState>,
    s: &statuses::Model,
    signer: Option<&actors::Model>,
) -> bool {
    let (Some(gid), Some(viewer)) = (s.group_id, signer) else {
        return false;
    };
    let Ok(Some(group)) = crate::domain::groups::load(&data.db, gid).await else {
        return false;
    };
    match crate::federation::groups::remote_insider(data, &group, viewer).await {
        Ok(yes) => yes,
        Err(e) => {
            tracing::info!(error = %e, group = %group.actor.ap_id, "could not read a group's members");
            false
        }
    }
}

async fn find_status(state: &AppState, name: &str, id: &str) -> AppResult<statuses::Model> {
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let s = queries::statuses::by_id(&state.db, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let author = queries::actors::by_id(&state.db, s.actor_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !author.local || author.username != name {
        return Err(AppError::not_found());
    }
    Ok(s)
}

async fn status(
    data: Data<AppState>,
    Path((name, id)): Path<(String, String)>,
    req: Request,
) -> AppResult<Response> {
    let (parts, _) = req.into_parts();
    let s = find_status(&data, &name, &id).await?;
    if wants_activitypub(&parts.headers) {
        return status_document(&data, &parts, &s).await;
    }
    Ok(Redirect::to(&format!("/@{name}/{id}")).into_response())
}

async fn status_activity(
    data: Data<AppState>,
    Path((name, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let s = find_status(&data, &name, &id).await?;
    let ap_id = if s.reblog_of_id.is_some() {
        s.ap_id.clone()
    } else {
        format!("{}/activity", s.ap_id)
    };
    stored_activity_by_ap_id(&data, &ap_id).await
}

async fn stored_activity_by_ap_id(state: &AppState, ap_id: &str) -> AppResult<Response> {
    let row = queries::delivery::activity_by_ap_id(&state.db, ap_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let json: Value = serde_json::from_str(&row.json).map_err(AppError::internal)?;
    // Only activities addressed to the public are served to anyone.
    let public = ["to", "cc"].iter().any(|k| {
        json.get(*k)
            .map(crate::federation::protocol::ids_of)
            .unwrap_or_default()
            .iter()
            .any(|a| a == PUBLIC)
    });
    if !public {
        return Err(AppError::not_found());
    }
    Ok(ap_json(StatusCode::OK, json))
}

async fn stored_activity(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    stored_activity_by_ap_id(&state, &format!("{}/activities/{id}", state.urls.base())).await
}

#[derive(Deserialize, Default)]
pub(crate) struct PageQuery {
    pub page: Option<String>,
    pub max_id: Option<i64>,
    /// Pages towards newer items (`min_id=0`: the oldest page).
    pub min_id: Option<i64>,
}

const PAGE_SIZE: u64 = 20;

async fn outbox(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let a = local_person(&state, &name).await?;
    let id = state.urls.outbox(&a.ap_id);
    let total = queries::statuses::count_by_actor_in(&state.db, a.id, &["public"]).await?;
    if q.page.is_none() {
        return Ok(ap_json(
            StatusCode::OK,
            json!({ "id": id, "type": "OrderedCollection", "totalItems": total, "first": format!("{id}?page=true"), "last": format!("{id}?page=true&min_id=0") }),
        ));
    }
    let mut list = queries::statuses::by_actor(
        &state.db,
        a.id,
        &["public"],
        false,
        false,
        Page {
            max_id: q.max_id,
            min_id: q.min_id,
            limit: PAGE_SIZE,
            ..Default::default()
        },
    )
    .await?;
    if q.min_id.is_some() {
        // Fetched oldest first, shown newest first like every page.
        list.reverse();
    }
    let mut items = Vec::with_capacity(list.len());
    for s in &list {
        if let Some(orig) = s.reblog_of_id {
            if let Some(o) = queries::statuses::by_id(&state.db, orig).await? {
                let (to, cc) = posts::addressed(s);
                items.push(json!({ "id": s.ap_id, "type": "Announce", "actor": a.ap_id, "published": s.published, "to": to, "cc": cc, "object": o.ap_id }));
            }
            continue;
        }
        let object = serde_json::to_value(note(&state, s).await.map_err(fed)?)
            .map_err(AppError::internal)?;
        let (to, cc) = posts::addressed(s);
        items.push(json!({ "id": format!("{}/activity", s.ap_id), "type": "Create", "actor": a.ap_id, "published": s.published, "to": to, "cc": cc, "object": object }));
    }
    let cursor = match (q.max_id, q.min_id) {
        (Some(m), _) => format!("&max_id={m}"),
        (None, Some(m)) => format!("&min_id={m}"),
        (None, None) => String::new(),
    };
    let mut page = json!({
        "id": format!("{id}?page=true{cursor}"),
        "type": "OrderedCollectionPage",
        "partOf": id,
        "totalItems": total,
        "orderedItems": items,
    });
    // Older items remain after a full page; a page counted up from `min_id`
    // starts right above it, so only `min_id` itself and older remain.
    let older = match q.min_id {
        Some(m) => m > 0,
        None => list.len() as u64 == PAGE_SIZE,
    };
    if older && let Some(oldest) = list.last() {
        page["next"] = json!(format!("{id}?page=true&max_id={}", oldest.id));
    }
    // Newer items remain when this page did not start at the newest.
    if (q.max_id.is_some() || q.min_id.is_some())
        && let Some(newest) = list.first()
    {
        page["prev"] = json!(format!("{id}?page=true&min_id={}", newest.id));
    }
    Ok(ap_json(StatusCode::OK, page))
}

async fn empty_outbox(State(state): State<AppState>) -> Response {
    let id = state.urls.outbox(&state.urls.instance_actor());
    ap_json(
        StatusCode::OK,
        json!({ "id": id, "type": "OrderedCollection", "totalItems": 0, "orderedItems": [] }),
    )
}

async fn relation_collection(
    state: &AppState,
    name: &str,
    q: PageQuery,
    followers: bool,
) -> AppResult<Response> {
    let a = local_person(state, name).await?;
    let id = if followers {
        state.urls.followers(&a.ap_id)
    } else {
        state.urls.following(&a.ap_id)
    };
    let total = if followers {
        queries::follows::count_followers(&state.db, a.id).await?
    } else {
        queries::follows::count_following(&state.db, a.id).await?
    };
    if q.page.is_none() {
        return Ok(ap_json(
            StatusCode::OK,
            json!({ "id": id, "type": "OrderedCollection", "totalItems": total, "first": format!("{id}?page=true") }),
        ));
    }
    let page = Page {
        max_id: q.max_id,
        limit: 50,
        ..Default::default()
    };
    let rows = if followers {
        crate::domain::follows::followers(state, a.id, page).await?
    } else {
        crate::domain::follows::following(state, a.id, page).await?
    };
    let mut doc = json!({
        "id": format!("{id}?page=true{}", q.max_id.map(|m| format!("&max_id={m}")).unwrap_or_default()),
        "type": "OrderedCollectionPage",
        "partOf": id,
        "totalItems": total,
        "orderedItems": rows.iter().map(|(_, actor)| actor.ap_id.clone()).collect::<Vec<_>>(),
    });
    if rows.len() == 50
        && let Some((last, _)) = rows.last()
    {
        doc["next"] = json!(format!("{id}?page=true&max_id={}", last.id));
    }
    Ok(ap_json(StatusCode::OK, doc))
}

async fn followers(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    relation_collection(&state, &name, q, true).await
}

async fn following(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    relation_collection(&state, &name, q, false).await
}

async fn featured(State(state): State<AppState>, Path(name): Path<String>) -> AppResult<Response> {
    let a = local_person(&state, &name).await?;
    Ok(ap_json(
        StatusCode::OK,
        json!({ "id": state.urls.featured(&a.ap_id), "type": "OrderedCollection", "totalItems": 0, "orderedItems": [] }),
    ))
}

/// A thread as a collection of its posts' ids (FEP-7888 `context`).
async fn context_collection(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let context = format!("{}/contexts/{id}", state.urls.base());
    let posts = queries::statuses::in_context(&state.db, &context, 1000).await?;
    let public: Vec<String> = posts
        .into_iter()
        .filter(|s| matches!(Visibility::of(s), Visibility::Public | Visibility::Unlisted))
        .map(|s| s.ap_id)
        .collect();
    if public.is_empty() {
        return Err(AppError::not_found());
    }
    Ok(ap_json(
        StatusCode::OK,
        json!({ "id": context, "type": "OrderedCollection", "totalItems": public.len(), "orderedItems": public }),
    ))
}

async fn inbox_response(data: &Data<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, INBOX_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return AppError::PayloadTooLarge(crate::msg!("error-body-too-large")).into_response();
        }
    };
    match inbox::receive(data, &parts, bytes).await {
        Ok(Received::Accepted | Received::Duplicate | Received::Ignored) => {
            StatusCode::ACCEPTED.into_response()
        }
        Err(e) => {
            let status = match e.status() {
                // Nothing a remote sends makes us answer 500: a failure of
                // ours is "try again later".
                StatusCode::INTERNAL_SERVER_ERROR => StatusCode::SERVICE_UNAVAILABLE,
                StatusCode::NOT_FOUND | StatusCode::GONE => StatusCode::BAD_REQUEST,
                s => s,
            };
            tracing::info!(status = status.as_u16(), error = %e, "inbox refused an activity");
            let text = e.to_string();
            let mut res = (status, axum::Json(json!({ "error": text }))).into_response();
            res.extensions_mut()
                .insert(crate::error::ErrorMessage(crate::i18n::Msg::literal(text)));
            res
        }
    }
}

pub(crate) async fn shared_inbox(data: Data<AppState>, req: Request) -> Response {
    inbox_response(&data, req).await
}

pub(crate) async fn user_inbox(
    data: Data<AppState>,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    match queries::actors::local_by_username(&data.db, &name).await {
        Ok(Some(_)) => inbox_response(&data, req).await,
        Ok(None) => AppError::not_found().into_response(),
        Err(e) => AppError::from(e).into_response(),
    }
}
