//! Every DynamoDB key format of the single table, in one place.
//!
//! The table has a composite primary key (`PK`, `SK`) and two global secondary indexes:
//!
//! * `GSI1` (`GSI1PK`, `GSI1SK`, projection ALL) lists entities of one kind in order: executions
//!   by day, intents, playbook entries, proposals by status, sessions by period.
//! * `Queue` (`QPK`, `QSK`, projection ALL) is sparse: an item carries `QPK` only while it is
//!   waiting for the weekly batch, so the index holds the queue and nothing else. Unanalyzed
//!   feedback sits in it until marked analyzed; gap executions sit in it by day.
//! * `Contact` (`CPK`, `CSK`, projection KEYS_ONLY) is sparse: an execution carries `CPK` while it
//!   holds a contact's id and text, so the index lists, per contact, exactly what an erasure has
//!   left to do (a redacted execution leaves it). Everything else that quotes a contact's text
//!   hangs off their executions: the feedback in the execution's item collection, the
//!   idempotency records by the execution id, and a [`proposal_reference`] in the execution's
//!   collection for every proposal whose evidence or examples quote it.
//!
//! ## Retention
//!
//! Items that hold customer text (executions with their sends, feedback, proposals with their
//! evidence and examples, proposal references) carry the TTL attribute [`TTL_ATTRIBUTE`], set
//! by the store at each write to now + `RETENTION_DAYS`; idempotency records carry their own,
//! shorter one. DynamoDB deletes expired items lazily (days later, never on the emulator), so
//! the store's readers skip an item whose expiry has passed: one rule for every reader.
//!
//! ## Access patterns
//!
//! | pattern | key or index | operation |
//! |---|---|---|
//! | get an execution (and its feedback) | `PK=EXEC#{executionId}` | GetItem / Query |
//! | executions of a day | `GSI1PK=EXECDAY#{yyyy-mm-dd}`, `GSI1SK={createdAt}#{executionId}` | Query GSI1 |
//! | gap executions of a day | `QPK=GAPDAY#{yyyy-mm-dd}`, `QSK={createdAt}#{executionId}` | Query Queue |
//! | feedback of an execution | `PK=EXEC#{executionId}`, `SK=FEEDBACK` | GetItem |
//! | an event waiting for the bus | `PK=EXEC#{executionId}`, `SK=OUTBOX#{detailType}`, `QPK=OUTBOX`, `QSK={createdAt}#{executionId}` | TransactWriteItems (with the change) / DeleteItem once put |
//! | events waiting for the bus | `QPK=OUTBOX` | Query Queue |
//! | record a send once, at any age | `PK=EXEC#{executionId}`, `SK=EXECUTION`, SET `send` if absent | TransactWriteItems (with the send's counts) |
//! | unanalyzed feedback | `QPK=FEEDBACK#UNANALYZED`, `QSK={sentAt}#{executionId}` | Query Queue |
//! | unanalyzed feedback before a batch's end | the same, with `QSK < {periodEnd}` | Query Queue |
//! | mark feedback analyzed | `PK=EXEC#{executionId}`, `SK=FEEDBACK`, REMOVE `QPK`,`QSK` | conditional UpdateItem |
//! | store the model's summary of an edit | `PK=EXEC#{executionId}`, `SK=FEEDBACK`, SET `aiSummary` | conditional UpdateItem |
//! | get a dynamic intent | `PK=INTENT#{intentId}`, `SK=INTENT` | GetItem |
//! | list dynamic intents | `GSI1PK=INTENTS`, `GSI1SK={name}#{intentId}` | Query GSI1 |
//! | count an intent hit | `PK=INTENT#{intentId}` ADD `hitCount` | TransactWriteItems (with the execution) |
//! | get / list playbook entries | `PK=PLAYBOOK#{entryId}` / `GSI1PK=PLAYBOOK` | GetItem / Query GSI1 |
//! | count a send toward approval | `PK=INTENT#…` / `PK=PLAYBOOK#…` ADD `sentCount`, `uneditedCount` | TransactWriteItems (with the feedback) |
//! | promote or demote an experiment | `PK=INTENT#…` / `PK=PLAYBOOK#…` with `experimental AND active` | conditional UpdateItem |
//! | get a learning session | `PK=SESSION#{sessionId}`, `SK=SESSION` | GetItem |
//! | the feedback a session's analysis reads | `PK=SESSION#{sessionId}`, `SK=READ#{chunk:05}` | Put / GetItem |
//! | one run at a time on a session | `PK=SESSION#{sessionId}` SET `leaseOwner`,`leaseUntil` if free, expired or own; saves with `leaseOwner = me` | conditional UpdateItem / PutItem |
//! | claim / record the report's send | `PK=SESSION#{sessionId}` SET `reportClaimedAt` / `reportMessageId` if absent | conditional UpdateItem |
//! | sessions in period order | `GSI1PK=SESSIONS`, `GSI1SK={periodStart}#{sessionId}` | Query GSI1 |
//! | get a proposal | `PK=PROPOSAL#{proposalId}`, `SK=PROPOSAL` | GetItem |
//! | proposals by status | `GSI1PK=PROPOSALS#{status}`, `GSI1SK={createdAt}#{proposalId}` | Query GSI1 |
//! | review a proposal | `PK=PROPOSAL#{proposalId}` with `status = pending` | conditional UpdateItem / TransactWriteItems |
//! | daily counters of a day | `PK=METRICS#{yyyy-mm-dd}#{shard}`, `SK=COUNTERS`, one item per shard | UpdateItem ADD / BatchGetItem |
//! | idempotency record | `PK=IDEMPOTENCY#{scope}#{key}`, `SK=IDEMPOTENCY`, TTL `expiresAt` | GetItem / conditional Put |
//! | a contact's executions (what an erasure has left, what an export shows) | `CPK=CONTACT#{contactId}`, `CSK=EXEC#{createdAt}#{executionId}` | Query Contact (then GetItem) |
//! | proposals quoting an execution | `PK=EXEC#{executionId}`, `SK` begins with `REF#PROPOSAL#` | Put (by the batch) / Query |
//! | redact an execution | `PK=EXEC#{executionId}`, `SK=EXECUTION`, SET `erasedAt`, REMOVE text, `contactId`, `CPK`,`CSK`,`QPK`,`QSK` | UpdateItem |
//! | an erasure and its progress | `PK=ERASURE#{erasureId}`, `SK=ERASURE` (id derived from the contact id) | GetItem / Put |
//! | the ContactErased event waiting for the bus | `PK=ERASURE#{erasureId}`, `SK=OUTBOX#ContactErased`, `QPK=OUTBOX` | TransactWriteItems (with the completed erasure) |
//!
//! No request path scans the table.
//!
//! ## Hot items and contention
//!
//! Every execution and every send writes, in one transaction with its exactly-once guard, the
//! usage counters of its dynamic intent and playbook entries and one shard of the day's
//! counters. DynamoDB cancels a transaction that meets another one on the same item
//! (`TransactionConflict`); the store retries such cancellations, and throttling, with jittered
//! exponential backoff (`store::retry`), and answers 503 only when they outlast its retries.
//! Counts stay exact: a cancelled transaction applied nothing, and a retry that meets its own
//! guard (the transaction did apply, its answer was lost) is answered as a replay.
//!
//! * The day's counters are **sharded** over [`COUNTER_SHARDS`] items (`METRICS#{day}#{shard}`,
//!   the shard chosen from the execution id), because every request of a day writes them.
//! * An intent's or playbook entry's usage counters (`hitCount`, `sentCount`, `uneditedCount`)
//!   stay on the item, **not sharded**: only requests about that item write it, the A/B rules
//!   and the dashboard read them with one GetItem, and retries absorb the conflicts (the
//!   fault-injection tests run 200 concurrent requests on one intent with 30% of transactions
//!   cancelled). An item hot beyond what retries absorb would move its counters to shards
//!   like the day's (`INTENT#{id}` / `USAGE#{shard}`) summed on read.

