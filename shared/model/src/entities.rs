//! The entities autolearn stores. Each maps to a DynamoDB item through serde_dynamo; the store
//! adds the key attributes from [`crate::keys`], so these types carry no key formats.

use autolearn_domain::{
    BatchStep, ConfigItem, ConfigUsage, EditAnalysis, ExperimentOutcome, Proposal, ProposalId,
    ProposalStatus, SessionId, SessionStats, SessionStatus, SessionType, UsageCounts, WrittenBy,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::keys::{self, ItemKeys};

/// The intent name the classifier reports when nothing matched.
pub const UNKNOWN_INTENT: &str = "UNKNOWN";

/// An entity stored under one set of keys.
pub trait Entity: Serialize + for<'de> Deserialize<'de> {
    /// Human name used in errors ("execution", "proposal", ...).
    const KIND: &'static str;
    /// The entity's own id, for errors.
    fn id(&self) -> &str;
    fn keys(&self) -> ItemKeys;
    /// True for items that hold customer text (or point at it): the store gives them the TTL
    /// attribute at each write (now + the retention), and erasure finds them by contact.
    const HOLDS_CUSTOMER_TEXT: bool = false;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutionStatus {
    Success,
    Error,
}

/// The inbound customer message an execution answered. Its body is customer text: it is never
/// logged and is escaped wherever rendered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundMessage {
    pub message_id: String,
    pub body: String,
    /// The body as the learning quotes it: the sender's own words with personal data masked
    /// (`autolearn_learning::text::masked_own_words`), computed once where the message comes in
    /// (the intent tracker) so that what reads it (the batch) needs no masking of its own.
    /// `None` on executions recorded before it was stored: they are learnt from, never quoted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoted: Option<String>,
    pub received_at: DateTime<Utc>,
}

/// The intent the classifier matched. `dynamic_intent_id` is set when the match was a dynamic
/// (learned) intent rather than a built-in one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchedIntent {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic_intent_id: Option<String>,
}

/// One run of the reply agent on an inbound message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub execution_id: String,
    pub conversation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    pub message: InboundMessage,
    /// `None` when the classifier matched nothing (UNKNOWN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<MatchedIntent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill: Option<String>,
    #[serde(default)]
    pub playbook_entry_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_reply: Option<String>,
    pub status: ExecutionStatus,
    pub created_at: DateTime<Utc>,
    /// Set when the contact's data was erased: the message body and the draft are gone and
    /// `contactId` with them; the ids and what was counted stay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<DateTime<Utc>>,
}

impl Execution {
    /// The intent name as the metrics count it: UNKNOWN when nothing matched.
    pub fn intent_name(&self) -> &str {
        self.intent.as_ref().map_or(UNKNOWN_INTENT, |intent| intent.name.as_str())
    }

    pub fn is_matched(&self) -> bool {
        self.intent_name() != UNKNOWN_INTENT
    }

    /// A gap: the agent ran successfully but matched no intent or produced no draft. Gaps are
    /// what the weekly batch mines for new intents.
    pub fn is_gap(&self) -> bool {
        self.status == ExecutionStatus::Success && (!self.is_matched() || self.draft_reply.is_none())
    }

    pub fn day(&self) -> NaiveDate {
        self.created_at.date_naive()
    }
}

impl Entity for Execution {
    fn id(&self) -> &str {
        &self.execution_id
    }
    const KIND: &'static str = "execution";
    const HOLDS_CUSTOMER_TEXT: bool = true;
    fn keys(&self) -> ItemKeys {
        keys::execution(&self.execution_id, self.created_at, self.is_gap(), self.contact_id.as_deref())
    }
}

