//! The dashboard document: what `GET /v1/learning/dashboard` answers (camelCase JSON, described
//! in `infra/openapi.yaml`) and what the page renders.

use autolearn_model::{ExperimentAction, ItemKind, LearningProposal};
use chrono::{NaiveDate, Utc};
use serde::Serialize;

/// The dashboard document.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub period: Period,
    pub health: Health,
    pub active_config: ActiveConfig,
    /// Ranked as the batch ranks them: impact, confidence, support (highest first).
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
    /// An overlay carrying examples for the CRM's built-in intent of the same name.
    pub extends_builtin: bool,
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
    pub action: ExperimentAction,
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
    /// What the entry says (absent once the entry is gone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub injections: i64,
    /// Injections / executions; null without executions.
    pub rate: Option<f64>,
}
