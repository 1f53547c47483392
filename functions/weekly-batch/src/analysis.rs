//! Step 1 of the batch: the period's feedback and gaps through the learning engine, to stored
//! proposals and the session's totals.

use std::collections::{BTreeMap, BTreeSet};

use autolearn_learning::cluster::{GapConfig, GapMessage, KnownIntent, KnownIntentStatus, discover_gaps};
use autolearn_learning::proposals::{absorb, rank};
use autolearn_learning::similarity::{IndexedMessage, SimilarityConfig, SimilarityIndex, enrich};
use autolearn_learning::text::one_line;
use autolearn_learning::themes::{EditRecord, IntentAnswers, ThemeConfig, theme_proposals};
use autolearn_model::{
    Confidence, DraftFeedback, DynamicIntent, Evidence, EvidenceKind, Execution, LearningProposal,
    LearningSession, PlaybookEntry, Proposal, ProposalId, ProposalKind, ProposalReference, ProposalStatus,
    SessionId, SessionStats, StoreError, Transaction, WrittenBy,
};
use chrono::{Duration, Utc};

use crate::run::executions_between;
use crate::{BatchError, Deps, report_data};

/// The intents the classifier already has: dynamic ones with their examples, and every intent
/// matched in the look-back window with some of the messages it matched (so a gap close to a
/// built-in intent is proposed as its example, not as a new intent). A message whose draft
/// people rewrote may have been matched to the wrong intent, so it is no example of it. Pending
/// new-intent proposals count too, so the same idea is not proposed twice.
fn known_intents(
    intents: &[DynamicIntent],
    recent: &[Execution],
    rewritten: &BTreeSet<&str>,
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
    let matched = recent
        .iter()
        .filter(|execution| execution.is_matched() && !rewritten.contains(execution.execution_id.as_str()));
    for execution in matched {
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
    for pending in pending.iter().map(|stored| &stored.proposal) {
        if let (ProposalKind::NewIntent, Some(name)) = (pending.kind, &pending.intent_name) {
            known.entry(name.clone()).or_insert_with(|| KnownIntent {
                name: name.clone(),
                examples: pending.examples.clone(),
                keywords: pending.keywords.clone(),
                status: KnownIntentStatus::Pending,
            });
        }
    }
    known.into_values().collect()
}

/// One sentence for people about a proposal (a new intent's description once applied).
fn description(proposal: &Proposal) -> String {
    match proposal.kind {
        ProposalKind::NewIntent => {
            let about = proposal.keywords.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
            match proposal.examples.first() {
                // The examples are masked customer text, escaped wherever shown.
                Some(example) => format!("People ask about {about}, e.g. \"{}\"", one_line(example, 120)),
                None => format!("People ask about {about}"),
            }
        }
        _ => proposal.title.clone(),
    }
}

/// True when the active playbook entries that reach the amendment's scope (its intent's, and the
/// global ones) already say every line of what it proposes.
fn already_in_playbook(amendment: &Proposal, entries: &[PlaybookEntry]) -> bool {
    let said = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let Some(text) = amendment.playbook_text.as_deref() else { return false };
    let in_force: Vec<String> = entries
        .iter()
        .filter(|entry| {
            entry.active && (entry.intent_name.is_none() || entry.intent_name == amendment.intent_name)
        })
        .map(|entry| said(&entry.text))
        .collect();
    let mut lines = text.lines().map(said).filter(|line| !line.is_empty()).peekable();
    lines.peek().is_some() && lines.all(|line| in_force.iter().any(|entry| entry.contains(&line)))
}

/// Adds `support` to the pending proposal `stored` once per session (a rerun of the session
/// finds it already there), collecting the refreshed proposals to write.
fn support_pending(
    refreshed: &mut BTreeMap<ProposalId, LearningProposal>,
    stored: &LearningProposal,
    support: &Proposal,
    session_id: &SessionId,
) {
    if stored.refreshed_by.contains(session_id) {
        return;
    }
    let updated = refreshed.entry(stored.proposal_id.clone()).or_insert_with(|| {
        let mut updated = stored.clone();
        updated.refreshed_by.push(session_id.clone());
        updated
    });
    absorb(&mut updated.proposal, support);
}

/// This week's gap messages close to a pending new intent, as support for it.
fn pending_support_proposal(pending: &Proposal, message_ids: &[String], gaps: &[Execution]) -> Proposal {
    let messages: Vec<&Execution> =
        message_ids.iter().filter_map(|id| gaps.iter().find(|gap| gap.execution_id == *id)).collect();
    let conversations: BTreeSet<&str> = messages.iter().map(|gap| gap.conversation_id.as_str()).collect();
    Proposal {
        impact: messages.len() as u64,
        support_conversations: conversations.len() as u64,
        confidence: Confidence::Low,
        rejection_keys: Vec::new(),
        evidence: messages
            .iter()
            .map(|gap| Evidence {
                kind: EvidenceKind::GapMessage,
                id: gap.execution_id.clone(),
                conversation_id: gap.conversation_id.clone(),
                text: gap.message.quoted.clone(),
                score: None,
                note: None,
                edit: None,
            })
            .collect(),
        ..pending.clone()
    }
}

fn edit_record(feedback: &DraftFeedback) -> EditRecord {
    EditRecord {
        id: feedback.execution_id.clone(),
        conversation_id: feedback.conversation_id.clone(),
        intent: feedback.intent_name.clone(),
        analysis: feedback.analysis.clone(),
        // Masked by the webhook; feedback stored before it did is neither compared nor quoted.
        draft: feedback.masked_draft.clone().unwrap_or_default(),
        sent: feedback.masked_sent.clone().unwrap_or_default(),
    }
}

/// The executions a stored proposal quotes: those of its evidence, and the gap messages its
/// examples are (an example is a gap message's own words, masked).
fn quoted_executions(proposal: &Proposal, masked_gaps: &BTreeMap<String, Vec<&str>>) -> BTreeSet<String> {
    let mut ids: BTreeSet<String> = proposal.evidence.iter().map(|evidence| evidence.id.clone()).collect();
    for example in &proposal.examples {
        ids.extend(masked_gaps.get(example).into_iter().flatten().map(|id| (*id).to_owned()));
    }
    ids.retain(|id| !id.is_empty());
    ids
}

/// Records, in each quoted execution's item collection, that the proposal quotes it: what lets
/// an erasure of the execution's contact find the proposal without a scan (the references
/// carry ids only and expire with the proposal). Idempotent: a rerun writes the same items.
async fn write_references<'a>(
    store: &autolearn_model::Store,
    proposals: impl Iterator<Item = &'a LearningProposal>,
    gaps: &[Execution],
) -> Result<(), StoreError> {
    let mut masked_gaps: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for gap in gaps {
        if let Some(quoted) = &gap.message.quoted {
            masked_gaps.entry(quoted.clone()).or_default().push(&gap.execution_id);
        }
    }
    for stored in proposals {
        for execution_id in quoted_executions(&stored.proposal, &masked_gaps) {
            store.put(&ProposalReference { execution_id, proposal_id: stored.proposal_id.clone() }).await?;
        }
    }
    Ok(())
}