use autolearn_domain::{ConfigItem, ItemKind, ProposalId, SessionId};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

/// Attribute name of the partition key.
pub const PK: &str = "PK";
/// Attribute name of the sort key.
pub const SK: &str = "SK";
/// The listing index and its key attributes.
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
/// The sparse queue index and its key attributes.
pub const QUEUE_INDEX: &str = "Queue";
pub const QPK: &str = "QPK";
pub const QSK: &str = "QSK";
/// The sparse index of contacts and its key attributes.
pub const CONTACT_INDEX: &str = "Contact";
pub const CPK: &str = "CPK";
pub const CSK: &str = "CSK";
/// The attribute DynamoDB's TTL reads (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "expiresAt";

/// Number of shards of each day's counters. Every write picks one shard, every read sums all,
/// so a busy day spreads its counter writes over this many partitions.
pub const COUNTER_SHARDS: u32 = 8;

/// The primary and index keys of one item. Index keys are `None` when the item is not in that
/// index (this is what makes the queue sparse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemKeys {
    pub pk: String,
    pub sk: String,
    pub gsi1: Option<(String, String)>,
    pub queue: Option<(String, String)>,
    pub contact: Option<(String, String)>,
}

impl ItemKeys {
    fn primary(pk: String, sk: &str) -> Self {
        Self { pk, sk: sk.to_owned(), gsi1: None, queue: None, contact: None }
    }
    fn with_contact(mut self, pk: String, sk: String) -> Self {
        self.contact = Some((pk, sk));
        self
    }
    fn with_gsi1(mut self, pk: String, sk: String) -> Self {
        self.gsi1 = Some((pk, sk));
        self
    }
    fn with_queue(mut self, pk: String, sk: String) -> Self {
        self.queue = Some((pk, sk));
        self
    }
}

