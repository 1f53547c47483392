//! The intent-tracker function: `POST /v1/executions`, how every agent execution, intent hit,
//! playbook hit and skill use enters autolearn. `main.rs` only wires these to `lambda_http`;
//! the local runner serves the same routes on 127.0.0.1.

pub mod record;

use autolearn_model::Store;
use autolearn_web::idempotency::Answer;
use autolearn_web::webhook::{MAX_BODY_BYTES, SignedBody, WEBHOOK_SECRET_ID, WebhookConfig};
use autolearn_web::{ApiError, ConfigError, RouteTable, config};
use axum::extract::{FromRef, State};
use axum::http::Method;
use axum::routing::post;

/// The function's name, as in the template and in `GET /health`.
pub const SERVICE: &str = "intent-tracker";

/// Every environment variable `Config::load` reads; the template test checks that
/// `infra/template.yaml` sets each of them for this function.
pub const ENV_VARS: &[&str] =
    &[config::TABLE_NAME, WEBHOOK_SECRET_ID, MAX_BODY_BYTES, config::RETENTION_DAYS];

/// Configuration, read and validated once at cold start (the webhook key fetched from Secrets
/// Manager then).
#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub webhook: WebhookConfig,
    /// How long executions (customer text) are kept (`RETENTION_DAYS`).
    pub retention: autolearn_model::Retention,
}

impl Config {
    pub async fn load(aws: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        let table_name = config::required(config::TABLE_NAME)?;
        let retention = config::retention()?;
        Ok(Self { table_name, webhook: WebhookConfig::load(aws).await?, retention })
    }
}

/// What every request handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub webhook: WebhookConfig,
}

impl FromRef<AppState> for WebhookConfig {
    fn from_ref(state: &AppState) -> Self {
        state.webhook.clone()
    }
}

/// The API routes of this function (health is added by whoever serves them).
pub fn routes(state: AppState) -> RouteTable {
    RouteTable::new().route(Method::POST, "/v1/executions", post(record_execution)).with_state(state)
}

async fn record_execution(
    State(state): State<AppState>,
    SignedBody(body): SignedBody,
) -> Result<Answer, ApiError> {
    record::record(&state, &body, chrono::Utc::now()).await
}
