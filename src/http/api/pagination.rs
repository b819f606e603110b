//! Mastodon-style pagination: `max_id`, `since_id`, `min_id` and `limit` in,
//! a `Link` header with `next` and `prev` out, keeping every other query
//! parameter so clients that follow the link verbatim keep their filters.

use crate::db::queries::Page;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Debug, Deserialize, Default)]
pub struct PageParams {
    pub max_id: Option<String>,
    pub since_id: Option<String>,
    pub min_id: Option<String>,
    pub limit: Option<String>,
}

impl PageParams {
    pub fn page(&self, default: u64, max: u64) -> Page {
        let id = |v: &Option<String>| v.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
        Page {
            max_id: id(&self.max_id),
            since_id: id(&self.since_id),
            min_id: id(&self.min_id),
            limit: self
                .limit
                .as_deref()
                .and_then(|l| l.trim().parse::<u64>().ok())
                .unwrap_or(default)
                .clamp(1, max),
        }
    }
}

/// A JSON list with its Link header. `ids` are the pagination keys of the
/// items, newest first.
pub fn paged(uri: &Uri, base: &str, ids: &[i64], limit: u64, body: serde_json::Value) -> Response {
    let mut res = axum::Json(body).into_response();
    if let (Some(first), Some(last)) = (ids.first(), ids.last()) {
        let keep: Vec<(String, String)> = uri
            .query()
            .map(|q| serde_html_form::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| !matches!(k.as_str(), "max_id" | "since_id" | "min_id"))
            .collect();
        let link = |key: &str, value: i64| {
            let mut params = keep.clone();
            params.push((key.to_string(), value.to_string()));
            let query = serde_html_form::to_string(&params).unwrap_or_default();
            format!("{base}{}?{query}", uri.path())
        };
        let mut parts = Vec::new();
        if ids.len() as u64 >= limit {
            parts.push(format!("<{}>; rel=\"next\"", link("max_id", *last)));
        }
        parts.push(format!("<{}>; rel=\"prev\"", link("min_id", *first)));
        if let Ok(v) = HeaderValue::from_str(&parts.join(", ")) {
            res.headers_mut().insert(header::LINK, v);
        }
    }
    res
}