/// A day bucket as it appears in keys: `yyyy-mm-dd` (UTC).
pub fn day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A timestamp as it appears in sort keys: RFC 3339 with fixed millisecond precision, so that
/// lexical order is time order.
pub fn sortable_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn execution_pk(execution_id: &str) -> String {
    format!("EXEC#{execution_id}")
}
pub const EXECUTION_SK: &str = "EXECUTION";
pub const FEEDBACK_SK: &str = "FEEDBACK";

pub fn executions_of_day(date: NaiveDate) -> String {
    format!("EXECDAY#{}", day(date))
}
pub fn gaps_of_day(date: NaiveDate) -> String {
    format!("GAPDAY#{}", day(date))
}
pub const UNANALYZED_FEEDBACK: &str = "FEEDBACK#UNANALYZED";

/// An execution's keys. One that holds a contact's id is in the contact index; a gap in the
/// queue of its day.
pub fn execution(
    execution_id: &str,
    created_at: DateTime<Utc>,
    is_gap: bool,
    contact_id: Option<&str>,
) -> ItemKeys {
    let order = format!("{}#{execution_id}", sortable_time(created_at));
    let mut keys = ItemKeys::primary(execution_pk(execution_id), EXECUTION_SK)
        .with_gsi1(executions_of_day(created_at.date_naive()), order.clone());
    if let Some(contact_id) = contact_id {
        keys = keys.with_contact(contact_partition(contact_id), format!("{CONTACT_EXECUTION_PREFIX}{order}"));
    }
    if is_gap { keys.with_queue(gaps_of_day(created_at.date_naive()), order) } else { keys }
}

/// A contact's partition of the contact index.
pub fn contact_partition(contact_id: &str) -> String {
    format!("CONTACT#{contact_id}")
}
/// How the contact index's sort keys of executions begin.
pub const CONTACT_EXECUTION_PREFIX: &str = "EXEC#";

/// How the sort keys of proposal references begin, in an execution's item collection.
pub const PROPOSAL_REFERENCE_PREFIX: &str = "REF#PROPOSAL#";
/// A proposal quotes an execution (its evidence or examples): a reference in the execution's
/// item collection, so that erasing the execution's contact finds the proposal without a scan.
pub fn proposal_reference(execution_id: &str, proposal_id: &str) -> ItemKeys {
    ItemKeys::primary(execution_pk(execution_id), &format!("{PROPOSAL_REFERENCE_PREFIX}{proposal_id}"))
}

