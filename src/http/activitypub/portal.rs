//! The portal actor's documents (`/portal`, its `members` collection and
//! empty outbox) and inbox; 404 on instances that are not a portal.

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
        .route("/portal/outbox", get(outbox))
}

pub fn inbox_routes() -> Router<AppState> {
    Router::new().route("/portal/inbox", post(shared_inbox))
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
