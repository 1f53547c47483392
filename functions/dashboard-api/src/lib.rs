//! The dashboard-api function: the learning dashboard (JSON for a front end and a server-rendered
//! page for people), the review of proposals, and the manual batch trigger. Every route requires
//! an admin identity ([`auth::AdminIdentity`]). `main.rs` only wires these to `lambda_http`; the
//! local runner serves the same routes on 127.0.0.1.

pub mod auth;
pub mod dashboard;
pub mod page;
pub mod review;

use autolearn_bus::{EVENT_BUS_NAME, EventBus};
use autolearn_model::{PromotionConfig, Store};
use autolearn_web::{ApiError, ConfigError, RouteTable, config, promotion};
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Serialize;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use auth::{AdminAuth, AdminIdentity};

/// The function's name, as in the template and in `GET /health`.
pub const SERVICE: &str = "dashboard-api";

/// The Cognito group (JWT claim `cognito:groups`) an admin must belong to.
pub const ADMIN_GROUP: &str = "ADMIN_GROUP";
pub const DEFAULT_ADMIN_GROUP: &str = "autolearn-admins";
/// The origin of the dashboard front end allowed by CORS (unset: no cross-origin access).
pub const CORS_ORIGIN: &str = "CORS_ORIGIN";

/// Every environment variable `Config::from_env` reads; the template test checks that
/// `infra/template.yaml` sets each of them for this function.
pub const ENV_VARS: &[&str] = &[
    config::TABLE_NAME,
    EVENT_BUS_NAME,
    ADMIN_GROUP,
    CORS_ORIGIN,
    promotion::PROMOTE_MIN_APPROVAL,
    promotion::PROMOTE_MIN_HITS,
    promotion::DEMOTE_MAX_APPROVAL,
    promotion::DEMOTE_MIN_HITS,
    promotion::PROMOTION_GUARD,
    promotion::PROMOTION_BASELINE_PRIOR,
];

/// Configuration, read and validated once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub event_bus_name: String,
    pub admin_group: String,
    pub cors_origin: Option<HeaderValue>,
    /// The promotion rules, as the weekly batch reads them: the page previews its decisions.
    pub promotion: PromotionConfig,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let admin_group = config::optional(ADMIN_GROUP, DEFAULT_ADMIN_GROUP.to_owned())?;
        let cors_origin = match std::env::var(CORS_ORIGIN) {
            Ok(value) if !value.trim().is_empty() => Some(parse_origin(value.trim())?),
            _ => None,
        };
        Ok(Self {
            table_name: config::required(config::TABLE_NAME)?,
            event_bus_name: config::required(EVENT_BUS_NAME)?,
            admin_group,
            cors_origin,
            promotion: promotion::from_env()?,
        })
    }
}

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

/// What every request handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub bus: EventBus,
    /// Who is an admin: the JWT group, and (local runner only) a bearer token.
    pub auth: AdminAuth,
    /// The dashboard front end's origin, allowed by CORS.
    pub cors_origin: Option<HeaderValue>,
    /// The promotion rules the experiments section previews (the batch's own configuration).
    pub promotion: PromotionConfig,
}

/// The API routes of this function (health is added by whoever serves them). The dashboard
/// routes carry the CORS layer of the configured front-end origin.
pub fn routes(state: AppState) -> RouteTable {
    let cors = cors_layer(state.cors_origin.clone());
    let with_cors = |route: MethodRouter<AppState>| route.layer(cors.clone());
    RouteTable::<AppState>::new()
        .route(Method::GET, "/v1/learning/dashboard", with_cors(get(dashboard::get_dashboard)))
        .route(Method::POST, "/v1/learning/batch-runs", with_cors(post(request_batch_run)))
        .route(Method::GET, "/v1/learning/batch-runs/{id}", with_cors(get(batch_run_status)))
        .route(Method::GET, "/v1/proposals", with_cors(get(review::list_proposals)))
        .route(Method::POST, "/v1/proposals/{id}/apply", with_cors(post(review::apply_proposal)))
        .route(Method::POST, "/v1/proposals/{id}/reject", with_cors(post(review::reject_proposal)))
        .route(Method::GET, page::PAGE_PATH, get(page::get_page))
        .route(Method::POST, "/admin/ai/learning/proposals/{id}/apply", post(page::apply_from_page))
        .route(Method::POST, "/admin/ai/learning/proposals/{id}/reject", post(page::reject_from_page))
        .with_state(state)
}

