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

/// The export documents the retention the code accepts (`RETENTION_DAYS`).
#[test]
fn the_documented_retention_is_the_one_the_code_accepts() {
    let document: serde_yaml::Value = serde_yaml::from_str(autolearn_web::openapi::OPENAPI_YAML).unwrap();
    let schema = &document["paths"]["/v1/contacts/{contactId}/data"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"]["properties"]["retentionDays"];
    let range = autolearn_model::retention::RETENTION_DAYS_RANGE;
    assert_eq!(schema["minimum"].as_u64(), Some(u64::from(*range.start())), "{schema:?}");
    assert_eq!(schema["maximum"].as_u64(), Some(u64::from(*range.end())), "{schema:?}");
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
