//! How the analyst words a session's proposals.
//!
//! The rules engine decides everything a proposal rests on: grouping, support, confidence,
//! thresholds, deduplication, evidence. Its wording is the default and the floor: the batch
//! stores every proposal worded by the rules. With `ANALYST=bedrock` (the batch's setting) this
//! function then has a language model on Amazon Bedrock rewrite the wording of the session's new
//! proposals from their masked evidence: a playbook amendment's reason and playbook text, a new
//! intent's name, description and answer outline. Each answer comes back through a tool call, is
//! parsed strictly and validated before it replaces anything; a proposal whose call is over
//! budget, fails, times out or answers invalid JSON keeps the rules' wording. Each stored
//! proposal records who wrote it (`writtenBy`) and the session counts both.

use autolearn_model::{DraftFeedback, LearningProposal, ProposalKind, WrittenBy};
use autolearn_web::{ConfigError, config};

use crate::bedrock::BedrockAnalyst;

/// The Bedrock model the analyst calls.
pub const BEDROCK_MODEL_ID: &str = "BEDROCK_MODEL_ID";
/// The most model calls one session's wording makes (default 50).
pub const ANALYST_MAX_CALLS: &str = "ANALYST_MAX_CALLS";
/// The most tokens (input and output) one session's wording spends (default 100,000).
pub const ANALYST_MAX_TOKENS: &str = "ANALYST_MAX_TOKENS";

pub const DEFAULT_MAX_CALLS: u32 = 50;
pub const DEFAULT_MAX_TOKENS: u64 = 100_000;

/// The analyst's configuration, read once at cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalystSettings {
    pub model_id: String,
    pub max_calls: u32,
    pub max_tokens: u64,
}

/// Most calls and tokens a run may be given: a guard against a typo that would spend a fortune.
pub const MAX_CALLS_LIMIT: u64 = 10_000;
pub const MAX_TOKENS_LIMIT: u64 = 10_000_000;

fn parse_bounded(name: &'static str, raw: &str, limit: u64) -> Result<u64, ConfigError> {
    match raw.trim().parse::<u64>() {
        Ok(value) if (1..=limit).contains(&value) => Ok(value),
        _ => Err(ConfigError::Invalid {
            name,
            why: format!("{raw:?} is not a whole number from 1 to {limit}"),
        }),
    }
}

/// `ANALYST_MAX_CALLS`: a whole number from 1 to 10,000.
pub fn parse_max_calls(raw: &str) -> Result<u32, ConfigError> {
    parse_bounded(ANALYST_MAX_CALLS, raw, MAX_CALLS_LIMIT).map(|calls| calls as u32)
}

/// `ANALYST_MAX_TOKENS`: a whole number from 1 to 10,000,000.
pub fn parse_max_tokens(raw: &str) -> Result<u64, ConfigError> {
    parse_bounded(ANALYST_MAX_TOKENS, raw, MAX_TOKENS_LIMIT)
}

/// `BEDROCK_MODEL_ID`: a model id or inference profile id (letters, digits, `.`, `:`, `-`, `_`).
pub fn parse_model_id(raw: &str) -> Result<String, ConfigError> {
    config::parse_bedrock_model_id(BEDROCK_MODEL_ID, raw)
}

impl AnalystSettings {
    /// From `BEDROCK_MODEL_ID` (required), `ANALYST_MAX_CALLS` and `ANALYST_MAX_TOKENS`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            model_id: parse_model_id(&config::required(BEDROCK_MODEL_ID)?)?,
            max_calls: config::optional_with(ANALYST_MAX_CALLS, DEFAULT_MAX_CALLS, parse_max_calls)?,
            max_tokens: config::optional_with(ANALYST_MAX_TOKENS, DEFAULT_MAX_TOKENS, parse_max_tokens)?,
        })
    }
}

/// What the analyst wrote in one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Worded {
    /// Items (new proposals and edit summaries) the model wrote…
    pub by_model: u64,
    /// …and those whose rules' wording stands.
    pub by_rules: u64,
    /// The model's one-line summaries of edits, by execution id.
    pub summaries: Vec<(String, String)>,
}

/// Words the session's new proposals, then summarizes the period's edits with what the
/// budget has left: each item the model answers validly takes its wording, every other keeps
/// the rules'. Records who wrote each proposal.
pub async fn word(
    model: &BedrockAnalyst,
    proposals: &mut [LearningProposal],
    edits: &[DraftFeedback],
) -> Worded {
    let mut worded = Worded::default();
    let mut budget = model.budget();
    for stored in proposals.iter_mut() {
        let by_model =
            matches!(stored.proposal.kind, ProposalKind::PlaybookAmendment | ProposalKind::NewIntent)
                && model.word(stored, &mut budget).await;
        if by_model {
            worded.by_model += 1;
        } else {
            stored.written_by = Some(WrittenBy::rules());
            worded.by_rules += 1;
        }
    }
    for feedback in edits {
        match model.summarize(feedback, &mut budget).await {
            Some(summary) => {
                worded.summaries.push((feedback.execution_id.clone(), summary));
                worded.by_model += 1;
            }
            None => worded.by_rules += 1,
        }
    }
    worded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_analyst_variables_parse_or_name_the_problem() {
        assert_eq!(parse_max_calls("12").unwrap(), 12);
        for bad in ["0", "-3", "ten", "", "10000001"] {
            let error = parse_max_tokens(bad).unwrap_err().to_string();
            assert!(error.contains(ANALYST_MAX_TOKENS), "{error}");
        }
        assert_eq!(parse_model_id("us.amazon.nova-lite-v1:0").unwrap(), "us.amazon.nova-lite-v1:0");
        assert!(parse_model_id("model id; drop").unwrap_err().to_string().contains(BEDROCK_MODEL_ID));
    }
}
