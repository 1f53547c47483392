//! The dashboard-api function: the learning dashboard (JSON for a front end and a server-rendered
//! page for people), the review of proposals, the manual batch trigger, and people's sign-in
//! ([`signin`]). Every route but the sign-in's requires an admin identity
//! ([`auth::AdminIdentity`]). `main.rs` only wires these to `lambda_http`; the local runner
//! serves the same routes on 127.0.0.1 (with [`local_oidc`], an issuer of its own).

pub mod auth;
pub mod dashboard;
pub mod history;
pub mod jwt_crypto;
pub mod local_oidc;
pub mod oidc;
pub mod page;
pub mod review;
pub mod session;
pub mod signin;

use autolearn_bus::{EVENT_BUS_NAME, EventBus};
use autolearn_model::{PromotionConfig, Store};
use autolearn_web::secret::KeySource;
use autolearn_web::{ApiError, ConfigError, RouteTable, config, cors, promotion};
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Serialize;

pub use auth::{AdminAuth, AdminIdentity, Admins, Credential, SignIn};
pub use autolearn_web::admin::{ADMIN_GROUP, DEFAULT_ADMIN_GROUP, GROUPS_CLAIM};

/// The function's name, as in the template and in `GET /health`.
pub const SERVICE: &str = "dashboard-api";

/// The OpenID Connect issuer people sign in with (and whose bearer JWTs are verified here).
pub const OIDC_ISSUER: &str = "OIDC_ISSUER";
/// The app client that signs people in (authorization code with PKCE).
pub const OIDC_CLIENT_ID: &str = "OIDC_CLIENT_ID";
/// Audiences accepted in bearer JWTs, comma-separated (default: the sign-in client).
pub const OIDC_AUDIENCES: &str = "OIDC_AUDIENCES";
/// The Secrets Manager secret (name or ARN) holding the session cookies' HMAC key, read at cold
/// start (deployed functions).
pub const SESSION_KEY_SECRET_ID: &str = "SESSION_KEY_SECRET_ID";
/// The HMAC key of the session cookies itself (at least 32 bytes; local runs).
pub const SESSION_KEY: &str = "SESSION_KEY";
/// The scopes asked for at sign-in.
pub const SCOPES: &str = "openid email";

/// Every environment variable `Config::from_env` reads; the template test checks that
/// `infra/template.yaml` sets each of them for this function.
pub const ENV_VARS: &[&str] = &[
    config::TABLE_NAME,
    config::RETENTION_DAYS,
    EVENT_BUS_NAME,
    ADMIN_GROUP,
    cors::CORS_ORIGIN,
    OIDC_ISSUER,
    OIDC_CLIENT_ID,
    OIDC_AUDIENCES,
    SESSION_KEY_SECRET_ID,
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
    /// People's sign-in and the bearer JWTs this function verifies itself.
    pub oidc: oidc::OidcSettings,
    /// Where the session cookies' key comes from; read by [`Config::session_key`].
    pub session_key: KeySource,
    /// How long proposals (customer text in their evidence) are kept after a review writes
    /// them (`RETENTION_DAYS`).
    pub retention: autolearn_model::Retention,
}

/// An issuer URL: https, no query. (The local runner's issuer is on http and is wired without
/// this check.)
pub fn parse_issuer(raw: &str) -> Result<String, ConfigError> {
    let invalid = |why: &str| ConfigError::Invalid { name: OIDC_ISSUER, why: why.to_owned() };
    let url = url::Url::parse(raw).map_err(|error| invalid(&error.to_string()))?;
    if url.scheme() != "https" {
        return Err(invalid("must be an https URL"));
    }
    if url.query().is_some() || url.fragment().is_some() || url.host_str().is_none() {
        return Err(invalid("must be scheme://host[/path] with no query"));
    }
    Ok(raw.to_owned())
}

/// Comma-separated audiences, none empty.
pub fn parse_audiences(raw: &str) -> Result<Vec<String>, ConfigError> {
    let audiences: Vec<String> = raw.split(',').map(|aud| aud.trim().to_owned()).collect();
    if audiences.iter().any(String::is_empty) {
        return Err(ConfigError::Invalid {
            name: OIDC_AUDIENCES,
            why: "an empty audience in the list".into(),
        });
    }
    Ok(audiences)
}

