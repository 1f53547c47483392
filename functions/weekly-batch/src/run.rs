//! One batch run over a period, in steps that each record their completion on the session, so
//! that a rerun (EventBridge redelivers, a run times out or crashes) continues where the last
//! one stopped and reaches the same final state:
//!
//! 1. `proposals` — read the unanalyzed feedback and the period's gap executions, run the
//!    learning engine, enrich each proposal with cross-conversation evidence, store the
//!    proposals (ids derive from the session and fingerprint, so a rerun cannot duplicate
//!    them) and the session's summary. An idea an admin applied or rejected is never proposed
//!    again; one still pending from an earlier session gets this week's support added (impact,
//!    conversations, evidence; once per session) instead of a second proposal;
//! 2. `feedback` — take the analysed feedback out of the queue: exactly the feedback step 1
//!    read, recorded with the session before it first read ([`crate::feedback_set`]), and only
//!    after step 1 stored everything; feedback queued since waits for the next batch;
//! 3. `experiments` — promote or demote experimental intents and playbook entries;
//! 4. `expiry` — expire pending proposals past their time;
//! 5. `events` — LearningSessionCreated and each A/B decision (IntentPromoted, IntentDemoted,
//!    PlaybookEntryPromoted, PlaybookEntryDemoted) on the bus;
//! 6. `report` — the SES email, once; its message id is stored on the session.

use autolearn_bus::BatchContinuationRequested;
use autolearn_learning::proposals::is_expired;
use autolearn_model::{
    BatchStatus, BatchStep, Execution, LearningSession, ProposalStatus, SessionId, SessionStats,
    SessionStatus, SessionType, Store, StoreError, Transaction,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::{BatchError, Deps, analysis, experiments, feedback_set, report_data};

/// When a run stops early: before its Lambda deadline (to continue in a new invocation), or
/// after a given step (fault injection, for the tests of resumption).
#[derive(Debug, Clone, Copy, Default)]
pub struct StopPolicy {
    /// Stop when less than this is left before the deadline.
    pub deadline: Option<std::time::Instant>,
    pub margin: std::time::Duration,
    /// Stop (as if crashed) right after this step completed.
    pub crash_after: Option<BatchStep>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchOutcome {
    pub session_id: SessionId,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub status: BatchStatus,
    pub completed_steps: Vec<BatchStep>,
    pub proposals: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_message_id: Option<String>,
}

/// Page size of the batch's reads.
pub(crate) const PAGE: i32 = 500;

/// Days (UTC) touched by `[start, end)`.
pub(crate) fn days_of(start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<NaiveDate> {
    let last = (end - Duration::milliseconds(1)).date_naive();
    start.date_naive().iter_days().take_while(|day| *day <= last).collect()
}

/// Executions of each day, concurrently, filtered to `[start, end)`.
pub(crate) async fn executions_between(
    store: &Store,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    gaps_only: bool,
) -> Result<Vec<Execution>, StoreError> {
    let days = days_of(start, end);
    let reads = days.iter().map(|day| {
        autolearn_model::all_pages(move |cursor| async move {
            if gaps_only {
                store.gap_executions_of_day(*day, cursor.as_deref(), PAGE).await
            } else {
                store.executions_of_day(*day, cursor.as_deref(), PAGE).await
            }
        })
    });
    let per_day = futures::future::try_join_all(reads).await?;
    Ok(per_day
        .into_iter()
        .flatten()
        .filter(|execution| execution.created_at >= start && execution.created_at < end)
        .collect())
}

/// Runs (or resumes) the batch for the period ending at `end`.
pub async fn run(
    deps: &Deps,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    session_type: SessionType,
    stop: StopPolicy,
) -> Result<BatchOutcome, BatchError> {
    let store = &deps.store;
    let session_id = autolearn_model::keys::session_id_for_period(start, end);
    let now = Utc::now();
    let mut session = match store.session(&session_id).await? {
        Some(session) => session,
        None => {
            let session = LearningSession {
                session_id: session_id.clone(),
                session_type,
                period_start: start,
                period_end: end,
                status: SessionStatus::Running,
                summary: None,
                stats: SessionStats::default(),
                proposal_ids: Vec::new(),
                completed_steps: Vec::new(),
                decisions: Vec::new(),
                report_message_id: None,
                feedback_read_chunks: None,
                created_at: now,
                updated_at: now,
            };
            match store.create(&session).await {
                Ok(()) => session,
                // Another delivery of the same trigger created it first: continue from it.
                Err(StoreError::AlreadyExists { .. }) => {
                    store.session(&session_id).await?.ok_or(BatchError::SessionVanished)?
                }
                Err(error) => return Err(error.into()),
            }
        }
    };

    for step in BatchStep::ALL {
        if session.has_completed(step) {
            continue;
        }
        if let Some(deadline) = stop.deadline
            && deadline.saturating_duration_since(std::time::Instant::now()) < stop.margin
        {
            deps.bus
                .publish(&BatchContinuationRequested {
                    session_id: session_id.clone(),
                    period_start: start,
                    period_end: end,
                })
                .await?;
            return Ok(outcome(&session, BatchStatus::Continuing));
        }
        match step {
            BatchStep::Proposals => {
                feedback_set::record(store, &mut session).await?;
                analysis::analyse(deps, &mut session).await?
            }
            BatchStep::Feedback => feedback_set::mark(store, &session).await?,
            BatchStep::Experiments => experiments::decide(deps, &mut session).await?,
            BatchStep::Expiry => expire_proposals(deps, now).await?,
            BatchStep::Events => experiments::publish_events(deps, &session).await?,
            BatchStep::Report => report_data::send_report(deps, &mut session).await?,
        }
        session.completed_steps.push(step);
        session.updated_at = Utc::now();
        if step == BatchStep::Report {
            session.status = SessionStatus::Completed;
        }
        save(store, &session).await?;
        tracing::info!(session_id = %session.session_id, step = step.as_str(), "batch step done");
        if stop.crash_after == Some(step) {
            return Ok(outcome(&session, BatchStatus::Interrupted));
        }
    }
    Ok(outcome(&session, BatchStatus::Completed))
}

fn outcome(session: &LearningSession, status: BatchStatus) -> BatchOutcome {
    BatchOutcome {
        session_id: session.session_id.clone(),
        period_start: session.period_start,
        period_end: session.period_end,
        status,
        completed_steps: session.completed_steps.clone(),
        proposals: session.proposal_ids.len(),
        report_message_id: session.report_message_id.clone(),
    }
}

/// Stores the session's progress.
pub(crate) async fn save(store: &Store, session: &LearningSession) -> Result<(), StoreError> {
    store.put(session).await
}

/// Step 4: pending proposals past their time are expired (a decision nobody has to take).
async fn expire_proposals(deps: &Deps, now: DateTime<Utc>) -> Result<(), BatchError> {
    let store = &deps.store;
    let pending = store.all_proposals_with_status(ProposalStatus::Pending).await?;
    for proposal in pending {
        if !is_expired(proposal.created_at.timestamp(), now.timestamp(), &deps.settings.expiry) {
            continue;
        }
        let mut expired = proposal.clone();
        expired.status = ProposalStatus::Expired;
        expired.decided_at = Some(now);
        expired.decided_by = Some("weekly-batch".into());
        let mut transaction = Transaction::new();
        transaction.decide_proposal(&expired, ProposalStatus::Pending)?;
        match store.commit(transaction).await {
            // An admin decided it meanwhile: their decision stands.
            Err(error) if error.is_condition_failure() => {}
            other => other?,
        }
    }
    Ok(())
}
