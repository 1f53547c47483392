//! The AWS SDK's configuration with the project's one TLS stack: rustls over ring.
//!
//! The SDK's default HTTPS client (its `default-https-client` feature) brings rustls over
//! aws-lc, about 2.5 MB of C and assembly in every binary next to reqwest's ring in the
//! dashboard. Every function, the runner and the tests load their SDK config here instead.

use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// The SDK's hyper client with rustls over ring (https, and http for local endpoints).
pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).build_https()
}

/// `aws_config::defaults` with [`http_client`]: the rest of the configuration (credentials,
/// region, endpoint) comes from the environment as usual.
pub fn defaults() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(http_client())
}

/// `aws_config::load_from_env` with [`http_client`].
pub async fn load_from_env() -> SdkConfig {
    defaults().load().await
}
