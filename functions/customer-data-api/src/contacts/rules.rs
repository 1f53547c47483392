//! The rules of a contact's export and erasure, free of HTTP.
//!
//! Everything stored about a contact hangs off their executions, which the sparse contact index
//! lists (`CPK=CONTACT#{contactId}`): each execution's feedback and outbox entries in its item
//! collection, its idempotency records by its id, and a reference for every proposal quoting it
//! (evidence from it, or an example that is its masked message). Dynamic intents quote a message
//! only through an applied proposal's examples; they are few, read through their listing index,
//! and matched by the masked text. Nothing scans the table.
//!
//! An erasure works through the contact's executions a page at a time, in the request, up to
//! [`MAX_PAGES_PER_REQUEST`] pages: for each execution it removes the evidence and examples that
//! quote it from proposals and intents, deletes its feedback, idempotency records and
//! references, then redacts the execution itself (the body, the draft, the contact id, the
//! quoted text of its send's stored answer), which takes it out of the contact index. So every
//! step is idempotent and an interrupted erasure resumes where the index says: the next request
//! (or a retry) continues from the cursor the erasure record keeps. Counted facts stay: the day
//! counters and the intents' and playbook entries' usage are never touched, and a redacted
//! execution keeps its ids, intent and send hash, so a replayed webhook is still recognised
//! and nothing is counted twice. When the index holds nothing more of the contact, the record is
//! completed and `ContactErased` goes out through the outbox (the weekly batch's drain puts it
//! again if the bus refused it).

use autolearn_bus::{ContactErased, Event, EventBus};
use autolearn_learning::text::{masked_forms, one_line};
use autolearn_model::{
    DraftFeedback, DynamicIntent, ErasureRecord, ErasureStatus, Evidence, Execution, OutboxEntry,
    OutboxSubject, ProposalId, ProposalReference, ProposalStatus, Store, StoreError, Transaction, all_pages,
    keys,
};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Longest contact id: the webhooks accept no longer.
pub const MAX_CONTACT_ID_CHARS: usize = 128;
/// Longest erasure id accepted in a path.
pub const MAX_ERASURE_ID_CHARS: usize = 200;
/// Executions of the contact index per page.
pub const PAGE: i32 = 25;
/// Pages one request works through before it answers (the erasure then continues with the next
/// request): bounded so a request stays well inside the API's 29 seconds.
pub const MAX_PAGES_PER_REQUEST: u64 = 20;
/// Characters of an example a new intent's description quotes (as the batch writes it).
const DESCRIPTION_QUOTE_CHARS: usize = 120;
/// What replaces a quote of erased text in a description.
pub const ERASED: &str = "[erased]";

/// Why an export or erasure did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    #[error("contactId: {0}")]
    InvalidContactId(String),
    #[error("an erasure id has 1 to {MAX_ERASURE_ID_CHARS} printable characters")]
    InvalidErasureId,
    #[error("erasure {0} not found")]
    ErasureNotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A contact id as the webhooks accept it: 1 to 128 letters, digits, `-`, `_`, `.` and `:`.
pub fn check_contact_id(contact_id: &str) -> Result<(), ContactError> {
    if contact_id.is_empty() || contact_id.chars().count() > MAX_CONTACT_ID_CHARS {
        return Err(ContactError::InvalidContactId(format!(
            "must be 1 to {MAX_CONTACT_ID_CHARS} characters"
        )));
    }
    if !contact_id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c)) {
        return Err(ContactError::InvalidContactId(
            "may contain only letters, digits, '-', '_', '.' and ':'".into(),
        ));
    }
    Ok(())
}

fn check_erasure_id(id: &str) -> Result<(), ContactError> {
    if id.is_empty() || id.chars().count() > MAX_ERASURE_ID_CHARS || id.chars().any(char::is_control) {
        return Err(ContactError::InvalidErasureId);
    }
    Ok(())
}

/// The text of a contact's message as the learning copies it: masked (evidence and examples),
/// and cut to one line (a new intent's description quotes its first example).
#[derive(Debug, Clone)]
struct Quoted {
    /// The message masked as the learning copies it, in every form a version of it may have
    /// stored: the quoted form stored with the message (what the batch copies since masking
    /// moved to the intent tracker), then `masked_forms`; with the one-line quote of each.
    forms: Vec<(String, String)>,
}

