//! `GET /v1/learning/dashboard?days=N`: learning health, active dynamic config, pending
//! proposals, the feedback timeline, experiments and the five metrics.
//!
//! Everything is read from the daily counters (one BatchGetItem per 100 shard items) and the
//! entity listings (intents, playbook entries, pending proposals; one Query per page of 100),
//! concurrently. The number of DynamoDB requests depends on the days and the entities shown,
//! never on the number of messages.

use std::collections::BTreeMap;

use autolearn_learning::promotion::{ExperimentReview, review_experiments};
use autolearn_learning::proposals::rank_by;
use autolearn_model::counters::ratio;
use autolearn_model::{
    Counter, DailyCounters, DynamicIntent, LearningProposal, PlaybookEntry, PromotionConfig, ProposalStatus,
    Store, StoreError,
};
use autolearn_web::ApiError;
use autolearn_web::extract::Query;
use axum::Json;
use axum::extract::State;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde::Deserialize;

use crate::{AdminIdentity, AppState};

pub const DEFAULT_DAYS: u32 = 28;
pub const MAX_DAYS: u32 = 365;

#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    pub days: Option<String>,
}

impl DashboardQuery {
    /// The number of days: default 28, 1 to 365.
    pub fn days(&self) -> Result<u32, ApiError> {
        let Some(raw) = self.days.as_deref() else { return Ok(DEFAULT_DAYS) };
        match raw.trim().parse::<u32>() {
            Ok(days) if (1..=MAX_DAYS).contains(&days) => Ok(days),
            _ => Err(ApiError::invalid("days", format!("days must be an integer from 1 to {MAX_DAYS}"))),
        }
    }
}

mod document;

pub use document::*;

/// The `days` days up to and including `today`, oldest first.
pub fn days_ending(today: NaiveDate, days: u32) -> Vec<NaiveDate> {
    (0..i64::from(days)).rev().map(|back| today - Duration::days(back)).collect()
}

/// Reads everything the dashboard shows for the `days` days ending `today`.
pub async fn load(
    store: &Store,
    today: NaiveDate,
    days: u32,
    promotion: &PromotionConfig,
) -> Result<Dashboard, StoreError> {
    let day_list = days_ending(today, days);
    let (counters, intents, entries, pending) = futures::try_join!(
        store.daily_counters(&day_list),
        store.all_intents(),
        store.all_playbook_entries(),
        store.all_proposals_with_status(ProposalStatus::Pending),
    )?;
    Ok(build(today, days, &counters, intents, entries, pending, promotion))
}

/// Builds the dashboard from what was read (pure: the arithmetic lives here).
pub fn build(
    today: NaiveDate,
    days: u32,
    counters: &[DailyCounters],
    intents: Vec<DynamicIntent>,
    entries: Vec<PlaybookEntry>,
    mut pending: Vec<LearningProposal>,
    promotion: &PromotionConfig,
) -> Dashboard {
    let total = |counter: Counter| counters.iter().map(|day| day.get(&counter)).sum::<i64>();
    let executions = total(Counter::Executions);
    let matched = total(Counter::Matched);
    let gaps = total(Counter::Gaps);
    let sent = total(Counter::Sent);
    let unedited = total(Counter::Unedited);

    let gap_trend = counters
        .iter()
        .map(|day| GapDay {
            day: day.day,
            executions: day.get(&Counter::Executions),
            matched: day.get(&Counter::Matched),
            gaps: day.get(&Counter::Gaps),
            coverage: ratio(day.get(&Counter::Matched), day.get(&Counter::Executions)),
        })
        .collect();

    let feedback_timeline = counters
        .iter()
        .map(|day| {
            let sent = day.get(&Counter::Sent);
            FeedbackDay {
                day: day.day,
                sent,
                unedited: day.get(&Counter::Unedited),
                lightly_edited: day.get(&Counter::LightlyEdited),
                rewritten: day.get(&Counter::Rewritten),
                sent_without_draft: day.get(&Counter::SentWithoutDraft),
                mean_edit_distance: ratio(day.get(&Counter::EditDistanceMicros), sent).map(|v| v / 1e6),
                accuracy: ratio(day.get(&Counter::Unedited), sent),
            }
        })
        .collect();

    let mut intent_hits: BTreeMap<&str, i64> = BTreeMap::new();
    let mut skills: BTreeMap<&str, i64> = BTreeMap::new();
    let mut injections: BTreeMap<&str, i64> = BTreeMap::new();
    for day in counters {
        for (name, value) in day.intents() {
            *intent_hits.entry(name).or_default() += value;
        }
        for (name, value) in day.skills() {
            *skills.entry(name).or_default() += value;
        }
        for (id, value) in day.playbook_entries() {
            *injections.entry(id).or_default() += value;
        }
    }

    let config: Vec<_> = intents
        .iter()
        .map(|intent| intent.config_usage())
        .chain(entries.iter().map(|entry| entry.config_usage()))
        .collect();
    let experiments = review_experiments(&config, promotion)
        .into_iter()
        .map(|review| experiment(review, promotion))
        .collect();

    let active_intents = intents
        .into_iter()
        .filter(|intent| intent.active)
        .map(|intent| IntentView {
            hits_in_period: intent_hits.get(intent.name.as_str()).copied().unwrap_or(0),
            approval_rate: intent.usage.approval_rate(),
            hit_count: intent.usage.hit_count,
            sent_count: intent.usage.sent_count,
            unedited_count: intent.usage.unedited_count,
            intent_id: intent.intent_id,
            name: intent.name,
            description: intent.description,
            examples: intent.examples,
            keywords: intent.keywords,
            experimental: intent.experimental,
            extends_builtin: intent.extends_builtin,
            promoted_at: intent.promoted_at,
        })
        .collect();
    let entry_texts: BTreeMap<String, String> =
        entries.iter().map(|entry| (entry.entry_id.clone(), entry.text.clone())).collect();
    let active_entries = entries
        .into_iter()
        .filter(|entry| entry.active)
        .map(|entry| PlaybookView {
            injections_in_period: injections.get(entry.entry_id.as_str()).copied().unwrap_or(0),
            approval_rate: entry.usage.approval_rate(),
            hit_count: entry.usage.hit_count,
            sent_count: entry.usage.sent_count,
            unedited_count: entry.usage.unedited_count,
            entry_id: entry.entry_id,
            intent_name: entry.intent_name,
            text: entry.text,
            experimental: entry.experimental,
            promoted_at: entry.promoted_at,
        })
        .collect();

    let mut weeks: Vec<WeekVelocity> = Vec::new();
    for day in counters {
        let iso = day.day.iso_week();
        let week = format!("{}-W{:02}", iso.year(), iso.week());
        if weeks.last().is_none_or(|last| last.week != week) {
            weeks.push(WeekVelocity { week, applied: 0, rejected: 0 });
        }
        let current = weeks.last_mut().expect("pushed above");
        current.applied += day.get(&Counter::ProposalsApplied);
        current.rejected += day.get(&Counter::ProposalsRejected);
    }
    let applied = total(Counter::ProposalsApplied);
    let learning_velocity = LearningVelocity {
        per_week: ratio(applied, weeks.len() as i64),
        applied,
        rejected: total(Counter::ProposalsRejected),
        weeks,
    };

    let mut skill_utilization: Vec<SkillUse> = skills
        .into_iter()
        .map(|(skill, uses)| SkillUse { skill: skill.to_owned(), uses, share: ratio(uses, executions) })
        .collect();
    skill_utilization.sort_by(|a, b| b.uses.cmp(&a.uses).then(a.skill.cmp(&b.skill)));
    let mut playbook_hit_rate: Vec<PlaybookHits> = injections
        .into_iter()
        .map(|(id, injections)| PlaybookHits {
            entry_id: id.to_owned(),
            text: entry_texts.get(id).cloned(),
            injections,
            rate: ratio(injections, executions),
        })
        .collect();
    playbook_hit_rate.sort_by(|a, b| b.injections.cmp(&a.injections).then(a.entry_id.cmp(&b.entry_id)));

    rank_by(&mut pending, |stored| &stored.proposal);
    Dashboard {
        period: Period {
            days,
            from: counters.first().map_or(today, |day| day.day),
            to: counters.last().map_or(today, |day| day.day),
        },
        health: Health { coverage_score: ratio(matched, executions), executions, matched, gaps, gap_trend },
        active_config: ActiveConfig { intents: active_intents, playbook_entries: active_entries },
        pending_proposals: pending,
        feedback_timeline,
        experiments,
        metrics: Metrics {
            intent_coverage: IntentCoverage { value: ratio(matched, executions), matched, executions },
            draft_accuracy: DraftAccuracy { value: ratio(unedited, sent), unedited, sent },
            learning_velocity,
            skill_utilization,
            playbook_hit_rate,
        },
    }
}

