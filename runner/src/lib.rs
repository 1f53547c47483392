//! The local runner: every HTTP route of every function on one loopback port, and the batch on
//! demand, against the local emulator (or any endpoint the AWS SDK is pointed at).

use autolearn_bus::EventBus;
use autolearn_model::Store;
use autolearn_web::RouteTable;
use autolearn_web::routes::health;
use autolearn_web::webhook::WebhookConfig;

/// What the local runner hands to every function.
#[derive(Debug, Clone)]
pub struct Services {
    pub store: Store,
    pub bus: EventBus,
    pub webhook: WebhookConfig,
    pub edit_threshold: f64,
}

/// Every route of every API function, plus one health route, as one table.
pub fn all_routes(services: &Services) -> RouteTable {
    let Services { store, bus, webhook, edit_threshold } = services.clone();
    intent_tracker::routes(intent_tracker::AppState { store: store.clone(), webhook: webhook.clone() })
        .merge(feedback_webhook::routes(feedback_webhook::AppState {
            store: store.clone(),
            bus,
            webhook,
            edit_threshold,
        }))
        .merge(dashboard_api::routes(dashboard_api::AppState { store }))
        .merge(health("autolearn-local"))
}