/// A send whose text differed from the draft by more than the threshold: the implicit signal
/// that the draft was wrong. It waits in the unanalyzed queue until a batch studies it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DraftFeedback {
    pub feedback_id: String,
    pub execution_id: String,
    pub conversation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic_intent_id: Option<String>,
    pub original_draft: String,
    pub sent_version: String,
    /// The draft and the sent reply with personal data masked (`text::mask_personal_data`),
    /// computed by the webhook where they come in: what the batch learns from and quotes. `None`
    /// on feedback recorded before they were stored (its texts are then neither compared nor
    /// quoted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masked_draft: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masked_sent: Option<String>,
    /// The learning engine's analysis: normalized edit distance in [0, 1], word counts,
    /// reason codes, removed and added phrases, and the one-line summary.
    pub analysis: EditAnalysis,
    /// A language model's one-line summary of the edit (`ANALYST=bedrock`), beside the rules'
    /// `analysis.summary`; written by the batch that analysed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_summary: Option<String>,
    pub analyzed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_session_id: Option<SessionId>,
    pub sent_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl DraftFeedback {
    pub fn edit_distance(&self) -> f64 {
        self.analysis.distance
    }

    pub fn diff_summary(&self) -> &str {
        &self.analysis.summary
    }
}

impl Entity for DraftFeedback {
    fn id(&self) -> &str {
        &self.execution_id
    }
    const KIND: &'static str = "draft feedback";
    const HOLDS_CUSTOMER_TEXT: bool = true;
    fn keys(&self) -> ItemKeys {
        keys::feedback(&self.execution_id, self.sent_at, self.analyzed)
    }
}

/// A learned intent the classifier can match, possibly still on trial (experimental).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DynamicIntent {
    pub intent_id: String,
    /// UPPER_SNAKE name, e.g. `MAINTENANCE_REQUEST`.
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    pub active: bool,
    pub experimental: bool,
    /// An overlay of an intent the CRM owns (same name): it only carries examples and keywords
    /// for the CRM's classifier to add to its own intent, and is never an experiment.
    #[serde(default)]
    pub extends_builtin: bool,
    #[serde(flatten)]
    pub usage: UsageCounts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_proposal_id: Option<ProposalId>,
    pub created_at: DateTime<Utc>,
}

impl DynamicIntent {
    /// The intent as the A/B rules see it.
    pub fn config_usage(&self) -> ConfigUsage<'_> {
        ConfigUsage {
            item: ConfigItem::intent(&self.intent_id),
            name: &self.name,
            usage: self.usage,
            active: self.active,
            experimental: self.experimental,
        }
    }
}

impl Entity for DynamicIntent {
    fn id(&self) -> &str {
        &self.intent_id
    }
    const KIND: &'static str = "dynamic intent";
    fn keys(&self) -> ItemKeys {
        keys::intent(&self.intent_id, &self.name)
    }
}

/// Guidance injected into the agent's prompt, for one intent or (without one) globally.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaybookEntry {
    pub entry_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent_name: Option<String>,
    pub text: String,
    pub active: bool,
    pub experimental: bool,
    #[serde(flatten)]
    pub usage: UsageCounts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_proposal_id: Option<ProposalId>,
    pub created_at: DateTime<Utc>,
}

impl PlaybookEntry {
    /// The entry as the A/B rules see it (named by its text).
    pub fn config_usage(&self) -> ConfigUsage<'_> {
        ConfigUsage {
            item: ConfigItem::playbook_entry(&self.entry_id),
            name: &self.text,
            usage: self.usage,
            active: self.active,
            experimental: self.experimental,
        }
    }
}

impl Entity for PlaybookEntry {
    fn id(&self) -> &str {
        &self.entry_id
    }
    const KIND: &'static str = "playbook entry";
    fn keys(&self) -> ItemKeys {
        keys::playbook_entry(&self.entry_id)
    }
}