pub fn erasure_pk(erasure_id: &str) -> String {
    format!("ERASURE#{erasure_id}")
}
pub const ERASURE_SK: &str = "ERASURE";
pub fn erasure(erasure_id: &str) -> ItemKeys {
    ItemKeys::primary(erasure_pk(erasure_id), ERASURE_SK)
}
/// The erasure of a contact's data: one id per contact, derived from it (so a second request
/// finds the first), that does not hold the contact id itself.
pub fn erasure_id_for_contact(contact_id: &str) -> String {
    let digest = hex::encode(Sha256::digest(format!("erasure|{contact_id}")));
    format!("erasure-{}", &digest[..32])
}
/// The ContactErased event of an erasure, waiting for the bus.
pub fn erasure_outbox_entry(erasure_id: &str, detail_type: &str, created_at: DateTime<Utc>) -> ItemKeys {
    ItemKeys::primary(erasure_pk(erasure_id), &outbox_entry_sk(detail_type))
        .with_queue(OUTBOX.to_owned(), format!("{}#{erasure_id}", sortable_time(created_at)))
}

/// Feedback lives in its execution's item collection: one feedback per execution, so the
/// primary key itself makes the webhook's create exactly-once. The queue orders it by when
/// the reply was sent, which is what a batch period selects on.
pub fn feedback(execution_id: &str, sent_at: DateTime<Utc>, analyzed: bool) -> ItemKeys {
    let keys = ItemKeys::primary(execution_pk(execution_id), FEEDBACK_SK);
    if analyzed {
        keys
    } else {
        keys.with_queue(UNANALYZED_FEEDBACK.to_owned(), format!("{}#{execution_id}", sortable_time(sent_at)))
    }
}

/// The sparse queue partition of events waiting to be put on the bus.
pub const OUTBOX: &str = "OUTBOX";
pub fn outbox_entry_sk(detail_type: &str) -> String {
    format!("OUTBOX#{detail_type}")
}
/// An event about an execution, waiting for the bus (in the outbox part of the queue index).
pub fn outbox_entry(execution_id: &str, detail_type: &str, created_at: DateTime<Utc>) -> ItemKeys {
    ItemKeys::primary(execution_pk(execution_id), &outbox_entry_sk(detail_type))
        .with_queue(OUTBOX.to_owned(), format!("{}#{execution_id}", sortable_time(created_at)))
}

pub fn intent_pk(intent_id: &str) -> String {
    format!("INTENT#{intent_id}")
}
pub const INTENT_SK: &str = "INTENT";
pub const INTENTS: &str = "INTENTS";
pub fn intent(intent_id: &str, name: &str) -> ItemKeys {
    ItemKeys::primary(intent_pk(intent_id), INTENT_SK)
        .with_gsi1(INTENTS.to_owned(), format!("{name}#{intent_id}"))
}

pub fn playbook_entry_pk(entry_id: &str) -> String {
    format!("PLAYBOOK#{entry_id}")
}
pub const PLAYBOOK_ENTRY_SK: &str = "PLAYBOOK";
pub const PLAYBOOK_ENTRIES: &str = "PLAYBOOK";
pub fn playbook_entry(entry_id: &str) -> ItemKeys {
    ItemKeys::primary(playbook_entry_pk(entry_id), PLAYBOOK_ENTRY_SK)
        .with_gsi1(PLAYBOOK_ENTRIES.to_owned(), entry_id.to_owned())
}

pub fn session_pk(session_id: &str) -> String {
    format!("SESSION#{session_id}")
}
pub const SESSION_SK: &str = "SESSION";
pub const SESSIONS: &str = "SESSIONS";
pub fn session(session_id: &str, period_start: DateTime<Utc>) -> ItemKeys {
    ItemKeys::primary(session_pk(session_id), SESSION_SK)
        .with_gsi1(SESSIONS.to_owned(), format!("{}#{session_id}", sortable_time(period_start)))
}

/// One chunk of the execution ids whose feedback a session's analysis reads.
pub fn feedback_read_chunk(session_id: &str, chunk: u32) -> ItemKeys {
    ItemKeys::primary(session_pk(session_id), &feedback_read_chunk_sk(chunk))
}
pub fn feedback_read_chunk_sk(chunk: u32) -> String {
    format!("READ#{chunk:05}")
}

pub fn proposal_pk(proposal_id: &str) -> String {
    format!("PROPOSAL#{proposal_id}")
}
pub const PROPOSAL_SK: &str = "PROPOSAL";
/// A stored proposal's id: the same for the same session and idea, whatever the run.
pub fn proposal_id(session_id: &SessionId, fingerprint: &str) -> ProposalId {
    let digest = hex::encode(Sha256::digest(format!("{session_id}|{fingerprint}")));
    ProposalId::new(format!("prop-{}", &digest[..20]))
}

