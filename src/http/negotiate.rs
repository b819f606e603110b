//! Error responses in the form the client asked for: an HTML page for
//! browsers, Mastodon's `{"error": "..."}` JSON for everything else. Errors
//! made by the framework (405, 408, 413...) get a message too.

use crate::{
    app::AppState,
    error::ErrorMessage,
    http::web,
    i18n::{self, Locale, Msg},
};
use axum::{
    Json,
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Paths that are machine interfaces, whatever the Accept header says.
fn is_machine_path(path: &str) -> bool {
    path.starts_with("/api/")
        || path.starts_with("/oauth/token")
        || path.starts_with("/oauth/revoke")
        || path.starts_with("/.well-known/")
        || path.starts_with("/nodeinfo/")
        || path.ends_with("/inbox")
        || is_ops_path(path)
}

/// Probes and scrapers read these endpoints' own plain text, errors included.
fn is_ops_path(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

pub fn wants_html(path: &str, headers: &HeaderMap) -> bool {
    !is_machine_path(path)
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

/// The locale for pages rendered without a signed-in member at hand.
pub fn locale_from_headers(state: &AppState, headers: &HeaderMap) -> Locale {
    let cookie = crate::http::extract::cookie_from_headers(headers, web::LOCALE_COOKIE);
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    i18n::negotiate(
        cookie.as_deref(),
        accept,
        &state.config.instance.default_locale,
    )
}

fn default_message(status: StatusCode) -> Msg {
    match status {
        StatusCode::NOT_FOUND => crate::msg!("error-not-found"),
        StatusCode::METHOD_NOT_ALLOWED => crate::msg!("error-method"),
        StatusCode::PAYLOAD_TOO_LARGE => crate::msg!("error-body-too-large"),
        StatusCode::REQUEST_TIMEOUT => crate::msg!("error-timeout"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => crate::msg!("error-content-type"),
        StatusCode::UNAUTHORIZED => crate::msg!("error-token-invalid"),
        StatusCode::FORBIDDEN => crate::msg!("error-forbidden"),
        s if s.is_server_error() => crate::msg!("error-internal"),
        _ => crate::msg!("error-bad-request"),
    }
}

pub async fn errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let html = wants_html(&path, req.headers());
    let locale = locale_from_headers(&state, req.headers());
    let response = next.run(req).await;
    let status = response.status();
    if is_ops_path(&path) || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let message = response
        .extensions()
        .get::<ErrorMessage>()
        .map(|m| m.0.clone());
    if html {
        if is_html {
            // A handler already rendered a page (a form shown again with its errors).
            return response;
        }
        let message = message.unwrap_or_else(|| default_message(status));
        let (parts, _) = response.into_parts();
        let page = state
            .web
            .error_page(locale, status, &message.render(locale));
        let mut out = Response::from_parts(parts, Body::from(page));
        out.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/html; charset=utf-8"),
        );
        out.headers_mut().remove(header::CONTENT_LENGTH);
        return out;
    }
    if message.is_some() {
        return response;
    }
    // A framework error: give it the JSON error body clients parse.
    let text = default_message(status).render(Locale::En);
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    let body = Json(serde_json::json!({ "error": text })).into_response();
    let (body_parts, body) = body.into_parts();
    let mut out = Response::from_parts(parts, body);
    if let Some(ct) = body_parts.headers.get(header::CONTENT_TYPE) {
        out.headers_mut().insert(header::CONTENT_TYPE, ct.clone());
    }
    out
}
