//! One batch run over a period, in steps that each record their completion on the session, so
//! that a rerun (EventBridge redelivers, a run times out or crashes) continues where the last
//! one stopped and reaches the same final state:
//!
//! 1. `proposals` — read the unanalyzed feedback and the period's gap executions, run the
//!    learning engine, enrich each proposal with cross-conversation evidence, store the
//!    proposals (ids derive from the session and fingerprint, so a rerun cannot duplicate
//!    them) and the session's summary;
//! 2. `feedback` — take the analysed feedback out of the queue (only after step 1 stored
//!    everything; feedback created after the period's end waits for the next batch);
//! 3. `experiments` — promote or demote experimental intents and playbook entries;
//! 4. `expiry` — expire pending proposals past their time;
//! 5. `events` — LearningSessionCreated, IntentPromoted and IntentDemoted on the bus;
//! 6. `report` — the SES email, once; its message id is stored on the session.

use std::collections::{BTreeMap, BTreeSet};

use autolearn_bus::{
    BatchContinuationRequested, ExperimentDecided, IntentDemoted, IntentPromoted, LearningSessionCreated,
};
use autolearn_learning::cluster::{GapConfig, GapMessage, KnownIntent, KnownIntentStatus, discover_gaps};
use autolearn_learning::promotion::{self, Action, ExperimentStats};
use autolearn_learning::proposals::{self as engine, Proposal};
use autolearn_learning::similarity::{IndexedMessage, SimilarityConfig, SimilarityIndex, enrich};
use autolearn_learning::themes::{EditRecord, ThemeConfig, theme_proposals};
use autolearn_model::{
    Confidence, ConfigItem, Counter, DailyCounters, DraftFeedback, DynamicIntent, Evidence, Execution,
    ExperimentOutcome, LearningProposal, LearningSession, PlaybookEntry, ProposalKind, ProposalStatus,
    SessionStatus, SessionType, Store, StoreError, Transaction,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use crate::report::{self, ReportData, Trend};
use crate::{BatchError, Deps};

/// The steps, in order. Their names are what the session records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Proposals,
    Feedback,
    Experiments,
    Expiry,
    Events,
    Report,
}

impl Step {
    pub const ALL: [Step; 6] =
        [Step::Proposals, Step::Feedback, Step::Experiments, Step::Expiry, Step::Events, Step::Report];

    pub fn name(self) -> &'static str {
        match self {
            Step::Proposals => "proposals",
            Step::Feedback => "feedback",
            Step::Experiments => "experiments",
            Step::Expiry => "expiry",
            Step::Events => "events",
            Step::Report => "report",
        }
    }
}

/// When a run stops early: before its Lambda deadline (to continue in a new invocation), or
/// after a given step (fault injection, for the tests of resumption).
#[derive(Debug, Clone, Copy, Default)]
pub struct StopPolicy {
    /// Stop when less than this is left before the deadline.
    pub deadline: Option<std::time::Instant>,
    pub margin: std::time::Duration,
    /// Stop (as if crashed) right after this step completed.
    pub crash_after: Option<Step>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchOutcome {
    pub session_id: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    /// `completed`, `continuing` (handed over through the bus) or `interrupted`.
    pub status: &'static str,
    pub completed_steps: Vec<String>,
    pub proposals: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_message_id: Option<String>,
}

/// One session per period: the id is the period itself.
pub fn session_id_for(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    format!("batch-{}-{}", start.format("%Y%m%dT%H%M%SZ"), end.format("%Y%m%dT%H%M%SZ"))
}

/// A stored proposal's id: the same for the same session and idea, whatever the run.
fn proposal_id(session_id: &str, fingerprint: &str) -> String {
    let digest = hex::encode(Sha256::digest(format!("{session_id}|{fingerprint}")));
    format!("prop-{}", &digest[..20])
}

const PAGE: i32 = 500;

/// Days (UTC) touched by `[start, end)`.
fn days_of(start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<NaiveDate> {
    let last = (end - Duration::milliseconds(1)).date_naive();
    start.date_naive().iter_days().take_while(|day| *day <= last).collect()
}

async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, StoreError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<autolearn_model::Page<T>, StoreError>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let next = page(cursor.take()).await?;
        items.extend(next.items);
        match next.next {
            Some(more) => cursor = Some(more),
            None => return Ok(items),
        }
    }
}

