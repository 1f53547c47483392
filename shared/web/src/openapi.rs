//! The OpenAPI document of the HTTP API (`infra/openapi.yaml`), and the check that every
//! served operation is documented.

use std::collections::BTreeSet;

use crate::routes::Operation;

/// The document, embedded at build time.
pub const OPENAPI_YAML: &str = include_str!("../../../infra/openapi.yaml");

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Every (method, path) the document describes.
pub fn documented_operations(document: &str) -> Result<BTreeSet<Operation>, serde_yaml::Error> {
    let document: serde_yaml::Value = serde_yaml::from_str(document)?;
    let mut operations = BTreeSet::new();
    if let Some(paths) = document.get("paths").and_then(|paths| paths.as_mapping()) {
        for (path, item) in paths {
            let (Some(path), Some(item)) = (path.as_str(), item.as_mapping()) else { continue };
            for method in item.keys().filter_map(|key| key.as_str()) {
                if METHODS.contains(&method) {
                    operations.insert(Operation { method: method.to_uppercase(), path: path.to_owned() });
                }
            }
        }
    }
    Ok(operations)
}

/// The served operations the document lacks (empty when all are documented).
pub fn undocumented<'a>(served: &'a [Operation], document: &str) -> Vec<&'a Operation> {
    let documented = documented_operations(document).expect("infra/openapi.yaml parses");
    served.iter().filter(|operation| !documented.contains(operation)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_parses_and_describes_health() {
        let operations = documented_operations(OPENAPI_YAML).unwrap();
        assert!(operations.contains(&Operation { method: "GET".into(), path: "/health".into() }));
    }

    #[test]
    fn an_undocumented_operation_is_reported() {
        let served = vec![
            Operation { method: "GET".into(), path: "/health".into() },
            Operation { method: "POST".into(), path: "/v1/nowhere".into() },
        ];
        let missing = undocumented(&served, OPENAPI_YAML);
        assert_eq!(missing, vec![&served[1]]);
    }
}
