//! Step 2, `wording`: who words the session's proposals.
//!
//! The analysis (step 1) stores every proposal worded by the rules. With `ANALYST=rules` (the
//! default) that wording stands and this step has nothing to do. With `ANALYST=bedrock` the
//! batch hands the session to the proposal-analyst function: it puts `WordingRequested` on the
//! bus, records when, and stops (`awaitingAnalyst`); the analyst words the stored proposals with
//! a language model, records `wordedAt` on the session and continues the batch with
//! `BatchContinuationRequested`. The batch then refreshes the session's summary (the model may
//! have renamed a new intent) and goes on.
//!
//! The batch never waits for ever: when Lambda gives up on the analyst, its on-failure
//! destination puts the failure on the bus, which triggers the batch ([`ANALYST_FAILED`]); and
//! a run that finds the request older than the analyst's time limit ([`ANALYST_WAIT`]) goes on
//! too. Either way the rules' wording stands.

use autolearn_bus::WordingRequested;
use autolearn_model::{AnalystKind, LearningSession};
use autolearn_web::{ConfigError, config};
use chrono::{Duration, Utc};

use crate::run::Trigger;
use crate::{BatchError, Deps, report_data};

/// `rules` (default) or `bedrock`.
pub const ANALYST: &str = "ANALYST";

/// The detail-type of what Lambda's on-failure destination puts on the bus when the
/// proposal-analyst function failed for good.
pub const ANALYST_FAILED: &str = "Lambda Function Invocation Result - Failure";

/// How long a requested wording may take before the rules' wording stands: the analyst's
/// Lambda timeout (15 minutes) and its retries' start.
pub const ANALYST_WAIT: Duration = Duration::minutes(20);

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

/// `ANALYST` from the environment (default `rules`).
pub fn analyst_from_env() -> Result<AnalystKind, ConfigError> {
    config::optional_with(ANALYST, AnalystKind::Rules, parse_analyst)
}

/// Where the wording step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wording {
    /// The step is done: the batch goes on.
    Done,
    /// The analyst is at work: this run stops, the analyst continues the batch.
    Waiting,
}

/// Step 2.
pub(crate) async fn step(
    deps: &Deps,
    session: &mut LearningSession,
    owner: &str,
    trigger: Trigger,
) -> Result<Wording, BatchError> {
    if deps.analyst == AnalystKind::Rules {
        return Ok(Wording::Done);
    }
    if session.worded_at.is_some() {
        refresh_summary(deps, session).await?;
        return Ok(Wording::Done);
    }
    if session.proposal_ids.is_empty() && session.stats.edits_analysed == 0 {
        return Ok(Wording::Done);
    }
    let now = Utc::now();
    match session.wording_requested_at {
        _ if trigger == Trigger::AnalystFailed => {
            tracing::warn!(session_id = %session.session_id, "the analyst failed; the rules' wording stands");
            Ok(Wording::Done)
        }
        Some(requested) if now - requested > ANALYST_WAIT => {
            tracing::warn!(session_id = %session.session_id, "the analyst did not answer in time; the rules' wording stands");
            Ok(Wording::Done)
        }
        Some(_) => Ok(Wording::Waiting),
        None => {
            // Put first, then recorded: a crash in between puts it again on the rerun, and the
            // analyst words a session once.
            deps.bus
                .publish(&WordingRequested {
                    session_id: session.session_id.clone(),
                    period_start: session.period_start,
                    period_end: session.period_end,
                })
                .await?;
            session.wording_requested_at = Some(now);
            session.updated_at = now;
            crate::run::save(&deps.store, session, owner).await?;
            tracing::info!(session_id = %session.session_id, "wording handed to the analyst");
            Ok(Wording::Waiting)
        }
    }
}

/// The session's summary line again, from its proposals as the analyst left them.
async fn refresh_summary(deps: &Deps, session: &mut LearningSession) -> Result<(), BatchError> {
    let proposals = deps.store.session_proposals(session).await?;
    let data = report_data::report_data(deps, session, &proposals).await?;
    session.summary = Some(report_data::summary_line(&data));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_analyst_is_rules_or_bedrock() {
        assert_eq!(parse_analyst("bedrock").unwrap(), AnalystKind::Bedrock);
        assert_eq!(parse_analyst(" rules ").unwrap(), AnalystKind::Rules);
        let error = parse_analyst("gpt").unwrap_err().to_string();
        assert!(error.contains(ANALYST) && error.contains("gpt"), "{error}");
    }
}
