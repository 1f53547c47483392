//! `GET /v1/learning/dashboard?days=N`: learning health, active dynamic config, pending
//! proposals, the feedback timeline, experiments and the five metrics.
//!
//! Everything is read from the daily counters (one BatchGetItem per 100 shard items) and the
//! entity listings (intents, playbook entries, pending proposals; one Query per page of 100),
//! concurrently. The number of DynamoDB requests depends on the days and the entities shown,
//! never on the number of messages.

use std::collections::BTreeMap;

use autolearn_learning::promotion::{
    Action, ExperimentStats, PromotionConfig, baseline_approval_rate, decide,
};
use autolearn_model::{
    Counter, DailyCounters, DynamicIntent, LearningProposal, Page, PlaybookEntry, ProposalStatus, Store,
    StoreError, UsageCounts,
};
use autolearn_web::ApiError;
use autolearn_web::extract::Query;
use axum::Json;
use axum::extract::State;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{AdminIdentity, AppState};

pub const DEFAULT_DAYS: u32 = 28;
pub const MAX_DAYS: u32 = 365;
/// Page size of the entity listings.
const PAGE: i32 = 100;

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

/// The dashboard document.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub period: Period,
    pub health: Health,
    pub active_config: ActiveConfig,
    /// Ranked: impact, then confidence (highest first), then oldest first.
    pub pending_proposals: Vec<LearningProposal>,
    pub feedback_timeline: Vec<FeedbackDay>,
    pub experiments: Vec<Experiment>,
    pub metrics: Metrics,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Period {
    pub days: u32,
    /// First day shown (UTC), inclusive.
    pub from: NaiveDate,
    /// Last day shown (UTC, today), inclusive.
    pub to: NaiveDate,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// Matched executions / executions over the period; null without executions.
    pub coverage_score: Option<f64>,
    pub executions: i64,
    pub matched: i64,
    pub gaps: i64,
    /// One entry per day, oldest first.
    pub gap_trend: Vec<GapDay>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GapDay {
    pub day: NaiveDate,
    pub executions: i64,
    pub matched: i64,
    pub gaps: i64,
    /// The day's intent coverage; null without executions.
    pub coverage: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveConfig {
    pub intents: Vec<IntentView>,
    pub playbook_entries: Vec<PlaybookView>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntentView {
    pub intent_id: String,
    pub name: String,
    pub description: String,
    pub examples: Vec<String>,
    pub keywords: Vec<String>,
    pub experimental: bool,
    /// Lifetime counts.
    pub hit_count: u64,
    pub sent_count: u64,
    pub unedited_count: u64,
    /// Unedited / sent; null before the first send.
    pub approval_rate: Option<f64>,
    /// Hits of the intent's name within the period (daily counters).
    pub hits_in_period: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promoted_at: Option<chrono::DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaybookView {
    pub entry_id: String,
    pub intent_name: Option<String>,
    pub text: String,
    pub experimental: bool,
    pub hit_count: u64,
    pub sent_count: u64,
    pub unedited_count: u64,
    pub approval_rate: Option<f64>,
    /// Injections within the period (daily counters).
    pub injections_in_period: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promoted_at: Option<chrono::DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackDay {
    pub day: NaiveDate,
    /// Drafted replies sent.
    pub sent: i64,
    pub unedited: i64,
    pub lightly_edited: i64,
    pub rewritten: i64,
    /// Replies sent for executions without a draft (not part of accuracy).
    pub sent_without_draft: i64,
    /// Mean normalized edit distance of the day's drafted sends; null without sends.
    pub mean_edit_distance: Option<f64>,
    /// Unedited / sent; null without sends.
    pub accuracy: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ItemKind {
    Intent,
    PlaybookEntry,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Experiment {
    pub kind: ItemKind,
    pub id: String,
    /// The intent name, or for a playbook entry its text.
    pub name: String,
    pub hit_count: u64,
    pub sent_count: u64,
    pub unedited_count: u64,
    pub approval_rate: Option<f64>,
    pub progress: ExperimentProgress,
    /// What the promotion rules would decide now.
    pub decision: ExperimentDecision,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentProgress {
    pub promotion: Threshold,
    pub demotion: Threshold,
}

/// Progress toward one rule: enough hits, and the approval rate on the right side.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Threshold {
    pub min_hits: u64,
    /// hits / minHits, capped at 1.
    pub hits_progress: f64,
    /// The approval bound: at least this to promote, below this to demote.
    pub approval_threshold: f64,
    /// Whether the approval rate is on the rule's side of the bound (false without sends).
    pub approval_met: bool,
    /// Both conditions hold.
    pub met: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentDecision {
    pub action: Action,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    pub intent_coverage: IntentCoverage,
    pub draft_accuracy: DraftAccuracy,
    pub learning_velocity: LearningVelocity,
    pub skill_utilization: Vec<SkillUse>,
    pub playbook_hit_rate: Vec<PlaybookHits>,
}

/// Share of executions matched to a non-UNKNOWN intent.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntentCoverage {
    pub value: Option<f64>,
    pub matched: i64,
    pub executions: i64,
}

/// Share of drafted sends that went out unedited.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DraftAccuracy {
    pub value: Option<f64>,
    pub unedited: i64,
    pub sent: i64,
}

/// Proposals applied per ISO week.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LearningVelocity {
    /// Applied / number of ISO weeks the period touches.
    pub per_week: Option<f64>,
    pub applied: i64,
    pub rejected: i64,
    /// Every ISO week the period touches, oldest first.
    pub weeks: Vec<WeekVelocity>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WeekVelocity {
    /// ISO week, `2026-W47`.
    pub week: String,
    pub applied: i64,
    pub rejected: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillUse {
    pub skill: String,
    pub uses: i64,
    /// Uses / executions; null without executions.
    pub share: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaybookHits {
    pub entry_id: String,
    pub injections: i64,
    /// Injections / executions; null without executions.
    pub rate: Option<f64>,
}

/// `numerator / denominator`, or `None` (JSON null) for a zero denominator.
pub fn ratio(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// The `days` days up to and including `today`, oldest first.
pub fn days_ending(today: NaiveDate, days: u32) -> Vec<NaiveDate> {
    (0..i64::from(days)).rev().map(|back| today - Duration::days(back)).collect()
}

async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, StoreError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, StoreError>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let Page { items: more, next } = page(cursor.take()).await?;
        items.extend(more);
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

pub async fn all_intents(store: &Store) -> Result<Vec<DynamicIntent>, StoreError> {
    all_pages(|cursor| async move { store.intents(cursor.as_deref(), PAGE).await }).await
}

pub async fn all_playbook_entries(store: &Store) -> Result<Vec<PlaybookEntry>, StoreError> {
    all_pages(|cursor| async move { store.playbook_entries(cursor.as_deref(), PAGE).await }).await
}

pub async fn all_pending(store: &Store) -> Result<Vec<LearningProposal>, StoreError> {
    all_pages(|cursor| async move {
        store.proposals_with_status(ProposalStatus::Pending, cursor.as_deref(), PAGE).await
    })
    .await
}

/// Ranks proposals for review: impact, then confidence (highest first), then oldest first.
pub fn rank(proposals: &mut [LearningProposal]) {
    proposals.sort_by(|a, b| {
        b.impact
            .cmp(&a.impact)
            .then(b.confidence.cmp(&a.confidence))
            .then(a.created_at.cmp(&b.created_at))
            .then(a.proposal_id.cmp(&b.proposal_id))
    });
}

/// Reads everything the dashboard shows for the `days` days ending `today`.
pub async fn load(store: &Store, today: NaiveDate, days: u32) -> Result<Dashboard, StoreError> {
    let day_list = days_ending(today, days);
    let (counters, intents, entries, pending) = futures::try_join!(
        store.daily_counters(&day_list),
        all_intents(store),
        all_playbook_entries(store),
        all_pending(store),
    )?;
    Ok(build(today, days, &counters, intents, entries, pending, &PromotionConfig::default()))
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

    let baseline = baseline_approval_rate(
        &intents
            .iter()
            .filter(|i| i.active && !i.experimental)
            .map(|i| stats(&i.usage))
            .chain(entries.iter().filter(|e| e.active && !e.experimental).map(|e| stats(&e.usage)))
            .collect::<Vec<_>>(),
    );
    let mut experiments = Vec::new();
    for intent in intents.iter().filter(|i| i.active && i.experimental) {
        experiments.push(experiment(
            ItemKind::Intent,
            &intent.intent_id,
            &intent.name,
            &intent.usage,
            promotion,
            baseline,
        ));
    }
    for entry in entries.iter().filter(|e| e.active && e.experimental) {
        experiments.push(experiment(
            ItemKind::PlaybookEntry,
            &entry.entry_id,
            &entry.text,
            &entry.usage,
            promotion,
            baseline,
        ));
    }

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
            promoted_at: intent.promoted_at,
        })
        .collect();
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
            injections,
            rate: ratio(injections, executions),
        })
        .collect();
    playbook_hit_rate.sort_by(|a, b| b.injections.cmp(&a.injections).then(a.entry_id.cmp(&b.entry_id)));

    rank(&mut pending);
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

fn stats(usage: &UsageCounts) -> ExperimentStats {
    ExperimentStats {
        hit_count: usage.hit_count,
        approval_rate: usage.approval_rate(),
        sends: Some(usage.sent_count),
    }
}

fn experiment(
    kind: ItemKind,
    id: &str,
    name: &str,
    usage: &UsageCounts,
    promotion: &PromotionConfig,
    baseline: Option<f64>,
) -> Experiment {
    let approval = usage.approval_rate();
    let hits = usage.hit_count;
    let threshold = |min_hits: u64, bound: f64, approval_met: bool| Threshold {
        min_hits,
        hits_progress: if min_hits == 0 { 1.0 } else { (hits as f64 / min_hits as f64).min(1.0) },
        approval_threshold: bound,
        approval_met,
        met: approval_met && hits >= min_hits,
    };
    let decision = decide(&stats(usage), promotion, baseline);
    Experiment {
        kind,
        id: id.to_owned(),
        name: name.to_owned(),
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
    Ok(Json(load(&state.store, today(), days).await?))
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
