//! Recording one send: how the reply that went out compares with the agent's draft.
//!
//! The first DynamoDB call reads the execution (its draft, intent and playbook entries); the
//! second is one transaction with every effect: the idempotency record, the DraftFeedback of a
//! rewritten send (into the unanalyzed queue), the approval counters of the dynamic intent and
//! playbook entries, one shard of the day's outcome counters, and the send recorded on the
//! execution item with its answer. A duplicate delivery fails the execution's "no send yet"
//! condition, which hands back the first answer, however old the send (an idempotency record
//! expires; the execution does not). The store retries conflicts and throttling; what is still
//! refused is 503, nothing written.
//!
//! Policy for the edge cases:
//! - one send per execution is counted: a redelivery of the same send answers the first
//!   response; a different text for an execution that already has a send is 409 (the CRM
//!   reports the reply it sent once; a follow-up message is a new execution);
//! - a send for an execution that produced no draft has nothing to compare: it counts as
//!   `sentWithoutDraft` for the day and touches no approval counter.

use autolearn_bus::{DraftFeedbackRecorded, Event};
use autolearn_learning::edit::{self, SendOutcome};
use autolearn_learning::text::mask_personal_data;
use autolearn_model::{
    Cancellation, ConfigItem, Counter, DraftFeedback, Execution, IdempotencyRecord, OutboxEntry,
    OutboxSubject, SendRecord, StoreError, Transaction, Usage, counters, keys,
};
use autolearn_web::ApiError;
use autolearn_web::idempotency::{self, Answer};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};

use crate::AppState;

/// The scope of this function's idempotency records.
pub const IDEMPOTENCY_SCOPE: &str = keys::FEEDBACK_IDEMPOTENCY_SCOPE;

fn id_rules(value: &str, _: &()) -> garde::Result {
    if value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c)) {
        Ok(())
    } else {
        Err(garde::Error::new("may contain only letters, digits, '-', '_', '.' and ':'"))
    }
}

/// `POST /v1/feedback`: the reply a person sent for an execution.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Validate)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeedbackRequest {
    #[garde(length(min = 1, max = 128), custom(id_rules))]
    pub execution_id: String,
    /// The text that was sent. Customer-facing text: never logged.
    #[garde(length(chars, min = 1, max = autolearn_web::bounds::MAX_SENT_TEXT_CHARS))]
    pub sent_text: String,
    #[garde(skip)]
    pub sent_at: DateTime<Utc>,
}

/// The answer to a recorded send (and, unchanged, to each redelivery of it).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRecorded {
    pub execution_id: String,
    pub outcome: SendOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit_distance: Option<f64>,
    /// Set when the send was stored as draft feedback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feedback_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

/// Everything one send changes, computed without I/O from the request and its execution.
#[derive(Debug)]
pub struct PreparedSend {
    pub answer: Answer,
    pub transaction: Transaction,
    pub event: Option<DraftFeedbackRecorded>,
    request_hash: String,
    idempotency_action: usize,
    send_action: usize,
}

fn outbox_entry(event: &DraftFeedbackRecorded, now: DateTime<Utc>) -> Result<OutboxEntry, ApiError> {
    Ok(OutboxEntry {
        execution_id: event.execution_id.clone(),
        subject: OutboxSubject::Execution,
        detail_type: event.detail_type().to_owned(),
        detail: serde_json::to_string(event).map_err(|e| ApiError::Internal(e.to_string()))?,
        created_at: now,
    })
}

/// The counters and approval usage a send adds.
fn send_counts(outcome: SendOutcome, distance: f64) -> Vec<(Counter, i64)> {
    match outcome {
        SendOutcome::NoDraft => vec![(Counter::SentWithoutDraft, 1)],
        drafted => {
            let class = match drafted {
                SendOutcome::Unedited => Counter::Unedited,
                SendOutcome::LightlyEdited => Counter::LightlyEdited,
                _ => Counter::Rewritten,
            };
            // Micro-units keep the sum an exact integer under concurrent ADDs.
            let micros = (distance * 1_000_000.0).round() as i64;
            vec![(Counter::Sent, 1), (class, 1), (Counter::EditDistanceMicros, micros)]
        }
    }
}

