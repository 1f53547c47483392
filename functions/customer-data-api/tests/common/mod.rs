//! Shared set-up of the customer-data-api tests: a fresh table on moto, an observed bus, the
//! router, and admin requests as API Gateway's JWT authorizer passes them.
#![allow(dead_code)]

use autolearn_model::Store;
use autolearn_testkit::http::{Reply, admin_claims, api_event, send};
use autolearn_testkit::{ObservedBus, fresh_store};
use autolearn_web::admin::Admins;
use axum::Router;
use customer_data_api::{AppState, router};

pub const LOCAL_TOKEN: &str = "local-admin-token-for-tests";

pub struct Api {
    pub store: Store,
    pub bus: ObservedBus,
    pub router: Router,
}

impl Api {
    pub async fn new() -> Self {
        autolearn_web::telemetry::init();
        let store = fresh_store().await;
        let bus = ObservedBus::new().await;
        let state = AppState {
            store: store.clone(),
            bus: bus.bus.clone(),
            admins: Admins {
                admin_group: "autolearn-admins".into(),
                local_admin_token: Some(LOCAL_TOKEN.into()),
            },
            cors_origin: Some(autolearn_web::cors::parse_origin("https://dashboard.example.com").unwrap()),
        };
        Self { store, bus, router: router(state) }
    }

    /// A request as an admin through API Gateway.
    pub async fn admin(&self, method: &str, path_and_query: &str, body: &str) -> Reply {
        send(&self.router, api_event(method, path_and_query, body, Some(admin_claims()))).await
    }
}