impl Quoted {
    fn of(execution: &Execution) -> Option<Self> {
        let body = execution.message.body.trim();
        if body.is_empty() {
            return None;
        }
        let mut masked = Vec::new();
        for form in execution.message.quoted.iter().cloned().chain(masked_forms(&execution.message.body)) {
            if !masked.contains(&form) {
                masked.push(form);
            }
        }
        let forms = masked
            .into_iter()
            .map(|masked| {
                let quote = one_line(&masked, DESCRIPTION_QUOTE_CHARS);
                (masked, quote)
            })
            .collect();
        Some(Self { forms })
    }

    fn is_copy(&self, example: &str) -> bool {
        self.forms.iter().any(|(masked, _)| masked == example)
    }

    fn quoted_by(&self, examples: &[String]) -> Vec<String> {
        examples.iter().filter(|example| self.is_copy(example)).cloned().collect()
    }

    /// The examples without this text.
    fn without(&self, examples: &[String]) -> Vec<String> {
        examples.iter().filter(|example| !self.is_copy(example)).cloned().collect()
    }

    /// A description with any quote of this text (in double quotes, as the batch writes a new
    /// intent's example into it) replaced; nothing else is touched, so a short message cannot
    /// mangle other words.
    fn redact(&self, description: &str) -> String {
        let mut redacted = description.to_owned();
        for text in self.forms.iter().flat_map(|(masked, quote)| [masked, quote]) {
            let quoted = format!("\"{text}\"");
            if !text.is_empty() && redacted.contains(&quoted) {
                redacted = redacted.replace(&quoted, &format!("\"{ERASED}\""));
            }
        }
        redacted
    }
}

/// A proposal's parts that quote one of the contact's executions.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotedIn {
    pub proposal_id: ProposalId,
    pub status: ProposalStatus,
    pub evidence: Vec<Evidence>,
    pub examples: Vec<String>,
}

/// One execution of the contact with what was derived from it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionData {
    #[serde(flatten)]
    pub execution: Execution,
    pub feedback: Option<DraftFeedback>,
    pub quoted_in: Vec<QuotedIn>,
}

/// A dynamic intent's examples that are one of the contact's messages.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntentExamples {
    pub intent_id: String,
    pub name: String,
    pub examples: Vec<String>,
}

/// Everything stored about a contact (`GET /v1/contacts/{contactId}/data`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactData {
    pub contact_id: String,
    pub exported_at: DateTime<Utc>,
    /// Days this text is kept after its last write (`RETENTION_DAYS`).
    pub retention_days: u32,
    pub executions: Vec<ExecutionData>,
    pub intents: Vec<IntentExamples>,
}

/// Every id of the contact's executions, all pages.
async fn contact_execution_ids(store: &Store, contact_id: &str) -> Result<Vec<String>, StoreError> {
    all_pages(|cursor| async move { store.contact_execution_ids(contact_id, cursor.as_deref(), 100).await })
        .await
}

/// The export of a contact's data. Items past their retention are left out, as every reader
/// leaves them out.
pub async fn export(
    store: &Store,
    contact_id: &str,
    now: DateTime<Utc>,
) -> Result<ContactData, ContactError> {
    check_contact_id(contact_id)?;
    let mut executions = Vec::new();
    let mut quotes = Vec::new();
    for execution_id in contact_execution_ids(store, contact_id).await? {
        let Some(execution) = store.execution(&execution_id).await? else { continue };
        let quoted = Quoted::of(&execution);
        let mut quoted_in = Vec::new();
        for reference in store.proposal_references(&execution_id).await? {
            let Some(proposal) = store.proposal(&reference.proposal_id).await? else { continue };
            let evidence: Vec<Evidence> =
                proposal.proposal.evidence.iter().filter(|e| e.id == execution_id).cloned().collect();
            let examples =
                quoted.as_ref().map(|q| q.quoted_by(&proposal.proposal.examples)).unwrap_or_default();
            if !evidence.is_empty() || !examples.is_empty() {
                quoted_in.push(QuotedIn {
                    proposal_id: proposal.proposal_id,
                    status: proposal.status,
                    evidence,
                    examples,
                });
            }
        }
        quotes.extend(quoted);
        let feedback = store.feedback(&execution_id).await?;
        executions.push(ExecutionData { execution, feedback, quoted_in });
    }
    let mut intents = Vec::new();
    if !quotes.is_empty() {
        for intent in store.all_intents().await? {
            let examples: Vec<String> = quotes.iter().flat_map(|q| q.quoted_by(&intent.examples)).collect();
            if !examples.is_empty() {
                intents.push(IntentExamples { intent_id: intent.intent_id, name: intent.name, examples });
            }
        }
    }
    Ok(ContactData {
        contact_id: contact_id.to_owned(),
        exported_at: now,
        retention_days: store.retention().in_days(),
        executions,
        intents,
    })
}