pub fn parse(body: &[u8]) -> Result<(FeedbackRequest, String), ApiError> {
    let request: FeedbackRequest = autolearn_web::json::parse(body)?;
    let hash = idempotency::request_hash(&request)?;
    Ok((request, hash))
}

/// Compares the send with the draft and builds the transaction that records it.
pub fn prepare(
    request: &FeedbackRequest,
    request_hash: String,
    execution: &Execution,
    threshold: f64,
    now: DateTime<Utc>,
) -> Result<PreparedSend, ApiError> {
    let analysis =
        execution.draft_reply.as_deref().map(|draft| edit::analyze_edit(draft, &request.sent_text));
    let outcome = analysis
        .as_ref()
        .map_or(SendOutcome::NoDraft, |analysis| edit::classify_send(analysis.distance, threshold));
    let distance = analysis.as_ref().map_or(0.0, |analysis| analysis.distance);

    let mut transaction = Transaction::new();
    let mut feedback_id = None;
    let mut event = None;
    if let (SendOutcome::Rewritten, Some(analysis)) = (outcome, &analysis) {
        let feedback = DraftFeedback {
            feedback_id: ulid::Ulid::from_datetime(now.into()).to_string(),
            execution_id: execution.execution_id.clone(),
            conversation_id: execution.conversation_id.clone(),
            intent_name: Some(execution.intent_name().to_owned()),
            dynamic_intent_id: execution.intent.as_ref().and_then(|intent| intent.dynamic_intent_id.clone()),
            original_draft: execution.draft_reply.clone().unwrap_or_default(),
            sent_version: request.sent_text.clone(),
            // Masked once, here where the texts come in: what the batch learns from and quotes.
            masked_draft: Some(mask_personal_data(execution.draft_reply.as_deref().unwrap_or_default())),
            masked_sent: Some(mask_personal_data(&request.sent_text)),
            analysis: analysis.clone(),
            ai_summary: None,
            analyzed: false,
            learning_session_id: None,
            sent_at: request.sent_at,
            created_at: now,
        };
        if let Err(StoreError::ItemTooLarge { bytes, limit, .. }) = autolearn_model::store::to_item(&feedback)
        {
            return Err(ApiError::invalid(
                "sentText",
                format!("sentText: the feedback would be {bytes} bytes, over the storable {limit} bytes"),
            ));
        }
        event = Some(DraftFeedbackRecorded {
            execution_id: feedback.execution_id.clone(),
            feedback_id: feedback.feedback_id.clone(),
            conversation_id: feedback.conversation_id.clone(),
            intent: execution.intent_name().to_owned(),
            edit_distance: distance,
            reasons: analysis
                .reasons
                .iter()
                .map(|reason| {
                    serde_json::to_value(reason.kind()).ok().and_then(|v| v.as_str().map(str::to_owned))
                })
                .collect::<Option<_>>()
                .unwrap_or_default(),
            sent_at: request.sent_at,
        });
        feedback_id = Some(feedback.feedback_id.clone());
        transaction.create(&feedback)?;
        // The event goes into the outbox with the feedback: if the bus refuses it, the next
        // drain puts it (consumers deduplicate by feedbackId).
        if let Some(event) = &event {
            transaction.create(&outbox_entry(event, now)?)?;
        }
    }

    let response = SendRecorded {
        execution_id: execution.execution_id.clone(),
        outcome,
        edit_distance: analysis.as_ref().map(|analysis| analysis.distance),
        feedback_id,
        summary: analysis.as_ref().filter(|_| outcome != SendOutcome::Unedited).map(|a| a.summary.clone()),
    };
    let answer = Answer::new(StatusCode::CREATED, &response)?;
    let record = answer.record(IDEMPOTENCY_SCOPE, &execution.execution_id, &request_hash, now);
    // Sends recorded before executions carried their send are guarded by this record until it
    // expires (7 days); the send on the execution guards every send, at any age.
    let idempotency_action = transaction.create(&record)?;
    let send = SendRecord {
        request_hash: request_hash.clone(),
        response_status: answer.status.as_u16(),
        response_body: answer.body.clone(),
        recorded_at: now,
    };
    let send_action = transaction.record_send(&execution.execution_id, &send)?;

    if outcome != SendOutcome::NoDraft {
        let unedited = i64::from(outcome == SendOutcome::Unedited);
        let usage = [(Usage::Sent, 1), (Usage::Unedited, unedited)];
        if let Some(intent_id) =
            execution.intent.as_ref().and_then(|intent| intent.dynamic_intent_id.as_deref())
        {
            transaction.add_usage(ConfigItem::intent(intent_id), &usage)?;
        }
        for entry_id in &execution.playbook_entry_ids {
            transaction.add_usage(ConfigItem::playbook_entry(entry_id), &usage)?;
        }
    }
    let shard = counters::shard_for(&execution.execution_id, keys::COUNTER_SHARDS);
    transaction.add_to_counters(request.sent_at.date_naive(), shard, &send_counts(outcome, distance))?;

    Ok(PreparedSend { answer, transaction, event, request_hash, idempotency_action, send_action })
}

