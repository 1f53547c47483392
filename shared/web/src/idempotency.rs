//! Exactly-once webhooks: a request's first answer is stored, in the same transaction as its
//! effects, under the key the caller retries with; a retry with the same content gets that
//! answer back, a retry with other content a conflict.

use autolearn_model::IdempotencyRecord;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::ApiError;

/// Header set on the answer to a replayed delivery.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// How long a replay still gets the first answer back; later, it is answered 409.
pub const TTL_DAYS: i64 = 7;

/// The hash of a parsed request, not of its bytes: a retry that re-serialises the same content
/// differently is still the same request.
pub fn request_hash<T: Serialize>(request: &T) -> Result<String, ApiError> {
    let canonical = serde_json::to_vec(request).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(hex::encode(Sha256::digest(&canonical)))
}

/// A JSON answer, possibly replayed from an idempotency record.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
    pub replayed: bool,
}

impl Answer {
    /// A first answer.
    pub fn new<T: Serialize>(status: StatusCode, body: &T) -> Result<Self, ApiError> {
        let body = serde_json::to_string(body).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(Self { status, body, replayed: false })
    }

    /// The record that lets a retry get this answer back.
    pub fn record(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> IdempotencyRecord {
        IdempotencyRecord {
            scope: scope.to_owned(),
            key: key.to_owned(),
            request_hash: request_hash.to_owned(),
            response_status: self.status.as_u16(),
            response_body: self.body.clone(),
            created_at: now,
            expires_at: (now + Duration::days(TTL_DAYS)).timestamp(),
        }
    }

    /// The answer to a retry, from the record a refused write handed back: the first answer
    /// when the content is the same, a conflict (`conflict` says what) otherwise or once the
    /// record has expired.
    pub fn replay(
        stored: Option<IdempotencyRecord>,
        request_hash: &str,
        now: DateTime<Utc>,
        conflict: impl FnOnce() -> String,
    ) -> Result<Self, ApiError> {
        match stored.filter(|record| !record.is_expired(now)) {
            Some(record) if record.request_hash == request_hash => Ok(Self {
                status: StatusCode::from_u16(record.response_status).unwrap_or(StatusCode::OK),
                body: record.response_body,
                replayed: true,
            }),
            _ => Err(ApiError::Conflict(conflict())),
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if self.replayed {
            headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_gets_the_first_answer_and_other_content_a_conflict() {
        let now = Utc::now();
        let first = Answer::new(StatusCode::CREATED, &serde_json::json!({"ok": true})).unwrap();
        let record = first.record("executions", "e1", "hash-a", now);
        let replay = Answer::replay(Some(record.clone()), "hash-a", now, || "no".into()).unwrap();
        assert_eq!(
            (replay.status, replay.body.as_str(), replay.replayed),
            (StatusCode::CREATED, first.body.as_str(), true)
        );
        assert!(matches!(
            Answer::replay(Some(record.clone()), "hash-b", now, || "no".into()),
            Err(ApiError::Conflict(_))
        ));
        let later = now + Duration::days(TTL_DAYS + 1);
        assert!(Answer::replay(Some(record), "hash-a", later, || "no".into()).is_err(), "expired");
    }
}
