//! Signed webhooks: the CRM signs each request with HMAC-SHA256 over the timestamp and the raw
//! body, with a secret shared through configuration.
//!
//! Headers: `X-Autolearn-Timestamp: <unix seconds>` and
//! `X-Autolearn-Signature: v1=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`.
//! A request outside the replay window (default ±5 minutes) is refused even when its signature
//! is right, so a captured request cannot be replayed later.

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ApiError;

pub const TIMESTAMP_HEADER: &str = "x-autolearn-timestamp";
pub const SIGNATURE_HEADER: &str = "x-autolearn-signature";
const VERSION_PREFIX: &str = "v1=";

/// How signed requests are checked. During a rotation it holds the current key and the
/// previous one: requests signed with either verify, and [`WebhookAuth::sign`] uses the current.
#[derive(Clone)]
pub struct WebhookAuth {
    /// The current key first.
    secrets: Vec<Vec<u8>>,
    /// Largest accepted difference between the request's timestamp and now, in seconds.
    pub tolerance_seconds: i64,
}

impl std::fmt::Debug for WebhookAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("WebhookAuth").field("tolerance_seconds", &self.tolerance_seconds).finish()
    }
}

pub const DEFAULT_TOLERANCE_SECONDS: i64 = 300;

impl WebhookAuth {
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self { secrets: vec![secret.into()], tolerance_seconds: DEFAULT_TOLERANCE_SECONDS }
    }

    /// Also accepts requests signed with `previous` (the key before a rotation).
    pub fn with_previous(mut self, previous: impl Into<Vec<u8>>) -> Self {
        self.secrets.truncate(1);
        self.secrets.push(previous.into());
        self
    }

    fn mac(&self, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        Self::mac_with(&self.secrets[0], timestamp, body)
    }

    fn mac_with(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The signature header value for a body sent at `timestamp` (for clients and tests).
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        format!("{VERSION_PREFIX}{}", hex::encode(self.mac(timestamp, body).finalize().into_bytes()))
    }

    /// Checks the signature headers of a request; 401 naming what is wrong otherwise.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> Result<(), ApiError> {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .ok_or_else(|| ApiError::Unauthorized(format!("missing {name} header")))
        };
        let timestamp: i64 = header(TIMESTAMP_HEADER)?
            .trim()
            .parse()
            .map_err(|_| ApiError::Unauthorized(format!("{TIMESTAMP_HEADER} is not unix seconds")))?;
        // Checked arithmetic: a timestamp near i64::MIN or MAX is outside the window, not a panic.
        let within = now
            .timestamp()
            .checked_sub(timestamp)
            .and_then(i64::checked_abs)
            .is_some_and(|skew| skew <= self.tolerance_seconds);
        if !within {
            return Err(ApiError::Unauthorized(format!(
                "{TIMESTAMP_HEADER} is outside the {} second replay window",
                self.tolerance_seconds
            )));
        }
        let signature = header(SIGNATURE_HEADER)?
            .trim()
            .strip_prefix(VERSION_PREFIX)
            .and_then(|hex_digest| hex::decode(hex_digest).ok())
            .ok_or_else(|| ApiError::Unauthorized(format!("{SIGNATURE_HEADER} is not v1=<hex>")))?;
        // verify_slice compares in constant time; every key is tried, whichever matches.
        let matched = self.secrets.iter().fold(false, |matched, secret| {
            Self::mac_with(secret, timestamp, body).verify_slice(&signature).is_ok() | matched
        });
        if matched { Ok(()) } else { Err(ApiError::Unauthorized("signature does not match".into())) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(timestamp: i64, signature: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(TIMESTAMP_HEADER, HeaderValue::from_str(&timestamp.to_string()).unwrap());
        headers.insert(SIGNATURE_HEADER, HeaderValue::from_str(signature).unwrap());
        headers
    }

    #[test]
    fn a_signed_body_verifies_and_a_changed_one_does_not() {
        let auth = WebhookAuth::new("s3cret");
        let now = Utc::now();
        let signature = auth.sign(now.timestamp(), b"{\"a\":1}");
        assert!(auth.verify(&headers(now.timestamp(), &signature), b"{\"a\":1}", now).is_ok());
        assert!(auth.verify(&headers(now.timestamp(), &signature), b"{\"a\":2}", now).is_err());
        let other = WebhookAuth::new("other").sign(now.timestamp(), b"{\"a\":1}");
        assert!(auth.verify(&headers(now.timestamp(), &other), b"{\"a\":1}", now).is_err());
    }

    #[test]
    fn during_a_rotation_the_current_and_the_previous_key_verify() {
        let now = Utc::now();
        let auth = WebhookAuth::new("new-key").with_previous("old-key");
        for key in ["new-key", "old-key"] {
            let signature = WebhookAuth::new(key).sign(now.timestamp(), b"{}");
            assert!(auth.verify(&headers(now.timestamp(), &signature), b"{}", now).is_ok(), "{key}");
        }
        let retired = WebhookAuth::new("older-key").sign(now.timestamp(), b"{}");
        assert!(auth.verify(&headers(now.timestamp(), &retired), b"{}", now).is_err());
        assert_eq!(
            auth.sign(now.timestamp(), b"{}"),
            WebhookAuth::new("new-key").sign(now.timestamp(), b"{}")
        );
    }

    #[test]
    fn extreme_timestamps_are_outside_the_window_without_overflow() {
        let auth = WebhookAuth::new("s3cret");
        let now = Utc::now();
        for timestamp in [i64::MIN, i64::MIN + 1, i64::MAX, -1, 0] {
            let signature = auth.sign(timestamp, b"{}");
            match auth.verify(&headers(timestamp, &signature), b"{}", now) {
                Err(ApiError::Unauthorized(message)) => {
                    assert!(message.contains("replay window"), "{message}")
                }
                other => panic!("{timestamp}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_stale_or_missing_timestamp_is_refused() {
        let auth = WebhookAuth::new("s3cret");
        let now = Utc::now();
        let old = now.timestamp() - 301;
        let error = auth.verify(&headers(old, &auth.sign(old, b"x")), b"x", now).unwrap_err();
        assert!(error.to_string().contains("replay window"), "{error}");
        let error = auth.verify(&HeaderMap::new(), b"x", now).unwrap_err();
        assert_eq!(error.to_string(), "missing x-autolearn-timestamp header");
    }
}
