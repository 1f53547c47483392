//! The table definition, read from the one place it is declared: `infra/template.yaml`.
//!
//! The local emulator's table is created from this, so the deployed table and the one the
//! tests run against cannot drift apart.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use serde::Deserialize;
use std::collections::BTreeMap;

use crate::error::StoreError;

/// The SAM template, embedded at build time.
pub const TEMPLATE: &str = include_str!("../../../infra/template.yaml");

/// Logical id of the table resource in the template.
pub const TABLE_RESOURCE: &str = "Table";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDef {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyDef {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProjectionDef {
    pub projection_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexDef {
    pub index_name: String,
    pub key_schema: Vec<KeyDef>,
    pub projection: ProjectionDef,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TtlDef {
    pub attribute_name: String,
    pub enabled: bool,
}

/// The parts of `AWS::DynamoDB::Table` properties that shape the data.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableDefinition {
    pub attribute_definitions: Vec<AttributeDef>,
    pub key_schema: Vec<KeyDef>,
    #[serde(default)]
    pub global_secondary_indexes: Vec<IndexDef>,
    pub time_to_live_specification: Option<TtlDef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Template {
    resources: BTreeMap<String, Resource>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Resource {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(default)]
    properties: serde_yaml::Value,
}

impl TableDefinition {
    /// The table as declared in the embedded template.
    pub fn from_embedded_template() -> Result<Self, StoreError> {
        Self::from_template(TEMPLATE)
    }

    pub fn from_template(template: &str) -> Result<Self, StoreError> {
        let invalid = |why: String| StoreError::InvalidTableDefinition(why);
        let template: Template = serde_yaml::from_str(template).map_err(|e| invalid(e.to_string()))?;
        let resource = template
            .resources
            .get(TABLE_RESOURCE)
            .ok_or_else(|| invalid(format!("no resource named {TABLE_RESOURCE}")))?;
        if resource.kind != "AWS::DynamoDB::Table" {
            return Err(invalid(format!("{TABLE_RESOURCE} is a {}", resource.kind)));
        }
        serde_yaml::from_value(resource.properties.clone()).map_err(|e| invalid(e.to_string()))
    }

    /// Creates the table (on-demand) with its indexes and TTL. Used against the local emulator;
    /// in AWS the template creates it.
    pub async fn create(&self, client: &Client, table_name: &str) -> Result<(), StoreError> {
        let mut request = client
            .create_table()
            .table_name(table_name)
            .billing_mode(BillingMode::PayPerRequest)
            .set_key_schema(Some(key_schema(&self.key_schema)?));
        for attribute in &self.attribute_definitions {
            request = request.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(&attribute.attribute_name)
                    .attribute_type(ScalarAttributeType::from(attribute.attribute_type.as_str()))
                    .build()
                    .map_err(StoreError::build)?,
            );
        }
        for index in &self.global_secondary_indexes {
            request = request.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(&index.index_name)
                    .set_key_schema(Some(key_schema(&index.key_schema)?))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::from(index.projection.projection_type.as_str()))
                            .build(),
                    )
                    .build()
                    .map_err(StoreError::build)?,
            );
        }
        request.send().await.map_err(StoreError::aws)?;
        if let Some(ttl) = self.time_to_live_specification.as_ref().filter(|ttl| ttl.enabled) {
            client
                .update_time_to_live()
                .table_name(table_name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(&ttl.attribute_name)
                        .enabled(true)
                        .build()
                        .map_err(StoreError::build)?,
                )
                .send()
                .await
                .map_err(StoreError::aws)?;
        }
        Ok(())
    }
}

fn key_schema(keys: &[KeyDef]) -> Result<Vec<KeySchemaElement>, StoreError> {
    keys.iter()
        .map(|key| {
            KeySchemaElement::builder()
                .attribute_name(&key.attribute_name)
                .key_type(KeyType::from(key.key_type.as_str()))
                .build()
                .map_err(StoreError::build)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys;

    fn key(name: &str, kind: &str) -> KeyDef {
        KeyDef { attribute_name: name.into(), key_type: kind.into() }
    }

    /// The key formats in `keys` and the template must name the same attributes and indexes;
    /// this fails when either side changes alone.
    #[test]
    fn template_declares_the_keys_the_code_writes() {
        let table = TableDefinition::from_embedded_template().unwrap();
        assert_eq!(table.key_schema, vec![key(keys::PK, "HASH"), key(keys::SK, "RANGE")]);
        let index = |name: &str| {
            table
                .global_secondary_indexes
                .iter()
                .find(|index| index.index_name == name)
                .unwrap_or_else(|| panic!("template lacks index {name}"))
                .clone()
        };
        assert_eq!(index(keys::GSI1).key_schema, vec![key(keys::GSI1PK, "HASH"), key(keys::GSI1SK, "RANGE")]);
        assert_eq!(
            index(keys::QUEUE_INDEX).key_schema,
            vec![key(keys::QPK, "HASH"), key(keys::QSK, "RANGE")]
        );
        assert_eq!(
            index(keys::CONTACT_INDEX).key_schema,
            vec![key(keys::CPK, "HASH"), key(keys::CSK, "RANGE")]
        );
        assert_eq!(table.global_secondary_indexes.len(), 3, "an index the code does not know");
        for attribute in &table.attribute_definitions {
            assert_eq!(attribute.attribute_type, "S", "{} is not a string", attribute.attribute_name);
        }
        let ttl = table.time_to_live_specification.expect("TTL declared");
        assert!(ttl.enabled);
        assert_eq!(ttl.attribute_name, keys::TTL_ATTRIBUTE);
    }

    #[test]
    fn a_template_without_the_table_is_refused() {
        let error =
            TableDefinition::from_template("Resources:\n  Other:\n    Type: AWS::SQS::Queue\n").unwrap_err();
        assert!(error.to_string().contains("no resource named Table"), "{error}");
    }
}
