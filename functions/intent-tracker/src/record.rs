//! Recording one agent execution, exactly once per execution id.
//!
//! All effects of a new execution go into one TransactWriteItems: the idempotency record, the
//! execution, the dynamic intent's and playbook entries' hit counts, and one shard of the day's
//! counters. A replay fails the idempotency record's condition, so nothing is counted twice;
//! the refused condition hands back the stored record, whose first response is answered.

use autolearn_learning::text::masked_own_words;
use autolearn_model::store::to_item;
use autolearn_model::{
    Cancellation, ConfigItem, Counter, Execution, ExecutionStatus, IdempotencyRecord, InboundMessage,
    MatchedIntent, StoreError, Transaction, UNKNOWN_INTENT, Usage, counters, keys,
};
use autolearn_web::ApiError;
use autolearn_web::idempotency::{self, Answer};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};

use crate::AppState;

/// The scope of this function's idempotency records.
pub const IDEMPOTENCY_SCOPE: &str = keys::EXECUTIONS_IDEMPOTENCY_SCOPE;
/// At most this many playbook entries per execution (each is one transaction action).
pub const MAX_PLAYBOOK_ENTRIES: usize = 50;

fn id_rules(value: &str, _: &()) -> garde::Result {
    if value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c)) {
        Ok(())
    } else {
        Err(garde::Error::new("may contain only letters, digits, '-', '_', '.' and ':'"))
    }
}

fn skill_rules(value: &str, _: &()) -> garde::Result {
    autolearn_web::bounds::counter_name_rule(value).map_err(garde::Error::new)
}

fn intent_name_rules(value: &str, _: &()) -> garde::Result {
    let upper_snake = value.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if upper_snake && value.starts_with(|c: char| c.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(garde::Error::new("must be an UPPER_SNAKE intent name"))
    }
}

fn distinct(ids: &[String], _: &()) -> garde::Result {
    let mut seen = std::collections::BTreeSet::new();
    match ids.iter().find(|id| !seen.insert(id.as_str())) {
        Some(duplicate) => Err(garde::Error::new(format!("lists {duplicate} more than once"))),
        None => Ok(()),
    }
}

/// `POST /v1/executions`: what the CRM reports after its classifier and agent ran.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Validate)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecutionRequest {
    #[garde(length(min = 1, max = 128), custom(id_rules))]
    pub execution_id: String,
    #[garde(length(min = 1, max = 128), custom(id_rules))]
    pub conversation_id: String,
    #[serde(default)]
    #[garde(inner(length(min = 1, max = 128), custom(id_rules)))]
    pub contact_id: Option<String>,
    #[garde(dive)]
    pub message: MessageRequest,
    /// Absent or null when the classifier matched nothing (UNKNOWN).
    #[serde(default)]
    #[garde(dive)]
    pub intent: Option<IntentRequest>,
    /// Becomes a counter of the day: a short plain name (see `bounds::counter_name_rule`).
    #[serde(default)]
    #[garde(inner(custom(skill_rules)))]
    pub skill: Option<String>,
    #[serde(default)]
    #[garde(length(max = MAX_PLAYBOOK_ENTRIES), inner(length(min = 1, max = 128), custom(id_rules)), custom(distinct))]
    pub playbook_entry_ids: Vec<String>,
    /// The draft the agent produced, or null when it produced none.
    #[garde(skip)]
    pub draft_reply: Option<String>,
    #[garde(skip)]
    pub status: ExecutionStatus,
    #[garde(skip)]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Validate)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageRequest {
    #[garde(length(min = 1, max = 128), custom(id_rules))]
    pub id: String,
    #[garde(length(min = 1))]
    pub body: String,
    #[garde(skip)]
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Validate)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntentRequest {
    #[garde(length(min = 1, max = 64), custom(intent_name_rules))]
    pub name: String,
    #[serde(default)]
    #[garde(inner(length(min = 1, max = 128), custom(id_rules)))]
    pub dynamic_intent_id: Option<String>,
}

/// The answer to a recorded execution (and, unchanged, to each replay of it).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionRecorded {
    pub execution_id: String,
    pub intent: String,
    pub matched: bool,
    pub drafted: bool,
    pub gap: bool,
}

/// A validated execution with the transaction that records it, built without any I/O.
#[derive(Debug)]
pub struct PreparedExecution {
    pub execution: Execution,
    pub request_hash: String,
    pub answer: Answer,
    pub transaction: Transaction,
    /// Transaction action index of the idempotency record, the intent, and each playbook entry.
    idempotency_action: usize,
    execution_action: usize,
    intent_action: Option<usize>,
    playbook_actions: Vec<usize>,
}

impl ExecutionRequest {
    fn into_execution(self) -> Execution {
        Execution {
            execution_id: self.execution_id,
            conversation_id: self.conversation_id,
            contact_id: self.contact_id,
            message: InboundMessage {
                message_id: self.message.id,
                // Masked once, here where the message comes in: what the learning quotes.
                quoted: Some(masked_own_words(&self.message.body)),
                body: self.message.body,
                received_at: self.message.received_at,
            },
            // UNKNOWN is the classifier's "no intent"; it is stored as no intent.
            intent: self.intent.filter(|intent| intent.name != UNKNOWN_INTENT).map(|intent| MatchedIntent {
                name: intent.name,
                dynamic_intent_id: intent.dynamic_intent_id,
            }),
            skill: self.skill,
            playbook_entry_ids: self.playbook_entry_ids,
            draft_reply: self.draft_reply,
            status: self.status,
            created_at: self.created_at,
            erased_at: None,
        }
    }
}

