//! The feedback-webhook function: `POST /v1/feedback`, called by the CRM when a reply is sent.
//! It compares the sent text with the agent's draft, counts the outcome toward the draft's
//! intent and playbook entries, and queues rewritten drafts for the weekly batch.
//! `main.rs` only wires these to `lambda_http`; the local runner serves the same routes.

pub mod send;

use autolearn_bus::{EVENT_BUS_NAME, EventBus};
use autolearn_model::Store;
use autolearn_web::idempotency::Answer;
use autolearn_web::webhook::{MAX_BODY_BYTES, SignedBody, WEBHOOK_SECRET_ID, WebhookConfig};
use autolearn_web::{ApiError, ConfigError, RouteTable, config};
use axum::extract::{FromRef, State};
use axum::http::Method;
use axum::routing::post;

/// The function's name, as in the template and in `GET /health`.
pub const SERVICE: &str = "feedback-webhook";

/// Normalized edit distance above which a send counts as rewritten, in [0, 1] (1: no send does).
pub const EDIT_THRESHOLD: &str = "EDIT_THRESHOLD";
pub const DEFAULT_EDIT_THRESHOLD: f64 = 0.2;

/// Every environment variable `Config::load` reads; the template test checks that
/// `infra/template.yaml` sets each of them for this function.
pub const ENV_VARS: &[&str] = &[
    config::TABLE_NAME,
    WEBHOOK_SECRET_ID,
    MAX_BODY_BYTES,
    EVENT_BUS_NAME,
    EDIT_THRESHOLD,
    config::RETENTION_DAYS,
];

/// Configuration, read and validated once at cold start (the webhook key fetched from Secrets
/// Manager then).
#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub event_bus_name: String,
    pub webhook: WebhookConfig,
    pub edit_threshold: f64,
    /// How long feedback (customer text) is kept (`RETENTION_DAYS`).
    pub retention: autolearn_model::Retention,
}

impl Config {
    pub async fn load(aws: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        let edit_threshold =
            config::optional_with(EDIT_THRESHOLD, DEFAULT_EDIT_THRESHOLD, parse_edit_threshold)?;
        Ok(Self {
            table_name: config::required(config::TABLE_NAME)?,
            event_bus_name: config::required(EVENT_BUS_NAME)?,
            webhook: WebhookConfig::load(aws).await?,
            edit_threshold,
            retention: config::retention()?,
        })
    }
}

/// A value of `EDIT_THRESHOLD`: a decimal from 0 to 1, as the template's `EditThreshold` allows.
/// At 1 no send counts as rewritten (the edit distance is at most 1).
pub fn parse_edit_threshold(raw: &str) -> Result<f64, ConfigError> {
    config::parse_unit_interval(EDIT_THRESHOLD, raw)
}

/// What every request handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub bus: EventBus,
    pub webhook: WebhookConfig,
    pub edit_threshold: f64,
}

impl FromRef<AppState> for WebhookConfig {
    fn from_ref(state: &AppState) -> Self {
        state.webhook.clone()
    }
}

/// The API routes of this function (health is added by whoever serves them).
pub fn routes(state: AppState) -> RouteTable {
    RouteTable::new().route(Method::POST, "/v1/feedback", post(record_send)).with_state(state)
}

async fn record_send(
    State(state): State<AppState>,
    SignedBody(body): SignedBody,
) -> Result<Answer, ApiError> {
    send::record(&state, &body, chrono::Utc::now()).await
}
