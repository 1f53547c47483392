//! autolearn's events on its EventBridge bus. Every event has source [`SOURCE`]; its
//! detail-type names what happened. Details carry ids and numbers, never customer text.

use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The `source` of every autolearn event.
pub const SOURCE: &str = "autolearn";

/// The environment variable that names the bus.
pub const EVENT_BUS_NAME: &str = "EVENT_BUS_NAME";

/// An event autolearn publishes.
pub trait Event: Serialize {
    const DETAIL_TYPE: &'static str;
}

/// A send was rewritten beyond the threshold and stored as draft feedback.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DraftFeedbackRecorded {
    pub execution_id: String,
    pub feedback_id: String,
    pub conversation_id: String,
    pub intent: String,
    pub edit_distance: f64,
    /// Reason kinds (e.g. `shortened`, `questionAdded`), without the quoted phrases.
    pub reasons: Vec<String>,
    pub sent_at: DateTime<Utc>,
}

impl Event for DraftFeedbackRecorded {
    const DETAIL_TYPE: &'static str = "DraftFeedbackRecorded";
}

/// An admin asked for a batch run (the manual trigger). Like the weekly schedule, the batch
/// studies the 7 days before the event's time; the period is repeated here for readers.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchLearningRequested {
    pub requested_by: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
}

impl Event for BatchLearningRequested {
    const DETAIL_TYPE: &'static str = "BatchLearningRequested";
}

/// A batch stopped before its deadline and continues in a new invocation for the same period.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchContinuationRequested {
    pub session_id: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
}

impl Event for BatchContinuationRequested {
    const DETAIL_TYPE: &'static str = "BatchContinuationRequested";
}

/// A batch stored its learning session and proposals.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LearningSessionCreated {
    pub session_id: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub proposals: usize,
}

impl Event for LearningSessionCreated {
    const DETAIL_TYPE: &'static str = "LearningSessionCreated";
}

/// An A/B decision on an experimental intent or playbook entry, with its numbers.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentDecided {
    /// `intent` or `playbookEntry`.
    pub item_kind: String,
    pub item_id: String,
    pub name: String,
    pub hit_count: u64,
    pub sent_count: u64,
    pub unedited_count: u64,
    pub approval_rate: Option<f64>,
    pub reason: String,
    pub session_id: String,
}

/// An experimental item promoted (no longer experimental).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct IntentPromoted(pub ExperimentDecided);

impl Event for IntentPromoted {
    const DETAIL_TYPE: &'static str = "IntentPromoted";
}

/// An experimental item deactivated for low approval.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct IntentDemoted(pub ExperimentDecided);

impl Event for IntentDemoted {
    const DETAIL_TYPE: &'static str = "IntentDemoted";
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("cannot serialise {detail_type}: {source}")]
    Serialize { detail_type: &'static str, source: serde_json::Error },
    #[error("PutEvents failed: {0}")]
    Aws(String),
    #[error("EventBridge refused the {detail_type} event: {code}")]
    Refused { detail_type: &'static str, code: String },
}

/// Publishes events to one bus.
#[derive(Debug, Clone)]
pub struct EventBus {
    client: Client,
    bus_name: String,
}

impl EventBus {
    pub fn new(client: Client, bus_name: impl Into<String>) -> Self {
        Self { client, bus_name: bus_name.into() }
    }

    pub fn bus_name(&self) -> &str {
        &self.bus_name
    }

    pub async fn publish<E: Event>(&self, event: &E) -> Result<(), PublishError> {
        let detail = serde_json::to_string(event)
            .map_err(|source| PublishError::Serialize { detail_type: E::DETAIL_TYPE, source })?;
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus_name)
            .source(SOURCE)
            .detail_type(E::DETAIL_TYPE)
            .detail(detail)
            .build();
        let output = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|error| PublishError::Aws(format!("{}", aws_sdk_eventbridge::Error::from(error))))?;
        // PutEvents reports per-entry failures in a successful response.
        if output.failed_entry_count() > 0 {
            let code =
                output.entries().iter().find_map(|entry| entry.error_code()).unwrap_or("unknown").to_owned();
            return Err(PublishError::Refused { detail_type: E::DETAIL_TYPE, code });
        }
        Ok(())
    }
}
