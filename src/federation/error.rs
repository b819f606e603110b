//! Errors of the federation layer, with the status a remote server gets and
//! whether a retry could help. Remote input never produces a 500.

use crate::error::AppError;
use activitypub_federation::error::Error as LibError;
use axum::http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum FedError {
    /// Missing or invalid HTTP signature or digest: the peer may retry with
    /// another signature scheme, so 401 as Mastodon answers.
    #[error("signature: {0}")]
    Signature(String),
    /// Malformed, unsupported or inconsistent input.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The sender may not do this (blocked, not the owner, not allowed).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Something we needed was not found (an object, an actor).
    #[error("not found: {0}")]
    NotFound(String),
    /// The object was deleted at its origin.
    #[error("gone: {0}")]
    Gone(String),
    /// A network problem talking to another server: worth retrying later.
    #[error("remote unavailable: {0}")]
    Unavailable(String),
    #[error("internal: {0:#}")]
    Internal(anyhow::Error),
}

impl FedError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::Invalid(msg.into())
    }

    pub fn forbidden(msg: impl Into<String>) -> Self {
        Self::Forbidden(msg.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Signature(_) => StatusCode::UNAUTHORIZED,
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Gone(_) => StatusCode::GONE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Could trying again later succeed?
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Internal(_))
    }
}

impl From<LibError> for FedError {
    fn from(e: LibError) -> Self {
        match e {
            LibError::ActivityBodyDigestInvalid | LibError::ActivitySignatureInvalid => {
                Self::Signature(e.to_string())
            }
            LibError::NotFound => Self::NotFound(e.to_string()),
            LibError::ObjectDeleted(url) => Self::Gone(url.to_string()),
            LibError::ParseReceivedActivity { .. }
            | LibError::ParseFetchedObject(..)
            | LibError::UrlVerificationError(_)
            | LibError::FetchInvalidContentType(_)
            | LibError::FetchWrongId(_)
            | LibError::UrlParse(_)
            | LibError::Utf8(_)
            | LibError::WebfingerResolveFailed(_)
            | LibError::ResponseBodyLimit
            | LibError::RequestLimit
            | LibError::DomainResolveError(_)
            | LibError::ResolveInternalIpError(..) => Self::Invalid(e.to_string()),
            LibError::Reqwest(_) | LibError::ReqwestMiddleware(_) | LibError::IoError(_) => {
                Self::Unavailable(e.to_string())
            }
            LibError::Other(ref s) if s.contains("status 4") => Self::NotFound(e.to_string()),
            LibError::Other(_) => Self::Unavailable(e.to_string()),
            _ => Self::Internal(anyhow::anyhow!(e.to_string())),
        }
    }
}

impl From<AppError> for FedError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Internal(e) => Self::Internal(e),
            AppError::Unavailable(m) => Self::Unavailable(m),
            AppError::NotFound(m) => Self::NotFound(m.to_string()),
            AppError::Gone(m) => Self::Gone(m.to_string()),
            AppError::Forbidden(m) | AppError::Unauthorized(m) => Self::Forbidden(m.to_string()),
            other => Self::Invalid(other.to_string()),
        }
    }
}

impl From<sea_orm::DbErr> for FedError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Internal(e.into())
    }
}

impl From<serde_json::Error> for FedError {
    fn from(e: serde_json::Error) -> Self {
        Self::Invalid(e.to_string())
    }
}

impl From<url::ParseError> for FedError {
    fn from(e: url::ParseError) -> Self {
        Self::Invalid(e.to_string())
    }
}

impl From<FedError> for AppError {
    fn from(e: FedError) -> Self {
        match e {
            FedError::Internal(e) => AppError::Internal(e),
            FedError::Unavailable(m) => {
                AppError::Unprocessable(crate::msg!("error-remote-unavailable", detail = m))
            }
            FedError::NotFound(_) => AppError::not_found(),
            FedError::Gone(_) => AppError::Gone(crate::msg!("error-remote-gone")),
            FedError::Forbidden(_) => AppError::forbidden(),
            FedError::Signature(m) | FedError::Invalid(m) => {
                AppError::Unprocessable(crate::msg!("error-remote-invalid", detail = m))
            }
        }
    }
}
