//! HTTP transport: routing, extractors, error negotiation and the three
//! surfaces (server-rendered web pages, the JSON API, operations endpoints).
//! Handlers parse requests, call `domain` functions and shape responses; they
//! hold no business rules. Depends on `domain`, `db` (read-only lookups),
//! `i18n`, `error`, `telemetry` and `app::AppState`.

pub mod activitypub;
pub mod api;
pub mod extract;
pub mod files;
pub mod limits;
pub mod media;
pub mod negotiate;
pub mod ops;
pub mod web;
pub mod well_known;

use crate::{app::AppState, error::AppError};
use activitypub_federation::config::{FederationConfig, FederationMiddleware};
use axum::{
    Router,
    http::{HeaderValue, StatusCode, header},
    middleware,
    response::{IntoResponse, Response},
};
use std::time::Duration;
use tower_http::{
    catch_panic::CatchPanicLayer, limit::RequestBodyLimitLayer, set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer, trace::TraceLayer,
};

pub fn router(state: AppState, fed: FederationConfig<AppState>) -> Router {
    let timeout = Duration::from_secs(state.config.http.request_timeout_secs);
    let body_limit = state.config.http.max_body_bytes;
    let upload_limit = state.config.http.max_upload_bytes;

    // Uploads get their own, larger limit; everything else the small one.
    let uploads = web::upload_routes(state.clone())
        .merge(api::upload_routes())
        .layer(axum::extract::DefaultBodyLimit::max(
            upload_limit + 64 * 1024,
        ))
        .layer(RequestBodyLimitLayer::new(upload_limit + 64 * 1024));
    // Inboxes: 1 MiB, refused from Content-Length alone above that.
    let inboxes = activitypub::inbox_routes()
        .layer(axum::extract::DefaultBodyLimit::max(
            activitypub::INBOX_LIMIT,
        ))
        .layer(RequestBodyLimitLayer::new(activitypub::INBOX_LIMIT));
    // Resource files have their own limit: two files of the largest size.
    let resource_limit = state.config.resources.max_file_bytes * 2 + 1024 * 1024;
    let resource_uploads = web::resource_upload_routes(state.clone())
        .merge(api::resources::upload_routes())
        .layer(axum::extract::DefaultBodyLimit::max(resource_limit))
        .layer(RequestBodyLimitLayer::new(resource_limit));
    let regular = Router::new()
        .merge(ops::routes())
        .merge(well_known::routes())
        .merge(activitypub::routes())
        .merge(api::routes())
        .merge(web::routes(state.clone()))
        .merge(media::routes())
        .merge(files::routes())
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(RequestBodyLimitLayer::new(body_limit));

    Router::new()
        .merge(regular)
        .merge(uploads)
        .merge(resource_uploads)
        .merge(inboxes)
        .fallback(fallback)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            negotiate::errors,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), ops::observe))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            page_policy(state.config.federation.allow_insecure_loopback),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(TraceLayer::new_for_http())
        .layer(FederationMiddleware::new(fed))
        .with_state(state)
}

/// The Content-Security-Policy of HTML pages. They run no script and use
/// one stylesheet of our own, so anything else injected into a page (a
/// sanitiser miss in remote content) stays inert. Images and media may come
/// from other servers (remote avatars, attachments); over plain http only in
/// loopback test setups. Forms are not limited: OAuth ends in a redirect to
/// the app's own address. Other responses (files, media) set their own.
fn page_policy(
    insecure_loopback: bool,
) -> impl Fn(&Response) -> Option<HeaderValue> + Clone + Send + Sync + 'static {
    let remote = if insecure_loopback {
        "https: http:"
    } else {
        "https:"
    };
    let policy = HeaderValue::from_str(&format!(
        "default-src 'self'; script-src 'none'; object-src 'none'; style-src 'self'; \
         img-src 'self' data: {remote}; media-src 'self' {remote}; base-uri 'none'; \
         frame-ancestors 'none'"
    ))
    .ok();
    move |res: &Response| {
        let html = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        if html { policy.clone() } else { None }
    }
}

async fn fallback() -> AppError {
    AppError::not_found()
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    AppError::Internal(anyhow::anyhow!("handler panicked")).into_response()
}