/// What an erasure request did.
#[derive(Debug, Clone)]
pub struct Erased {
    pub record: ErasureRecord,
    /// True when the erasure was already complete and nothing of the contact was found: the
    /// request changed nothing.
    pub no_op: bool,
}

/// How much of an erasure one request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Executions per page of the contact index.
    pub page: i32,
    /// Pages per request.
    pub pages: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Self { page: PAGE, pages: MAX_PAGES_PER_REQUEST }
    }
}

/// Erases (or continues erasing) a contact's data, up to [`MAX_PAGES_PER_REQUEST`] pages.
pub async fn erase(
    store: &Store,
    bus: &EventBus,
    contact_id: &str,
    requested_by: &str,
    now: DateTime<Utc>,
) -> Result<Erased, ContactError> {
    erase_within(store, bus, contact_id, requested_by, now, Budget::default()).await
}

/// [`erase`], doing at most `budget` in this call.
pub async fn erase_within(
    store: &Store,
    bus: &EventBus,
    contact_id: &str,
    requested_by: &str,
    now: DateTime<Utc>,
    budget: Budget,
) -> Result<Erased, ContactError> {
    check_contact_id(contact_id)?;
    let erasure_id = keys::erasure_id_for_contact(contact_id);
    let mut record = match store.erasure(&erasure_id).await? {
        Some(record) => record,
        None => {
            let record = ErasureRecord {
                erasure_id: erasure_id.clone(),
                status: ErasureStatus::InProgress,
                executions_erased: 0,
                items_deleted: 0,
                proposals_redacted: 0,
                intents_redacted: 0,
                pages: 0,
                cursor: None,
                requested_by: requested_by.to_owned(),
                requested_at: now,
                updated_at: now,
                completed_at: None,
            };
            match store.create(&record).await {
                Ok(()) => record,
                // A concurrent request created it first: continue with theirs.
                Err(StoreError::AlreadyExists { .. }) => store
                    .erasure(&erasure_id)
                    .await?
                    .ok_or_else(|| ContactError::ErasureNotFound(erasure_id.clone()))?,
                Err(error) => return Err(error.into()),
            }
        }
    };
    if record.status == ErasureStatus::Completed {
        if store.contact_execution_ids(contact_id, None, 1).await?.items.is_empty() {
            return Ok(Erased { record, no_op: true });
        }
        // New data of the contact arrived since: the same erasure runs again.
        record.status = ErasureStatus::InProgress;
        record.completed_at = None;
        record.cursor = None;
    }
    let mut intents: Option<Vec<DynamicIntent>> = None;
    for _ in 0..budget.pages {
        let page = store.contact_execution_ids(contact_id, record.cursor.as_deref(), budget.page).await?;
        for execution_id in &page.items {
            erase_execution(store, execution_id, now, &mut intents, &mut record).await?;
        }
        record.pages += 1;
        record.cursor = page.next;
        record.updated_at = now;
        if record.cursor.is_none() && store.contact_execution_ids(contact_id, None, 1).await?.items.is_empty()
        {
            complete(store, bus, &mut record, now).await?;
            return Ok(Erased { record, no_op: false });
        }
        // Progress is saved page by page: a request that dies continues from here.
        store.put(&record).await?;
    }
    tracing::info!(erasure_id = %record.erasure_id, pages = record.pages, "erasure continues with the next request");
    Ok(Erased { record, no_op: false })
}

/// An erasure's record (`GET /v1/erasures/{id}`).
pub async fn erasure(store: &Store, erasure_id: &str) -> Result<ErasureRecord, ContactError> {
    check_erasure_id(erasure_id)?;
    store.erasure(erasure_id).await?.ok_or_else(|| ContactError::ErasureNotFound(erasure_id.to_owned()))
}

/// The stored answer of a send without the edit summary (which quotes the texts).
fn redacted_send_body(body: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut fields)) => {
            fields.remove("summary");
            serde_json::Value::Object(fields).to_string()
        }
        _ => "{}".to_owned(),
    }
}

