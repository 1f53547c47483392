//! The customer-data-api function: the admin routes that show or erase customer text on request.
//! One feedback record, masked ([`feedback`]); a contact's export, erasure and its progress
//! ([`contacts`]). `main.rs` only wires these to `lambda_http`; the local runner serves the same
//! routes on 127.0.0.1.
//!
//! It is a function of its own, apart from the dashboard, for two reasons: only it needs the
//! masking patterns (the regex engine, about 0.4 MB of a binary) and only it may delete items
//! (`dynamodb:DeleteItem`, which an erasure needs and nothing else an admin does). Every route
//! is behind API Gateway's JWT authorizer and requires the admin group
//! ([`autolearn_web::admin`]); there are no browser sessions here.

pub mod contacts;
pub mod feedback;

use autolearn_bus::{EVENT_BUS_NAME, EventBus};
use autolearn_model::Store;
use autolearn_web::admin::{ADMIN_GROUP, AdminIdentity, Admins};
use autolearn_web::{ApiError, ConfigError, RouteTable, config, cors};
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method};
use axum::routing::{MethodRouter, delete, get};

/// The function's name, as in the template and in `GET /health`.
pub const SERVICE: &str = "customer-data-api";

/// Every environment variable `Config::from_env` reads; the template test checks that
/// `infra/template.yaml` sets each of them for this function.
pub const ENV_VARS: &[&str] =
    &[config::TABLE_NAME, config::RETENTION_DAYS, EVENT_BUS_NAME, ADMIN_GROUP, cors::CORS_ORIGIN];

/// Configuration, read and validated once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub event_bus_name: String,
    pub admins: Admins,
    pub cors_origin: Option<HeaderValue>,
    /// How long the items an erasure writes keep customer text (`RETENTION_DAYS`).
    pub retention: autolearn_model::Retention,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: config::required(config::TABLE_NAME)?,
            event_bus_name: config::required(EVENT_BUS_NAME)?,
            admins: Admins::from_env()?,
            cors_origin: cors::origin_from_env()?,
            retention: config::retention()?,
        })
    }
}

/// What every request handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    /// Where `ContactErased` goes.
    pub bus: EventBus,
    pub admins: Admins,
    /// The dashboard front end's origin, allowed by CORS.
    pub cors_origin: Option<HeaderValue>,
}

impl FromRequestParts<AppState> for AdminIdentity {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        state.admins.check_authorized(parts)
    }
}

/// The API routes of this function (health is added by whoever serves them), with the CORS
/// layer of the configured front-end origin.
pub fn routes(state: AppState) -> RouteTable {
    let cors = cors::layer(state.cors_origin.clone());
    let with_cors = |route: MethodRouter<AppState>| route.layer(cors.clone());
    RouteTable::<AppState>::new()
        .route(Method::GET, "/v1/feedback/{id}", with_cors(get(feedback::get_feedback)))
        .route(Method::DELETE, "/v1/contacts/{contactId}", with_cors(delete(contacts::erase_contact)))
        .route(Method::GET, "/v1/contacts/{contactId}/data", with_cors(get(contacts::export_contact)))
        .route(Method::GET, "/v1/erasures/{id}", with_cors(get(contacts::get_erasure)))
        .with_state(state)
}

/// The router of this function alone, for tests and tools that serve it without the runner.
pub fn router(state: AppState) -> Router {
    routes(state).merge(autolearn_web::routes::health(SERVICE)).into_router()
}
