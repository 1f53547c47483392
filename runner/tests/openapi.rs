//! The OpenAPI document and the routers agree: every served operation is documented, and every
//! documented operation is served.

mod common;

use autolearn_web::openapi::{OPENAPI_YAML, documented_operations, undocumented};

#[test]
fn every_served_route_is_documented() {
    let routes = autolearn_runner::all_routes(&common::offline_services());
    let missing = undocumented(routes.operations(), OPENAPI_YAML);
    assert!(missing.is_empty(), "served but not in infra/openapi.yaml: {missing:?}");
}

#[test]
fn every_documented_route_is_served() {
    let routes = autolearn_runner::all_routes(&common::offline_services());
    let served: Vec<_> = routes.operations().to_vec();
    let not_served: Vec<_> = documented_operations(OPENAPI_YAML)
        .unwrap()
        .into_iter()
        .filter(|operation| !served.contains(operation))
        .collect();
    assert!(not_served.is_empty(), "documented but not served: {not_served:?}");
}
