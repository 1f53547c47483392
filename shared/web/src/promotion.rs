//! The promotion rules' configuration, read once from the environment. The weekly batch takes
//! its A/B decisions with it and the dashboard previews them with it: both functions call
//! [`from_env`], so the page never shows a decision the batch would not take.

use autolearn_domain::PromotionConfig;

use crate::config::{self, ConfigError, optional_with};

pub const PROMOTE_MIN_APPROVAL: &str = "PROMOTE_MIN_APPROVAL";
pub const PROMOTE_MIN_HITS: &str = "PROMOTE_MIN_HITS";
pub const DEMOTE_MAX_APPROVAL: &str = "DEMOTE_MAX_APPROVAL";
pub const DEMOTE_MIN_HITS: &str = "DEMOTE_MIN_HITS";
/// `off` (the default) or `wilson`: also require the Wilson interval to clear the baseline.
pub const PROMOTION_GUARD: &str = "PROMOTION_GUARD";
/// The baseline approval rate the guard uses until established config has enough sends.
pub const PROMOTION_BASELINE_PRIOR: &str = "PROMOTION_BASELINE_PRIOR";

/// Every variable [`from_env`] reads.
pub const ENV_VARS: &[&str] = &[
    PROMOTE_MIN_APPROVAL,
    PROMOTE_MIN_HITS,
    DEMOTE_MAX_APPROVAL,
    DEMOTE_MIN_HITS,
    PROMOTION_GUARD,
    PROMOTION_BASELINE_PRIOR,
];

/// A rate: a decimal from 0 to 1, as the template's rate parameters allow.
pub fn parse_rate(name: &'static str, raw: &str) -> Result<f64, ConfigError> {
    config::parse_unit_interval(name, raw)
}

/// A hit count of at least 1.
pub fn parse_min_hits(name: &'static str, raw: &str) -> Result<u64, ConfigError> {
    config::parse_whole_in(name, raw, 1..=u64::MAX)
}

/// `off` or `wilson`.
pub fn parse_guard(raw: &str) -> Result<bool, ConfigError> {
    match raw {
        "off" => Ok(false),
        "wilson" => Ok(true),
        other => Err(ConfigError::Invalid {
            name: PROMOTION_GUARD,
            why: format!("{other:?} is not off or wilson"),
        }),
    }
}

/// The promotion rules' thresholds from the environment, the design document's defaults for
/// what is unset; a value out of range names its variable.
pub fn from_env() -> Result<PromotionConfig, ConfigError> {
    let defaults = PromotionConfig::default();
    let cfg = PromotionConfig {
        promote_min_approval: optional_with(PROMOTE_MIN_APPROVAL, defaults.promote_min_approval, |raw| {
            parse_rate(PROMOTE_MIN_APPROVAL, raw)
        })?,
        promote_min_hits: optional_with(PROMOTE_MIN_HITS, defaults.promote_min_hits, |raw| {
            parse_min_hits(PROMOTE_MIN_HITS, raw)
        })?,
        demote_max_approval: optional_with(DEMOTE_MAX_APPROVAL, defaults.demote_max_approval, |raw| {
            parse_rate(DEMOTE_MAX_APPROVAL, raw)
        })?,
        demote_min_hits: optional_with(DEMOTE_MIN_HITS, defaults.demote_min_hits, |raw| {
            parse_min_hits(DEMOTE_MIN_HITS, raw)
        })?,
        statistical_guard: optional_with(PROMOTION_GUARD, defaults.statistical_guard, parse_guard)?,
        baseline_prior: optional_with(PROMOTION_BASELINE_PRIOR, defaults.baseline_prior, |raw| {
            parse_rate(PROMOTION_BASELINE_PRIOR, raw)
        })?,
        ..defaults
    };
    if cfg.demote_max_approval > cfg.promote_min_approval {
        return Err(ConfigError::Invalid {
            name: DEMOTE_MAX_APPROVAL,
            why: format!(
                "{} is above {PROMOTE_MIN_APPROVAL} ({})",
                cfg.demote_max_approval, cfg.promote_min_approval
            ),
        });
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_and_name_their_variable() {
        assert_eq!(parse_rate(PROMOTE_MIN_APPROVAL, "0.75"), Ok(0.75));
        assert_eq!(parse_rate(PROMOTE_MIN_APPROVAL, "1"), Ok(1.0));
        let error = parse_rate(PROMOTE_MIN_APPROVAL, "1.5").unwrap_err();
        assert!(error.to_string().contains(PROMOTE_MIN_APPROVAL), "{error}");
        assert!(parse_min_hits(DEMOTE_MIN_HITS, "0").is_err());
        assert_eq!(parse_min_hits(DEMOTE_MIN_HITS, "25"), Ok(25));
        assert_eq!(parse_guard("wilson"), Ok(true));
        assert_eq!(parse_guard("off"), Ok(false));
        assert!(parse_guard("on").is_err());
    }
}
