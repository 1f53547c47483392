//! Daily metric counters: pre-aggregated so the dashboard reads a bounded number of items per
//! day whatever the message volume.
//!
//! Each day has [`COUNTER_SHARDS`](crate::keys::COUNTER_SHARDS) counter items; a write adds to
//! one of them, a read sums all of them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

/// One named daily counter. The attribute name of each is fixed here, so writers and readers
/// cannot disagree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Counter {
    /// Executions recorded.
    Executions,
    /// Executions whose intent was not UNKNOWN.
    Matched,
    /// Executions that produced a draft.
    Drafted,
    /// Successful executions without an intent or without a draft.
    Gaps,
    /// Uses of one skill.
    Skill(String),
    /// Hits of one intent (by name).
    Intent(String),
    /// Injections of one playbook entry (by id).
    PlaybookEntry(String),
    /// Drafted replies sent (through the feedback webhook).
    Sent,
    /// Replies sent for an execution that had produced no draft.
    SentWithoutDraft,
    /// Sends identical to the draft.
    Unedited,
    /// Sends edited at most up to the threshold.
    LightlyEdited,
    /// Sends edited beyond the threshold.
    Rewritten,
    /// Sum of the edit distances of sends, in millionths (integers keep ADD exact).
    EditDistanceMicros,
    /// Proposals applied by an admin.
    ProposalsApplied,
    /// Proposals rejected by an admin.
    ProposalsRejected,
}

const SKILL_PREFIX: &str = "skill#";
const INTENT_PREFIX: &str = "intent#";
const PLAYBOOK_PREFIX: &str = "playbook#";

impl Counter {
    /// The item attribute that holds this counter.
    pub fn attribute(&self) -> String {
        match self {
            Self::Executions => "executions".into(),
            Self::Matched => "matched".into(),
            Self::Drafted => "drafted".into(),
            Self::Gaps => "gaps".into(),
            Self::Skill(name) => format!("{SKILL_PREFIX}{name}"),
            Self::Intent(name) => format!("{INTENT_PREFIX}{name}"),
            Self::PlaybookEntry(id) => format!("{PLAYBOOK_PREFIX}{id}"),
            Self::Sent => "sent".into(),
            Self::SentWithoutDraft => "sentWithoutDraft".into(),
            Self::Unedited => "unedited".into(),
            Self::LightlyEdited => "lightlyEdited".into(),
            Self::Rewritten => "rewritten".into(),
            Self::EditDistanceMicros => "editDistanceMicros".into(),
            Self::ProposalsApplied => "proposalsApplied".into(),
            Self::ProposalsRejected => "proposalsRejected".into(),
        }
    }
}

/// The counters of one day, summed over its shards. Missing counters read as zero.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DailyCounters {
    pub day: NaiveDate,
    pub values: BTreeMap<String, i64>,
}

impl DailyCounters {
    pub fn new(day: NaiveDate) -> Self {
        Self { day, values: BTreeMap::new() }
    }

    pub fn get(&self, counter: &Counter) -> i64 {
        self.values.get(&counter.attribute()).copied().unwrap_or(0)
    }

    pub(crate) fn add(&mut self, attribute: &str, value: i64) {
        *self.values.entry(attribute.to_owned()).or_insert(0) += value;
    }

    fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, i64)> + 'a {
        self.values
            .iter()
            .filter_map(move |(name, value)| name.strip_prefix(prefix).map(|rest| (rest, *value)))
    }

    /// Uses per skill name.
    pub fn skills(&self) -> impl Iterator<Item = (&str, i64)> + '_ {
        self.with_prefix(SKILL_PREFIX)
    }

    /// Hits per intent name.
    pub fn intents(&self) -> impl Iterator<Item = (&str, i64)> + '_ {
        self.with_prefix(INTENT_PREFIX)
    }

    /// Injections per playbook entry id.
    pub fn playbook_entries(&self) -> impl Iterator<Item = (&str, i64)> + '_ {
        self.with_prefix(PLAYBOOK_PREFIX)
    }
}

/// Picks the shard for a write from a stable key (e.g. the execution id), so that a retried
/// write lands on the same shard and load still spreads evenly over all of them.
/// `numerator / denominator`, or `None` (JSON null) for a zero denominator: every rate the
/// dashboard and the report derive from counters.
pub fn ratio(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// A counter summed over days.
pub fn total(days: &[DailyCounters], counter: &Counter) -> i64 {
    days.iter().map(|day| day.get(counter)).sum()
}

pub fn shard_for(key: &str, shards: u32) -> u32 {
    // FNV-1a: tiny, stable across builds and platforms (std's hasher is neither promised).
    let hash =
        key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    (hash % u64::from(shards)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_counters_read_back_by_prefix() {
        let mut day = DailyCounters::new(NaiveDate::from_ymd_opt(2026, 11, 2).unwrap());
        day.add(&Counter::Skill("pricing".into()).attribute(), 2);
        day.add(&Counter::Intent("PRICING".into()).attribute(), 3);
        day.add(&Counter::Executions.attribute(), 5);
        assert_eq!(day.skills().collect::<Vec<_>>(), vec![("pricing", 2)]);
        assert_eq!(day.intents().collect::<Vec<_>>(), vec![("PRICING", 3)]);
        assert_eq!(day.get(&Counter::Executions), 5);
        assert_eq!(day.get(&Counter::Gaps), 0);
    }

    #[test]
    fn shards_spread_and_stay_in_range() {
        let mut seen = [0u32; 8];
        for i in 0..800 {
            seen[shard_for(&format!("exec-{i}"), 8) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 50), "uneven spread: {seen:?}");
        assert_eq!(shard_for("same", 8), shard_for("same", 8));
    }
}