/// The CORS policy: only the configured origin, only the methods and headers the API uses, no
/// credentials (the identity travels in the Authorization header, never in cookies).
fn cors_layer(origin: Option<HeaderValue>) -> CorsLayer {
    let origins = match origin {
        Some(origin) => AllowOrigin::list([origin]),
        None => AllowOrigin::list(Vec::<HeaderValue>::new()),
    };
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(600))
}

/// The answer of the manual trigger.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchRunRequested {
    /// The session the run records (its id is the period): the same for every trigger of the
    /// same hour, which one run serves.
    pub session_id: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub status: &'static str,
    /// Where the run's progress is read (`GET`).
    pub status_url: String,
}

/// The period a manual trigger at `now` studies: the 7 days before the start of the hour, so
/// that triggers within one hour coalesce into one period, one session, one run and one email.
pub fn manual_period(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let end = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    (end - Duration::days(7), end)
}

/// `POST /v1/learning/batch-runs`: puts `BatchLearningRequested` for the period of
/// [`manual_period`] on the bus; the weekly-batch function runs it. 202: the run happens
/// asynchronously; its status is at the answer's `statusUrl`.
async fn request_batch_run(
    State(state): State<AppState>,
    identity: AdminIdentity,
) -> Result<(StatusCode, Json<BatchRunRequested>), ApiError> {
    let (period_start, period_end) = manual_period(Utc::now());
    let event = autolearn_bus::BatchLearningRequested {
        requested_by: identity.subject.clone(),
        period_start,
        period_end,
    };
    state.bus.publish(&event).await.map_err(|error| ApiError::Internal(error.to_string()))?;
    tracing::info!(requested_by = %identity.subject, %period_start, %period_end, "batch run requested");
    let session_id = autolearn_model::keys::session_id_for_period(period_start, period_end).to_string();
    let status_url = format!("/v1/learning/batch-runs/{session_id}");
    Ok((
        StatusCode::ACCEPTED,
        Json(BatchRunRequested { session_id, period_start, period_end, status: "requested", status_url }),
    ))
}

/// The progress of a batch run, from its session.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchRunStatus {
    pub session_id: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    /// `running` or `completed` (`failed` is not used by the batch today).
    pub status: autolearn_model::SessionStatus,
    pub completed_steps: Vec<autolearn_model::BatchStep>,
    pub proposals: usize,
    pub report_sent: bool,
}

/// `GET /v1/learning/batch-runs/{id}`: 404 until the run has created its session.
async fn batch_run_status(
    State(state): State<AppState>,
    _identity: AdminIdentity,
    autolearn_web::extract::Path(id): autolearn_web::extract::Path<String>,
) -> Result<Json<BatchRunStatus>, ApiError> {
    let session = state
        .store
        .session(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("batch run {id} (not started yet, or unknown)")))?;
    Ok(Json(BatchRunStatus {
        session_id: session.session_id.to_string(),
        period_start: session.period_start,
        period_end: session.period_end,
        status: session.status,
        completed_steps: session.completed_steps,
        proposals: session.proposal_ids.len(),
        report_sent: session.report_message_id.is_some(),
    }))
}

/// The router of this function alone, for tests and tools that serve it without the runner.
pub fn router(state: AppState) -> Router {
    routes(state).merge(autolearn_web::routes::health(SERVICE)).into_router()
}
