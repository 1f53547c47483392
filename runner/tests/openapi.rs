//! The OpenAPI document and the routers agree: every served operation is documented, and every
//! documented operation is served.

use autolearn_model::Store;
use autolearn_runner::Services;
use autolearn_web::openapi::{OPENAPI_YAML, documented_operations, undocumented};
use autolearn_web::signature::WebhookAuth;
use autolearn_web::webhook::WebhookConfig;

fn offline_services() -> Services {
    // Building the routers needs a client, not a connection.
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .build();
    Services {
        store: Store::new(aws_sdk_dynamodb::Client::from_conf(config), "unused"),
        webhook: WebhookConfig { auth: WebhookAuth::new("unused-secret-0123456789"), max_body_bytes: 1024 },
    }
}

#[test]
fn every_served_route_is_documented() {
    let routes = autolearn_runner::all_routes(&offline_services());
    let missing = undocumented(routes.operations(), OPENAPI_YAML);
    assert!(missing.is_empty(), "served but not in infra/openapi.yaml: {missing:?}");
}

#[test]
fn every_documented_route_is_served() {
    let routes = autolearn_runner::all_routes(&offline_services());
    let served: Vec<_> = routes.operations().to_vec();
    let not_served: Vec<_> = documented_operations(OPENAPI_YAML)
        .unwrap()
        .into_iter()
        .filter(|operation| !served.contains(operation))
        .collect();
    assert!(not_served.is_empty(), "documented but not served: {not_served:?}");
}
