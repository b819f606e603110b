//! The JSON API: Mastodon-compatible endpoints where Mastodon has the
//! concept (instance, accounts, admin accounts), Staffroom's own endpoints in
//! the same style under `/api/v1/staffroom/`, and their OpenAPI document.
//! Errors are always `{"error": "..."}`.

pub mod accounts;
pub mod admin;
pub mod entities;
pub mod events;
pub mod groups;
pub mod instance;
pub mod media;
pub mod oauth;
pub mod openapi;
pub mod pagination;
pub mod params;
pub mod reports;
pub mod resources;
pub mod search;
pub mod staffroom;
pub mod statuses;
pub mod timelines;

use crate::app::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(instance::routes())
        .merge(accounts::routes())
        .merge(admin::routes())
        .merge(reports::routes())
        .merge(staffroom::routes())
        .merge(groups::routes())
        .merge(statuses::routes())
        .merge(timelines::routes())
        .merge(search::routes())
        .merge(media::routes())
        .merge(oauth::routes())
        .merge(events::routes())
        .merge(openapi::routes())
        .merge(resources::routes())
}

pub fn upload_routes() -> Router<AppState> {
    media::upload_routes().merge(accounts::upload_routes())
}
