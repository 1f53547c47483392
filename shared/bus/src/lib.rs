//! autolearn's events on its EventBridge bus. Every event has source [`SOURCE`]; its
//! detail-type names what happened. Details carry ids and numbers, never customer text.

use autolearn_domain::{ExperimentAction, ItemKind, SessionId};
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
    /// The event's detail-type: what happened.
    fn detail_type(&self) -> &'static str;
}

/// Events whose detail-type is fixed by their type.
macro_rules! fixed_detail_type {
    ($($event:ident),* $(,)?) => {
        $(impl Event for $event {
            fn detail_type(&self) -> &'static str {
                stringify!($event)
            }
        })*
    };
}

fixed_detail_type!(
    DraftFeedbackRecorded,
    BatchLearningRequested,
    BatchContinuationRequested,
    WordingRequested,
    LearningSessionCreated,
    ContactErased
);

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

/// An admin asked for a batch run (the manual trigger). Like the weekly schedule, the batch
/// studies the 7 days before the event's time; the period is repeated here for readers.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchLearningRequested {
    pub requested_by: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
}

/// A batch stopped before its deadline and continues in a new invocation for the same period.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchContinuationRequested {
    pub session_id: SessionId,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
}

/// A batch stored its proposals worded by the rules and asks the proposal-analyst function to
/// reword them with a language model (`ANALYST=bedrock`); the analyst continues the batch with
/// [`BatchContinuationRequested`] when done.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WordingRequested {
    pub session_id: SessionId,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
}

/// A batch stored its learning session and proposals.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LearningSessionCreated {
    pub session_id: SessionId,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub proposals: usize,
}

/// Everything stored about a contact was erased (`DELETE /v1/contacts/{contactId}`). Names the
/// erasure, not the contact: the answer to the request gave the caller the erasure id, and no
/// copy of the contact id outlives the erasure, on the bus or in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactErased {
    pub erasure_id: String,
    pub executions_erased: u64,
    pub items_deleted: u64,
    pub proposals_redacted: u64,
    pub intents_redacted: u64,
    pub completed_at: DateTime<Utc>,
}

/// An A/B decision the batch took on an experimental intent or playbook entry, with its
/// numbers. Its detail-type names the item and the action: `IntentPromoted`, `IntentDemoted`,
/// `PlaybookEntryPromoted` or `PlaybookEntryDemoted`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentDecided {
    pub item_kind: ItemKind,
    pub item_id: String,
    pub name: String,
    /// `promote` or `demote`.
    pub action: ExperimentAction,
    pub hit_count: u64,
    pub sent_count: u64,
    pub unedited_count: u64,
    pub approval_rate: Option<f64>,
    pub reason: String,
    pub session_id: SessionId,
}

impl Event for ExperimentDecided {
    fn detail_type(&self) -> &'static str {
        match (self.item_kind, self.action) {
            (ItemKind::Intent, ExperimentAction::Demote) => "IntentDemoted",
            (ItemKind::Intent, _) => "IntentPromoted",
            (ItemKind::PlaybookEntry, ExperimentAction::Demote) => "PlaybookEntryDemoted",
            (ItemKind::PlaybookEntry, _) => "PlaybookEntryPromoted",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("cannot serialise {detail_type}: {source}")]
    Serialize { detail_type: &'static str, source: serde_json::Error },
    #[error("PutEvents failed: {0}")]
    Aws(String),
    #[error("EventBridge refused the {detail_type} event: {code}")]
    Refused { detail_type: String, code: String },
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
        let detail_type = event.detail_type();
        let detail =
            serde_json::to_string(event).map_err(|source| PublishError::Serialize { detail_type, source })?;
        self.publish_json(detail_type, &detail).await
    }

    /// Puts an event whose detail is already JSON (an outbox entry).
    pub async fn publish_json(&self, detail_type: &str, detail: &str) -> Result<(), PublishError> {
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus_name)
            .source(SOURCE)
            .detail_type(detail_type)
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
            return Err(PublishError::Refused { detail_type: detail_type.to_owned(), code });
        }
        Ok(())
    }
}
