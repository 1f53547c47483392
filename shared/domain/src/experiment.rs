//! A/B testing of dynamic config: the numbers of an experiment, the thresholds of the
//! promotion rules, and what was decided. The rules themselves are
//! `autolearn_learning::promotion::decide`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::item::{ConfigItem, ItemKind, UsageCounts};

/// What to do with an experimental item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ExperimentAction {
    /// Make it non-experimental (set `promotedAt`).
    Promote,
    /// Deactivate it.
    Demote,
    /// Leave it experimental.
    Keep,
}

impl ExperimentAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Promote => "promote",
            Self::Demote => "demote",
            Self::Keep => "keep",
        }
    }
}

/// The A/B numbers of an experimental item.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentStats {
    /// Times the classifier matched it.
    pub hit_count: u64,
    /// Share of its drafts sent without editing, if any were sent.
    pub approval_rate: Option<f64>,
    /// Number of sends the approval rate is over (needed by the statistical guard).
    #[serde(default)]
    pub sends: Option<u64>,
}

impl From<UsageCounts> for ExperimentStats {
    fn from(usage: UsageCounts) -> Self {
        Self {
            hit_count: usage.hit_count,
            approval_rate: usage.approval_rate(),
            sends: Some(usage.sent_count),
        }
    }
}

/// Thresholds of the promotion rules; the defaults are the design document's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PromotionConfig {
    /// Promote at an approval rate at or above this…
    pub promote_min_approval: f64,
    /// …with at least this many hits.
    pub promote_min_hits: u64,
    /// Demote at an approval rate below this…
    pub demote_max_approval: f64,
    /// …with at least this many hits.
    pub demote_min_hits: u64,
    /// Also require the Wilson score interval of the approval rate to clear the baseline: its
    /// lower bound above it to promote, its upper bound below it to demote.
    pub statistical_guard: bool,
    /// z of the Wilson interval (1.96 ≈ 95%).
    pub wilson_z: f64,
    /// The baseline approval rate while established config has too few sends to measure one
    /// (a fresh system): the rate an experiment must beat with confidence.
    pub baseline_prior: f64,
    /// Established config needs at least this many sends before its pooled approval rate
    /// replaces the prior as the baseline.
    pub baseline_min_sends: u64,
}

impl Default for PromotionConfig {
    fn default() -> Self {
        Self {
            promote_min_approval: 0.8,
            promote_min_hits: 10,
            demote_max_approval: 0.3,
            demote_min_hits: 20,
            statistical_guard: false,
            wilson_z: 1.96,
            baseline_prior: 0.5,
            baseline_min_sends: 30,
        }
    }
}

/// One piece of dynamic config as the A/B rules see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConfigUsage<'a> {
    pub item: ConfigItem<'a>,
    /// The intent's name, or the playbook entry's text.
    pub name: &'a str,
    pub usage: UsageCounts,
    pub active: bool,
    pub experimental: bool,
}

/// A decision with its reason and the numbers it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub action: ExperimentAction,
    /// Why, in one line with the numbers.
    pub reason: String,
    pub hit_count: u64,
    pub approval_rate: Option<f64>,
    /// The baseline the statistical guard compared with, when it was on.
    pub baseline: Option<f64>,
    /// Wilson interval `(lower, upper)` when computed.
    pub wilson_interval: Option<(f64, f64)>,
}

/// One promotion or demotion the batch took, kept on its learning session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentOutcome {
    pub item_kind: ItemKind,
    pub item_id: String,
    /// The intent's name, or the start of the playbook entry's text.
    pub name: String,
    /// `promote` or `demote` (a kept experiment is not recorded).
    pub action: ExperimentAction,
    pub reason: String,
    #[serde(flatten)]
    pub usage: UsageCounts,
    pub decided_at: DateTime<Utc>,
}
