//! Downloading resource files under `/files/{id}/{name}`, a prefix no
//! ActivityPub route uses: whatever the Accept header says, the answer is
//! the file, with its detected type, `nosniff`, a CSP that forbids anything
//! active, and `Content-Disposition: attachment`. `?preview=1` asks for
//! what a page shows: a large image's reduced copy, `inline`. Each download
//! counts; previews do not.

use crate::{
    app::AppState,
    domain::resources,
    error::{AppError, AppResult},
    http::extract::{Auth, Path, Query},
};
use axum::{
    Router,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/files/{id}/{name}", get(download))
}

#[derive(Deserialize, Default)]
struct DownloadQuery {
    preview: Option<String>,
}

/// `filename*` (RFC 6266/8187) for any name, and a plain ASCII fallback.
fn disposition(kind: &str, name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    HeaderValue::from_str(&format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

async fn download(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, _name)): Path<(String, String)>,
    Query(q): Query<DownloadQuery>,
) -> AppResult<Response> {
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let viewer = auth
        .member()
        .filter(|m| m.is_active())
        .map(|m| m.actor.clone());
    let preview = q.preview.is_some_and(|p| p == "1" || p == "true");
    let (file, bytes, content_type) = if preview {
        resources::preview(&state, viewer.as_ref(), id).await?
    } else {
        let (file, bytes) = resources::download(&state, viewer.as_ref(), id, true).await?;
        let content_type = file.content_type.clone();
        (file, bytes, content_type)
    };
    let inline = preview && content_type.starts_with("image/");
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    let ct = if content_type.starts_with("text/") {
        format!("{content_type}; charset=utf-8")
    } else {
        content_type
    };
    if let Ok(v) = HeaderValue::from_str(&ct) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(
        header::CONTENT_DISPOSITION,
        disposition(if inline { "inline" } else { "attachment" }, &file.name),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src 'self'; media-src 'self'; sandbox"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}
