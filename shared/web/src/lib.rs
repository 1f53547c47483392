//! HTTP plumbing shared by the API functions: configuration read once at cold start, the error
//! type mapped once to responses, the route table the OpenAPI test checks, and logging set-up.

pub mod admin;
pub mod aws;
pub mod bounds;
pub mod config;
pub mod cors;
pub mod error;
pub mod extract;
pub mod https;
pub mod idempotency;
pub mod json;
pub mod lambda;
pub mod openapi;
pub mod promotion;
pub mod routes;
pub mod secret;
pub mod signature;
pub mod telemetry;
pub mod webhook;

pub use config::ConfigError;
pub use error::ApiError;
pub use routes::RouteTable;