/// One run of learning over a period; a batch session covers the 7 days before its trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LearningSession {
    pub session_id: SessionId,
    pub session_type: SessionType,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub status: SessionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Totals of the run (conversations analysed, edits analysed, ...).
    #[serde(default)]
    pub stats: SessionStats,
    #[serde(default)]
    pub proposal_ids: Vec<ProposalId>,
    /// Steps of the batch already done, so a rerun continues where the last one stopped.
    #[serde(default)]
    pub completed_steps: Vec<BatchStep>,
    /// A/B decisions the batch took, with their numbers.
    #[serde(default)]
    pub decisions: Vec<ExperimentOutcome>,
    /// SES message id of the report, once sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_message_id: Option<String>,
    /// How many [`FeedbackReadChunk`]s hold the feedback this session's analysis reads: set
    /// once, before the analysis first reads, so that a rerun reads the same feedback and the
    /// step that takes feedback out of the queue takes exactly that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback_read_chunks: Option<u32>,
    /// The run working on the session (one at a time), and until when (epoch milliseconds; the
    /// run's own deadline). See [`crate::Store::lease_session`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<i64>,
    /// When a run claimed the sending of the report: set before SES is called, so that no other
    /// run sends it too; cleared when SES refused it, so that the next run sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_claimed_at: Option<DateTime<Utc>>,
    /// When the batch handed the wording of its proposals to the proposal-analyst function
    /// (`ANALYST=bedrock`), and when the analyst finished it. A batch that finds the first without
    /// the second waits, up to the analyst's time limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wording_requested_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worded_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A page of the feedback (execution ids) a session's analysis reads, in its session's item
/// collection. Feedback queued after the session recorded its read waits for the next run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackReadChunk {
    pub session_id: SessionId,
    pub chunk: u32,
    pub execution_ids: Vec<String>,
}

impl FeedbackReadChunk {
    /// Execution ids per chunk: at most 128 characters each, so a chunk stays far below the
    /// item size limit.
    pub const IDS: usize = 2000;
}

impl Entity for FeedbackReadChunk {
    fn id(&self) -> &str {
        &self.session_id
    }
    const KIND: &'static str = "feedback read chunk";
    fn keys(&self) -> ItemKeys {
        keys::feedback_read_chunk(&self.session_id, self.chunk)
    }
}

impl LearningSession {
    pub fn has_completed(&self, step: BatchStep) -> bool {
        self.completed_steps.contains(&step)
    }
}

impl Entity for LearningSession {
    fn id(&self) -> &str {
        &self.session_id
    }
    const KIND: &'static str = "learning session";
    fn keys(&self) -> ItemKeys {
        keys::session(&self.session_id, self.period_start)
    }
}

/// A proposal awaiting (or past) an admin's review: the learning's [`Proposal`] with its id,
/// the session that made it, its status and the review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LearningProposal {
    pub proposal_id: ProposalId,
    pub session_id: SessionId,
    pub status: ProposalStatus,
    /// What is proposed and why (kind, title, intent, examples, playbook text, confidence,
    /// impact, evidence, fingerprint), stored inline.
    #[serde(flatten)]
    pub proposal: Proposal,
    /// One sentence for people (the new intent's description once applied).
    #[serde(default)]
    pub description: String,
    /// Who worded it (absent on proposals of earlier releases: the rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_by: Option<WrittenBy>,
    /// Later sessions whose support was added to this pending proposal (each once), instead of
    /// proposing the same idea again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refreshed_by: Vec<SessionId>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl LearningProposal {
    /// A new pending proposal of a session. Its id derives from the session and the
    /// fingerprint, so a rerun of the session cannot store the same idea twice.
    pub fn pending(
        session_id: &SessionId,
        proposal: Proposal,
        description: String,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            proposal_id: keys::proposal_id(session_id, &proposal.fingerprint),
            session_id: session_id.clone(),
            status: ProposalStatus::Pending,
            proposal,
            description,
            written_by: None,
            refreshed_by: Vec::new(),
            created_at: now,
            decided_at: None,
            decided_by: None,
            note: None,
        }
    }
}

