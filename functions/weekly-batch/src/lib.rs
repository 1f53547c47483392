//! The weekly-batch function: triggered by the EventBridge weekly schedule and by the
//! `BatchLearningRequested` event. `main.rs` only wires the handler to `lambda_runtime`; the
//! local runner's `autolearn batch` calls the same handler.
//!
//! Until the batch itself lands (its own issue), the handler only acknowledges the event with
//! the period it would study, so the wiring can be exercised end to end.

use autolearn_model::Store;
use autolearn_web::{ConfigError, config};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

pub const SERVICE: &str = "weekly-batch";

/// Every environment variable `Config::from_env` reads; the template test checks that
/// `infra/template.yaml` sets each of them for this function.
pub const ENV_VARS: &[&str] = &[config::TABLE_NAME];

#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self { table_name: config::required(config::TABLE_NAME)? })
    }
}

/// The parts of an EventBridge event the batch reads.
#[derive(Debug, Clone, Deserialize)]
pub struct TriggerEvent {
    #[serde(rename = "detail-type", default)]
    pub detail_type: String,
    pub time: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchOutcome {
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub status: &'static str,
}

/// The period a trigger studies: the 7 days before the event's time, so a redelivery of the
/// same event studies the same data.
pub fn period_of(event: &TriggerEvent) -> (DateTime<Utc>, DateTime<Utc>) {
    (event.time - Duration::days(7), event.time)
}

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Store(#[from] autolearn_model::StoreError),
}

pub async fn handle(_store: &Store, event: TriggerEvent) -> Result<BatchOutcome, BatchError> {
    let (period_start, period_end) = period_of(&event);
    tracing::info!(detail_type = %event.detail_type, %period_start, %period_end, "batch triggered");
    Ok(BatchOutcome { period_start, period_end, status: "acknowledged" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheduled_sample_event_studies_the_week_before_it() {
        let event: TriggerEvent =
            serde_json::from_str(include_str!("../../../events/weekly-schedule.json")).unwrap();
        let (start, end) = period_of(&event);
        assert_eq!(end.to_rfc3339(), "2026-11-16T08:00:00+00:00");
        assert_eq!(start.to_rfc3339(), "2026-11-09T08:00:00+00:00");
    }
}
