//! The sharded daily counters: ADD to one shard, read a day as the sum of its shards.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::KeysAndAttributes;
use chrono::NaiveDate;

use super::{Item, Store, n, primary_key};
use crate::counters::{Counter, DailyCounters};
use crate::error::StoreError;
use crate::keys;

impl Store {
    /// Adds to counters of one day's shard.
    pub async fn add_to_counters(
        &self,
        day: NaiveDate,
        shard: u32,
        increments: &[(Counter, i64)],
    ) -> Result<(), StoreError> {
        let update = counter_update(day, shard, increments)?;
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(update.key)
            .set_update_expression(Some(update.update_expression))
            .set_expression_attribute_names(update.expression_attribute_names)
            .set_expression_attribute_values(update.expression_attribute_values)
            .send()
            .await
            .map_err(StoreError::aws)?;
        Ok(())
    }

    /// The counters of each day, summed over the day's shards, in the order of `days`.
    /// Costs one BatchGetItem per 100 shard items (plus retries of unprocessed keys), whatever
    /// the message volume.
    pub async fn daily_counters(&self, days: &[NaiveDate]) -> Result<Vec<DailyCounters>, StoreError> {
        let mut totals: Vec<DailyCounters> = days.iter().map(|day| DailyCounters::new(*day)).collect();
        let by_pk: HashMap<String, usize> = days
            .iter()
            .enumerate()
            .flat_map(|(i, day)| {
                (0..keys::COUNTER_SHARDS).map(move |shard| (keys::counters_pk(*day, shard), i))
            })
            .collect();
        let all_keys: Vec<Item> = by_pk.keys().map(|pk| primary_key(pk.clone(), keys::COUNTERS_SK)).collect();
        for chunk in all_keys.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .map_err(StoreError::build)?,
            );
            while let Some(request) = pending.take() {
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(StoreError::aws)?;
                for item in output.responses.unwrap_or_default().remove(&self.table).unwrap_or_default() {
                    let Some(day) =
                        item.get(keys::PK).and_then(|pk| pk.as_s().ok()).and_then(|pk| by_pk.get(pk))
                    else {
                        continue;
                    };
                    for (name, value) in &item {
                        if let Ok(number) = value.as_n() {
                            totals[*day].add(name, number.parse().unwrap_or(0));
                        }
                    }
                }
                pending = output
                    .unprocessed_keys
                    .and_then(|mut unprocessed| unprocessed.remove(&self.table))
                    .filter(|rest| !rest.keys.is_empty());
            }
        }
        Ok(totals)
    }
}

/// The pieces of an ADD update of one counter shard.
pub(super) struct CounterUpdate {
    pub(super) key: Option<Item>,
    pub(super) update_expression: String,
    pub(super) expression_attribute_names: Option<HashMap<String, String>>,
    pub(super) expression_attribute_values: Option<Item>,
}

pub(super) fn counter_update(
    day: NaiveDate,
    shard: u32,
    increments: &[(Counter, i64)],
) -> Result<CounterUpdate, StoreError> {
    if increments.is_empty() {
        return Err(StoreError::Build("a counter update needs at least one counter".into()));
    }
    // Merge repeats (e.g. the same playbook entry injected twice) so one ADD names each once.
    let mut merged: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for (counter, value) in increments {
        *merged.entry(counter.attribute()).or_insert(0) += value;
    }
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let mut clauses = Vec::new();
    for (i, (attribute, value)) in merged.into_iter().enumerate() {
        names.insert(format!("#c{i}"), attribute);
        values.insert(format!(":c{i}"), n(value));
        clauses.push(format!("#c{i} :c{i}"));
    }
    Ok(CounterUpdate {
        key: Some(primary_key(keys::counters_pk(day, shard), keys::COUNTERS_SK)),
        update_expression: format!("ADD {}", clauses.join(", ")),
        expression_attribute_names: Some(names),
        expression_attribute_values: Some(values),
    })
}
