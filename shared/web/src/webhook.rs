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

/// Where the webhooks' HMAC key comes from (`WEBHOOK_SECRET_ID`, else `WEBHOOK_SECRET`).
pub type WebhookSecret = crate::secret::KeySource;

/// The keys requests are checked with: the current one and, during a rotation, the previous.
pub async fn webhook_auth(
    secret: WebhookSecret,
    aws: &aws_config::SdkConfig,
) -> Result<WebhookAuth, crate::ConfigError> {
    let versions = secret.read(aws, WEBHOOK_SECRET_ID).await?;
    let auth = WebhookAuth::new(versions.current);
    Ok(match versions.previous {
        Some(previous) => auth.with_previous(previous),
        None => auth,
    })
}

impl WebhookConfig {
    /// The key (see [`WebhookSecret`]), `MAX_BODY_BYTES` (default 256 KB; see
    /// [`parse_max_body_bytes`]) and the default date window. Read once, at cold start.
    pub async fn load(aws: &aws_config::SdkConfig) -> Result<Self, crate::ConfigError> {
        let secret = WebhookSecret::from_env(WEBHOOK_SECRET_ID, WEBHOOK_SECRET)?;
        let max_body_bytes =
            crate::config::optional_with(MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES, parse_max_body_bytes)?;
        Ok(Self { auth: webhook_auth(secret, aws).await?, max_body_bytes, dates: Default::default() })
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