async fn erase_execution(
    store: &Store,
    execution_id: &str,
    now: DateTime<Utc>,
    intents: &mut Option<Vec<DynamicIntent>>,
    record: &mut ErasureRecord,
) -> Result<(), StoreError> {
    let Some((execution, send)) = store.stored_execution(execution_id).await? else { return Ok(()) };
    let quoted = Quoted::of(&execution);
    for reference in store.proposal_references(execution_id).await? {
        if redact_proposal(store, &reference, quoted.as_ref()).await? {
            record.proposals_redacted += 1;
        }
        if store.delete_proposal_reference(&reference).await? {
            record.items_deleted += 1;
        }
    }
    if let Some(quoted) = &quoted {
        let intents = match intents {
            Some(intents) => intents,
            None => intents.insert(store.all_intents().await?),
        };
        for intent in intents.iter_mut() {
            let examples = quoted.without(&intent.examples);
            let description = quoted.redact(&intent.description);
            if examples.len() == intent.examples.len() && description == intent.description {
                continue;
            }
            if store.replace_intent_text(&intent.intent_id, &examples, &description).await? {
                record.intents_redacted += 1;
            }
            intent.examples = examples;
            intent.description = description;
        }
    }
    let deleted = [
        store.delete_feedback(execution_id).await?,
        store.delete_idempotency_record(keys::EXECUTIONS_IDEMPOTENCY_SCOPE, execution_id).await?,
        store.delete_idempotency_record(keys::FEEDBACK_IDEMPOTENCY_SCOPE, execution_id).await?,
    ];
    record.items_deleted += deleted.iter().filter(|deleted| **deleted).count() as u64;
    let send_body = send.map(|send| redacted_send_body(&send.response_body));
    if store.redact_execution(execution_id, send_body, now).await? {
        record.executions_erased += 1;
    }
    Ok(())
}

/// Removes what a proposal quotes of one execution: its evidence, and examples that are its
/// masked message (also quoted in the description). The proposal's counts (impact, support)
/// stay. `true` when the proposal changed.
async fn redact_proposal(
    store: &Store,
    reference: &ProposalReference,
    quoted: Option<&Quoted>,
) -> Result<bool, StoreError> {
    const ATTEMPTS: usize = 3;
    for _ in 0..ATTEMPTS {
        let Some(proposal) = store.stored_proposal(&reference.proposal_id).await? else { return Ok(false) };
        let mut redacted = proposal.clone();
        redacted.proposal.evidence.retain(|evidence| evidence.id != reference.execution_id);
        if let Some(quoted) = quoted {
            redacted.proposal.examples = quoted.without(&redacted.proposal.examples);
            redacted.description = quoted.redact(&redacted.description);
        }
        if redacted == proposal {
            return Ok(false);
        }
        // Conditional on the status read: a review deciding it meanwhile makes this read again.
        let mut transaction = Transaction::new();
        transaction.decide_proposal(&redacted, proposal.status)?;
        match store.commit(transaction).await {
            Ok(()) => return Ok(true),
            Err(error) if error.is_condition_failure() => continue,
            Err(error) => return Err(error),
        }
    }
    Err(StoreError::ConditionFailed { kind: "proposal", id: reference.proposal_id.to_string() })
}

