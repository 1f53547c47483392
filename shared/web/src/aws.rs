//! The AWS SDK's configuration with the project's one TLS stack, rustls over ring, and its own
//! HTTP client ([`http`]: HTTP/1.1, Mozilla's roots compiled in).
//!
//! The SDK's default HTTPS client (its `default-https-client` feature) brings rustls over
//! aws-lc, about 2.5 MB of C and assembly in every binary next to reqwest's ring in the
//! dashboard. The functions build their SDK config with [`from_lambda_env`]; the local runner
//! and the tests load theirs with [`defaults`] / [`load_from_env`] (`aws-config`).

pub mod http;

use std::time::Duration;

use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_async::time::SharedTimeSource;

pub use http::http_client;

use crate::ConfigError;

/// `aws_config::defaults` with [`http_client`]: the rest of the configuration (credentials,
/// region, endpoint) comes from the environment as usual.
pub fn defaults() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(http_client())
}

/// `aws_config::load_from_env` with [`http_client`].
pub async fn load_from_env() -> SdkConfig {
    defaults().load().await
}

/// `aws-config`'s default connect timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// A function's SDK config on Lambda: credentials and region from the variables Lambda sets,
/// without `aws-config`'s provider chains.
///
/// Lambda gives every function its execution role's credentials and its region in the
/// environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`),
/// valid for the life of the execution environment; `aws-config`'s default chain finds them
/// there first too. Its other sources (profile files, SSO, web identity through STS, the ECS and
/// EC2 metadata endpoints) never answer on Lambda, yet linking the chain puts them into every
/// binary, and loading it reads the profile files at cold start. The rest is what `aws-config`
/// resolves to on Lambda: standard retries (3 attempts), a 3.1 s connect timeout, a lazy identity
/// cache, and `AWS_ENDPOINT_URL` when set (the cold-start bench points the SDK at a closed port
/// with it). Not read: `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_MAX_ATTEMPTS`, `AWS_RETRY_MODE`,
/// `AWS_USE_FIPS_ENDPOINT` and the like, which neither Lambda nor the template sets.
pub fn from_lambda_env() -> Result<SdkConfig, ConfigError> {
    from_vars(|name| std::env::var(name).ok())
}

/// [`from_lambda_env`] with the variables looked up by `var` (tests).
pub fn from_vars(var: impl Fn(&'static str) -> Option<String>) -> Result<SdkConfig, ConfigError> {
    let set = |name| var(name).filter(|value| !value.trim().is_empty());
    let required = |name| set(name).ok_or(ConfigError::Missing(name));
    let credentials = Credentials::new(
        required("AWS_ACCESS_KEY_ID")?,
        required("AWS_SECRET_ACCESS_KEY")?,
        set("AWS_SESSION_TOKEN"),
        None,
        "Environment",
    );
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(required("AWS_REGION")?))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .identity_cache(IdentityCache::lazy().build())
        .http_client(http_client())
        .time_source(SharedTimeSource::default())
        .retry_config(RetryConfig::standard())
        .timeout_config(TimeoutConfig::builder().connect_timeout(CONNECT_TIMEOUT).build());
    config.set_sleep_impl(aws_smithy_async::rt::sleep::default_async_sleep());
    config.set_endpoint_url(set("AWS_ENDPOINT_URL"));
    Ok(config.build())
}

/// Tries of one Bedrock call: the first and two retries, the SDK's standard backoff between them
/// (Bedrock throttles by account and model).
pub const BEDROCK_ATTEMPTS: u32 = 3;

/// A Bedrock runtime client whose every call has `timeout`, retries included, and
/// [`BEDROCK_ATTEMPTS`] tries: the analyst's (`Converse`) and the embeddings' (`InvokeModel`).
pub fn bedrock_runtime(sdk: &SdkConfig, timeout: Duration) -> aws_sdk_bedrockruntime::Client {
    let config = aws_sdk_bedrockruntime::config::Builder::from(sdk)
        .retry_config(
            aws_sdk_bedrockruntime::config::retry::RetryConfig::standard()
                .with_max_attempts(BEDROCK_ATTEMPTS),
        )
        .timeout_config(
            aws_sdk_bedrockruntime::config::timeout::TimeoutConfig::builder()
                .operation_timeout(timeout)
                .build(),
        )
        .build();
    aws_sdk_bedrockruntime::Client::from_conf(config)
}
