//! Who words the batch's proposals.
//!
//! The rules engine decides everything a proposal rests on: grouping, support, confidence,
//! thresholds, deduplication, evidence. Its wording is the default and the floor. With
//! `ANALYST=bedrock` a language model on Amazon Bedrock rewrites the wording of this session's
//! new proposals from their masked evidence: a playbook amendment's reason and playbook text, a
//! new intent's name, description and answer outline. Each answer comes back through a tool
//! call, is parsed strictly and validated before it replaces anything; a proposal whose call is
//! over budget, fails, times out or answers invalid JSON keeps the rules' wording. Each stored
//! proposal records who wrote it (`writtenBy`) and the session counts both.

mod bedrock;
mod masking;
mod wording;

use autolearn_model::{AnalystKind, DraftFeedback, LearningProposal, ProposalKind, WrittenBy};
use autolearn_web::{ConfigError, config};

pub use bedrock::BedrockAnalyst;
pub(crate) use bedrock::client as bedrock_client;
pub use masking::mask_for_model;

/// `rules` (default) or `bedrock`.
pub const ANALYST: &str = "ANALYST";
/// The Bedrock model the analyst calls (required with `ANALYST=bedrock`).
pub const BEDROCK_MODEL_ID: &str = "BEDROCK_MODEL_ID";
/// The most model calls one batch run makes (default 50).
pub const ANALYST_MAX_CALLS: &str = "ANALYST_MAX_CALLS";
/// The most tokens (input and output) one batch run spends (default 100,000).
pub const ANALYST_MAX_TOKENS: &str = "ANALYST_MAX_TOKENS";

pub const DEFAULT_MAX_CALLS: u32 = 50;
pub const DEFAULT_MAX_TOKENS: u64 = 100_000;

/// The analyst's configuration, read once at cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalystSettings {
    pub kind: AnalystKind,
    pub model_id: Option<String>,
    pub max_calls: u32,
    pub max_tokens: u64,
}

impl Default for AnalystSettings {
    fn default() -> Self {
        Self {
            kind: AnalystKind::Rules,
            model_id: None,
            max_calls: DEFAULT_MAX_CALLS,
            max_tokens: DEFAULT_MAX_TOKENS,
        }
    }
}

/// `ANALYST`: `rules` or `bedrock`.
pub fn parse_analyst(raw: &str) -> Result<AnalystKind, ConfigError> {
    match raw.trim() {
        "rules" => Ok(AnalystKind::Rules),
        "bedrock" => Ok(AnalystKind::Bedrock),
        other => {
            Err(ConfigError::Invalid { name: ANALYST, why: format!("{other:?} is not rules or bedrock") })
        }
    }
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
    parse_model_id_of(BEDROCK_MODEL_ID, raw)
}

/// The variable `name` holding a Bedrock model id or inference profile id (letters, digits,
/// `.`, `:`, `-`, `_`).
pub(crate) fn parse_model_id_of(name: &'static str, raw: &str) -> Result<String, ConfigError> {
    let id = raw.trim();
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || ".:-_".contains(c)) {
        Ok(id.to_owned())
    } else {
        Err(ConfigError::Invalid { name, why: format!("{raw:?} is not a Bedrock model id") })
    }
}

impl AnalystSettings {
    /// From `ANALYST`, `BEDROCK_MODEL_ID`, `ANALYST_MAX_CALLS` and `ANALYST_MAX_TOKENS`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let kind = config::optional_with(ANALYST, AnalystKind::Rules, parse_analyst)?;
        let model_id = match kind {
            AnalystKind::Rules => None,
            AnalystKind::Bedrock => Some(parse_model_id(&config::required(BEDROCK_MODEL_ID)?)?),
        };
        Ok(Self {
            kind,
            model_id,
            max_calls: config::optional_with(ANALYST_MAX_CALLS, DEFAULT_MAX_CALLS, parse_max_calls)?,
            max_tokens: config::optional_with(ANALYST_MAX_TOKENS, DEFAULT_MAX_TOKENS, parse_max_tokens)?,
        })
    }
}

/// The analyst of a run.
#[derive(Debug, Clone, Default)]
pub enum Analyst {
    /// The rules' wording stands.
    #[default]
    Rules,
    Bedrock(BedrockAnalyst),
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

impl Analyst {
    /// The analyst the settings name, calling Bedrock through `sdk` when they name it.
    pub fn new(settings: &AnalystSettings, sdk: &aws_config::SdkConfig) -> Self {
        match (settings.kind, &settings.model_id) {
            (AnalystKind::Bedrock, Some(model_id)) => {
                Analyst::Bedrock(BedrockAnalyst::new(sdk, model_id, settings.max_calls, settings.max_tokens))
            }
            _ => Analyst::Rules,
        }
    }

    /// Words the session's new proposals (before they are stored), then summarizes the
    /// period's edits with what the run's budget has left: each item the model answers validly
    /// takes its wording, every other keeps the rules'. Records who wrote each proposal.
    pub async fn word(&self, proposals: &mut [LearningProposal], edits: &[DraftFeedback]) -> Worded {
        let mut worded = Worded::default();
        let Analyst::Bedrock(model) = self else {
            for stored in proposals.iter_mut() {
                stored.written_by = Some(WrittenBy::rules());
            }
            worded.by_rules = (proposals.len() + edits.len()) as u64;
            return worded;
        };
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_analyst_variables_parse_or_name_the_problem() {
        assert_eq!(parse_analyst("bedrock").unwrap(), AnalystKind::Bedrock);
        assert_eq!(parse_analyst(" rules ").unwrap(), AnalystKind::Rules);
        let error = parse_analyst("gpt").unwrap_err().to_string();
        assert!(error.contains(ANALYST) && error.contains("gpt"), "{error}");
        assert_eq!(parse_max_calls("12").unwrap(), 12);
        for bad in ["0", "-3", "ten", "", "10000001"] {
            let error = parse_max_tokens(bad).unwrap_err().to_string();
            assert!(error.contains(ANALYST_MAX_TOKENS), "{error}");
        }
        assert_eq!(parse_model_id("us.amazon.nova-lite-v1:0").unwrap(), "us.amazon.nova-lite-v1:0");
        assert!(parse_model_id("model id; drop").unwrap_err().to_string().contains(BEDROCK_MODEL_ID));
    }
}
