//! Steps 3 and 5 of the batch: the A/B decisions on experimental config, and the events that
//! announce the session and each decision.

use autolearn_bus::{ExperimentDecided, LearningSessionCreated};
use autolearn_learning::promotion::review_experiments;
use autolearn_model::{ExperimentAction, ExperimentOutcome, LearningSession};
use chrono::Utc;

use crate::{BatchError, Deps};

/// Step 3: the promotion rules over every active experimental intent and playbook entry (the
/// same review the dashboard previews, with the same configuration).
pub(crate) async fn decide(deps: &Deps, session: &mut LearningSession) -> Result<(), BatchError> {
    let store = &deps.store;
    let (intents, entries) = tokio::try_join!(store.all_intents(), store.all_playbook_entries())?;
    let config: Vec<_> = intents
        .iter()
        .map(|intent| intent.config_usage())
        .chain(entries.iter().map(|entry| entry.config_usage()))
        .collect();
    for review in review_experiments(&config, &deps.settings.promotion) {
        let promote = match review.decision.action {
            ExperimentAction::Keep => continue,
            ExperimentAction::Promote => true,
            ExperimentAction::Demote => false,
        };
        let item = review.config.item;
        // Record the decision on the session before applying it: a crash in between leaves a
        // recorded decision whose update the rerun applies (the update is conditional, so it
        // happens once), and never an applied decision missing from the session.
        if !session
            .decisions
            .iter()
            .any(|decided| decided.item_kind == item.kind && decided.item_id == item.id)
        {
            session.decisions.push(ExperimentOutcome {
                item_kind: item.kind,
                item_id: item.id.to_owned(),
                name: review.config.name.chars().take(80).collect(),
                action: review.decision.action,
                reason: review.decision.reason,
                usage: review.config.usage,
                decided_at: Utc::now(),
            });
            store.put(&*session).await?;
        }
        let decided_at =
            session.decisions.iter().rev().find(|decided| decided.item_id == item.id).map(|d| d.decided_at);
        store.end_experiment(item, promote, decided_at.unwrap_or_else(Utc::now)).await?;
    }
    Ok(())
}

/// Step 5: the session and the A/B decisions on the bus.
pub(crate) async fn publish_events(deps: &Deps, session: &LearningSession) -> Result<(), BatchError> {
    deps.bus
        .publish(&LearningSessionCreated {
            session_id: session.session_id.clone(),
            period_start: session.period_start,
            period_end: session.period_end,
            proposals: session.proposal_ids.len(),
        })
        .await?;
    for decision in &session.decisions {
        deps.bus
            .publish(&ExperimentDecided {
                item_kind: decision.item_kind,
                item_id: decision.item_id.clone(),
                name: decision.name.clone(),
                action: decision.action,
                hit_count: decision.usage.hit_count,
                sent_count: decision.usage.sent_count,
                unedited_count: decision.usage.unedited_count,
                approval_rate: decision.usage.approval_rate(),
                reason: decision.reason.clone(),
                session_id: session.session_id.clone(),
            })
            .await?;
    }
    Ok(())
}
