//! Request extractors that turn every malformed input into an [`AppError`]
//! with a clear message (axum's own rejections are plain text and sometimes
//! vague), and authentication from a session cookie or a bearer token.

use crate::{
    app::AppState,
    domain::{accounts::Member, sessions},
    error::AppError,
    msg,
};
use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts},
};
use serde::de::DeserializeOwned;

pub const SESSION_COOKIE: &str = "staffroom_session";

fn body_error(status: axum::http::StatusCode, detail: String) -> AppError {
    use axum::http::StatusCode;
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge(msg!("error-body-too-large")),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::BadRequest(msg!("error-content-type")),
        StatusCode::UNPROCESSABLE_ENTITY => {
            AppError::Unprocessable(msg!("error-invalid-body", detail = detail))
        }
        _ => AppError::BadRequest(msg!("error-invalid-body", detail = detail)),
    }
}

/// Form body (`application/x-www-form-urlencoded`), with repeated keys
/// (`media_ids[]=1&media_ids[]=2`) collected into lists as Mastodon clients send them.
pub struct Form<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Form<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(AppError::BadRequest(msg!("error-content-type")));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| body_error(e.status(), e.body_text()))?;
        serde_html_form::from_bytes::<T>(&bytes)
            .map(Form)
            .map_err(|e| {
                AppError::Unprocessable(msg!("error-invalid-body", detail = e.to_string()))
            })
    }
}

/// JSON body; also accepts a form body, as Mastodon's API does, and an
/// empty body or JSON `null` (no parameters) for actions like favourite.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| body_error(e.status(), e.body_text()))?;
        let invalid =
            |detail: String| AppError::Unprocessable(msg!("error-invalid-body", detail = detail));
        if bytes.iter().all(u8::is_ascii_whitespace) || bytes.trim_ascii() == b"null" {
            return serde_json::from_str::<T>("{}")
                .map(Json)
                .map_err(|e| invalid(e.to_string()));
        }
        if content_type.starts_with("application/x-www-form-urlencoded") {
            return serde_html_form::from_bytes::<T>(&bytes)
                .map(Json)
                .map_err(|e| invalid(e.to_string()));
        }
        if !(content_type.is_empty()
            || content_type.starts_with("application/json")
            || content_type.contains("+json"))
        {
            return Err(AppError::BadRequest(msg!("error-content-type")));
        }
        let mut value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            AppError::BadRequest(msg!("error-invalid-body", detail = e.to_string()))
        })?;
        integral_floats_to_integers(&mut value);
        serde_json::from_value::<T>(value)
            .map(Json)
            .map_err(|e| invalid(e.to_string()))
    }
}

/// JSON does not tell `5` from `5.0`, and JSON Schema calls both integers;
/// serde would refuse `5.0` for an integer field.
fn integral_floats_to_integers(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                *v = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_to_integers),
        Value::Object(map) => map.values_mut().for_each(integral_floats_to_integers),
        _ => {}
    }
}

/// Query string.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        let query = parts.uri.query().unwrap_or_default();
        serde_html_form::from_str::<T>(query)
            .map(Query)
            .map_err(|e| AppError::BadRequest(msg!("error-invalid-query", detail = e.to_string())))
    }
}

/// Path parameters.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(_) => Err(AppError::not_found()),
        }
    }
}

/// Who is making the request, if anyone. Resolved once per request and cached.
#[derive(Clone)]
pub enum Auth {
    Anonymous,
    Session {
        member: Member,
        cookie: String,
    },
    Token {
        member: Option<Member>,
        scopes: Vec<String>,
        app_id: Option<i64>,
        token_id: i64,
    },
    /// A bearer token was sent but is not valid: API calls must get 401.
    BadToken,
}

impl Auth {
    pub fn member(&self) -> Option<&Member> {
        match self {
            Self::Session { member, .. } => Some(member),
            Self::Token { member, .. } => member.as_ref(),
            _ => None,
        }
    }

    /// Does this request carry `scope` (e.g. `read:accounts`)? Sessions have
    /// every scope; a token has a scope when it holds it or its parent.
    pub fn has_scope(&self, scope: &str) -> bool {
        match self {
            Self::Session { .. } => true,
            Self::Token { scopes, .. } => scopes.iter().any(|s| {
                s == scope || scope.rsplit_once(':').is_some_and(|(parent, _)| s == parent)
                    // "follow" is an old umbrella for relationship writes.
                    || (s == "follow" && matches!(scope, "write:follows" | "write:blocks" | "write:mutes" | "read:follows" | "read:blocks" | "read:mutes"))
            }),
            _ => false,
        }
    }
}

fn bearer(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    cookie_from_headers(&parts.headers, name)
}

pub fn cookie_from_headers(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(auth) = parts.extensions.get::<Auth>() {
            return Ok(auth.clone());
        }
        let auth = if let Some(token) = bearer(parts) {
            match sessions::resolve_token(state, &token).await? {
                Some((row, member)) => {
                    // Suspended or unapproved members' tokens stop working.
                    if member.as_ref().is_some_and(|m| !m.is_active()) {
                        Auth::BadToken
                    } else {
                        Auth::Token {
                            member,
                            scopes: row.scopes.split_whitespace().map(str::to_string).collect(),
                            app_id: row.app_id,
                            token_id: row.id,
                        }
                    }
                }
                None => Auth::BadToken,
            }
        } else if let Some(cookie) = cookie(parts, SESSION_COOKIE) {
            match sessions::resolve(state, &cookie).await? {
                Some(member) => Auth::Session { member, cookie },
                None => Auth::Anonymous,
            }
        } else {
            Auth::Anonymous
        };
        parts.extensions.insert(auth.clone());
        Ok(auth)
    }
}

/// An API request by an active member holding a token (or session).
pub struct ApiMember {
    pub member: Member,
    pub auth: Auth,
}

impl ApiMember {
    pub fn require_scope(&self, scope: &str) -> Result<(), AppError> {
        if self.auth.has_scope(scope) {
            Ok(())
        } else {
            Err(AppError::Forbidden(msg!(
                "error-scope-missing",
                scope = scope
            )))
        }
    }
}

impl FromRequestParts<AppState> for ApiMember {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let auth = Auth::from_request_parts(parts, state).await?;
        match &auth {
            Auth::Token {
                member: Some(m), ..
            } => Ok(ApiMember {
                member: m.clone(),
                auth,
            }),
            Auth::Token { member: None, .. } => {
                Err(AppError::Unprocessable(msg!("error-token-no-user")))
            }
            _ => Err(AppError::unauthorized()),
        }
    }
}

/// The peer's address, honouring X-Forwarded-For only when configured to.
pub fn client_ip(
    headers: &axum::http::HeaderMap,
    peer: std::net::SocketAddr,
    trust_proxy: bool,
) -> std::net::IpAddr {
    if trust_proxy
        && let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return ip;
    }
    peer.ip()
}
