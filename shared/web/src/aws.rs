//! The AWS SDK's configuration with the project's one TLS stack, rustls over ring, and its own
//! HTTP client ([`http`]: HTTP/1.1, Mozilla's roots compiled in).
//!
//! The SDK's default HTTPS client (its `default-https-client` feature) brings rustls over
//! aws-lc, about 2.5 MB of C and assembly in every binary next to reqwest's ring in the
//! dashboard. Every function, the runner and the tests load their SDK config here instead.

pub mod http;

use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};

pub use http::http_client;

/// `aws_config::defaults` with [`http_client`]: the rest of the configuration (credentials,
/// region, endpoint) comes from the environment as usual.
pub fn defaults() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(http_client())
}

/// `aws_config::load_from_env` with [`http_client`].
pub async fn load_from_env() -> SdkConfig {
    defaults().load().await
}