/// Step 1: from this period's feedback and gaps to stored proposals and the session summary.
pub(crate) async fn analyse(deps: &Deps, session: &mut LearningSession) -> Result<(), BatchError> {
    let store = &deps.store;
    let (start, end) = (session.period_start, session.period_end);
    let lookback_start = end - Duration::days(i64::from(deps.settings.lookback_days));
    let (feedback, gaps, recent, intents, entries, pending, rejected, applied) = tokio::try_join!(
        store.session_feedback(session),
        executions_between(store, start, end, true),
        executions_between(store, lookback_start, end, false),
        store.all_intents(),
        store.all_playbook_entries(),
        store.all_proposals_with_status(ProposalStatus::Pending),
        store.all_proposals_with_status(ProposalStatus::Rejected),
        store.all_proposals_with_status(ProposalStatus::Applied),
    )?;
    // This session's own proposals (stored by an interrupted earlier try of this step) are not
    // an earlier idea to support: the step proposes them again, and their ids are the same.
    let pending: Vec<LearningProposal> =
        pending.into_iter().filter(|stored| stored.session_id != session.session_id).collect();
    // Never proposed again: what an admin rejected, and what an admin applied.
    let settled_keys: BTreeSet<String> = rejected
        .iter()
        .chain(&applied)
        .flat_map(|stored| stored.proposal.rejection_keys.iter().cloned())
        .collect();

    let edits: Vec<EditRecord> = feedback.iter().map(edit_record).collect();
    // Sentence embeddings where the batch has a model for them (masked before they leave);
    // a message without one stays lexical.
    let texts: Vec<&str> =
        gaps.iter().map(|execution| execution.message.quoted.as_deref().unwrap_or_default()).collect();
    let embedded = deps.embedder.embed(&texts).await;
    let gap_messages: Vec<GapMessage> = gaps
        .iter()
        .zip(embedded.embeddings)
        .map(|(execution, embedding)| GapMessage {
            id: execution.execution_id.clone(),
            conversation_id: execution.conversation_id.clone(),
            text: execution.message.body.clone(),
            quoted: execution.message.quoted.clone(),
            embedding,
        })
        .collect();
    let rewritten: BTreeSet<&str> = feedback.iter().map(|item| item.execution_id.as_str()).collect();
    let known = known_intents(&intents, &recent, &rewritten, &pending);
    let discovery = discover_gaps(&gap_messages, &known, &settled_keys, &GapConfig::default());
    // What each intent's drafts of the period usually say, to tell a misrouted message's edit.
    let answers = IntentAnswers::from_drafts(
        recent
            .iter()
            .filter(|execution| execution.created_at >= start && execution.is_matched())
            .filter_map(|execution| Some((execution.intent_name(), execution.draft_reply.as_deref()?))),
    );
    let themes = theme_proposals(&edits, &answers, &settled_keys, &ThemeConfig::default())
        .into_iter()
        .filter(|amendment| !already_in_playbook(amendment, &entries));

    let index = SimilarityIndex::build(
        &recent
            .iter()
            .map(|execution| IndexedMessage {
                id: execution.execution_id.clone(),
                conversation_id: execution.conversation_id.clone(),
                text: execution.message.body.clone(),
                quoted: execution.message.quoted.clone(),
                // The evidence queries are the proposals' example texts, and `min_score`
                // is a cosine of words: the index answers them by words alone.
                embedding: None,
            })
            .collect::<Vec<_>>(),
    );
    let similarity = SimilarityConfig::default();
    let mut candidates: Vec<Proposal> =
        discovery.new_intent_proposals.into_iter().chain(discovery.example_proposals).chain(themes).collect();
    for proposal in &mut candidates {
        if proposal.kind != ProposalKind::PlaybookAmendment {
            enrich(proposal, &index, &similarity);
        }
    }
    // An idea already pending gets this week's support added instead of a second proposal.
    let mut refreshed: BTreeMap<ProposalId, LearningProposal> = BTreeMap::new();
    let mut proposals = Vec::new();
    for candidate in candidates {
        match pending.iter().find(|stored| stored.proposal.fingerprint == candidate.fingerprint) {
            Some(stored) => support_pending(&mut refreshed, stored, &candidate, &session.session_id),
            None => proposals.push(candidate),
        }
    }
    for support in &discovery.pending_support {
        let named = |stored: &&LearningProposal| {
            stored.proposal.kind == ProposalKind::NewIntent
                && stored.proposal.intent_name.as_deref() == Some(support.intent.as_str())
        };
        if let Some(stored) = pending.iter().find(named) {
            let candidate = pending_support_proposal(&stored.proposal, &support.message_ids, &gaps);
            support_pending(&mut refreshed, stored, &candidate, &session.session_id);
        }
    }
    for stored in refreshed.values() {
        let mut transaction = Transaction::new();
        transaction.decide_proposal(stored, ProposalStatus::Pending)?;
        match store.commit(transaction).await {
            // An admin decided it meanwhile: their decision stands.
            Err(error) if error.is_condition_failure() => {}
            other => other?,
        }
    }
    rank(&mut proposals);

    let now = Utc::now();
    let mut stored: Vec<LearningProposal> = proposals
        .into_iter()
        .map(|proposal| {
            let description = description(&proposal);
            LearningProposal::pending(&session.session_id, proposal, description, now)
        })
        .collect();
    // Worded by the rules; with ANALYST=bedrock the next step hands them to the analyst.
    for proposal in &mut stored {
        proposal.written_by = Some(WrittenBy::rules());
    }
    for proposal in &stored {
        match store.create(proposal).await {
            Ok(()) | Err(StoreError::AlreadyExists { .. }) => {}
            Err(error) => return Err(error.into()),
        }
    }
    write_references(store, stored.iter().chain(refreshed.values()), &gaps).await?;

    let conversations: BTreeSet<&str> = feedback
        .iter()
        .map(|item| item.conversation_id.as_str())
        .chain(gaps.iter().map(|execution| execution.conversation_id.as_str()))
        .collect();
    let count =
        |kind: ProposalKind| stored.iter().filter(|stored| stored.proposal.kind == kind).count() as u64;
    session.proposal_ids = stored.iter().map(|proposal| proposal.proposal_id.clone()).collect();
    session.stats = SessionStats {
        conversations_analysed: conversations.len() as u64,
        gap_messages: gaps.len() as u64,
        edits_analysed: feedback.len() as u64,
        new_intent_proposals: count(ProposalKind::NewIntent),
        intent_example_proposals: count(ProposalKind::IntentExample),
        playbook_proposals: count(ProposalKind::PlaybookAmendment),
        unclustered_gaps: discovery.unclustered.len() as u64,
        pending_proposals_refreshed: refreshed.len() as u64,
        worded_by_model: 0,
        worded_by_rules: (stored.len() + feedback.len()) as u64,
        gaps_embedded: embedded.counts.embedded,
        gap_embeddings_failed: embedded.counts.failed,
        gaps_over_embedding_budget: embedded.counts.over_budget,
    };
    let data = report_data::report_data(deps, session, &stored).await?;
    session.summary = Some(report_data::summary_line(&data));
    Ok(())
}
