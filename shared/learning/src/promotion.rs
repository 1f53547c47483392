//! Promotion rules for experimental dynamic intents and playbook entries (A/B testing).
//!
//! The design document's rules, with its thresholds as defaults: promote at
//! `approvalRate >= 0.8` with `hitCount >= 10`; deactivate at `approvalRate < 0.3` with
//! `hitCount >= 20`. An optional statistical guard (off by default) also asks the Wilson
//! score interval of the approval rate to clear the baseline approval rate of
//! non-experimental intents: its lower bound above the baseline to promote, its upper
//! bound below the baseline to demote.

use serde::{Deserialize, Serialize};

/// What the batch should do with an experimental item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// Make it non-experimental (set `promotedAt`).
    Promote,
    /// Deactivate it.
    Demote,
    /// Leave it experimental.
    Keep,
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

/// Thresholds of the promotion rules.
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
    /// Also require the Wilson interval to clear the baseline (needs `sends` and a
    /// baseline; without them the guard holds the decision at Keep).
    pub statistical_guard: bool,
    /// z of the Wilson interval (1.96 ≈ 95%).
    pub wilson_z: f64,
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
        }
    }
}

/// A decision with its reason and the numbers it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// What to do.
    pub action: Action,
    /// Why, in one line with the numbers.
    pub reason: String,
    /// Hit count used.
    pub hit_count: u64,
    /// Approval rate used.
    pub approval_rate: Option<f64>,
    /// Baseline approval rate given.
    pub baseline: Option<f64>,
    /// Wilson interval `(lower, upper)` when computed.
    pub wilson_interval: Option<(f64, f64)>,
}

/// The Wilson score interval of `successes` out of `trials` at `z`.
pub fn wilson_interval(successes: f64, trials: f64, z: f64) -> Option<(f64, f64)> {
    if trials <= 0.0 {
        return None;
    }
    let p = successes / trials;
    let z2 = z * z;
    let denominator = 1.0 + z2 / trials;
    let center = p + z2 / (2.0 * trials);
    let margin = z * (p * (1.0 - p) / trials + z2 / (4.0 * trials * trials)).sqrt();
    Some((((center - margin) / denominator).max(0.0), ((center + margin) / denominator).min(1.0)))
}

/// The pooled approval rate of non-experimental items (total approvals / total sends),
/// the baseline for the statistical guard; `None` without sends.
pub fn baseline_approval_rate(stats: &[ExperimentStats]) -> Option<f64> {
    let (mut approvals, mut sends) = (0.0, 0.0);
    for s in stats {
        if let (Some(rate), Some(n)) = (s.approval_rate, s.sends) {
            approvals += rate * n as f64;
            sends += n as f64;
        }
    }
    (sends > 0.0).then(|| approvals / sends)
}

