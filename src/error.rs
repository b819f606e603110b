//! One error type for every HTTP-facing path.
//!
//! [`AppError`] maps to a status code and a message a person can act on. Internal
//! failures are logged with their cause and shown only as a generic message, so
//! nothing about the database or the file system leaks to clients. The response
//! body is Mastodon's error form (`{"error": "..."}`); `http::negotiate` turns it
//! into an HTML page when the client asked for HTML. Depends on nothing else in
//! the crate.

use crate::i18n::{Locale, Msg};
use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(Msg),
    #[error("{0}")]
    Unauthorized(Msg),
    #[error("{0}")]
    Forbidden(Msg),
    #[error("{0}")]
    NotFound(Msg),
    #[error("{0}")]
    Conflict(Msg),
    #[error("{0}")]
    Gone(Msg),
    #[error("{0}")]
    PayloadTooLarge(Msg),
    #[error("{0}")]
    Unprocessable(Msg),
    /// Message and the number of seconds after which trying again makes sense.
    #[error("{0}")]
    TooManyRequests(Msg, u64),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

/// Attached to every error response so later layers can re-render it (as HTML,
/// for instance) without parsing the body.
#[derive(Debug, Clone)]
pub struct ErrorMessage(pub Msg);

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Gone(_) => StatusCode::GONE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests(..) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client is told.
    pub fn public_message(&self) -> Msg {
        match self {
            Self::BadRequest(m)
            | Self::Unauthorized(m)
            | Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::Conflict(m)
            | Self::Gone(m)
            | Self::PayloadTooLarge(m)
            | Self::Unprocessable(m)
            | Self::TooManyRequests(m, _) => m.clone(),
            Self::Internal(_) => crate::msg!("error-internal"),
            Self::Unavailable(_) => crate::msg!("error-unavailable"),
        }
    }

    pub fn not_found() -> Self {
        Self::NotFound(crate::msg!("error-not-found"))
    }

    pub fn unauthorized() -> Self {
        Self::Unauthorized(crate::msg!("error-token-invalid"))
    }

    pub fn forbidden() -> Self {
        Self::Forbidden(crate::msg!("error-forbidden"))
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(e.into())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            Self::Internal(e) => tracing::error!(error = format!("{e:#}"), "internal error"),
            Self::Unavailable(e) => tracing::warn!(error = %e, "unavailable"),
            _ => tracing::debug!(status = status.as_u16(), error = %self, "request refused"),
        }
        let message = self.public_message();
        let text = message.render(Locale::En);
        let mut response = (status, Json(ErrorBody { error: &text })).into_response();
        if let Self::TooManyRequests(_, secs) = &self
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response.extensions_mut().insert(ErrorMessage(message));
        response
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Internal(e.into())
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(e: sea_orm::TransactionError<AppError>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(e) => e.into(),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        Self::Internal(e)
    }
}
