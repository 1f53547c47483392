//! The weekly batch: its steps, how a run ends, and the learning session it records.

use serde::{Deserialize, Serialize};

/// The steps of a batch run, in order. Each one records its completion on the session, so a
/// rerun continues where the last one stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BatchStep {
    /// Analyse the period's feedback and gaps; store proposals (worded by the rules) and the
    /// session's summary.
    Proposals,
    /// With a language model as analyst: the proposal-analyst function rewords the stored
    /// proposals and summarizes the edits; the batch waits for it (`awaitingAnalyst`).
    Wording,
    /// Take the analysed feedback out of the queue.
    Feedback,
    /// Promote or demote experimental intents and playbook entries.
    Experiments,
    /// Expire pending proposals past their time.
    Expiry,
    /// The session and the A/B decisions on the bus.
    Events,
    /// The SES report, once.
    Report,
}

impl BatchStep {
    pub const ALL: [BatchStep; 7] = [
        Self::Proposals,
        Self::Wording,
        Self::Feedback,
        Self::Experiments,
        Self::Expiry,
        Self::Events,
        Self::Report,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposals => "proposals",
            Self::Wording => "wording",
            Self::Feedback => "feedback",
            Self::Experiments => "experiments",
            Self::Expiry => "expiry",
            Self::Events => "events",
            Self::Report => "report",
        }
    }
}

/// How a batch run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BatchStatus {
    /// Every step is done.
    Completed,
    /// Stopped before the Lambda deadline and handed over through the bus.
    Continuing,
    /// Handed to the proposal-analyst function, which continues the run when it is done.
    AwaitingAnalyst,
    /// Stopped after a step on purpose (fault injection in tests).
    Interrupted,
}

/// What started a learning session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SessionType {
    /// An admin's manual trigger.
    Manual,
    /// The weekly schedule.
    Batch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SessionStatus {
    Running,
    Completed,
    Failed,
}

/// The totals of one learning session's analysis. Stored as a map of these names, which is
/// also how earlier releases stored them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionStats {
    /// Distinct conversations among the period's feedback and gaps.
    pub conversations_analysed: u64,
    /// Gap executions of the period.
    pub gap_messages: u64,
    /// Rewritten sends (draft feedback) analysed.
    pub edits_analysed: u64,
    pub new_intent_proposals: u64,
    pub intent_example_proposals: u64,
    pub playbook_proposals: u64,
    /// Gap messages left out of every proposal (one-off messages, chatter).
    pub unclustered_gaps: u64,
    /// Pending proposals of earlier sessions that this one found support for again: the
    /// support was added to them instead of proposing the same idea twice.
    pub pending_proposals_refreshed: u64,
    /// New proposals a language model worded (`ANALYST=bedrock`)…
    pub worded_by_model: u64,
    /// …and those the rules worded (every one with `ANALYST=rules`, and the model's fallbacks).
    pub worded_by_rules: u64,
    /// Gap messages a model gave a sentence embedding (`EMBEDDINGS=bedrock`)…
    pub gaps_embedded: u64,
    /// …those whose call failed, timed out or answered no valid embedding…
    pub gap_embeddings_failed: u64,
    /// …and those beyond the run's budget (`EMBEDDINGS_MAX_MESSAGES`). The last two stay lexical.
    pub gaps_over_embedding_budget: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_names_are_their_json() {
        for step in BatchStep::ALL {
            assert_eq!(serde_json::to_value(step).unwrap(), serde_json::json!(step.as_str()));
        }
    }

    #[test]
    fn stats_read_the_map_of_earlier_releases() {
        let old = serde_json::json!({"conversationsAnalysed": 4, "gapMessages": 9, "editsAnalysed": 2});
        let stats: SessionStats = serde_json::from_value(old).unwrap();
        assert_eq!((stats.conversations_analysed, stats.gap_messages, stats.edits_analysed), (4, 9, 2));
        assert_eq!(stats.unclustered_gaps, 0);
    }
}
