//! Shared set-up of the dashboard-api tests: a fresh table on moto, an observed bus, the router,
//! and API Gateway v2 events (from `events/`) with or without JWT claims.
#![allow(dead_code, unused_imports)]

use autolearn_model::{Counter, Store};
use autolearn_testkit::http::{Reply, api_event, send};
use autolearn_testkit::{ObservedBus, RequestCounter, fresh_counted_store};
use axum::Router;
use dashboard_api::local_oidc::LocalIssuer;
use dashboard_api::oidc::{Expectations, OidcProvider, OidcSettings};
use dashboard_api::session::SessionKey;
use dashboard_api::{AdminAuth, Admins, AppState, SignIn, router};
use serde_json::Value;

pub use autolearn_testkit::http::{ADMIN_SUB, admin_claims};
pub const FRONT_END: &str = "https://dashboard.example.com";
/// The sign-in client at the tests' issuer.
pub const CLIENT_ID: &str = "autolearn-test-client";

/// A local issuer (keys generated now) served on a loopback port, named by `host` in its URL
/// (`localhost` makes it another site than the dashboard on 127.0.0.1), with `extra` routes.
pub async fn serve_issuer(host: &str, extra: Router) -> LocalIssuer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let issuer = LocalIssuer::new(format!("http://{host}:{port}/oidc"), "autolearn-admins");
    let app = issuer.clone().router().merge(extra);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    issuer
}

/// Serves a router on a loopback port.
pub async fn serve_router(router: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    address
}

pub struct Dash {
    pub store: Store,
    pub requests: RequestCounter,
    pub bus: ObservedBus,
    pub router: Router,
}

impl Dash {
    pub async fn new() -> Self {
        Self::with_token(None).await
    }

    pub async fn with_token(local_admin_token: Option<&str>) -> Self {
        Self::build(local_admin_token, None).await
    }

    /// With people's sign-in against `issuer` (see [`serve_issuer`]), cookies signed by `key`.
    pub async fn with_sign_in(issuer: &LocalIssuer, key: SessionKey) -> Self {
        let settings = OidcSettings {
            expect: Expectations {
                issuer: issuer.issuer.clone(),
                audiences: vec![CLIENT_ID.into()],
                groups_claim: dashboard_api::GROUPS_CLAIM.into(),
                admin_group: "autolearn-admins".into(),
            },
            client_id: CLIENT_ID.into(),
            scopes: dashboard_api::SCOPES.into(),
        };
        let sign_in = SignIn { provider: OidcProvider::new(settings), key };
        Self::build(None, Some(std::sync::Arc::new(sign_in))).await
    }

    async fn build(local_admin_token: Option<&str>, sign_in: Option<std::sync::Arc<SignIn>>) -> Self {
        autolearn_web::telemetry::init();
        let (store, requests) = fresh_counted_store().await;
        let bus = ObservedBus::new().await;
        let state = AppState {
            promotion: Default::default(),
            store: store.clone(),
            bus: bus.bus.clone(),
            auth: AdminAuth {
                admins: Admins {
                    admin_group: "autolearn-admins".into(),
                    local_admin_token: local_admin_token.map(str::to_owned),
                },
                sign_in,
            },
            cors_origin: Some(autolearn_web::cors::parse_origin(FRONT_END).unwrap()),
        };
        Self { store, requests, bus, router: router(state) }
    }

    /// A request as an admin through API Gateway.
    pub async fn admin(&self, method: &str, path_and_query: &str, body: &str) -> Reply {
        send(&self.router, event(method, path_and_query, body, Some(admin_claims()))).await
    }

    pub async fn dashboard(&self, days: u32) -> Value {
        let reply = self.admin("GET", &format!("/v1/learning/dashboard?days={days}"), "").await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.body
    }

    pub async fn add(&self, day: chrono::NaiveDate, shard: u32, increments: &[(Counter, i64)]) {
        self.store.add_to_counters(day, shard, increments).await.unwrap();
    }
}

/// An API Gateway v2 event (see [`api_event`]).
pub fn event(method: &str, path_and_query: &str, body: &str, claims: Option<Value>) -> lambda_http::Request {
    api_event(method, path_and_query, body, claims)
}

pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}
