//! The dashboard-api function: its configuration, state and routes. `main.rs` only wires these to
//! `lambda_http`; the local runner serves the same routes on 127.0.0.1.

use autolearn_model::Store;
use autolearn_web::{ConfigError, RouteTable, config};

/// The function's name, as in the template and in `GET /health`.
pub const SERVICE: &str = "dashboard-api";

/// Every environment variable `Config::from_env` reads; the template test checks that
/// `infra/template.yaml` sets each of them for this function.
pub const ENV_VARS: &[&str] = &[config::TABLE_NAME];

/// Configuration, read and validated once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self { table_name: config::required(config::TABLE_NAME)? })
    }
}

/// What every request handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
}

/// The API routes of this function (health is added by whoever serves them).
pub fn routes(state: AppState) -> RouteTable {
    RouteTable::<AppState>::new().with_state(state)
}
