//! The proposal-analyst function: with `ANALYST=bedrock`, the weekly batch stores its proposals
//! worded by the rules, puts `WordingRequested` on the bus and hands the session over; this
//! function has a language model reword them ([`analyst`]), records who wrote what on the
//! session, and continues the batch with `BatchContinuationRequested`. `main.rs` only wires
//! [`handle`] to `lambda_runtime`; the local runner calls the same handler.
//!
//! A function of its own so that the batch does not link the Bedrock `Converse` client (0.30 MB
//! of its binary, docs/performance.md) and so that only this function's role may call the model.
//! If it fails for good (Lambda's retries exhausted), Lambda's on-failure destination puts the
//! failure on the bus and the batch continues with the rules' wording.

pub mod analyst;
mod bedrock;
mod wording;

use autolearn_bus::{BatchContinuationRequested, EventBus, PublishError, WordingRequested};
use autolearn_model::{
    LearningProposal, ProposalStatus, SessionId, Store, StoreError, Transaction, WrittenBy,
};
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};

pub use analyst::{AnalystSettings, Worded};
pub use bedrock::BedrockAnalyst;

/// The function's name, as in the template.
pub const SERVICE: &str = "proposal-analyst";

/// Every environment variable `Config::from_env` reads; the template test checks that
/// `infra/template.yaml` sets each of them for this function.
pub const ENV_VARS: &[&str] = &[
    autolearn_web::config::TABLE_NAME,
    autolearn_web::config::RETENTION_DAYS,
    autolearn_bus::EVENT_BUS_NAME,
    analyst::BEDROCK_MODEL_ID,
    analyst::ANALYST_MAX_CALLS,
    analyst::ANALYST_MAX_TOKENS,
];

/// How long the analyst holds a session: its Lambda timeout.
pub const LEASE: Duration = Duration::minutes(15);

/// Configuration, read and validated once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub event_bus_name: String,
    pub analyst: AnalystSettings,
    /// How long the proposals it rewrites keep customer text (`RETENTION_DAYS`).
    pub retention: autolearn_model::Retention,
}

impl Config {
    pub fn from_env() -> Result<Self, autolearn_web::ConfigError> {
        use autolearn_web::config;
        Ok(Self {
            table_name: config::required(config::TABLE_NAME)?,
            event_bus_name: config::required(autolearn_bus::EVENT_BUS_NAME)?,
            analyst: AnalystSettings::from_env()?,
            retention: config::retention()?,
        })
    }
}

/// The clients of a run.
#[derive(Debug, Clone)]
pub struct Deps {
    pub store: Store,
    pub bus: EventBus,
    pub model: BedrockAnalyst,
}

/// The EventBridge event that triggers the function (rule: `WordingRequested` from autolearn).
#[derive(Debug, Clone, Deserialize)]
pub struct WordingEvent {
    pub detail: WordingRequested,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WordingOutcome {
    pub session_id: SessionId,
    /// The session had been worded already (a redelivery): nothing was asked of the model.
    pub already_worded: bool,
    pub worded_by_model: u64,
    pub worded_by_rules: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum AnalystError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("session {0} does not exist")]
    UnknownSession(String),
    /// A batch run holds the session: Lambda retries the event later.
    #[error("a run holds session {0}; the wording waits for it")]
    Leased(String),
    #[error("the lease on session {0} was taken over by another run")]
    LeaseLost(String),
}

/// Words the session's proposals (once: a redelivery finds them worded) and continues the
/// batch.
pub async fn handle(deps: &Deps, request: WordingRequested) -> Result<WordingOutcome, AnalystError> {
    let store = &deps.store;
    let session_id = request.session_id.to_string();
    let owner = ulid::Ulid::new().to_string();
    let now = Utc::now();
    if !store.lease_session(&session_id, &owner, now, now + LEASE).await? {
        return match store.session(&session_id).await? {
            None => Err(AnalystError::UnknownSession(session_id)),
            Some(_) => Err(AnalystError::Leased(session_id)),
        };
    }
    let result = word_session(deps, &session_id, &owner).await;
    if let Err(error) = store.release_session(&session_id, &owner).await {
        tracing::warn!(%session_id, %error, "the session's lease was not given back");
    }
    let outcome = result?;
    deps.bus
        .publish(&BatchContinuationRequested {
            session_id: request.session_id,
            period_start: request.period_start,
            period_end: request.period_end,
        })
        .await?;
    Ok(outcome)
}

/// Whether a stored wording is the model's (not the rules', and not unworded).
fn worded_by_model(written_by: Option<&WrittenBy>) -> bool {
    written_by.is_some_and(|by| !by.is_rules())
}

/// Under the session's lease: words what the rules wrote, stores it, records the counts.
async fn word_session(deps: &Deps, session_id: &str, owner: &str) -> Result<WordingOutcome, AnalystError> {
    let store = &deps.store;
    let mut session = store
        .session(session_id)
        .await?
        .ok_or_else(|| AnalystError::UnknownSession(session_id.to_owned()))?;
    if session.worded_at.is_some() {
        return Ok(WordingOutcome {
            session_id: session.session_id,
            already_worded: true,
            worded_by_model: session.stats.worded_by_model,
            worded_by_rules: session.stats.worded_by_rules,
        });
    }
    // The session's new proposals still pending as the rules worded them (an admin may have
    // decided one meanwhile), and the edits not summarized yet. A run that stopped before
    // saving the session left what the model wrote stored: counted as the model's, never
    // asked about again.
    let mut proposals: Vec<LearningProposal> = store.session_proposals(&session).await?;
    let by_model_before =
        proposals.iter().filter(|stored| worded_by_model(stored.written_by.as_ref())).count();
    proposals.retain(|stored| {
        stored.status == ProposalStatus::Pending && !worded_by_model(stored.written_by.as_ref())
    });
    let feedback = store.session_feedback(&session).await?;
    let items = (session.proposal_ids.len() + feedback.len()) as u64;
    let (summarized_before, feedback): (Vec<_>, Vec<_>) =
        feedback.into_iter().partition(|edit| edit.ai_summary.is_some());
    let worded = analyst::word(&deps.model, &mut proposals, &feedback).await;
    for stored in proposals.iter().filter(|stored| worded_by_model(stored.written_by.as_ref())) {
        let mut transaction = Transaction::new();
        transaction.decide_proposal(stored, ProposalStatus::Pending)?;
        match store.commit(transaction).await {
            // An admin decided it meanwhile: their decision stands.
            Err(error) if error.is_condition_failure() => {}
            other => other?,
        }
    }
    for (execution_id, summary) in &worded.summaries {
        store.set_feedback_ai_summary(execution_id, summary).await?;
    }
    session.stats.worded_by_model = (by_model_before + summarized_before.len()) as u64 + worded.by_model;
    session.stats.worded_by_rules = items.saturating_sub(session.stats.worded_by_model);
    let now = Utc::now();
    session.worded_at = Some(now);
    session.updated_at = now;
    match store.save_session(&session, owner).await {
        Err(StoreError::ConditionFailed { .. }) => {
            return Err(AnalystError::LeaseLost(session_id.to_owned()));
        }
        other => other?,
    }
    tracing::info!(%session_id, by_model = worded.by_model, "proposals worded");
    Ok(WordingOutcome {
        session_id: session.session_id,
        already_worded: false,
        worded_by_model: session.stats.worded_by_model,
        worded_by_rules: session.stats.worded_by_rules,
    })
}
