//! Proposals: what the engine suggests to an admin, with its evidence, confidence, impact
//! and a stable fingerprint; their ranking and expiry.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::text;

/// What a proposal would change if applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProposalKind {
    /// A new (experimental) dynamic intent, from a cluster of unmatched messages.
    NewIntent,
    /// New examples for an existing intent the classifier missed.
    IntentExample,
    /// A playbook amendment for an intent (or global), from a recurring edit theme.
    PlaybookAmendment,
}

/// How sure the engine is that a proposal is right.
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

/// Where a piece of evidence comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EvidenceKind {
    /// An inbound message of a gap execution (no intent matched or no draft).
    GapMessage,
    /// A draft feedback record (an edited draft).
    Feedback,
    /// A similar inbound message found by cross-conversation search.
    SimilarMessage,
}

/// One piece of supporting evidence. Any customer text in it is masked (emails, phone
/// numbers, street addresses).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// Where it comes from.
    pub kind: EvidenceKind,
    /// The message or feedback id.
    pub id: String,
    /// The conversation it belongs to.
    pub conversation_id: String,
    /// Masked text, when the evidence is a message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Similarity score, for similar messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// A one-line note (e.g. the edit summary of a feedback item).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A proposal for an admin to apply or reject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Proposal {
    /// What applying it changes.
    pub kind: ProposalKind,
    /// A stable identifier of what is proposed, the same from one batch to the next for
    /// the same suggestion (see [`fingerprint`]).
    pub fingerprint: String,
    /// When an admin rejects this proposal, store all of these keys in the rejected set:
    /// a later candidate matching any of them is not proposed again. The fingerprint is
    /// always one of them.
    pub rejection_keys: Vec<String>,
    /// The intent: the new intent's name (UPPER_SNAKE) for [`ProposalKind::NewIntent`],
    /// the target intent for [`ProposalKind::IntentExample`], the intent a playbook
    /// amendment applies to (`None` = global).
    pub intent: Option<String>,
    /// One line for the admin, e.g. "New intent PARKING_SPOT (14 messages, 11
    /// conversations)".
    pub title: String,
    /// Example messages (masked), for new intents and intent examples.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Keywords, for new intents.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The playbook guidance text, for playbook amendments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guidance: Option<String>,
    /// Confidence.
    pub confidence: Confidence,
    /// Impact: how many messages (or edits) this affects.
    pub impact: u64,
    /// Distinct conversations supporting it.
    pub support_conversations: usize,
    /// Supporting evidence (bounded in number; `impact` counts all).
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

impl Proposal {
    /// True when any of the given rejection keys rejects this proposal.
    pub fn is_rejected(&self, rejected: &std::collections::BTreeSet<String>) -> bool {
        self.rejection_keys.iter().any(|k| rejected.contains(k))
    }
}

/// A stable fingerprint: the kind, a scope and a content key, with the content hashed so
/// the fingerprint stays short whatever the content. The same parts always give the same
/// fingerprint, across runs, machines and versions of Rust.
pub fn fingerprint(kind: ProposalKind, scope: &str, content: &str) -> String {
    let kind = match kind {
        ProposalKind::NewIntent => "newIntent",
        ProposalKind::IntentExample => "intentExample",
        ProposalKind::PlaybookAmendment => "playbookAmendment",
    };
    format!("{kind}:{scope}:{:016x}", text::stable_hash(content.as_bytes()))
}

/// Sorts proposals by impact (messages affected), highest first; then by confidence,
/// support, kind and fingerprint, so the order is total and deterministic.
pub fn rank(proposals: &mut [Proposal]) {
    proposals.sort_by(compare_by_rank);
}

fn compare_by_rank(a: &Proposal, b: &Proposal) -> Ordering {
    b.impact
        .cmp(&a.impact)
        .then(b.confidence.cmp(&a.confidence))
        .then(b.support_conversations.cmp(&a.support_conversations))
        .then(a.kind.cmp(&b.kind))
        .then(a.fingerprint.cmp(&b.fingerprint))
}

/// How long a pending proposal stays pending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExpiryConfig {
    /// Lifetime of a pending proposal, in seconds (default 4 weeks).
    pub pending_ttl_secs: i64,
}

/// Four weeks, in seconds.
pub const FOUR_WEEKS_SECS: i64 = 28 * 24 * 60 * 60;

impl Default for ExpiryConfig {
    fn default() -> Self {
        Self { pending_ttl_secs: FOUR_WEEKS_SECS }
    }
}

/// True when a pending proposal created at `created_at_epoch_secs` has expired at
/// `now_epoch_secs` (its age is at least the configured lifetime).
pub fn is_expired(created_at_epoch_secs: i64, now_epoch_secs: i64, cfg: &ExpiryConfig) -> bool {
    now_epoch_secs.saturating_sub(created_at_epoch_secs) >= cfg.pending_ttl_secs
}

/// The epoch second at which a proposal created at `created_at_epoch_secs` expires (for a
/// store's TTL attribute).
pub fn expires_at(created_at_epoch_secs: i64, cfg: &ExpiryConfig) -> i64 {
    created_at_epoch_secs.saturating_add(cfg.pending_ttl_secs)
}

#[cfg(test)]
pub(crate) fn sample(kind: ProposalKind, impact: u64, confidence: Confidence, key: &str) -> Proposal {
    Proposal {
        kind,
        fingerprint: fingerprint(kind, "test", key),
        rejection_keys: vec![fingerprint(kind, "test", key)],
        intent: None,
        title: key.to_string(),
        examples: vec![],
        keywords: vec![],
        guidance: None,
        confidence,
        impact,
        support_conversations: 1,
        evidence: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranking_is_by_impact_then_confidence() {
        let mut proposals = vec![
            sample(ProposalKind::NewIntent, 5, Confidence::High, "a"),
            sample(ProposalKind::PlaybookAmendment, 40, Confidence::Low, "b"),
            sample(ProposalKind::IntentExample, 5, Confidence::Medium, "c"),
            sample(ProposalKind::NewIntent, 12, Confidence::Low, "d"),
        ];
        rank(&mut proposals);
        let order: Vec<&str> = proposals.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(order, vec!["b", "d", "a", "c"]);
    }

    #[test]
    fn pending_proposals_expire_after_four_weeks() {
        let cfg = ExpiryConfig::default();
        let created = 1_700_000_000;
        assert!(!is_expired(created, created + FOUR_WEEKS_SECS - 1, &cfg));
        assert!(is_expired(created, created + FOUR_WEEKS_SECS, &cfg));
        assert_eq!(expires_at(created, &cfg), created + FOUR_WEEKS_SECS);
        let short = ExpiryConfig { pending_ttl_secs: 60 };
        assert!(is_expired(created, created + 60, &short));
    }

    #[test]
    fn fingerprints_are_stable() {
        // The value is pinned: fingerprints are stored, so they must never change.
        assert_eq!(
            fingerprint(ProposalKind::NewIntent, "intent", "parking+spot"),
            fingerprint(ProposalKind::NewIntent, "intent", "parking+spot")
        );
        insta::assert_snapshot!(
            fingerprint(ProposalKind::NewIntent, "intent", "parking+spot"),
            @"newIntent:intent:b4f4bd6179ec5fec"
        );
    }

    #[test]
    fn proposals_serialize_in_camel_case() {
        let p = sample(ProposalKind::IntentExample, 3, Confidence::High, "x");
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["kind"], "intentExample");
        assert_eq!(json["confidence"], "high");
        assert!(json.get("supportConversations").is_some());
        let back: Proposal = serde_json::from_value(json).unwrap();
        assert_eq!(back, p);
    }
}
