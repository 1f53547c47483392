//! The review of proposals: list them by status, apply or reject one.
//!
//! A decision is one transaction: the proposal moves from pending (a conditional write, so a
//! concurrent apply and reject cannot both win), its effect is written (a new experimental
//! intent or playbook entry, or examples appended to an intent), and the decision day's counter
//! of applied or rejected proposals grows (read by the dashboard as learning velocity).
//! Applied and rejected are final; a rejected proposal keeps its fingerprint, so the batch
//! never proposes it again.

use autolearn_model::counters::shard_for;
use autolearn_model::keys::{self, COUNTER_SHARDS};
use autolearn_model::{
    ConfigItem, Counter, DynamicIntent, LearningProposal, PlaybookEntry, ProposalKind, ProposalStatus, Store,
    StoreError, Transaction, UsageCounts,
};
use autolearn_web::ApiError;
use autolearn_web::extract::{Bytes, Path, Query};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AdminIdentity, AppState};

/// Longest accepted proposal id and review note.
const MAX_ID_CHARS: usize = 200;
pub const MAX_NOTE_CHARS: usize = 2000;

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

/// The body of a reject: an optional note.
#[derive(Debug, Default, Deserialize, garde::Validate)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RejectBody {
    #[garde(length(chars, max = MAX_NOTE_CHARS))]
    pub note: Option<String>,
}

fn check_id(id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.chars().count() > MAX_ID_CHARS || id.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "id",
            format!("a proposal id has 1 to {MAX_ID_CHARS} printable characters"),
        ));
    }
    Ok(())
}

fn already(id: &str, status: ProposalStatus) -> ApiError {
    ApiError::Conflict(format!("proposal {id} is already {}", status.as_str()))
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
    admin: &AdminIdentity,
    now: DateTime<Utc>,
) -> Result<Decided, ApiError> {
    check_id(proposal_id)?;
    let proposal = store
        .proposal(proposal_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("proposal {proposal_id}")))?;
    if proposal.status != ProposalStatus::Pending {
        return Err(already(proposal_id, proposal.status));
    }
    let mut decided = proposal.clone();
    decided.status = match verdict {
        Verdict::Apply => ProposalStatus::Applied,
        Verdict::Reject => ProposalStatus::Rejected,
    };
    decided.decided_at = Some(now);
    decided.decided_by = Some(admin.subject.clone());
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
            tracing::info!(proposal_id, status = decided.status.as_str(), by = %admin.subject, "proposal decided");
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
                    ApiError::Conflict(format!("proposal {proposal_id} is being decided concurrently; retry"))
                } else {
                    already(proposal_id, status)
                });
            }
            Err(match effect {
                Some(Effect::Intent { id }) => {
                    ApiError::Conflict(format!("dynamic intent {id} already exists"))
                }
                Some(Effect::PlaybookEntry { id }) => {
                    ApiError::Conflict(format!("playbook entry {id} already exists"))
                }
                Some(Effect::IntentExamples { id, .. }) => {
                    ApiError::Conflict(format!("dynamic intent {id} no longer exists"))
                }
                None => ApiError::Internal(format!(
                    "decision of proposal {proposal_id} cancelled: {:?}",
                    reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>()
                )),
            })
        }
        Err(other) => Err(other.into()),
    }
}

async fn current_status(store: &Store, proposal_id: &str) -> Result<ProposalStatus, ApiError> {
    Ok(store
        .proposal(proposal_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("proposal {proposal_id}")))?
        .status)
}

/// Adds the effect of applying a proposal to the transaction.
async fn apply_effect(
    store: &Store,
    proposal: &LearningProposal,
    now: DateTime<Utc>,
    transaction: &mut Transaction,
) -> Result<Effect, ApiError> {
    let id = &proposal.proposal_id;
    let candidate = &proposal.proposal;
    let intent_name = || {
        candidate
            .intent_name
            .as_deref()
            .filter(|name| !name.trim().is_empty())
            .ok_or_else(|| ApiError::Conflict(format!("proposal {id} names no intent")))
    };
    match candidate.kind {
        ProposalKind::NewIntent => {
            let name = intent_name()?;
            if intent_named(store, name).await?.is_some_and(|intent| intent.active) {
                return Err(ApiError::Conflict(format!(
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
            let text = candidate
                .playbook_text
                .clone()
                .filter(|text| !text.trim().is_empty())
                .ok_or_else(|| ApiError::Conflict(format!("proposal {id} has no playbook text")))?;
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
            let intent = intent_named(store, name).await?.ok_or_else(|| {
                ApiError::Conflict(format!("no dynamic intent named {name} to add examples to"))
            })?;
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

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProposalList {
    pub status: ProposalStatus,
    pub proposals: Vec<LearningProposal>,
    /// Cursor of the next page; null at the end.
    pub next: Option<String>,
}

pub fn parse_status(raw: Option<&str>) -> Result<ProposalStatus, ApiError> {
    ProposalStatus::parse(raw.map(str::trim).unwrap_or("pending"))
        .ok_or_else(|| ApiError::invalid("status", "status must be pending, applied, rejected or expired"))
}

/// `GET /v1/proposals?status=pending&limit=50&cursor=…`: one page, oldest first.
pub async fn list_proposals(
    State(state): State<AppState>,
    _admin: AdminIdentity,
    Query(query): Query<ListQuery>,
) -> Result<Json<ProposalList>, ApiError> {
    let status = parse_status(query.status.as_deref())?;
    let limit = match query.limit.as_deref() {
        None => 50,
        Some(raw) => match raw.trim().parse::<i32>() {
            Ok(limit) if (1..=100).contains(&limit) => limit,
            _ => return Err(ApiError::invalid("limit", "limit must be an integer from 1 to 100")),
        },
    };
    let page = state.store.proposals_with_status(status, query.cursor.as_deref(), limit).await?;
    Ok(Json(ProposalList { status, proposals: page.items, next: page.next }))
}

/// `POST /v1/proposals/{id}/apply`.
pub async fn apply_proposal(
    State(state): State<AppState>,
    admin: AdminIdentity,
    Path(id): Path<String>,
) -> Result<Json<Decided>, ApiError> {
    Ok(Json(decide(&state.store, &id, Verdict::Apply, None, &admin, Utc::now()).await?))
}

/// `POST /v1/proposals/{id}/reject` with an optional `{"note": "…"}`.
pub async fn reject_proposal(
    State(state): State<AppState>,
    admin: AdminIdentity,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Decided>, ApiError> {
    let body: RejectBody = if body.iter().all(u8::is_ascii_whitespace) {
        RejectBody::default()
    } else {
        autolearn_web::json::parse(&body)?
    };
    Ok(Json(decide(&state.store, &id, Verdict::Reject, body.note, &admin, Utc::now()).await?))
}