fn experiment(review: ExperimentReview<'_>, promotion: &PromotionConfig) -> Experiment {
    let ExperimentReview { config, decision } = review;
    let usage = config.usage;
    let approval = usage.approval_rate();
    let hits = usage.hit_count;
    let threshold = |min_hits: u64, bound: f64, approval_met: bool| Threshold {
        min_hits,
        hits_progress: if min_hits == 0 { 1.0 } else { (hits as f64 / min_hits as f64).min(1.0) },
        approval_threshold: bound,
        approval_met,
        met: approval_met && hits >= min_hits,
    };
    Experiment {
        kind: config.item.kind,
        id: config.item.id.to_owned(),
        name: config.name.to_owned(),
        hit_count: hits,
        sent_count: usage.sent_count,
        unedited_count: usage.unedited_count,
        approval_rate: approval,
        progress: ExperimentProgress {
            promotion: threshold(
                promotion.promote_min_hits,
                promotion.promote_min_approval,
                approval.is_some_and(|rate| rate >= promotion.promote_min_approval),
            ),
            demotion: threshold(
                promotion.demote_min_hits,
                promotion.demote_max_approval,
                approval.is_some_and(|rate| rate < promotion.demote_max_approval),
            ),
        },
        decision: ExperimentDecision { action: decision.action, reason: decision.reason },
    }
}

/// Today (UTC), the last day the dashboard shows.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// `GET /v1/learning/dashboard?days=N`.
pub async fn get_dashboard(
    State(state): State<AppState>,
    _admin: AdminIdentity,
    Query(query): Query<DashboardQuery>,
) -> Result<Json<Dashboard>, ApiError> {
    let days = query.days()?;
    Ok(Json(load(&state.store, today(), days, &state.promotion).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_of_nothing_are_null() {
        assert_eq!(ratio(3, 0), None);
        assert_eq!(ratio(1, 4), Some(0.25));
        assert_eq!(serde_json::to_string(&ratio(1, 0)).unwrap(), "null");
    }

    #[test]
    fn days_are_bounded() {
        let q = |days: &str| DashboardQuery { days: Some(days.into()) }.days();
        assert_eq!(DashboardQuery::default().days().unwrap(), 28);
        assert_eq!(q("365").unwrap(), 365);
        assert!(q("366").is_err() && q("0").is_err() && q("x").is_err() && q("-1").is_err());
        let today = NaiveDate::from_ymd_opt(2026, 11, 16).unwrap();
        let days = days_ending(today, 3);
        assert_eq!(days.first().unwrap().to_string(), "2026-11-14");
        assert_eq!(days.last(), Some(&today));
    }
}
