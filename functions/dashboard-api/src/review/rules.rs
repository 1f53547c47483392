//! The rules of a review, free of HTTP: a pending proposal is applied or rejected once, in one
//! transaction with its effect and the day's counter. Errors say what went wrong in domain
//! terms; the handlers map them to HTTP in one place.

use autolearn_model::counters::shard_for;
use autolearn_model::keys::{self, COUNTER_SHARDS};
use autolearn_model::{
    ConfigItem, Counter, DynamicIntent, LearningProposal, PlaybookEntry, ProposalKind, ProposalStatus, Store,
    StoreError, Transaction, UsageCounts,
};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Longest accepted proposal id and review note.
pub const MAX_ID_CHARS: usize = 200;
pub const MAX_NOTE_CHARS: usize = 2000;

/// Why a review did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("a proposal id has 1 to {MAX_ID_CHARS} printable characters")]
    InvalidId,
    #[error("proposal {0} not found")]
    NotFound(String),
    #[error("proposal {id} is already {}", status.as_str())]
    AlreadyDecided { id: String, status: ProposalStatus },
    #[error("proposal {0} is being decided concurrently; retry")]
    DecidedConcurrently(String),
    /// The proposal cannot be applied as it stands (no intent name, no playbook text, an
    /// active intent of the same name).
    #[error("{0}")]
    NotApplicable(String),
    /// The effect's own write was refused (it exists already, or its target is gone).
    #[error("{0}")]
    EffectRefused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Apply,
    Reject,
}

/// What applying created or changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Effect {
    /// A new experimental dynamic intent.
    Intent { id: String },
    /// A new experimental playbook entry.
    PlaybookEntry { id: String },
    /// Examples appended to an existing intent (`added` may be 0 when all were there).
    IntentExamples { id: String, added: usize },
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decided {
    pub proposal: LearningProposal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect: Option<Effect>,
}

fn check_id(id: &str) -> Result<(), ReviewError> {
    if id.is_empty() || id.chars().count() > MAX_ID_CHARS || id.chars().any(char::is_control) {
        return Err(ReviewError::InvalidId);
    }
    Ok(())
}

fn already(id: &str, status: ProposalStatus) -> ReviewError {
    ReviewError::AlreadyDecided { id: id.to_owned(), status }
}

/// The active dynamic intent with this name, if any.
async fn intent_named(store: &Store, name: &str) -> Result<Option<DynamicIntent>, StoreError> {
    Ok(store
        .all_intents()
        .await?
        .into_iter()
        .filter(|intent| intent.name == name)
        .max_by_key(|intent| intent.active))
}

/// Applies or rejects a pending proposal.
pub async fn decide(
    store: &Store,
    proposal_id: &str,
    verdict: Verdict,
    note: Option<String>,
    reviewer: &str,
    now: DateTime<Utc>,
) -> Result<Decided, ReviewError> {
    check_id(proposal_id)?;
    let proposal =
        store.proposal(proposal_id).await?.ok_or_else(|| ReviewError::NotFound(proposal_id.to_owned()))?;
    if proposal.status != ProposalStatus::Pending {
        return Err(already(proposal_id, proposal.status));
    }
    let mut decided = proposal.clone();
    decided.status = match verdict {
        Verdict::Apply => ProposalStatus::Applied,
        Verdict::Reject => ProposalStatus::Rejected,
    };
    decided.decided_at = Some(now);
    decided.decided_by = Some(reviewer.to_owned());
    decided.note = note.filter(|note| !note.trim().is_empty());

    let mut transaction = Transaction::new();
    transaction.decide_proposal(&decided, ProposalStatus::Pending)?;
    let effect = match verdict {
        Verdict::Apply => Some(apply_effect(store, &proposal, now, &mut transaction).await?),
        Verdict::Reject => None,
    };
    let counter = match verdict {
        Verdict::Apply => Counter::ProposalsApplied,
        Verdict::Reject => Counter::ProposalsRejected,
    };
    transaction.add_to_counters(now.date_naive(), shard_for(proposal_id, COUNTER_SHARDS), &[(counter, 1)])?;

    match store.commit(transaction).await {
        Ok(()) => {
            tracing::info!(proposal_id, status = decided.status.as_str(), by = %reviewer, "proposal decided");
            Ok(Decided { proposal: decided, effect })
        }
        Err(StoreError::TransactionCanceled { reasons }) => {
            // Action 0 is the proposal's own move out of pending.
            if let Some(first) = reasons.first().filter(|reason| reason.is_condition_failure()) {
                let status = match first.old::<LearningProposal>().transpose()? {
                    Some(current) => current.status,
                    None => current_status(store, proposal_id).await?,
                };
                return Err(already(proposal_id, status));
            }
            if reasons.iter().any(|reason| reason.code == "TransactionConflict") {
                // Another decision was being written at the same moment: whoever won, this
                // one did not.
                let status = current_status(store, proposal_id).await?;
                return Err(if status == ProposalStatus::Pending {
                    ReviewError::DecidedConcurrently(proposal_id.to_owned())
                } else {
                    already(proposal_id, status)
                });
            }
            Err(match effect {
                Some(Effect::Intent { id }) => {
                    ReviewError::EffectRefused(format!("dynamic intent {id} already exists"))
                }
                Some(Effect::PlaybookEntry { id }) => {
                    ReviewError::EffectRefused(format!("playbook entry {id} already exists"))
                }
                Some(Effect::IntentExamples { id, .. }) => {
                    ReviewError::EffectRefused(format!("dynamic intent {id} no longer exists"))
                }
                None => ReviewError::Store(StoreError::TransactionCanceled { reasons }),
            })
        }
        Err(other) => Err(other.into()),
    }
}