impl Entity for LearningProposal {
    fn id(&self) -> &str {
        &self.proposal_id
    }
    const KIND: &'static str = "proposal";
    const HOLDS_CUSTOMER_TEXT: bool = true;
    fn keys(&self) -> ItemKeys {
        keys::proposal(&self.proposal_id, self.status.as_str(), self.created_at)
    }
}

/// The stored outcome of a request, so a retried delivery gets the first answer back instead
/// of repeating its effects. Expires by TTL; readers ignore expired records themselves because
/// TTL deletion is lazy (and never happens on the emulator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyRecord {
    pub scope: String,
    pub key: String,
    /// SHA-256 of the request body: the same key with another body is a conflict.
    pub request_hash: String,
    pub response_status: u16,
    pub response_body: String,
    pub created_at: DateTime<Utc>,
    /// Epoch seconds; the table's TTL attribute.
    pub expires_at: i64,
}

/// What an outbox entry's event is about, which decides where the entry is stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OutboxSubject {
    /// An execution (`execution_id` is its id): `DraftFeedbackRecorded`. Entries of earlier
    /// releases read as this.
    #[default]
    Execution,
    /// An erasure (`execution_id` holds the erasure id): `ContactErased`.
    Erasure,
}

/// An event waiting to be put on the bus, written in the same transaction as the change it
/// announces and deleted once EventBridge accepted it: a failed PutEvents loses nothing, the
/// next drain puts it again (consumers deduplicate by the ids in its detail).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    /// The id of what the event is about: an execution's, or an erasure's (see `subject`).
    pub execution_id: String,
    #[serde(default)]
    pub subject: OutboxSubject,
    pub detail_type: String,
    /// The event's detail, JSON (ids and numbers, never customer text).
    pub detail: String,
    pub created_at: DateTime<Utc>,
}

impl Entity for OutboxEntry {
    fn id(&self) -> &str {
        &self.execution_id
    }
    const KIND: &'static str = "outbox entry";
    fn keys(&self) -> ItemKeys {
        match self.subject {
            OutboxSubject::Execution => {
                keys::outbox_entry(&self.execution_id, &self.detail_type, self.created_at)
            }
            OutboxSubject::Erasure => {
                keys::erasure_outbox_entry(&self.execution_id, &self.detail_type, self.created_at)
            }
        }
    }
}

/// A proposal quotes an execution (evidence from it, or an example that is its masked
/// message): stored in the execution's item collection by the batch that wrote the proposal,
/// so that an erasure of the execution's contact finds the proposal without a scan. Holds ids
/// only, and expires with the proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProposalReference {
    pub execution_id: String,
    pub proposal_id: ProposalId,
}

impl Entity for ProposalReference {
    fn id(&self) -> &str {
        &self.proposal_id
    }
    const KIND: &'static str = "proposal reference";
    const HOLDS_CUSTOMER_TEXT: bool = true;
    fn keys(&self) -> ItemKeys {
        keys::proposal_reference(&self.execution_id, &self.proposal_id)
    }
}

/// Where an erasure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ErasureStatus {
    /// Pages of the contact's items are still to do; a repeated request continues.
    InProgress,
    /// Nothing of the contact's is left in the contact index.
    Completed,
}

/// The erasure of one contact's data and its progress. Its id derives from the contact id
/// ([`keys::erasure_id_for_contact`]); the record itself never holds the contact id, so it
/// survives the erasure it reports on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErasureRecord {
    pub erasure_id: String,
    pub status: ErasureStatus,
    /// Executions redacted so far.
    pub executions_erased: u64,
    /// Feedback, idempotency records and proposal references deleted so far.
    pub items_deleted: u64,
    /// Proposals whose evidence or examples quoting the contact were removed.
    pub proposals_redacted: u64,
    /// Dynamic intents whose examples quoting the contact were removed.
    pub intents_redacted: u64,
    /// Pages of the contact index done.
    pub pages: u64,
    /// Where the next page of the contact index starts (opaque; `None`: from the start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
}