/// Records a send, or answers a redelivery with the first response.
pub async fn record(state: &AppState, body: &[u8], now: DateTime<Utc>) -> Result<Answer, ApiError> {
    let (request, request_hash) = parse(body)?;
    // The day its counters go to must be open, and the queue must not hold it past every batch.
    state.webhook.dates.check("sentAt", request.sent_at, now)?;
    let execution = state
        .store
        .execution(&request.execution_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("execution {}", request.execution_id)))?;
    let prepared = prepare(&request, request_hash, &execution, state.edit_threshold, now)?;
    let PreparedSend { answer, transaction, event, request_hash, idempotency_action, send_action } = prepared;
    let failed = |index: usize, reasons: &[Cancellation]| {
        reasons.get(index).is_some_and(Cancellation::is_condition_failure)
    };
    let conflict = || format!("a different send is already recorded for execution {}", request.execution_id);
    match state.store.commit(transaction).await {
        Ok(()) => {}
        Err(StoreError::TransactionCanceled { reasons }) if failed(send_action, &reasons) => {
            // The refused update handed back the execution with its first send.
            return match reasons[send_action].old_send().transpose()? {
                Some(send) if send.request_hash == request_hash => Ok(Answer {
                    status: StatusCode::from_u16(send.response_status).unwrap_or(StatusCode::CREATED),
                    body: send.response_body,
                    replayed: true,
                }),
                Some(_) => Err(ApiError::Conflict(conflict())),
                None => Err(ApiError::not_found(format!("execution {}", request.execution_id))),
            };
        }
        Err(StoreError::TransactionCanceled { reasons }) if failed(idempotency_action, &reasons) => {
            let stored = reasons[idempotency_action].old::<IdempotencyRecord>().transpose()?;
            return Answer::replay(stored, &request_hash, now, conflict);
        }
        Err(error) => return Err(error.into()),
    }

    if let Some(event) = event {
        // The feedback and its outbox entry are stored whatever happens here: a refused put
        // leaves the entry for the next drain (the weekly batch drains the outbox first).
        match state.bus.publish(&event).await {
            Ok(()) => {
                if let Err(error) = state
                    .store
                    .clear_outbox_entry(OutboxSubject::Execution, &event.execution_id, event.detail_type())
                    .await
                {
                    tracing::warn!(execution_id = %event.execution_id, %error, "outbox entry not cleared; the drain puts the event again");
                }
            }
            Err(error) => {
                tracing::warn!(execution_id = %event.execution_id, %error, "DraftFeedbackRecorded left in the outbox");
            }
        }
    }
    Ok(answer)
}