/// Decides what to do with an experimental item (see the module documentation).
pub fn decide(stats: &ExperimentStats, cfg: &PromotionConfig, baseline: Option<f64>) -> Decision {
    let hits = stats.hit_count;
    let decision = |action, reason: String, interval| Decision {
        action,
        reason,
        hit_count: hits,
        approval_rate: stats.approval_rate,
        baseline,
        wilson_interval: interval,
    };
    let Some(rate) = stats.approval_rate else {
        return decision(Action::Keep, format!("no sends yet ({hits} hits)"), None);
    };
    let interval = stats.sends.and_then(|n| wilson_interval(rate * n as f64, n as f64, cfg.wilson_z));
    let promote = rate >= cfg.promote_min_approval && hits >= cfg.promote_min_hits;
    let demote = !promote && rate < cfg.demote_max_approval && hits >= cfg.demote_min_hits;
    let numbers = format!("approval {:.0}% over {hits} hits", rate * 100.0);
    if !promote && !demote {
        let why = if hits < cfg.promote_min_hits {
            format!("{numbers}: not enough hits yet (promotion needs {})", cfg.promote_min_hits)
        } else {
            format!(
                "{numbers}: between thresholds (promote at ≥{:.0}% with ≥{} hits, demote below {:.0}% with ≥{} hits)",
                cfg.promote_min_approval * 100.0,
                cfg.promote_min_hits,
                cfg.demote_max_approval * 100.0,
                cfg.demote_min_hits
            )
        };
        return decision(Action::Keep, why, interval);
    }
    if cfg.statistical_guard {
        let (Some((lower, upper)), Some(base)) = (interval, baseline) else {
            return decision(
                Action::Keep,
                format!("{numbers}: statistical guard needs send counts and a baseline"),
                interval,
            );
        };
        if promote && lower <= base {
            return decision(
                Action::Keep,
                format!(
                    "{numbers}: Wilson lower bound {:.0}% does not beat baseline {:.0}%",
                    lower * 100.0,
                    base * 100.0
                ),
                interval,
            );
        }
        if demote && upper >= base {
            return decision(
                Action::Keep,
                format!(
                    "{numbers}: Wilson upper bound {:.0}% does not fall below baseline {:.0}%",
                    upper * 100.0,
                    base * 100.0
                ),
                interval,
            );
        }
    }
    if promote {
        decision(
            Action::Promote,
            format!(
                "{numbers}: at least {:.0}% with at least {} hits",
                cfg.promote_min_approval * 100.0,
                cfg.promote_min_hits
            ),
            interval,
        )
    } else {
        decision(
            Action::Demote,
            format!(
                "{numbers}: below {:.0}% with at least {} hits",
                cfg.demote_max_approval * 100.0,
                cfg.demote_min_hits
            ),
            interval,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn stats(hits: u64, rate: f64) -> ExperimentStats {
        ExperimentStats { hit_count: hits, approval_rate: Some(rate), sends: Some(hits) }
    }

    #[test]
    fn design_thresholds_exactly() {
        let cfg = PromotionConfig::default();
        assert_eq!(decide(&stats(10, 0.8), &cfg, None).action, Action::Promote);
        assert_eq!(decide(&stats(9, 1.0), &cfg, None).action, Action::Keep);
        assert_eq!(decide(&stats(10, 0.79), &cfg, None).action, Action::Keep);
        assert_eq!(decide(&stats(20, 0.29), &cfg, None).action, Action::Demote);
        assert_eq!(decide(&stats(20, 0.3), &cfg, None).action, Action::Keep);
        assert_eq!(decide(&stats(19, 0.0), &cfg, None).action, Action::Keep);
        let none = ExperimentStats { hit_count: 50, approval_rate: None, sends: None };
        assert_eq!(decide(&none, &cfg, None).action, Action::Keep);
    }

    #[test]
    fn decisions_carry_reason_and_numbers() {
        let d = decide(&stats(12, 0.9), &PromotionConfig::default(), Some(0.6));
        insta::assert_snapshot!(d.reason, @"approval 90% over 12 hits: at least 80% with at least 10 hits");
        assert_eq!(d.hit_count, 12);
        assert_eq!(d.approval_rate, Some(0.9));
        assert_eq!(d.baseline, Some(0.6));
    }

    #[test]
    fn statistical_guard_holds_back_small_samples() {
        let cfg = PromotionConfig { statistical_guard: true, ..PromotionConfig::default() };
        // 8/10 approvals: Wilson lower bound ≈ 0.49, below a 0.7 baseline.
        let d = decide(&stats(10, 0.8), &cfg, Some(0.7));
        assert_eq!(d.action, Action::Keep);
        assert!(d.reason.contains("Wilson lower bound"), "{}", d.reason);
        // 190/200 clears it.
        assert_eq!(decide(&stats(200, 0.95), &cfg, Some(0.7)).action, Action::Promote);
        // Without a baseline the guard keeps.
        assert_eq!(decide(&stats(200, 0.95), &cfg, None).action, Action::Keep);
        // 2/20 has upper bound ≈ 0.30 < 0.7: demote.
        assert_eq!(decide(&stats(20, 0.1), &cfg, Some(0.7)).action, Action::Demote);
    }

    #[test]
    fn wilson_interval_known_value() {
        let (lower, upper) = wilson_interval(8.0, 10.0, 1.96).unwrap();
        assert!((lower - 0.4902).abs() < 1e-3 && (upper - 0.9433).abs() < 1e-3);
        assert_eq!(wilson_interval(0.0, 0.0, 1.96), None);
    }

    #[test]
    fn baseline_is_pooled() {
        let b = baseline_approval_rate(&[stats(10, 0.5), stats(30, 0.9)]).unwrap();
        assert!((b - 0.8).abs() < 1e-12);
        assert_eq!(baseline_approval_rate(&[]), None);
    }

    proptest! {
        #[test]
        fn promote_and_demote_follow_thresholds(hits in 0u64..100, rate in 0.0f64..=1.0) {
            let d = decide(&stats(hits, rate), &PromotionConfig::default(), None);
            let expected = if rate >= 0.8 && hits >= 10 {
                Action::Promote
            } else if rate < 0.3 && hits >= 20 {
                Action::Demote
            } else {
                Action::Keep
            };
            prop_assert_eq!(d.action, expected);
        }
    }
}