impl Entity for ErasureRecord {
    fn id(&self) -> &str {
        &self.erasure_id
    }
    const KIND: &'static str = "erasure";
    fn keys(&self) -> ItemKeys {
        keys::erasure(&self.erasure_id)
    }
}

/// The send of an execution, recorded on the execution item itself (attribute
/// [`SendRecord::ATTRIBUTE`]) in the transaction that counts it: the execution lives as long as
/// its counts, so a redelivery is recognised at any age, unlike an idempotency record's TTL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRecord {
    /// SHA-256 of the parsed request: the same execution with another send is a conflict.
    pub request_hash: String,
    pub response_status: u16,
    pub response_body: String,
    pub recorded_at: DateTime<Utc>,
}

impl SendRecord {
    /// The execution item's attribute that holds its send.
    pub const ATTRIBUTE: &'static str = "send";
}

impl IdempotencyRecord {
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now.timestamp()
    }
}

impl Entity for IdempotencyRecord {
    fn id(&self) -> &str {
        &self.key
    }
    const KIND: &'static str = "idempotency record";
    fn keys(&self) -> ItemKeys {
        keys::idempotency(&self.scope, &self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use autolearn_domain::{Confidence, ProposalKind};

    /// What expires after `RETENTION_DAYS` (docs/retention.md): the items holding customer text
    /// or pointing at it, and nothing that was counted or configured.
    #[test]
    fn exactly_the_items_holding_customer_text_expire_with_the_retention() {
        let expiring = [
            (Execution::KIND, Execution::HOLDS_CUSTOMER_TEXT),
            (DraftFeedback::KIND, DraftFeedback::HOLDS_CUSTOMER_TEXT),
            (LearningProposal::KIND, LearningProposal::HOLDS_CUSTOMER_TEXT),
            (ProposalReference::KIND, ProposalReference::HOLDS_CUSTOMER_TEXT),
        ];
        assert!(expiring.iter().all(|(_, holds)| *holds), "{expiring:?}");
        let kept = [
            (DynamicIntent::KIND, DynamicIntent::HOLDS_CUSTOMER_TEXT),
            (PlaybookEntry::KIND, PlaybookEntry::HOLDS_CUSTOMER_TEXT),
            (LearningSession::KIND, LearningSession::HOLDS_CUSTOMER_TEXT),
            (FeedbackReadChunk::KIND, FeedbackReadChunk::HOLDS_CUSTOMER_TEXT),
            (OutboxEntry::KIND, OutboxEntry::HOLDS_CUSTOMER_TEXT),
            (ErasureRecord::KIND, ErasureRecord::HOLDS_CUSTOMER_TEXT),
            // Idempotency records carry their own, shorter expiry.
            (IdempotencyRecord::KIND, IdempotencyRecord::HOLDS_CUSTOMER_TEXT),
        ];
        assert!(kept.iter().all(|(_, holds)| !*holds), "{kept:?}");
    }

    #[test]
    fn proposals_of_earlier_releases_still_read() {
        let old = serde_json::json!({
            "proposalId": "p-1", "sessionId": "s-1", "kind": "new_intent", "status": "pending",
            "title": "New intent PARKING", "intentName": "PARKING", "confidence": "high", "impact": 4,
            "evidence": [{"conversationId": "c1", "executionId": "e1", "text": "where to park?"}],
            "fingerprint": "newIntent:intent:1", "createdAt": "2026-11-16T08:00:00Z"
        });
        let proposal: LearningProposal = serde_json::from_value(old).unwrap();
        assert_eq!(proposal.proposal.kind, ProposalKind::NewIntent);
        assert_eq!(proposal.proposal.confidence, Confidence::High);
        assert_eq!(proposal.proposal.evidence[0].id, "e1");
        let written = serde_json::to_value(&proposal).unwrap();
        assert_eq!(written["kind"], "newIntent");
    }
}