/// The daily counters one execution adds to.
pub fn counter_increments(execution: &Execution) -> Vec<(Counter, i64)> {
    let mut increments =
        vec![(Counter::Executions, 1), (Counter::Intent(execution.intent_name().to_owned()), 1)];
    if execution.is_matched() {
        increments.push((Counter::Matched, 1));
    }
    if execution.draft_reply.is_some() {
        increments.push((Counter::Drafted, 1));
    }
    if execution.is_gap() {
        increments.push((Counter::Gaps, 1));
    }
    if let Some(skill) = &execution.skill {
        increments.push((Counter::Skill(skill.clone()), 1));
    }
    increments.extend(execution.playbook_entry_ids.iter().map(|id| (Counter::PlaybookEntry(id.clone()), 1)));
    increments
}

/// Whether a stored execution is the one `execution` records: the same content, but for its
/// quoted form, which is derived from the body by the masking of the release that stored it
/// (none before it was stored), not sent by the client.
fn same_request(stored: &Execution, execution: &Execution) -> bool {
    let mut stored = stored.clone();
    stored.message.quoted.clone_from(&execution.message.quoted);
    stored == *execution
}

/// Parses, validates and turns a request body into the transaction that records it.
pub fn prepare(body: &[u8], now: DateTime<Utc>) -> Result<PreparedExecution, ApiError> {
    let request: ExecutionRequest = autolearn_web::json::parse(body)?;
    let request_hash = idempotency::request_hash(&request)?;
    let execution = request.into_execution();

    if let Err(StoreError::ItemTooLarge { bytes, limit, .. }) = to_item(&execution) {
        let body_len = execution.message.body.len();
        let draft_len = execution.draft_reply.as_ref().map_or(0, String::len);
        let field = if draft_len > body_len { "draftReply" } else { "message.body" };
        return Err(ApiError::invalid(
            field,
            format!("{field}: the execution would be {bytes} bytes, over the storable {limit} bytes"),
        ));
    }

    let response = ExecutionRecorded {
        execution_id: execution.execution_id.clone(),
        intent: execution.intent_name().to_owned(),
        matched: execution.is_matched(),
        drafted: execution.draft_reply.is_some(),
        gap: execution.is_gap(),
    };
    let answer = Answer::new(StatusCode::CREATED, &response)?;
    let record = answer.record(IDEMPOTENCY_SCOPE, &execution.execution_id, &request_hash, now);

    let mut transaction = Transaction::new();
    let idempotency_action = transaction.create(&record)?;
    let execution_action = transaction.create(&execution)?;
    let intent_action = execution
        .intent
        .as_ref()
        .and_then(|intent| intent.dynamic_intent_id.as_deref())
        .map(|id| transaction.add_usage(ConfigItem::intent(id), &[(Usage::Hit, 1)]))
        .transpose()?;
    let playbook_actions = execution
        .playbook_entry_ids
        .iter()
        .map(|id| transaction.add_usage(ConfigItem::playbook_entry(id), &[(Usage::Hit, 1)]))
        .collect::<Result<_, _>>()?;
    let shard = counters::shard_for(&execution.execution_id, keys::COUNTER_SHARDS);
    transaction.add_to_counters(execution.day(), shard, &counter_increments(&execution))?;

    Ok(PreparedExecution {
        execution,
        request_hash,
        answer,
        transaction,
        idempotency_action,
        execution_action,
        intent_action,
        playbook_actions,
    })
}

/// Records an execution, or answers a replay with the first response.
///
/// The store retries conflicts and throttling itself; what is still refused after its retries
/// is 503 (nothing written, safe to resend). 409 only when the execution id is stored with other
/// content.
pub async fn record(state: &AppState, body: &[u8], now: DateTime<Utc>) -> Result<Answer, ApiError> {
    let PreparedExecution {
        execution,
        request_hash,
        answer,
        transaction,
        idempotency_action,
        execution_action,
        intent_action,
        playbook_actions,
    } = prepare(body, now)?;
    // The day its counters go to must be open: within the window around now.
    state.webhook.dates.check("createdAt", execution.created_at, now)?;
    let failed = |index: usize, reasons: &[Cancellation]| {
        reasons.get(index).is_some_and(Cancellation::is_condition_failure)
    };
    let reasons = match state.store.commit(transaction).await {
        Ok(()) => return Ok(answer),
        Err(StoreError::TransactionCanceled { reasons }) => reasons,
        Err(error) => return Err(error.into()),
    };
    let conflict =
        || format!("execution {} was already recorded with a different body", execution.execution_id);
    if failed(idempotency_action, &reasons) {
        // The refused create handed back the stored record: no second read needed.
        let stored = reasons[idempotency_action].old::<IdempotencyRecord>().transpose()?;
        if stored.as_ref().is_some_and(|record| !record.is_expired(now)) {
            return Answer::replay(stored, &request_hash, now, conflict);
        }
    }
    if failed(execution_action, &reasons) {
        // The idempotency record has expired: the execution itself is the permanent record. The
        // same content is a very late replay (nothing counted again), other content a conflict.
        let stored = reasons[execution_action].old::<Execution>().transpose()?;
        return match stored {
            Some(stored) if same_request(&stored, &execution) => Ok(Answer { replayed: true, ..answer }),
            _ => Err(ApiError::Conflict(conflict())),
        };
    }
    if intent_action.is_some_and(|index| failed(index, &reasons)) {
        return Err(ApiError::invalid(
            "intent.dynamicIntentId",
            "intent.dynamicIntentId: no dynamic intent has this id",
        ));
    }
    if let Some(position) = playbook_actions.iter().position(|index| failed(*index, &reasons)) {
        let field = format!("playbookEntryIds[{position}]");
        return Err(ApiError::invalid(field.clone(), format!("{field}: no playbook entry has this id")));
    }
    Err(StoreError::TransactionCanceled { reasons }.into())
}