/// Executions of each day, concurrently, filtered to `[start, end)`.
async fn executions_between(
    store: &Store,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    gaps_only: bool,
) -> Result<Vec<Execution>, StoreError> {
    let days = days_of(start, end);
    let reads = days.iter().map(|day| {
        all_pages(move |cursor| async move {
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
    let session_id = session_id_for(start, end);
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
                stats: BTreeMap::new(),
                proposal_ids: Vec::new(),
                completed_steps: Vec::new(),
                decisions: Vec::new(),
                report_message_id: None,
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

    for step in Step::ALL {
        if session.has_completed(step.name()) {
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
            return Ok(outcome(&session, "continuing"));
        }
        match step {
            Step::Proposals => analyse(deps, &mut session).await?,
            Step::Feedback => mark_feedback(store, &session).await?,
            Step::Experiments => decide_experiments(deps, &mut session).await?,
            Step::Expiry => expire_proposals(deps, now).await?,
            Step::Events => publish_events(deps, &session).await?,
            Step::Report => send_report(deps, &mut session).await?,
        }
        session.completed_steps.push(step.name().to_owned());
        session.updated_at = Utc::now();
        if step == Step::Report {
            session.status = SessionStatus::Completed;
        }
        store.put(&session).await?;
        tracing::info!(session_id = %session.session_id, step = step.name(), "batch step done");
        if stop.crash_after == Some(step) {
            return Ok(outcome(&session, "interrupted"));
        }
    }
    Ok(outcome(&session, "completed"))
}

fn outcome(session: &LearningSession, status: &'static str) -> BatchOutcome {
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

/// The intents the classifier already has: dynamic ones with their examples, and every intent
/// matched in the look-back window with some of the messages it matched (so a gap close to a
/// built-in intent is proposed as its example, not as a new intent). Pending new-intent
/// proposals count too, so the same idea is not proposed twice.
fn known_intents(
    intents: &[DynamicIntent],
    recent: &[Execution],
    pending: &[LearningProposal],
) -> Vec<KnownIntent> {
    const EXAMPLES_PER_INTENT: usize = 20;
    let mut known: BTreeMap<String, KnownIntent> = BTreeMap::new();
    for intent in intents.iter().filter(|intent| intent.active) {
        known.insert(
            intent.name.clone(),
            KnownIntent {
                name: intent.name.clone(),
                examples: intent.examples.clone(),
                keywords: intent.keywords.clone(),
                status: KnownIntentStatus::Active,
            },
        );
    }
    for execution in recent.iter().filter(|execution| execution.is_matched()) {
        let entry = known.entry(execution.intent_name().to_owned()).or_insert_with(|| KnownIntent {
            name: execution.intent_name().to_owned(),
            examples: Vec::new(),
            keywords: Vec::new(),
            status: KnownIntentStatus::Active,
        });
        if entry.examples.len() < EXAMPLES_PER_INTENT {
            entry.examples.push(execution.message.body.clone());
        }
    }
    for proposal in pending.iter().filter(|proposal| proposal.kind == ProposalKind::NewIntent) {
        if let Some(name) = &proposal.intent_name {
            known.entry(name.clone()).or_insert_with(|| KnownIntent {
                name: name.clone(),
                examples: proposal.examples.clone(),
                keywords: proposal.keywords.clone(),
                status: KnownIntentStatus::Pending,
            });
        }
    }
    known.into_values().collect()
}

fn kind_of(kind: engine::ProposalKind) -> ProposalKind {
    match kind {
        engine::ProposalKind::NewIntent => ProposalKind::NewIntent,
        engine::ProposalKind::IntentExample => ProposalKind::IntentExample,
        engine::ProposalKind::PlaybookAmendment => ProposalKind::PlaybookAmendment,
    }
}

fn confidence_of(confidence: engine::Confidence) -> Confidence {
    match confidence {
        engine::Confidence::Low => Confidence::Low,
        engine::Confidence::Medium => Confidence::Medium,
        engine::Confidence::High => Confidence::High,
    }
}

fn stored_proposal(session_id: &str, proposal: Proposal, now: DateTime<Utc>) -> LearningProposal {
    let description = match proposal.kind {
        engine::ProposalKind::NewIntent => format!(
            "Messages the agent could not match, about: {}",
            proposal.keywords.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
        ),
        _ => proposal.title.clone(),
    };
    LearningProposal {
        proposal_id: proposal_id(session_id, &proposal.fingerprint),
        session_id: session_id.to_owned(),
        kind: kind_of(proposal.kind),
        status: ProposalStatus::Pending,
        title: proposal.title,
        intent_name: proposal.intent,
        description,
        examples: proposal.examples,
        keywords: proposal.keywords,
        playbook_text: proposal.guidance,
        confidence: confidence_of(proposal.confidence),
        impact: proposal.impact,
        evidence: proposal
            .evidence
            .into_iter()
            .map(|evidence| Evidence {
                conversation_id: evidence.conversation_id,
                execution_id: Some(evidence.id),
                text: evidence.text.or(evidence.note).unwrap_or_default(),
                similarity: evidence.score,
            })
            .collect(),
        fingerprint: proposal.fingerprint,
        rejection_keys: proposal.rejection_keys,
        support_conversations: proposal.support_conversations as u64,
        created_at: now,
        decided_at: None,
        decided_by: None,
        note: None,
    }
}

/// Step 1: from this period's feedback and gaps to stored proposals and the session summary.
async fn analyse(deps: &Deps, session: &mut LearningSession) -> Result<(), BatchError> {
    let store = &deps.store;
    let (start, end) = (session.period_start, session.period_end);
    let lookback_start = end - Duration::days(i64::from(deps.settings.lookback_days));
    let (feedback, gaps, recent, intents, pending, rejected) = tokio::try_join!(
        all_pages(
            |cursor| async move { store.unanalyzed_feedback_before(end, cursor.as_deref(), PAGE).await }
        ),
        executions_between(store, start, end, true),
        executions_between(store, lookback_start, end, false),
        all_pages(|cursor| async move { store.intents(cursor.as_deref(), PAGE).await }),
        all_pages(|cursor| async move {
            store.proposals_with_status(ProposalStatus::Pending, cursor.as_deref(), PAGE).await
        }),
        all_pages(|cursor| async move {
            store.proposals_with_status(ProposalStatus::Rejected, cursor.as_deref(), PAGE).await
        }),
    )?;
    let rejected_keys: BTreeSet<String> =
        rejected.iter().flat_map(|proposal| proposal.rejection_keys.iter().cloned()).collect();
    let pending_fingerprints: BTreeSet<&str> =
        pending.iter().map(|proposal| proposal.fingerprint.as_str()).collect();

    let edits: Vec<EditRecord> = feedback.iter().map(edit_record).collect();
    let gap_messages: Vec<GapMessage> = gaps
        .iter()
        .map(|execution| GapMessage {
            id: execution.execution_id.clone(),
            conversation_id: execution.conversation_id.clone(),
            text: execution.message.body.clone(),
        })
        .collect();
    let known = known_intents(&intents, &recent, &pending);
    let discovery = discover_gaps(&gap_messages, &known, &rejected_keys, &GapConfig::default());
    let themes = theme_proposals(&edits, &rejected_keys, &ThemeConfig::default());

    let index = SimilarityIndex::build(
        &recent
            .iter()
            .map(|execution| IndexedMessage {
                id: execution.execution_id.clone(),
                conversation_id: execution.conversation_id.clone(),
                text: execution.message.body.clone(),
            })
            .collect::<Vec<_>>(),
    );
    let similarity = SimilarityConfig::default();
    let mut proposals: Vec<Proposal> = discovery
        .new_intent_proposals
        .into_iter()
        .chain(discovery.example_proposals)
        .chain(themes)
        .filter(|proposal| !pending_fingerprints.contains(proposal.fingerprint.as_str()))
        .collect();
    for proposal in &mut proposals {
        if proposal.kind != engine::ProposalKind::PlaybookAmendment {
            enrich(proposal, &index, &similarity);
        }
    }
    engine::rank(&mut proposals);

    let now = Utc::now();
    let stored: Vec<LearningProposal> =
        proposals.into_iter().map(|proposal| stored_proposal(&session.session_id, proposal, now)).collect();
    for proposal in &stored {
        match store.create(proposal).await {
            Ok(()) | Err(StoreError::AlreadyExists { .. }) => {}
            Err(error) => return Err(error.into()),
        }
    }

    let conversations: BTreeSet<&str> = feedback
        .iter()
        .map(|item| item.conversation_id.as_str())
        .chain(gaps.iter().map(|execution| execution.conversation_id.as_str()))
        .collect();
    let count = |kind: ProposalKind| stored.iter().filter(|proposal| proposal.kind == kind).count();
    session.proposal_ids = stored.iter().map(|proposal| proposal.proposal_id.clone()).collect();
    session.stats = BTreeMap::from([
        ("conversationsAnalysed".to_owned(), conversations.len() as u64),
        ("gapMessages".to_owned(), gaps.len() as u64),
        ("editsAnalysed".to_owned(), feedback.len() as u64),
        ("newIntentProposals".to_owned(), count(ProposalKind::NewIntent) as u64),
        ("intentExampleProposals".to_owned(), count(ProposalKind::IntentExample) as u64),
        ("playbookProposals".to_owned(), count(ProposalKind::PlaybookAmendment) as u64),
        ("unclusteredGaps".to_owned(), discovery.unclustered.len() as u64),
    ]);
    let data = report_data(deps, session, &stored).await?;
    session.summary = Some(summary_line(&data));
    Ok(())
}

fn edit_record(feedback: &DraftFeedback) -> EditRecord {
    EditRecord {
        id: feedback.execution_id.clone(),
        conversation_id: feedback.conversation_id.clone(),
        intent: feedback.intent_name.clone(),
        analysis: feedback.analysis.clone(),
    }
}

fn summary_line(data: &ReportData) -> String {
    let mut parts = vec![format!("{} conversations analysed", data.conversations)];
    if !data.new_intents.is_empty() {
        parts.push(format!(
            "{} new intent patterns ({})",
            data.new_intents.len(),
            data.new_intents.join(", ")
        ));
    }
    if data.intent_examples > 0 {
        parts.push(format!("{} intent example updates", data.intent_examples));
    }
    if !data.playbook_updates.is_empty() {
        parts.push(format!("{} playbook updates", data.playbook_updates.len()));
    }
    let theme =
        data.common_theme.as_ref().map(|theme| format!(" (common theme: {theme})")).unwrap_or_default();
    parts.push(format!("{} draft edits analysed{theme}", data.edits_analysed));
    parts.join("; ")
}

fn ratio(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

fn week_ratio(days: &[DailyCounters], numerator: &Counter, denominator: &Counter) -> Option<f64> {
    let sum = |counter: &Counter| days.iter().map(|day| day.get(counter)).sum::<i64>();
    ratio(sum(numerator), sum(denominator))
}

/// The report's content, from the stored proposals and the daily counters of this week and
/// the week before.
async fn report_data(
    deps: &Deps,
    session: &LearningSession,
    proposals: &[LearningProposal],
) -> Result<ReportData, BatchError> {
    let (start, end) = (session.period_start, session.period_end);
    let this_week = days_of(start, end);
    let last_week = days_of(start - Duration::days(7), start);
    let counters = deps.store.daily_counters(&[last_week.clone(), this_week].concat()).await?;
    let (before, now) = counters.split_at(last_week.len());
    let trend = |numerator: Counter, denominator: Counter| Trend {
        this_week: week_ratio(now, &numerator, &denominator),
        last_week: week_ratio(before, &numerator, &denominator),
    };
    let of_kind = |kind: ProposalKind| proposals.iter().filter(move |proposal| proposal.kind == kind);
    let stat = |name: &str| session.stats.get(name).copied().unwrap_or(0) as usize;
    Ok(ReportData {
        period: format!("{} – {}", start.format("%Y-%m-%d %H:%M UTC"), end.format("%Y-%m-%d %H:%M UTC")),
        conversations: stat("conversationsAnalysed"),
        new_intents: of_kind(ProposalKind::NewIntent).filter_map(|p| p.intent_name.clone()).collect(),
        intent_examples: of_kind(ProposalKind::IntentExample).count(),
        playbook_updates: of_kind(ProposalKind::PlaybookAmendment).map(|p| p.title.clone()).collect(),
        edits_analysed: stat("editsAnalysed"),
        common_theme: of_kind(ProposalKind::PlaybookAmendment).next().map(|p| p.title.clone()),
        accuracy: trend(Counter::Unedited, Counter::Sent),
        coverage: trend(Counter::Matched, Counter::Executions),
        decisions: session
            .decisions
            .iter()
            .map(|decision| {
                format!("{} {} {}: {}", decision.action, decision.item_kind, decision.name, decision.reason)
            })
            .collect(),
        examples: proposals.iter().flat_map(|p| p.examples.iter().take(1).cloned()).take(5).collect(),
        review_url: deps.settings.review_url.clone(),
    })
}

/// Step 2: every unanalyzed feedback created before the period's end leaves the queue, page by
/// page (marked items leave the index, so the first page is read again until it is empty).
async fn mark_feedback(store: &Store, session: &LearningSession) -> Result<(), BatchError> {
    loop {
        let page = store.unanalyzed_feedback_before(session.period_end, None, PAGE).await?;
        if page.items.is_empty() {
            return Ok(());
        }
        for feedback in &page.items {
            store.mark_feedback_analyzed(&feedback.execution_id, &session.session_id).await?;
        }
    }
}

fn stats_of(usage: autolearn_model::UsageCounts) -> ExperimentStats {
    ExperimentStats {
        hit_count: usage.hit_count,
        approval_rate: usage.approval_rate(),
        sends: Some(usage.sent_count),
    }
}

/// Step 3: the A/B rules over every active experimental intent and playbook entry.
async fn decide_experiments(deps: &Deps, session: &mut LearningSession) -> Result<(), BatchError> {
    let store = &deps.store;
    let intents = all_pages(|cursor| async move { store.intents(cursor.as_deref(), PAGE).await }).await?;
    let entries: Vec<PlaybookEntry> =
        all_pages(|cursor| async move { store.playbook_entries(cursor.as_deref(), PAGE).await }).await?;
    // The baseline the optional statistical guard compares with: established intents.
    let baseline = promotion::baseline_approval_rate(
        &intents
            .iter()
            .filter(|intent| !intent.experimental)
            .map(|intent| stats_of(intent.usage))
            .collect::<Vec<_>>(),
    );
    let candidates = intents
        .iter()
        .filter(|intent| intent.experimental && intent.active)
        .map(|intent| ("intent", intent.intent_id.as_str(), intent.name.as_str(), intent.usage))
        .chain(
            entries
                .iter()
                .filter(|entry| entry.experimental && entry.active)
                .map(|entry| ("playbookEntry", entry.entry_id.as_str(), entry.text.as_str(), entry.usage)),
        );
    for (item_kind, id, name, usage) in candidates {
        let decision = promotion::decide(&stats_of(usage), &deps.settings.promotion, baseline);
        let promote = match decision.action {
            Action::Keep => continue,
            Action::Promote => true,
            Action::Demote => false,
        };
        let item = if item_kind == "intent" { ConfigItem::Intent(id) } else { ConfigItem::PlaybookEntry(id) };
        // Record the decision on the session before applying it: a crash in between leaves a
        // recorded decision whose update the rerun applies (the update is conditional, so it
        // happens once), and never an applied decision missing from the session.
        if !session.decisions.iter().any(|decided| decided.item_kind == item_kind && decided.item_id == id) {
            session.decisions.push(ExperimentOutcome {
                item_kind: item_kind.to_owned(),
                item_id: id.to_owned(),
                name: name.chars().take(80).collect(),
                action: if promote { "promote" } else { "demote" }.to_owned(),
                reason: decision.reason,
                usage,
                decided_at: Utc::now(),
            });
            store.put(&*session).await?;
        }
        let decided_at =
            session.decisions.iter().rev().find(|decided| decided.item_id == id).map(|d| d.decided_at);
        store.end_experiment(item, promote, decided_at.unwrap_or_else(Utc::now)).await?;
    }
    Ok(())
}

/// Step 4: pending proposals past their time are expired (a decision nobody has to take).
async fn expire_proposals(deps: &Deps, now: DateTime<Utc>) -> Result<(), BatchError> {
    let store = &deps.store;
    let pending = all_pages(|cursor| async move {
        store.proposals_with_status(ProposalStatus::Pending, cursor.as_deref(), PAGE).await
    })
    .await?;
    for proposal in pending {
        if !engine::is_expired(proposal.created_at.timestamp(), now.timestamp(), &deps.settings.expiry) {
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

/// Step 5: the session and the A/B decisions on the bus.
async fn publish_events(deps: &Deps, session: &LearningSession) -> Result<(), BatchError> {
    deps.bus
        .publish(&LearningSessionCreated {
            session_id: session.session_id.clone(),
            period_start: session.period_start,
            period_end: session.period_end,
            proposals: session.proposal_ids.len(),
        })
        .await?;
    for decision in &session.decisions {
        let detail = ExperimentDecided {
            item_kind: decision.item_kind.clone(),
            item_id: decision.item_id.clone(),
            name: decision.name.clone(),
            hit_count: decision.usage.hit_count,
            sent_count: decision.usage.sent_count,
            unedited_count: decision.usage.unedited_count,
            approval_rate: decision.usage.approval_rate(),
            reason: decision.reason.clone(),
            session_id: session.session_id.clone(),
        };
        if decision.action == "promote" {
            deps.bus.publish(&IntentPromoted(detail)).await?;
        } else {
            deps.bus.publish(&IntentDemoted(detail)).await?;
        }
    }
    Ok(())
}

/// Step 6: the report, sent once; a failed send leaves the step open for the next run.
async fn send_report(deps: &Deps, session: &mut LearningSession) -> Result<(), BatchError> {
    if session.report_message_id.is_some() {
        return Ok(());
    }
    let store = &deps.store;
    let mut proposals = Vec::new();
    for id in &session.proposal_ids {
        if let Some(proposal) = store.proposal(id).await? {
            proposals.push(proposal);
        }
    }
    let data = report_data(deps, session, &proposals).await?;
    let rendered = report::render(&data)?;
    let message_id = deps.mailer.send(&rendered).await?;
    session.report_message_id = Some(message_id);
    Ok(())
}