/// The id of the dynamic intent a new-intent proposal creates: derived from the proposal, so a
/// retried apply can never create a second one.
pub fn intent_id_for_proposal(proposal_id: &str) -> String {
    format!("intent-{proposal_id}")
}

/// The id of the playbook entry a playbook proposal creates.
pub fn entry_id_for_proposal(proposal_id: &str) -> String {
    format!("playbook-{proposal_id}")
}

/// One learning session per period: the id is the period itself.
pub fn session_id_for_period(start: DateTime<Utc>, end: DateTime<Utc>) -> SessionId {
    SessionId::new(format!("batch-{}-{}", start.format("%Y%m%dT%H%M%SZ"), end.format("%Y%m%dT%H%M%SZ")))
}

/// The primary key of a dynamic config item (an intent or a playbook entry).
pub fn config_item(item: ConfigItem<'_>) -> (String, &'static str) {
    match item.kind {
        ItemKind::Intent => (intent_pk(item.id), INTENT_SK),
        ItemKind::PlaybookEntry => (playbook_entry_pk(item.id), PLAYBOOK_ENTRY_SK),
    }
}

pub fn proposals_with_status(status: &str) -> String {
    format!("PROPOSALS#{status}")
}
pub fn proposal_order(proposal_id: &str, created_at: DateTime<Utc>) -> String {
    format!("{}#{proposal_id}", sortable_time(created_at))
}
pub fn proposal(proposal_id: &str, status: &str, created_at: DateTime<Utc>) -> ItemKeys {
    ItemKeys::primary(proposal_pk(proposal_id), PROPOSAL_SK)
        .with_gsi1(proposals_with_status(status), proposal_order(proposal_id, created_at))
}

pub fn counters_pk(date: NaiveDate, shard: u32) -> String {
    format!("METRICS#{}#{shard}", day(date))
}
pub const COUNTERS_SK: &str = "COUNTERS";

pub fn idempotency_pk(scope: &str, key: &str) -> String {
    format!("IDEMPOTENCY#{scope}#{key}")
}
pub const IDEMPOTENCY_SK: &str = "IDEMPOTENCY";
/// The idempotency scope of `POST /v1/executions` (keyed by the execution id).
pub const EXECUTIONS_IDEMPOTENCY_SCOPE: &str = "executions";
/// The idempotency scope of `POST /v1/feedback` (keyed by the execution id).
pub const FEEDBACK_IDEMPOTENCY_SCOPE: &str = "feedback";
pub fn idempotency(scope: &str, key: &str) -> ItemKeys {
    ItemKeys::primary(idempotency_pk(scope, key), IDEMPOTENCY_SK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn sort_keys_order_by_time_across_precision() {
        // Fixed millisecond precision keeps lexical order equal to time order even when one
        // timestamp has whole seconds and the other has a fraction.
        let a = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        let b = a + chrono::Duration::milliseconds(5);
        assert!(sortable_time(a) < sortable_time(b));
        assert_eq!(sortable_time(a), "2026-11-02T09:00:00.000Z");
    }

    #[test]
    fn only_waiting_items_carry_queue_keys() {
        let at = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        assert!(execution("e1", at, false, None).queue.is_none());
        assert_eq!(execution("e1", at, true, None).queue.unwrap().0, "GAPDAY#2026-11-02");
        assert!(feedback("e1", at, true).queue.is_none());
        assert_eq!(feedback("e1", at, false).queue.unwrap().0, UNANALYZED_FEEDBACK);
    }

    #[test]
    fn only_executions_holding_a_contact_are_in_the_contact_index() {
        let at = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        assert!(execution("e1", at, false, None).contact.is_none());
        let (pk, sk) = execution("e1", at, false, Some("c-7")).contact.unwrap();
        assert_eq!((pk.as_str(), sk.as_str()), ("CONTACT#c-7", "EXEC#2026-11-02T09:00:00.000Z#e1"));
        let id = erasure_id_for_contact("c-7");
        assert_eq!(id, erasure_id_for_contact("c-7"));
        assert_ne!(id, erasure_id_for_contact("c-8"));
        assert!(!id.contains("c-7"));
    }
}
