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

    /// A schema fuzzer's view: every operation that reads parameters may answer 422, and every
    /// one that reads a body may also answer 400 and 413, each with the shared error schema.
    #[test]
    fn every_operation_lists_the_errors_its_extractors_can_answer() {
        let document: serde_yaml::Value = serde_yaml::from_str(OPENAPI_YAML).unwrap();
        let responses = &document["components"]["responses"];
        let error_schema = |name: &str| {
            responses[name]["content"]["application/json"]["schema"]["$ref"].as_str().map(str::to_owned)
        };
        let expected = |status: &str| match status {
            "400" => "Malformed",
            "413" => "TooLarge",
            _ => "Invalid",
        };
        let mut missing = Vec::new();
        for (path, item) in document["paths"].as_mapping().unwrap() {
            let path = path.as_str().unwrap();
            for (method, operation) in item.as_mapping().unwrap() {
                let method = method.as_str().unwrap();
                let reads_parameters = operation.get("parameters").is_some() || path.contains('{');
                let reads_body = operation.get("requestBody").is_some();
                let mut statuses = Vec::new();
                if reads_parameters || reads_body {
                    statuses.push("422");
                }
                if reads_body {
                    statuses.extend(["400", "413"]);
                }
                for status in statuses {
                    let reference = operation["responses"][status]["$ref"].as_str();
                    let name = expected(status);
                    if reference != Some(&format!("#/components/responses/{name}")) {
                        missing.push(format!("{method} {path}: {status} {name}"));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "operations not listing their extractor errors: {missing:#?}");
        for name in ["Malformed", "TooLarge", "Invalid"] {
            assert_eq!(error_schema(name).as_deref(), Some("#/components/schemas/Error"), "{name}");
        }
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
