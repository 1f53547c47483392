//! The body of a signed webhook request: size-limited, then signature-checked, before any
//! parsing, so an unsigned or oversized request costs nothing and writes nothing.

use axum::extract::{FromRef, FromRequest, Request};
use bytes::Bytes;
use chrono::Utc;

use crate::ApiError;
use crate::signature::WebhookAuth;

/// Default largest request body: 256 KB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

/// The limits `MAX_BODY_BYTES` may take: from 1 KB to Lambda's own 6 MB payload limit.
pub const MAX_BODY_BYTES_RANGE: std::ops::RangeInclusive<usize> = 1024..=6 * 1024 * 1024;

/// What a webhook function checks before reading a request.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub auth: WebhookAuth,
    pub max_body_bytes: usize,
    /// The window reported moments (`createdAt`, `sentAt`) must fall in around now.
    pub dates: crate::bounds::DateWindow,
}

/// The variables `WebhookConfig::load` reads. Deployed functions name the key's secret
/// (`WEBHOOK_SECRET_ID`, its name or ARN); `WEBHOOK_SECRET`, the key itself, is for local runs.
pub const WEBHOOK_SECRET_ID: &str = "WEBHOOK_SECRET_ID";
pub const WEBHOOK_SECRET: &str = "WEBHOOK_SECRET";
pub const MAX_BODY_BYTES: &str = "MAX_BODY_BYTES";

/// Where the webhooks' HMAC key comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum WebhookSecret {
    /// The key itself (local runs).
    Value(String),
    /// A Secrets Manager secret (name or ARN) whose SecretString is the key, read at cold start: its current
    /// version, and its previous one while a rotation is under way.
    SecretsManager { id: String },
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // Never print the key.
            Self::Value(_) => f.write_str("WebhookSecret::Value(..)"),
            Self::SecretsManager { id } => f.debug_struct("SecretsManager").field("id", id).finish(),
        }
    }
}

/// A webhook key: at least 16 bytes.
fn checked_key(name: &'static str, key: String) -> Result<String, crate::ConfigError> {
    if key.len() < 16 {
        return Err(crate::ConfigError::Invalid { name, why: "must be at least 16 bytes".into() });
    }
    Ok(key)
}

impl WebhookSecret {
    /// `WEBHOOK_SECRET_ID` when set, else `WEBHOOK_SECRET`; the error names the first
    /// when neither is set.
    pub fn from_env() -> Result<Self, crate::ConfigError> {
        if let Ok(id) = crate::config::required(WEBHOOK_SECRET_ID) {
            return Ok(Self::SecretsManager { id: id.trim().to_owned() });
        }
        match crate::config::required(WEBHOOK_SECRET) {
            Ok(key) => Ok(Self::Value(checked_key(WEBHOOK_SECRET, key)?)),
            Err(_) => Err(crate::ConfigError::Missing(WEBHOOK_SECRET_ID)),
        }
    }

    /// The keys requests are checked with.
    pub async fn resolve(self, aws: &aws_config::SdkConfig) -> Result<WebhookAuth, crate::ConfigError> {
        let id = match self {
            Self::Value(key) => return Ok(WebhookAuth::new(key)),
            Self::SecretsManager { id } => id,
        };
        let client = aws_sdk_secretsmanager::Client::new(aws);
        let unreadable = |why: String| crate::ConfigError::Invalid { name: WEBHOOK_SECRET_ID, why };
        let stage = |stage: &'static str| {
            let client = client.clone();
            let id = id.clone();
            async move { client.get_secret_value().secret_id(id).version_stage(stage).send().await }
        };
        let current = stage("AWSCURRENT")
            .await
            .map_err(|error| {
                unreadable(format!("cannot read the secret: {}", aws_sdk_secretsmanager::Error::from(error)))
            })?
            .secret_string
            .ok_or_else(|| unreadable("the secret has no SecretString".into()))?;
        let mut auth = WebhookAuth::new(checked_key(WEBHOOK_SECRET_ID, current)?);
        match stage("AWSPREVIOUS").await {
            Ok(previous) => {
                if let Some(previous) = previous.secret_string.filter(|key| key.len() >= 16) {
                    auth = auth.with_previous(previous);
                }
            }
            // No rotation yet: there is no previous version.
            Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {}
            Err(error) => {
                return Err(unreadable(format!(
                    "cannot read the previous version: {}",
                    aws_sdk_secretsmanager::Error::from(error)
                )));
            }
        }
        Ok(auth)
    }
}

impl WebhookConfig {
    /// The key (see [`WebhookSecret`]), `MAX_BODY_BYTES` (default 256 KB; see
    /// [`parse_max_body_bytes`]) and the default date window. Read once, at cold start.
    pub async fn load(aws: &aws_config::SdkConfig) -> Result<Self, crate::ConfigError> {
        let secret = WebhookSecret::from_env()?;
        let max_body_bytes =
            crate::config::optional_with(MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES, parse_max_body_bytes)?;
        Ok(Self { auth: secret.resolve(aws).await?, max_body_bytes, dates: Default::default() })
    }
}

/// A value of `MAX_BODY_BYTES`: whole bytes within [`MAX_BODY_BYTES_RANGE`].
pub fn parse_max_body_bytes(raw: &str) -> Result<usize, crate::ConfigError> {
    crate::config::parse_whole_in(MAX_BODY_BYTES, raw, MAX_BODY_BYTES_RANGE)
}

/// The raw body of a request whose signature verified.
#[derive(Debug, Clone)]
pub struct SignedBody(pub Bytes);

impl<S> FromRequest<S> for SignedBody
where
    WebhookConfig: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let config = WebhookConfig::from_ref(state);
        let too_large = ApiError::PayloadTooLarge { limit: config.max_body_bytes };
        let declared = request
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse::<usize>().ok());
        if declared.is_some_and(|length| length > config.max_body_bytes) {
            return Err(too_large);
        }
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, config.max_body_bytes).await.map_err(|error| {
            let limited = error.into_inner().downcast_ref::<http_body_util::LengthLimitError>().is_some();
            if limited { too_large } else { ApiError::Malformed("could not read the request body".into()) }
        })?;
        config.auth.verify(&parts.headers, &bytes, Utc::now())?;
        Ok(Self(bytes))
    }
}
