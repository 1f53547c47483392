//! Proposals: what the learning suggests to an admin, with evidence, confidence and impact.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// What a proposal would change if applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProposalKind {
    /// A new (experimental) dynamic intent, from a cluster of unmatched messages.
    #[serde(alias = "new_intent")]
    NewIntent,
    /// New examples for an existing intent the classifier missed.
    #[serde(alias = "intent_example")]
    IntentExample,
    /// A playbook amendment for an intent (or global), from a recurring edit theme.
    #[serde(alias = "playbook_amendment")]
    PlaybookAmendment,
}

impl ProposalKind {
    /// The JSON spelling, also used inside fingerprints.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewIntent => "newIntent",
            Self::IntentExample => "intentExample",
            Self::PlaybookAmendment => "playbookAmendment",
        }
    }
}

/// Where a proposal is in its review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProposalStatus {
    Pending,
    Applied,
    Rejected,
    Expired,
}

impl ProposalStatus {
    pub const ALL: [ProposalStatus; 4] = [Self::Pending, Self::Applied, Self::Rejected, Self::Expired];

    /// The JSON spelling, also part of the proposals-by-status index key.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Applied => "applied",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
        }
    }

    /// The status spelled `raw` (as in JSON), if any.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// Applied, rejected and expired are final.
    pub fn is_final(self) -> bool {
        self != Self::Pending
    }
}

/// How sure the learning is that a proposal is right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Confidence {
    /// Little support.
    Low,
    /// Some support.
    Medium,
    /// Support from several distinct conversations.
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// Where a piece of evidence comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EvidenceKind {
    /// An inbound message of a gap execution (no intent matched or no draft). Evidence stored
    /// before evidence had a kind reads as this.
    #[default]
    GapMessage,
    /// A draft feedback record (an edited draft).
    Feedback,
    /// A similar inbound message found by cross-conversation search.
    SimilarMessage,
}

/// One piece of supporting evidence. Any customer text in it is masked (emails, phone
/// numbers, street addresses) and must be escaped wherever it is rendered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// Where it comes from.
    #[serde(default)]
    pub kind: EvidenceKind,
    /// The execution (message or feedback) it comes from. Items of earlier releases call it
    /// `executionId`.
    #[serde(default, alias = "executionId")]
    pub id: String,
    /// The conversation it belongs to.
    pub conversation_id: String,
    /// Masked text, when the evidence is a message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Similarity score, for similar messages. Items of earlier releases call it `similarity`.
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "similarity")]
    pub score: Option<f64>,
    /// A one-line note (e.g. the edit summary of a feedback item).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For an edited draft: what the agent wrote and what the person sent instead, masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit: Option<EditPair>,
}

/// A draft and the reply a person sent instead of it, both masked and cut to a readable length:
/// the before/after an admin reads to judge a playbook amendment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditPair {
    /// The agent's draft.
    pub before: String,
    /// What was sent.
    pub after: String,
}

impl Evidence {
    /// What to show for it: the masked text, else the note.
    pub fn shown_text(&self) -> &str {
        self.text.as_deref().or(self.note.as_deref()).unwrap_or_default()
    }
}

/// Which analyst wrote a proposal's wording.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AnalystKind {
    /// The rules engine (the default, and the fallback of the model).
    #[default]
    Rules,
    /// A language model on Amazon Bedrock.
    Bedrock,
}

/// Who worded a stored proposal: the rules engine, or a model with the prompt that asked it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WrittenBy {
    pub analyst: AnalystKind,
    /// The model, for a model's wording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    /// The prompt file's version, for a model's wording (e.g. `amendment-v1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_version: Option<String>,
}

impl WrittenBy {
    /// The rules engine's wording.
    pub fn rules() -> Self {
        Self { analyst: AnalystKind::Rules, model_id: None, prompt_version: None }
    }

    /// Whether the rules engine wrote it.
    pub fn is_rules(&self) -> bool {
        self.analyst == AnalystKind::Rules
    }
}

/// A proposal as the learning makes it: what is proposed and why. The model crate stores it
/// inside a `LearningProposal` with its id, status and review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Proposal {
    /// What applying it changes.
    pub kind: ProposalKind,
    /// A stable identifier of what is proposed, the same from one batch to the next for the
    /// same suggestion.
    pub fingerprint: String,
    /// When an admin rejects this proposal, all of these keys join the rejected set: a later
    /// candidate matching any of them is not proposed again. The fingerprint is one of them.
    #[serde(default)]
    pub rejection_keys: Vec<String>,
    /// The new intent's name (UPPER_SNAKE) for [`ProposalKind::NewIntent`], the target intent
    /// for [`ProposalKind::IntentExample`], the intent a playbook amendment applies to (`None`
    /// = global).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent_name: Option<String>,
    /// One line for the admin, e.g. "New intent PARKING_SPOT (14 messages, 11 conversations)".
    pub title: String,
    /// Example messages (masked), for new intents and intent examples.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Keywords, for new intents.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The playbook text, for playbook amendments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playbook_text: Option<String>,
    pub confidence: Confidence,
    /// How many messages (or edits) this affects: how much applying it would matter.
    pub impact: u64,
    /// Distinct conversations supporting it.
    #[serde(default)]
    pub support_conversations: u64,
    /// Supporting evidence (bounded in number; `impact` counts all).
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

impl Proposal {
    /// True when any of its rejection keys was rejected before.
    pub fn is_rejected(&self, rejected: &BTreeSet<String>) -> bool {
        self.rejection_keys.iter().any(|key| rejected.contains(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_are_camel_case_and_read_the_old_snake_case() {
        assert_eq!(serde_json::to_value(ProposalKind::NewIntent).unwrap(), json!("newIntent"));
        for (old, kind) in [
            ("new_intent", ProposalKind::NewIntent),
            ("intent_example", ProposalKind::IntentExample),
            ("playbook_amendment", ProposalKind::PlaybookAmendment),
        ] {
            assert_eq!(serde_json::from_value::<ProposalKind>(json!(old)).unwrap(), kind);
            assert_eq!(serde_json::from_value::<ProposalKind>(json!(kind.as_str())).unwrap(), kind);
        }
    }

    #[test]
    fn evidence_of_earlier_releases_still_reads() {
        let old = json!({"conversationId": "c1", "executionId": "e1", "text": "hi", "similarity": 0.5});
        let evidence: Evidence = serde_json::from_value(old).unwrap();
        assert_eq!(evidence.kind, EvidenceKind::GapMessage);
        assert_eq!((evidence.id.as_str(), evidence.score), ("e1", Some(0.5)));
        assert_eq!(evidence.shown_text(), "hi");
    }

    #[test]
    fn statuses_parse_their_own_spelling_only() {
        for status in ProposalStatus::ALL {
            assert_eq!(ProposalStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), json!(status.as_str()));
        }
        assert_eq!(ProposalStatus::parse("Pending"), None);
    }
}
