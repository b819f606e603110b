//! OAuth for Mastodon clients, the machine side: app registration, the token
//! and revocation endpoints and the server metadata (RFC 8414). The
//! consent page (`/oauth/authorize`) is part of the web UI.

use crate::{
    app::AppState,
    domain::oauth::{self, NewApp, OauthError, TokenRequest},
    error::{AppError, AppResult, ErrorMessage},
    http::{
        api::params::list,
        extract::{Auth, Json},
    },
    i18n::Msg,
};
use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/apps", post(create_app))
        .route("/api/v1/apps/verify_credentials", get(verify_app))
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
        .route("/.well-known/oauth-authorization-server", get(metadata))
}

#[derive(Deserialize, Default)]
struct AppBody {
    client_name: Option<String>,
    #[serde(default, deserialize_with = "list")]
    redirect_uris: Vec<String>,
    #[serde(rename = "redirect_uris[]", default, deserialize_with = "list")]
    redirect_uris_brackets: Vec<String>,
    scopes: Option<String>,
    website: Option<String>,
}

fn app_json(app: &crate::db::entities::oauth_apps::Model, with_secret: bool) -> Value {
    let uris = oauth::app_redirect_uris(app);
    let mut v = json!({
        "id": app.id.to_string(),
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes.split_whitespace().collect::<Vec<_>>(),
        "redirect_uri": uris.join("\n"),
        "redirect_uris": uris,
        "vapid_key": "",
    });
    if with_secret {
        v["client_id"] = json!(app.client_id);
        v["client_secret"] = json!(app.client_secret);
        v["client_secret_expires_at"] = json!(0);
    }
    v
}

async fn create_app(
    State(state): State<AppState>,
    Json(body): Json<AppBody>,
) -> AppResult<axum::Json<Value>> {
    let app = oauth::register_app(
        &state,
        NewApp {
            name: body.client_name.unwrap_or_default(),
            redirect_uris: [body.redirect_uris, body.redirect_uris_brackets].concat(),
            scopes: body.scopes,
            website: body.website,
        },
    )
    .await?;
    Ok(axum::Json(app_json(&app, true)))
}

async fn verify_app(State(state): State<AppState>, auth: Auth) -> AppResult<axum::Json<Value>> {
    let Auth::Token {
        app_id: Some(app_id),
        ..
    } = auth
    else {
        return Err(AppError::unauthorized());
    };
    let app = crate::db::queries::oauth::app(&state.db, app_id)
        .await?
        .ok_or_else(AppError::unauthorized)?;
    Ok(axum::Json(app_json(&app, false)))
}

fn oauth_error(e: OauthError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = (
        status,
        axum::Json(json!({ "error": e.error, "error_description": e.description })),
    )
        .into_response();
    res.extensions_mut()
        .insert(ErrorMessage(Msg::literal(e.description)));
    res
}

#[derive(Deserialize, Default)]
struct TokenBody {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
}

/// Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1: both
/// halves form-urlencoded before joining), for clients that send them there
/// rather than in the body. `Err` when the header is there but unreadable.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OauthError> {
    use base64::{Engine, engine::general_purpose::STANDARD};
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad =
        || OauthError::invalid_client("the Authorization header is not valid Basic credentials");
    let value = value.to_str().map_err(|_| bad())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(bad());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        // A bearer token on the token endpoint authenticates nothing here.
        return Ok(None);
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| bad())
    };
    Ok(Some((unescape(id)?, unescape(secret)?)))
}

/// The client's id and secret, from the body or the Basic header; both at
/// once must agree on the client.
fn client_credentials(
    headers: &HeaderMap,
    id: Option<String>,
    secret: Option<String>,
) -> Result<(Option<String>, Option<String>), OauthError> {
    match basic_credentials(headers)? {
        None => Ok((id, secret)),
        Some((basic_id, _)) if id.as_deref().is_some_and(|i| i != basic_id) => Err(
            OauthError::invalid_client("client_id in the body and in the header differ"),
        ),
        Some((basic_id, basic_secret)) => Ok((Some(basic_id), Some(basic_secret))),
    }
}

async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<TokenBody>,
) -> Response {
    let (client_id, client_secret) =
        match client_credentials(&headers, body.client_id, body.client_secret) {
            Ok(c) => c,
            Err(e) => return oauth_error(e),
        };
    let req = TokenRequest {
        grant_type: body.grant_type.unwrap_or_default(),
        client_id,
        client_secret,
        code: body.code,
        redirect_uri: body.redirect_uri,
        code_verifier: body.code_verifier,
        refresh_token: body.refresh_token,
        scope: body.scope,
    };
    match oauth::token(&state, req).await {
        Ok(t) => {
            let mut v = json!({
                "access_token": t.access_token,
                "token_type": "Bearer",
                "scope": t.scopes,
                "created_at": t.created_at,
            });
            if let Some(r) = t.refresh_token {
                v["refresh_token"] = json!(r);
            }
            let mut res = axum::Json(v).into_response();
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            res
        }
        Err(e) => oauth_error(e),
    }
}

#[derive(Deserialize, Default)]
struct RevokeBody {
    client_id: Option<String>,
    client_secret: Option<String>,
    token: Option<String>,
}

async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<RevokeBody>,
) -> Response {
    let (client_id, client_secret) =
        match client_credentials(&headers, body.client_id, body.client_secret) {
            Ok(c) => c,
            Err(e) => return oauth_error(e),
        };
    let result = oauth::revoke(
        &state,
        client_id.as_deref().unwrap_or_default(),
        client_secret.as_deref().unwrap_or_default(),
        body.token.as_deref().unwrap_or_default(),
    )
    .await;
    match result {
        Ok(()) => axum::Json(json!({})).into_response(),
        Err(e) => oauth_error(e),
    }
}

async fn metadata(State(state): State<AppState>) -> axum::Json<Value> {
    let base = state.urls.base();
    axum::Json(json!({
        "issuer": format!("{base}/"),
        "service_documentation": format!("{base}/about"),
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "app_registration_endpoint": format!("{base}/api/v1/apps"),
        "scopes_supported": oauth::SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
    }))
}