async fn current_status(store: &Store, proposal_id: &str) -> Result<ProposalStatus, ReviewError> {
    Ok(store
        .proposal(proposal_id)
        .await?
        .ok_or_else(|| ReviewError::NotFound(proposal_id.to_owned()))?
        .status)
}

/// Adds the effect of applying a proposal to the transaction.
async fn apply_effect(
    store: &Store,
    proposal: &LearningProposal,
    now: DateTime<Utc>,
    transaction: &mut Transaction,
) -> Result<Effect, ReviewError> {
    let id = &proposal.proposal_id;
    let candidate = &proposal.proposal;
    let intent_name = || {
        candidate
            .intent_name
            .as_deref()
            .filter(|name| !name.trim().is_empty())
            .ok_or_else(|| ReviewError::NotApplicable(format!("proposal {id} names no intent")))
    };
    match candidate.kind {
        ProposalKind::NewIntent => {
            let name = intent_name()?;
            if intent_named(store, name).await?.is_some_and(|intent| intent.active) {
                return Err(ReviewError::NotApplicable(format!(
                    "an active dynamic intent named {name} already exists"
                )));
            }
            let intent = DynamicIntent {
                intent_id: keys::intent_id_for_proposal(id),
                name: name.to_owned(),
                description: proposal.description.clone(),
                examples: candidate.examples.clone(),
                keywords: candidate.keywords.clone(),
                active: true,
                experimental: true,
                extends_builtin: false,
                usage: UsageCounts::default(),
                promoted_at: None,
                deactivated_at: None,
                source_proposal_id: Some(id.clone()),
                created_at: now,
            };
            transaction.create(&intent)?;
            Ok(Effect::Intent { id: intent.intent_id })
        }
        ProposalKind::PlaybookAmendment => {
            let text =
                candidate.playbook_text.clone().filter(|text| !text.trim().is_empty()).ok_or_else(|| {
                    ReviewError::NotApplicable(format!("proposal {id} has no playbook text"))
                })?;
            let entry = PlaybookEntry {
                entry_id: keys::entry_id_for_proposal(id),
                intent_name: candidate.intent_name.clone(),
                text,
                active: true,
                experimental: true,
                usage: UsageCounts::default(),
                promoted_at: None,
                deactivated_at: None,
                source_proposal_id: Some(id.clone()),
                created_at: now,
            };
            transaction.create(&entry)?;
            Ok(Effect::PlaybookEntry { id: entry.entry_id })
        }
        ProposalKind::IntentExample => {
            let name = intent_name()?;
            let Some(intent) = intent_named(store, name).await? else {
                // An intent the CRM owns: the examples go to its overlay, a dynamic intent of the
                // same name that only carries examples (and keywords) for the CRM's classifier
                // to add to its own intent. Created once; later example proposals append to it.
                let overlay = DynamicIntent {
                    intent_id: keys::intent_id_for_proposal(id),
                    name: name.to_owned(),
                    description: format!("Examples the agent missed for the built-in intent {name}"),
                    examples: candidate.examples.clone(),
                    keywords: Vec::new(),
                    active: true,
                    experimental: false,
                    extends_builtin: true,
                    usage: UsageCounts::default(),
                    promoted_at: None,
                    deactivated_at: None,
                    source_proposal_id: Some(id.clone()),
                    created_at: now,
                };
                transaction.create(&overlay)?;
                return Ok(Effect::IntentExamples { id: overlay.intent_id, added: overlay.examples.len() });
            };
            let mut new: Vec<String> = Vec::new();
            for example in &candidate.examples {
                if !intent.examples.contains(example) && !new.contains(example) {
                    new.push(example.clone());
                }
            }
            if new.is_empty() {
                transaction.require_exists(ConfigItem::intent(&intent.intent_id))?;
            } else {
                transaction.append_intent_examples(&intent.intent_id, &new)?;
            }
            Ok(Effect::IntentExamples { id: intent.intent_id, added: new.len() })
        }
    }
}
