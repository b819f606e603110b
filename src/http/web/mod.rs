//! Server-rendered pages that work without JavaScript: templates (minijinja,
//! embedded in the binary), the per-request page context (who is signed in,
//! which language, the CSRF token, a one-shot notice), cookies, and the page
//! handlers in submodules.

mod admin;
mod auth;
mod calendar;
mod ctx;
mod event_form;
mod events;
mod groups;
mod national;
mod oauth;
mod portal_membership;
mod posts;
mod public;
mod reports;
pub(crate) mod resources;
mod settings;
mod social;
mod timelines;
mod views;

pub use ctx::{Ctx, MemberCtx, StaffCtx};

use crate::{
    app::AppState,
    domain::accounts::Member,
    domain::auth::{constant_time_eq, random_token},
    error::{AppError, AppResult},
    http::extract::{Auth, cookie},
    i18n::{self, Locale},
};
use axum::{
    Router,
    body::Body,
    extract::{FromRequestParts, Request, State},
    http::{HeaderValue, Method, StatusCode, header, request::Parts},
    middleware::{self, Next},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use minijinja::{Environment, Value, context, value::Kwargs};
use std::borrow::Cow;

pub const LOCALE_COOKIE: &str = "staffroom_locale";
pub const CSRF_COOKIE: &str = "staffroom_csrf";
pub const FLASH_COOKIE: &str = "staffroom_flash";
pub const CSRF_FIELD: &str = "csrf_token";
/// Sessions last this long in the browser (they also expire when idle).
pub const SESSION_COOKIE_DAYS: i64 = 30;

/// Every template, by name, compiled into the binary from `templates/`.
macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("templates/", $name)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates![
    "base.html",
    "macros.html",
    "error.html",
    "message.html",
    "landing.html",
    "about.html",
    "signup.html",
    "login.html",
    "account_status.html",
    "reset_password.html",
    "profile.html",
    "settings_profile.html",
    "settings_account.html",
    "admin_accounts.html",
    "admin_account.html",
    "admin_invites.html",
    "admin_portal.html",
    "admin_reports.html",
    "report.html",
    "admin_settings.html",
    "admin_nav.html",
    "oauth_authorize.html",
    "oauth_code.html",
    "settings_apps.html",
    "settings_nav.html",
    "post.html",
    "posts.html",
    "compose_form.html",
    "timeline.html",
    "compose.html",
    "thread.html",
    "edit.html",
    "history.html",
    "notifications.html",
    "follow_requests.html",
    "search.html",
    "national.html",
    "account_row.html",
    // Groups web UI.
    "groups.html",
    "group_new.html",
    "group.html",
    "group_form.html",
    "group_posts.html",
    "group_members.html",
    "group_subgroups.html",
    "group_about.html",
    "group_log.html",
    "group_moderation.html",
    "group_card.html",
    "events.html",
    "event.html",
    "event_form.html",
    "event_participants.html",
    "event_card.html",
    "group_events.html",
    // Resources web UI.
    "resources.html",
    "resource.html",
    "resource_form.html",
    "resource_diff.html",
    "resource_card.html",
    "group_resources.html",
];

const STYLESHEET: &str = include_str!("static/style.css");
const DEFAULT_AVATAR: &[u8] = include_bytes!("static/avatar.png");
const ICON_SVG: &str = include_str!("static/icon.svg");
const DEFAULT_HEADER: &[u8] = include_bytes!("static/header.png");
pub const DEFAULT_AVATAR_PATH: &str = "/static/avatar.png";
pub const DEFAULT_HEADER_PATH: &str = "/static/header.png";

/// The template environment.
pub struct Web {
    env: Environment<'static>,
}

fn translate(
    state: &minijinja::State,
    key: &str,
    kwargs: Kwargs,
) -> Result<String, minijinja::Error> {
    let locale = state
        .lookup("locale")
        .and_then(|v| v.as_str().and_then(Locale::parse))
        .unwrap_or(Locale::En);
    let mut args = Vec::new();
    for name in kwargs.args() {
        let v: Value = kwargs.get(name)?;
        args.push((Cow::Owned(name.to_string()), v.to_string()));
    }
    Ok(i18n::t(locale, key, &args))
}

impl Web {
    pub fn new() -> anyhow::Result<Self> {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        env.add_function("t", translate);
        Ok(Self { env })
    }

    pub fn render(&self, name: &str, ctx: Value) -> AppResult<String> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| AppError::internal(anyhow::anyhow!("rendering {name}: {e:#}")))
    }

    /// A complete error page, for errors raised outside any page handler.
    pub fn error_page(&self, locale: Locale, status: StatusCode, message: &str) -> String {
        let ctx = context! {
            locale => locale.code(),
            locales => locales(),
            status => status.as_u16(),
            message => message,
            instance_name => "",
        };
        self.render("error.html", ctx).unwrap_or_else(|_| {
            format!(
                "<!doctype html><title>{}</title><p>{}</p>",
                status.as_u16(),
                crate::domain::text::escape_html(message)
            )
        })
    }
}