/// Completes the erasure: the record and the `ContactErased` event's outbox entry in one
/// transaction, then the event on the bus (left in the outbox for the batch's drain when the bus
/// refuses it).
async fn complete(
    store: &Store,
    bus: &EventBus,
    record: &mut ErasureRecord,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    record.status = ErasureStatus::Completed;
    record.completed_at = Some(now);
    record.cursor = None;
    let event = ContactErased {
        erasure_id: record.erasure_id.clone(),
        executions_erased: record.executions_erased,
        items_deleted: record.items_deleted,
        proposals_redacted: record.proposals_redacted,
        intents_redacted: record.intents_redacted,
        completed_at: now,
    };
    let entry = OutboxEntry {
        execution_id: record.erasure_id.clone(),
        subject: OutboxSubject::Erasure,
        detail_type: event.detail_type().to_owned(),
        detail: serde_json::to_string(&event).map_err(|error| StoreError::Build(error.to_string()))?,
        created_at: now,
    };
    let mut transaction = Transaction::new();
    transaction.put(&*record)?;
    transaction.put(&entry)?;
    store.commit(transaction).await?;
    tracing::info!(erasure_id = %record.erasure_id, executions = record.executions_erased, "contact erased");
    match bus.publish(&event).await {
        Ok(()) => {
            if let Err(error) = store
                .clear_outbox_entry(OutboxSubject::Erasure, &record.erasure_id, event.detail_type())
                .await
            {
                tracing::warn!(erasure_id = %record.erasure_id, %error, "outbox entry not cleared; the drain puts the event again");
            }
        }
        Err(error) => {
            tracing::warn!(erasure_id = %record.erasure_id, %error, "ContactErased left in the outbox");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_ids_are_what_the_webhooks_accept() {
        assert!(check_contact_id("contact-1").is_ok());
        assert!(check_contact_id(&"a".repeat(128)).is_ok());
        for bad in ["", " ", "a b", "x/y", "ü", &"a".repeat(129)] {
            let error = check_contact_id(bad).unwrap_err();
            assert!(error.to_string().starts_with("contactId: "), "{bad:?}: {error}");
        }
    }

    #[test]
    fn a_send_answer_loses_its_summary_only() {
        let body = r#"{"executionId":"e1","outcome":"rewritten","summary":"removed \"my flat\""}"#;
        let redacted: serde_json::Value = serde_json::from_str(&redacted_send_body(body)).unwrap();
        assert_eq!(redacted, serde_json::json!({"executionId": "e1", "outcome": "rewritten"}));
        assert_eq!(redacted_send_body("not json"), "{}");
    }

    #[test]
    fn quotes_of_an_erased_message_leave_descriptions() {
        let mut execution = autolearn_testkit_free_execution();
        execution.message.body = "Where can I park my van, call 555-201-3344".into();
        let quoted = Quoted::of(&execution).unwrap();
        let (masked, quote) = quoted.forms[0].clone();
        let description = format!("People ask about park, van, e.g. \"{quote}\"");
        assert_eq!(quoted.redact(&description), "People ask about park, van, e.g. \"[erased]\"");
        assert_eq!(quoted.without(&[masked, "other".into()]), vec!["other".to_owned()]);
        execution.message.body = "park".into();
        let short = Quoted::of(&execution).unwrap();
        assert_eq!(short.redact("People ask about park, parking"), "People ask about park, parking");
        execution.message.body = "  ".into();
        assert!(Quoted::of(&execution).is_none());
    }

    /// A message with a phone number in another script's digits was copied unmasked before
    /// such numbers were masked: erasure finds that copy too.
    #[test]
    fn copies_masked_by_earlier_versions_are_found() {
        let mut execution = autolearn_testkit_free_execution();
        execution.message.body = "هل يوجد موقف؟ اتصل ٥٥٥-١٢٣-٤٥٦٧".into();
        let quoted = Quoted::of(&execution).unwrap();
        let current = "هل يوجد موقف؟ اتصل [phone]".to_owned();
        let earlier = execution.message.body.clone();
        let examples = vec![current.clone(), earlier.clone(), "other".to_owned()];
        assert_eq!(quoted.quoted_by(&examples), vec![current, earlier.clone()]);
        assert_eq!(quoted.without(&examples), vec!["other".to_owned()]);
        let description = format!("People ask, e.g. \"{earlier}\"");
        assert_eq!(quoted.redact(&description), "People ask, e.g. \"[erased]\"");
    }

    /// A copy of the quoted form stored with the message is found even when today's masking
    /// would mask the body otherwise (a later release changed it).
    #[test]
    fn the_stored_quoted_form_is_a_copy_too() {
        let mut execution = autolearn_testkit_free_execution();
        execution.message.body = "Is there parking? Call 555-123-4567".into();
        execution.message.quoted = Some("Is there parking? Call [number]".into());
        let quoted = Quoted::of(&execution).unwrap();
        let examples =
            vec!["Is there parking? Call [number]".to_owned(), "Is there parking? Call [phone]".to_owned()];
        assert_eq!(quoted.quoted_by(&examples), examples);
    }

    fn autolearn_testkit_free_execution() -> Execution {
        serde_json::from_value(serde_json::json!({
            "executionId": "e1", "conversationId": "c1", "contactId": "k1",
            "message": {"messageId": "m1", "body": "hi", "receivedAt": "2026-11-16T09:00:00Z"},
            "status": "success", "createdAt": "2026-11-16T09:00:00Z"
        }))
        .unwrap()
    }
}
