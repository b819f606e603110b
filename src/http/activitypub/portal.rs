//! The portal actor's documents (`/portal`, its `members` and `followers`
//! collections and empty outbox), its topic channels' documents, and their
//! inboxes; 404 on instances that are not a portal.

use crate::{
    app::AppState,
    error::{AppError, AppResult},
    federation::portal,
    http::activitypub::{ap_json, fed, shared_inbox},
};
use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal", get(actor))
        .route("/portal/members", get(members))
        .route("/portal/followers", get(followers))
        .route("/portal/outbox", get(outbox))
        .route("/portal/topics/{name}", get(topic))
        .route("/portal/topics/{name}/outbox", get(topic_outbox))
}

pub fn inbox_routes() -> Router<AppState> {
    Router::new()
        .route("/portal/inbox", post(shared_inbox))
        .route("/portal/topics/{name}/inbox", post(shared_inbox))
}

async fn the_portal(state: &AppState) -> AppResult<crate::db::entities::actors::Model> {
    portal::actor(state)
        .await
        .map_err(fed)?
        .ok_or_else(AppError::not_found)
}

async fn actor(State(state): State<AppState>) -> AppResult<Response> {
    let p = the_portal(&state).await?;
    Ok(ap_json(
        StatusCode::OK,
        portal::document(&state, &p).map_err(fed)?,
    ))
}

async fn members(State(state): State<AppState>) -> AppResult<Response> {
    let p = the_portal(&state).await?;
    Ok(ap_json(
        StatusCode::OK,
        portal::members_document(&state, &p).await.map_err(fed)?,
    ))
}

async fn followers(State(state): State<AppState>) -> AppResult<Response> {
    let p = the_portal(&state).await?;
    Ok(ap_json(
        StatusCode::OK,
        portal::followers_document(&state, &p).await.map_err(fed)?,
    ))
}

async fn outbox(State(state): State<AppState>) -> AppResult<Response> {
    let p = the_portal(&state).await?;
    Ok(ap_json(
        StatusCode::OK,
        json!({
            "id": state.urls.outbox(&p.ap_id),
            "type": "OrderedCollection",
            "totalItems": 0,
            "orderedItems": [],
        }),
    ))
}

async fn the_topic(state: &AppState, name: &str) -> AppResult<crate::db::entities::actors::Model> {
    crate::federation::topics::actor(state, name)
        .await
        .map_err(fed)?
        .ok_or_else(AppError::not_found)
}

/// A topic channel's actor document.
async fn topic(
    State(state): State<AppState>,
    crate::http::extract::Path(name): crate::http::extract::Path<String>,
) -> AppResult<Response> {
    let t = the_topic(&state, &name).await?;
    let doc = serde_json::to_value(crate::federation::actors::person(&state, &t).map_err(fed)?)
        .map_err(AppError::internal)?;
    Ok(ap_json(StatusCode::OK, doc))
}

async fn topic_outbox(
    State(state): State<AppState>,
    crate::http::extract::Path(name): crate::http::extract::Path<String>,
) -> AppResult<Response> {
    let t = the_topic(&state, &name).await?;
    Ok(ap_json(
        StatusCode::OK,
        json!({
            "id": state.urls.outbox(&t.ap_id),
            "type": "OrderedCollection",
            "totalItems": 0,
            "orderedItems": [],
        }),
    ))
}
