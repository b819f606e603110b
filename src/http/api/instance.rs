//! `/api/v1/instance` and `/api/v2/instance`: what Mastodon clients read on
//! start-up (version, limits, registration state, rules, contact).

use crate::{
    app::AppState,
    config::RegistrationMode,
    db::queries,
    domain::instance,
    error::AppResult,
    http::{api::entities, web::DEFAULT_HEADER_PATH},
};
use axum::{Json, Router, extract::State, routing::get};
use serde_json::{Value, json};

/// Mastodon.py reads the part before the first space as the API version.
pub const MASTODON_API_VERSION: &str = "4.3.0";

pub fn version_string() -> String {
    format!(
        "{MASTODON_API_VERSION} (compatible; Staffroom {})",
        env!("CARGO_PKG_VERSION")
    )
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/instance", get(v1))
        .route("/api/v1/instance/", get(v1))
        .route("/api/v2/instance", get(v2))
        .route("/api/v2/instance/", get(v2))
        .route("/api/v1/instance/rules", get(rules))
        .route("/api/v1/instance/peers", get(peers))
        .route("/api/v1/custom_emojis", get(custom_emojis))
}

fn rules_json(settings: &instance::Settings) -> Vec<Value> {
    settings
        .rules_list()
        .into_iter()
        .enumerate()
        .map(|(i, text)| json!({ "id": (i + 1).to_string(), "text": text, "hint": "" }))
        .collect()
}

fn limits(state: &AppState) -> Value {
    json!({
        "accounts": { "max_featured_tags": 10, "max_pinned_statuses": 5 },
        "statuses": { "max_characters": 5000, "max_media_attachments": 4, "characters_reserved_per_url": 23 },
        "media_attachments": {
            "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
            "description_limit": 1500,
            "image_size_limit": state.config.http.max_upload_bytes,
            "image_matrix_limit": 33177600,
            "video_size_limit": state.config.http.max_upload_bytes,
            "video_frame_rate_limit": 60,
            "video_matrix_limit": 8294400
        },
        "polls": { "max_options": 4, "max_characters_per_option": 100, "min_expiration": 300, "max_expiration": 2629746 }
    })
}

async fn contact_account(state: &AppState) -> AppResult<Value> {
    // The first admin is the contact, as Mastodon's "contact username" setting would be.
    let admins = crate::domain::accounts::list(
        state,
        Some(crate::domain::accounts::Status::Active),
        queries::Page {
            limit: 200,
            ..Default::default()
        },
    )
    .await?;
    Ok(admins
        .iter()
        .filter(|m| m.is_admin())
        .min_by_key(|m| m.account.id)
        .map(|m| serde_json::to_value(entities::account(state, &m.actor)).unwrap_or(Value::Null))
        .unwrap_or(Value::Null))
}

async fn v1(State(state): State<AppState>) -> AppResult<Json<Value>> {
    let s = instance::load(&state).await?;
    let users = queries::accounts::count_by_status(&state.db, "active").await?;
    let base = state.urls.base();
    let streaming = base
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    Ok(Json(json!({
        "uri": state.urls.domain(),
        "title": s.name,
        "short_description": s.description,
        "description": s.description,
        "email": s.contact_email,
        "version": version_string(),
        "urls": { "streaming_api": streaming },
        "stats": {
            "user_count": users,
            "status_count": queries::statuses::count_local(&state.db, false).await? + queries::statuses::count_local(&state.db, true).await?,
            "domain_count": queries::delivery::known_hosts(&state.db).await?.len(),
        },
        "thumbnail": format!("{base}{DEFAULT_HEADER_PATH}"),
        "languages": [state.config.instance.default_locale],
        "registrations": s.registration_mode != RegistrationMode::Closed,
        "approval_required": s.registration_mode == RegistrationMode::Approval,
        "invites_enabled": true,
        "configuration": limits(&state),
        "contact_account": contact_account(&state).await?,
        "rules": rules_json(&s),
    })))
}

async fn v2(State(state): State<AppState>) -> AppResult<Json<Value>> {
    let s = instance::load(&state).await?;
    let since = chrono::Utc::now() - chrono::Duration::days(30);
    let active_month = queries::accounts::count_active_since(&state.db, since).await?;
    let base = state.urls.base();
    let streaming = base
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    let mut configuration = limits(&state);
    if let Some(obj) = configuration.as_object_mut() {
        obj.insert(
            "urls".into(),
            json!({ "streaming": streaming, "status": null, "about": format!("{base}/about") }),
        );
        obj.insert("vapid".into(), json!({ "public_key": "" }));
        obj.insert("translation".into(), json!({ "enabled": false }));
    }
    Ok(Json(json!({
        "domain": state.urls.domain(),
        "title": s.name,
        "version": version_string(),
        "source_url": "https://example.invalid/staffroom",
        "description": s.description,
        "usage": { "users": { "active_month": active_month } },
        "thumbnail": { "url": format!("{base}{DEFAULT_HEADER_PATH}") },
        "icon": [],
        "languages": [state.config.instance.default_locale],
        "configuration": configuration,
        "registrations": {
            "enabled": s.registration_mode != RegistrationMode::Closed,
            "approval_required": s.registration_mode == RegistrationMode::Approval,
            "reason_required": s.registration_mode == RegistrationMode::Approval,
            "message": null,
            "url": null
        },
        "api_versions": { "mastodon": 2 },
        "contact": { "email": s.contact_email, "account": contact_account(&state).await? },
        "rules": rules_json(&s),
    })))
}

async fn rules(State(state): State<AppState>) -> AppResult<Json<Value>> {
    let s = instance::load(&state).await?;
    Ok(Json(Value::Array(rules_json(&s))))
}

/// The servers this instance has exchanged activities with (not blocked).
async fn peers(State(state): State<AppState>) -> AppResult<Json<Vec<String>>> {
    Ok(Json(queries::delivery::known_hosts(&state.db).await?))
}

async fn custom_emojis() -> Json<Vec<Value>> {
    Json(Vec::new())
}
