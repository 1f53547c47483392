//! Proposals: their stable fingerprints, ranking and expiry. The proposal types themselves
//! are the domain's ([`autolearn_domain::proposal`]), re-exported here.

use std::cmp::Ordering;

pub use autolearn_domain::proposal::{Confidence, EditPair, Evidence, EvidenceKind, Proposal, ProposalKind};
use serde::{Deserialize, Serialize};

use crate::text;

/// A stable fingerprint: the kind, a scope and a content key, with the content hashed so
/// the fingerprint stays short whatever the content. The same parts always give the same
/// fingerprint, across runs, machines and versions of Rust.
pub fn fingerprint(kind: ProposalKind, scope: &str, content: &str) -> String {
    format!("{}:{scope}:{:016x}", kind.as_str(), text::stable_hash(content.as_bytes()))
}

/// Sorts proposals by impact (messages affected), highest first; then by confidence,
/// support, kind and fingerprint, so the order is total and deterministic.
pub fn rank(proposals: &mut [Proposal]) {
    proposals.sort_by(compare_by_rank);
}

/// The same order over anything that holds a proposal (a stored proposal, a review card).
pub fn rank_by<T>(items: &mut [T], proposal: impl Fn(&T) -> &Proposal) {
    items.sort_by(|a, b| compare_by_rank(proposal(a), proposal(b)));
}

fn compare_by_rank(a: &Proposal, b: &Proposal) -> Ordering {
    b.impact
        .cmp(&a.impact)
        .then(b.confidence.cmp(&a.confidence))
        .then(b.support_conversations.cmp(&a.support_conversations))
        .then(a.kind.cmp(&b.kind))
        .then(a.fingerprint.cmp(&b.fingerprint))
}

/// Most evidence a proposal keeps once later batches have added their support.
pub const MAX_EVIDENCE: usize = 12;

/// Adds a later batch's support for the same idea to a pending proposal: its impact and
/// supporting conversations add up (each batch studies its own week), its confidence is the
/// higher of the two, and evidence it does not hold yet joins it, up to [`MAX_EVIDENCE`].
/// What is proposed (kind, title, examples, playbook text, fingerprint) stays as the admin
/// first saw it.
pub fn absorb(pending: &mut Proposal, support: &Proposal) {
    pending.impact = pending.impact.saturating_add(support.impact);
    pending.support_conversations =
        pending.support_conversations.saturating_add(support.support_conversations);
    pending.confidence = pending.confidence.max(support.confidence);
    for evidence in &support.evidence {
        if pending.evidence.len() >= MAX_EVIDENCE {
            break;
        }
        if !pending.evidence.iter().any(|held| held.kind == evidence.kind && held.id == evidence.id) {
            pending.evidence.push(evidence.clone());
        }
    }
    for key in &support.rejection_keys {
        if !pending.rejection_keys.contains(key) {
            pending.rejection_keys.push(key.clone());
        }
    }
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
        intent_name: None,
        title: key.to_string(),
        examples: vec![],
        keywords: vec![],
        playbook_text: None,
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
    fn later_support_adds_up_without_duplicating_evidence() {
        let evidence = |id: &str| Evidence {
            kind: EvidenceKind::Feedback,
            id: id.into(),
            conversation_id: format!("c-{id}"),
            text: None,
            score: None,
            note: Some("shortened".into()),
            edit: None,
        };
        let mut pending = sample(ProposalKind::PlaybookAmendment, 5, Confidence::Medium, "short");
        pending.evidence = vec![evidence("e1"), evidence("e2")];
        let mut support = sample(ProposalKind::PlaybookAmendment, 4, Confidence::High, "short");
        support.evidence = vec![evidence("e2"), evidence("e3")];
        support.rejection_keys.push("extra-key".into());
        let title = pending.title.clone();
        absorb(&mut pending, &support);
        assert_eq!((pending.impact, pending.support_conversations), (9, 2));
        assert_eq!(pending.confidence, Confidence::High);
        assert_eq!(pending.evidence.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["e1", "e2", "e3"]);
        assert!(pending.rejection_keys.contains(&"extra-key".to_owned()));
        assert_eq!(pending.title, title);
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