impl Config {
    /// The session cookies' key, read (from Secrets Manager when deployed) once at cold start.
    /// After a rotation, cookies signed with the previous key are refused: people sign in again.
    pub async fn session_key(&self, aws: &aws_config::SdkConfig) -> Result<session::SessionKey, ConfigError> {
        let key = self.session_key.clone().read(aws, SESSION_KEY_SECRET_ID).await?;
        session::SessionKey::new(key.current.into_bytes())
            .map_err(|why| ConfigError::Invalid { name: SESSION_KEY_SECRET_ID, why })
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let admin_group = config::optional(ADMIN_GROUP, DEFAULT_ADMIN_GROUP.to_owned())?;
        let cors_origin = cors::origin_from_env()?;
        let issuer = parse_issuer(config::required(OIDC_ISSUER)?.trim())?;
        let client_id = config::required(OIDC_CLIENT_ID)?.trim().to_owned();
        let mut audiences = config::optional_with(OIDC_AUDIENCES, Vec::new(), parse_audiences)?;
        // The sign-in client's ID tokens are always meant for this function.
        if !audiences.contains(&client_id) {
            audiences.push(client_id.clone());
        }
        let session_key = KeySource::from_env(SESSION_KEY_SECRET_ID, SESSION_KEY)?;
        Ok(Self {
            table_name: config::required(config::TABLE_NAME)?,
            event_bus_name: config::required(EVENT_BUS_NAME)?,
            oidc: oidc::OidcSettings {
                expect: oidc::Expectations {
                    issuer,
                    audiences,
                    groups_claim: GROUPS_CLAIM.to_owned(),
                    admin_group: admin_group.clone(),
                },
                client_id,
                scopes: SCOPES.to_owned(),
            },
            session_key,
            admin_group,
            cors_origin,
            promotion: promotion::from_env()?,
            retention: config::retention()?,
        })
    }
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

/// The routes this function authenticates itself, because a browser's session cookie must reach
/// them: in AWS they opt out of API Gateway's JWT authorizer (`Authorizer: NONE`), and
/// `runner/tests/template.rs` holds the template to exactly this list. The `/v1/...` routes stay
/// behind the authorizer: machine clients with a bearer JWT.
pub const SELF_AUTHENTICATED: &[(&str, &str)] = &[
    ("GET", page::PAGE_PATH),
    ("POST", "/admin/ai/learning/proposals/{id}/apply"),
    ("POST", "/admin/ai/learning/proposals/{id}/reject"),
    ("GET", signin::LOGIN_PATH),
    ("GET", signin::CALLBACK_PATH),
    ("POST", signin::LOGOUT_PATH),
];

/// The API routes of this function (health is added by whoever serves them). The dashboard
/// routes carry the CORS layer of the configured front-end origin.
pub fn routes(state: AppState) -> RouteTable {
    let cors = autolearn_web::cors::layer(state.cors_origin.clone());
    let with_cors = |route: MethodRouter<AppState>| route.layer(cors.clone());
    RouteTable::<AppState>::new()
        .route(Method::GET, "/v1/learning/dashboard", with_cors(get(dashboard::get_dashboard)))
        .route(Method::POST, "/v1/learning/batch-runs", with_cors(post(request_batch_run)))
        .route(Method::GET, "/v1/learning/batch-runs/{id}", with_cors(get(batch_run_status)))
        .route(Method::GET, "/v1/learning/sessions", with_cors(get(history::list_sessions)))
        .route(Method::GET, "/v1/proposals", with_cors(get(review::list_proposals)))
        .route(Method::POST, "/v1/proposals/{id}/apply", with_cors(post(review::apply_proposal)))
        .route(Method::POST, "/v1/proposals/{id}/reject", with_cors(post(review::reject_proposal)))
        .route(Method::GET, page::PAGE_PATH, get(page::get_page))
        .route(Method::POST, "/admin/ai/learning/proposals/{id}/apply", post(page::apply_from_page))
        .route(Method::POST, "/admin/ai/learning/proposals/{id}/reject", post(page::reject_from_page))
        .route(Method::GET, signin::LOGIN_PATH, get(signin::login))
        .route(Method::GET, signin::CALLBACK_PATH, get(signin::callback))
        .route(Method::POST, signin::LOGOUT_PATH, post(signin::logout))
        .with_state(state)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_is_an_https_url_without_query_and_audiences_a_list_without_blanks() {
        let issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc";
        assert_eq!(parse_issuer(issuer).as_deref(), Ok(issuer));
        for bad in
            ["http://issuer.example.com", "https://issuer.example.com?x=1", "issuer.example.com", "https://"]
        {
            let error = parse_issuer(bad).unwrap_err();
            assert!(
                error.to_string().starts_with("environment variable OIDC_ISSUER is invalid"),
                "{bad}: {error}"
            );
        }
        assert_eq!(parse_audiences("a, b").unwrap(), vec!["a", "b"]);
        assert!(parse_audiences("a,,b").is_err());
    }

    /// The functions link no Unicode tables for host names (`idna_adapter` 1.0 in Cargo.lock,
    /// docs/performance.md): an issuer on an internationalised domain name is refused at cold
    /// start, naming the variable, and its ASCII (punycode) form is the one to configure.
    #[test]
    fn an_issuer_is_configured_by_its_ascii_host_name() {
        let error = parse_issuer("https://login.bücher.example/pool").unwrap_err();
        assert!(error.to_string().starts_with("environment variable OIDC_ISSUER is invalid"), "{error}");
        let ascii = "https://login.xn--bcher-kva.example/pool";
        assert_eq!(parse_issuer(ascii).as_deref(), Ok(ascii));
        let upper = "https://COGNITO-IDP.eu-west-1.amazonaws.com/eu-west-1_abc";
        assert_eq!(parse_issuer(upper).as_deref(), Ok(upper));
    }
}
