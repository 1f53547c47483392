//! The CORS policy of the admin API functions (the dashboard, the customer-data API): only the
//! front end's configured origin (`CORS_ORIGIN`), only the methods and headers the API uses, no
//! credentials (a front end elsewhere sends the Authorization header; the dashboard's session
//! cookie is SameSite=Strict and never sent cross-site).

use axum::http::{HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::ConfigError;

/// The origin of the dashboard front end allowed by CORS (unset: no cross-origin access).
pub const CORS_ORIGIN: &str = "CORS_ORIGIN";

/// A CORS origin: `scheme://host[:port]`, nothing else (no path, no wildcard).
pub fn parse_origin(value: &str) -> Result<HeaderValue, ConfigError> {
    let invalid = |why: &str| ConfigError::Invalid { name: CORS_ORIGIN, why: why.to_owned() };
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| invalid("must start with https:// or http://"))?;
    if rest.is_empty() || rest.contains(['/', '*', ' ', '?', '#']) {
        return Err(invalid("must be scheme://host[:port] with no path or wildcard"));
    }
    HeaderValue::from_str(value).map_err(|_| invalid("is not a valid header value"))
}

/// `CORS_ORIGIN` from the environment: `None` when unset or blank.
pub fn origin_from_env() -> Result<Option<HeaderValue>, ConfigError> {
    match std::env::var(CORS_ORIGIN) {
        Ok(value) if !value.trim().is_empty() => Ok(Some(parse_origin(value.trim())?)),
        _ => Ok(None),
    }
}

/// The layer for the routes a front end calls.
pub fn layer(origin: Option<HeaderValue>) -> CorsLayer {
    let origins = match origin {
        Some(origin) => AllowOrigin::list([origin]),
        None => AllowOrigin::list(Vec::<HeaderValue>::new()),
    };
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_scheme_and_host_only() {
        assert!(parse_origin("https://dashboard.example.com").is_ok());
        assert!(parse_origin("http://localhost:5173").is_ok());
        for bad in ["dashboard.example.com", "https://", "https://a.example/path", "https://*.example"] {
            let error = parse_origin(bad).unwrap_err();
            assert!(error.to_string().contains("CORS_ORIGIN"), "{bad}: {error}");
        }
    }
}
