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
//! 6. `report` — the SES email, once ([`crate::report_once`]); its message id is stored on the
//!    session.
//!
//! One run at a time per period: the session (its id is the period) is created conditionally
//! with a lease for the run that created it; another trigger or a redelivery for the period
//! takes the lease only once it is released (the run ended or handed over) or its holder's
//! deadline has passed, and stops with [`BatchError::Leased`] otherwise. Every save of the
//! session is conditional on holding the lease.

use autolearn_bus::BatchContinuationRequested;
use autolearn_learning::proposals::is_expired;
use autolearn_model::{
    BatchStatus, BatchStep, Execution, LearningSession, ProposalStatus, SessionId, SessionStats,
    SessionStatus, SessionType, Store, StoreError, Transaction,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::handoff::{self, Wording};
use crate::{BatchError, Deps, analysis, experiments, feedback_set, report_once};

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

/// What started a run, where it changes what the run does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Trigger {
    /// The schedule, a manual request, a continuation.
    #[default]
    Batch,
    /// The proposal-analyst function failed for good: the rules' wording stands.
    AnalystFailed,
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
        // An erased contact's executions hold no text any more: nothing to learn from.
        .filter(|execution| execution.erased_at.is_none())
        .collect())
}

/// Runs (or resumes) the batch for the period ending at `end`.
pub async fn run(
    deps: &Deps,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    session_type: SessionType,
    stop: StopPolicy,
    trigger: Trigger,
) -> Result<BatchOutcome, BatchError> {
    let store = &deps.store;
    let session_id = autolearn_model::keys::session_id_for_period(start, end);
    let now = Utc::now();
    // This run's lease on the session lasts until its own deadline: no run outlives it.
    let owner = ulid::Ulid::new().to_string();
    let lease_until = now + lease_length(&stop);
    let created = LearningSession {
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
        lease_owner: Some(owner.clone()),
        lease_until: Some(lease_until.timestamp_millis()),
        report_claimed_at: None,
        wording_requested_at: None,
        worded_at: None,
        created_at: now,
        updated_at: now,
    };
    // One session per period, created conditionally with the lease; a second trigger or a
    // redelivery for the period takes the lease of the existing session, or stops when another
    // run holds it.
    let mut session = match store.create(&created).await {
        Ok(()) => created,
        Err(StoreError::AlreadyExists { .. }) => {
            if !store.lease_session(&session_id, &owner, now, lease_until).await? {
                let holder = store.session(&session_id).await?.ok_or(BatchError::SessionVanished)?;
                tracing::info!(%session_id, "another run holds the session; this one stops");
                return Err(BatchError::Leased {
                    session_id: session_id.to_string(),
                    until: holder.lease_until.unwrap_or_default(),
                });
            }
            store.session(&session_id).await?.ok_or(BatchError::SessionVanished)?
        }
        Err(error) => return Err(error.into()),
    };

    let result = steps(deps, &mut session, &owner, stop, trigger).await;
    // Whatever happened, the lease is given back: a failed run's retry must not wait for its
    // deadline. (Only a run that died keeps it, until its deadline.)
    if let Err(error) = store.release_session(&session_id, &owner).await {
        tracing::warn!(%session_id, %error, "the session's lease was not given back");
    }
    session.lease_until = None;
    let status = result?;
    Ok(outcome(&session, status))
}

/// The steps not done yet, each recorded on the session when done.
async fn steps(
    deps: &Deps,
    session: &mut LearningSession,
    owner: &str,
    stop: StopPolicy,
    trigger: Trigger,
) -> Result<BatchStatus, BatchError> {
    let store = &deps.store;
    let now = Utc::now();
    for step in BatchStep::ALL {
        if session.has_completed(step) {
            continue;
        }
        if let Some(deadline) = stop.deadline
            && deadline.saturating_duration_since(std::time::Instant::now()) < stop.margin
        {
            // Released before the continuation can arrive.
            store.release_session(&session.session_id, owner).await?;
            deps.bus
                .publish(&BatchContinuationRequested {
                    session_id: session.session_id.clone(),
                    period_start: session.period_start,
                    period_end: session.period_end,
                })
                .await?;
            return Ok(BatchStatus::Continuing);
        }
        match step {
            BatchStep::Proposals => {
                feedback_set::record(store, session, owner).await?;
                analysis::analyse(deps, session).await?
            }
            BatchStep::Wording => {
                if handoff::step(deps, session, owner, trigger).await? == Wording::Waiting {
                    return Ok(BatchStatus::AwaitingAnalyst);
                }
            }
            BatchStep::Feedback => feedback_set::mark(store, session).await?,
            BatchStep::Experiments => experiments::decide(deps, session).await?,
            BatchStep::Expiry => expire_proposals(deps, now).await?,
            BatchStep::Events => experiments::publish_events(deps, session).await?,
            BatchStep::Report => report_once::send(deps, session, owner).await?,
        }
        session.completed_steps.push(step);
        session.updated_at = Utc::now();
        if step == BatchStep::Report {
            session.status = SessionStatus::Completed;
        }
        save(store, session, owner).await?;
        tracing::info!(session_id = %session.session_id, step = step.as_str(), "batch step done");
        if stop.crash_after == Some(step) {
            // A test's crash stops like a failed step: the lease is given back for the rerun.
            return Ok(BatchStatus::Interrupted);
        }
    }
    Ok(BatchStatus::Completed)
}

/// How long a run holds its session: until its deadline, or 15 minutes (the batch's Lambda
/// timeout) when it has none (the local runner).
fn lease_length(stop: &StopPolicy) -> Duration {
    let remaining = stop
        .deadline
        .map(|deadline| deadline.saturating_duration_since(std::time::Instant::now()))
        .unwrap_or(std::time::Duration::from_secs(15 * 60));
    Duration::from_std(remaining).unwrap_or(Duration::minutes(15))
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

/// Stores the session's progress, refused when this run no longer holds the session's lease.
pub(crate) async fn save(store: &Store, session: &LearningSession, owner: &str) -> Result<(), BatchError> {
    match store.save_session(session, owner).await {
        Err(StoreError::ConditionFailed { .. }) => {
            Err(BatchError::LeaseLost { session_id: session.session_id.to_string() })
        }
        other => Ok(other?),
    }
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