fn locales() -> Vec<Value> {
    Locale::ALL
        .iter()
        .map(|l| context! { code => l.code(), name => l.native_name() })
        .collect()
}

/// Build a Set-Cookie value: HttpOnly, SameSite=Lax, and `Secure` whenever
/// the instance is served over https. Values are our own tokens and codes
/// (URL-safe), so they need no quoting.
pub fn set_cookie(
    state: &AppState,
    name: &'static str,
    value: String,
    max_age_days: Option<i64>,
) -> HeaderValue {
    let secure = if state.config.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    let max_age = max_age_days
        .map(|d| format!("; Max-Age={}", d * 86_400))
        .unwrap_or_default();
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{max_age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear_cookie(state: &AppState, name: &'static str) -> HeaderValue {
    let secure = if state.config.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}=; Path=/; HttpOnly; SameSite=Lax{secure}; Max-Age=0"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Only local paths may be redirect targets (no open redirects).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/static/style.css", get(stylesheet))
        .route(DEFAULT_AVATAR_PATH, get(|| async { png(DEFAULT_AVATAR) }))
        .route("/static/icon.svg", get(icon))
        .route("/favicon.ico", get(icon))
        .route(DEFAULT_HEADER_PATH, get(|| async { png(DEFAULT_HEADER) }))
        .merge(public::routes())
        .merge(timelines::routes())
        .merge(posts::routes())
        .merge(social::routes())
        .merge(auth::routes())
        .merge(settings::routes())
        .merge(admin::routes())
        .merge(reports::routes())
        .merge(oauth::routes())
        .merge(groups::routes())
        .merge(calendar::routes())
        .merge(events::routes())
        .merge(resources::routes())
        .merge(national::routes())
        .merge(portal_membership::routes())
        .route_layer(middleware::from_fn_with_state(state, csrf))
}

/// Resource upload forms, which get the resource file size limit.
pub fn resource_upload_routes(state: AppState) -> Router<AppState> {
    resources::upload_routes().route_layer(middleware::from_fn_with_state(state, csrf))
}

pub fn upload_routes(state: AppState) -> Router<AppState> {
    settings::upload_routes()
        .merge(groups::upload_routes())
        .route_layer(middleware::from_fn_with_state(state, csrf))
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

async fn icon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        ICON_SVG,
    )
        .into_response()
}

fn png(bytes: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        bytes,
    )
        .into_response()
}

/// Forms must carry the token from the CSRF cookie. Together with SameSite
/// cookies and the Origin check this stops other sites from submitting forms
/// in a member's name. Multipart forms carry the token in the query string
/// because their body cannot be inspected before the handler streams it.
async fn csrf(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // Web forms only POST; other methods are not routed here and get 405.
    if *req.method() != Method::POST {
        return next.run(req).await;
    }
    if let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        && origin != "null"
        && origin != state.urls.base()
        && !origin_matches_host(origin, &req)
    {
        return AppError::Forbidden(crate::msg!("error-csrf")).into_response();
    }
    let Some(expected) = crate::http::extract::cookie_from_headers(req.headers(), CSRF_COOKIE)
    else {
        return AppError::Forbidden(crate::msg!("error-csrf")).into_response();
    };
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if content_type.starts_with("multipart/form-data") {
        let given = req
            .uri()
            .query()
            .and_then(|q| {
                form_urlencoded_pairs(q)
                    .into_iter()
                    .find(|(k, _)| k == CSRF_FIELD)
                    .map(|(_, v)| v)
            })
            .unwrap_or_default();
        if !constant_time_eq(&given, &expected) {
            return AppError::Forbidden(crate::msg!("error-csrf")).into_response();
        }
        return next.run(req).await;
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return AppError::BadRequest(crate::msg!("error-content-type")).into_response();
    }
    let limit = state.config.http.max_body_bytes;
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return AppError::PayloadTooLarge(crate::msg!("error-body-too-large")).into_response();
        }
    };
    let given = form_urlencoded_pairs(&String::from_utf8_lossy(&bytes))
        .into_iter()
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v)
        .unwrap_or_default();
    if !constant_time_eq(&given, &expected) {
        return AppError::Forbidden(crate::msg!("error-csrf")).into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn origin_matches_host(origin: &str, req: &Request) -> bool {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    match (origin.split_once("://"), host) {
        (Some((_, o)), Some(h)) => o == h,
        _ => false,
    }
}

fn form_urlencoded_pairs(s: &str) -> Vec<(String, String)> {
    serde_html_form::from_str::<Vec<(String, String)>>(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    /// A template file left out of `TEMPLATES` would only fail when its page
    /// is rendered, as a 500.
    #[test]
    fn every_template_file_is_compiled_in() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http/web/templates");
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("templates dir") {
            let name = entry.expect("entry").file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".html") && !super::TEMPLATES.iter().any(|(n, _)| *n == name) {
                missing.push(name.to_string());
            }
        }
        assert!(missing.is_empty(), "not in TEMPLATES: {missing:?}");
    }
}
