//! The API error type, mapped once to an HTTP response with a JSON body that names the problem:
//! `{"error": {"code": "...", "message": "...", "field": "..."}}`.

use autolearn_model::StoreError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body or a parameter is wrong; `field` names it (a JSON path such as `message.body`).
    #[error("{message}")]
    Invalid { field: Option<String>, message: String },

    /// The body is not JSON (or not UTF-8) at all.
    #[error("{0}")]
    Malformed(String),

    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },

    #[error("{0}")]
    Unauthorized(String),

    #[error("{0}")]
    Forbidden(String),

    #[error("{what} not found")]
    NotFound { what: String },

    /// The path is served, but not with this method.
    #[error("{method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },

    /// The request conflicts with what is stored (e.g. a replay with another body).
    #[error("{0}")]
    Conflict(String),

    /// A dependency refused the request for now (conflicts or throttling through every retry):
    /// nothing was written, and the same request may be sent again after `retry_after_secs`.
    #[error("{message}")]
    Unavailable { message: String, retry_after_secs: u32 },

    #[error("internal error")]
    Internal(String),
}

/// The `Retry-After` a 503 carries, in seconds.
pub const RETRY_AFTER_SECS: u32 = 1;

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid { field: Some(field.into()), message: message.into() }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound { what: what.into() }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "invalid_request",
            Self::Malformed(_) => "malformed_request",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::Unavailable { .. } => "unavailable",
            Self::Internal(_) => "internal",
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            // The detail is ours (an SDK error), never customer text, so it may be logged.
            tracing::error!(error = %detail, "request failed");
        }
        let field = match &self {
            Self::Invalid { field, .. } => field.as_deref(),
            _ => None,
        };
        let retry_after = match &self {
            Self::Unavailable { retry_after_secs, .. } => {
                tracing::warn!(message = %self, "request refused for now");
                Some(*retry_after_secs)
            }
            _ => None,
        };
        let body = ErrorBody { error: ErrorDetail { code: self.code(), message: self.to_string(), field } };
        let mut response = (self.status(), Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { kind, id } => Self::not_found(format!("{kind} {id}")),
            StoreError::AlreadyExists { kind, id } => Self::Conflict(format!("{kind} {id} already exists")),
            StoreError::ConditionFailed { kind, id } => {
                Self::Conflict(format!("{kind} {id} is not in the expected state"))
            }
            StoreError::ItemTooLarge { kind, bytes, limit } => Self::Invalid {
                field: None,
                message: format!("the {kind} would be {bytes} bytes, over the storable {limit} bytes"),
            },
            StoreError::InvalidCursor => Self::invalid("cursor", "invalid pagination cursor"),
            transient if transient.is_transient() => Self::Unavailable {
                message: "the store is busy; nothing was written, retry after the Retry-After seconds".into(),
                retry_after_secs: RETRY_AFTER_SECS,
            },
            other => Self::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_still_busy_after_its_retries_is_503_with_retry_after() {
        let error = ApiError::from(StoreError::Busy { attempts: 10, code: "TransactionConflict".into() });
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers()[axum::http::header::RETRY_AFTER],
            RETRY_AFTER_SECS.to_string().as_str()
        );
        let throttled = StoreError::Aws { code: "ThrottlingException".into(), message: "slow down".into() };
        assert_eq!(ApiError::from(throttled).status(), StatusCode::SERVICE_UNAVAILABLE);
        let broken = StoreError::Aws { code: "ValidationException".into(), message: "bad".into() };
        assert_eq!(ApiError::from(broken).status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
