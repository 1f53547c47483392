//! Promotion rules for experimental dynamic intents and playbook entries (A/B testing).
//!
//! The design document's rules, with its thresholds as defaults: promote at
//! `approvalRate >= 0.8` with `hitCount >= 10`; deactivate at `approvalRate < 0.3` with
//! `hitCount >= 20`. An optional statistical guard (off by default) also asks the Wilson
//! score interval of the approval rate to clear a baseline: its lower bound above it to
//! promote, its upper bound below it to demote. The baseline is the pooled approval rate of
//! established (active, non-experimental) intents and playbook entries once they have enough
//! sends, and a configured prior before that, so the guard also works on a fresh system.

pub use autolearn_domain::experiment::{
    ConfigUsage, Decision, ExperimentAction, ExperimentStats, PromotionConfig,
};

/// What the rules decide for one active experimental item.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentReview<'a> {
    pub config: ConfigUsage<'a>,
    pub decision: Decision,
}

/// Every active experimental item with the decision the rules take for it now, in the order
/// given. The batch applies these decisions and the dashboard shows them: both call this, with
/// the same configuration, so the page never previews a decision the batch would not take.
pub fn review_experiments<'a>(
    config: &[ConfigUsage<'a>],
    cfg: &PromotionConfig,
) -> Vec<ExperimentReview<'a>> {
    let established: Vec<ExperimentStats> = config
        .iter()
        .filter(|item| item.active && !item.experimental)
        .map(|item| ExperimentStats::from(item.usage))
        .collect();
    let baseline = cfg.statistical_guard.then(|| baseline_approval_rate(&established, cfg));
    config
        .iter()
        .filter(|item| item.active && item.experimental)
        .map(|item| ExperimentReview {
            config: *item,
            decision: decide(&ExperimentStats::from(item.usage), cfg, baseline),
        })
        .collect()
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

/// The approval rate an experiment must beat under the statistical guard: the pooled rate of
/// established (active, non-experimental) config, total approvals / total sends, once it has
/// at least `baseline_min_sends` sends; before that (a fresh system) the configured prior.
pub fn baseline_approval_rate(established: &[ExperimentStats], cfg: &PromotionConfig) -> f64 {
    let (mut approvals, mut sends) = (0.0, 0u64);
    for s in established {
        if let (Some(rate), Some(n)) = (s.approval_rate, s.sends) {
            approvals += rate * n as f64;
            sends += n;
        }
    }
    if sends == 0 || sends < cfg.baseline_min_sends { cfg.baseline_prior } else { approvals / sends as f64 }
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
        return decision(ExperimentAction::Keep, format!("no sends yet ({hits} hits)"), None);
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
        return decision(ExperimentAction::Keep, why, interval);
    }
    if cfg.statistical_guard {
        let (Some((lower, upper)), Some(base)) = (interval, baseline) else {
            return decision(
                ExperimentAction::Keep,
                format!("{numbers}: statistical guard needs send counts and a baseline"),
                interval,
            );
        };
        if promote && lower <= base {
            return decision(
                ExperimentAction::Keep,
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
                ExperimentAction::Keep,
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
            ExperimentAction::Promote,
            format!(
                "{numbers}: at least {:.0}% with at least {} hits",
                cfg.promote_min_approval * 100.0,
                cfg.promote_min_hits
            ),
            interval,
        )
    } else {
        decision(
            ExperimentAction::Demote,
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
    use autolearn_domain::item::{ConfigItem, UsageCounts};
    use proptest::prelude::*;

    fn stats(hits: u64, rate: f64) -> ExperimentStats {
        ExperimentStats { hit_count: hits, approval_rate: Some(rate), sends: Some(hits) }
    }

    #[test]
    fn design_thresholds_exactly() {
        let cfg = PromotionConfig::default();
        assert_eq!(decide(&stats(10, 0.8), &cfg, None).action, ExperimentAction::Promote);
        assert_eq!(decide(&stats(9, 1.0), &cfg, None).action, ExperimentAction::Keep);
        assert_eq!(decide(&stats(10, 0.79), &cfg, None).action, ExperimentAction::Keep);
        assert_eq!(decide(&stats(20, 0.29), &cfg, None).action, ExperimentAction::Demote);
        assert_eq!(decide(&stats(20, 0.3), &cfg, None).action, ExperimentAction::Keep);
        assert_eq!(decide(&stats(19, 0.0), &cfg, None).action, ExperimentAction::Keep);
        let none = ExperimentStats { hit_count: 50, approval_rate: None, sends: None };
        assert_eq!(decide(&none, &cfg, None).action, ExperimentAction::Keep);
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
        assert_eq!(d.action, ExperimentAction::Keep);
        assert!(d.reason.contains("Wilson lower bound"), "{}", d.reason);
        // 190/200 clears it.
        assert_eq!(decide(&stats(200, 0.95), &cfg, Some(0.7)).action, ExperimentAction::Promote);
        // Without a baseline the guard keeps.
        assert_eq!(decide(&stats(200, 0.95), &cfg, None).action, ExperimentAction::Keep);
        // 2/20 has upper bound ≈ 0.30 < 0.7: demote.
        assert_eq!(decide(&stats(20, 0.1), &cfg, Some(0.7)).action, ExperimentAction::Demote);
    }

    #[test]
    fn wilson_interval_known_value() {
        let (lower, upper) = wilson_interval(8.0, 10.0, 1.96).unwrap();
        assert!((lower - 0.4902).abs() < 1e-3 && (upper - 0.9433).abs() < 1e-3);
        assert_eq!(wilson_interval(0.0, 0.0, 1.96), None);
    }

    #[test]
    fn baseline_is_pooled_once_measured_and_the_prior_before() {
        let cfg = PromotionConfig::default();
        let b = baseline_approval_rate(&[stats(10, 0.5), stats(30, 0.9)], &cfg);
        assert!((b - 0.8).abs() < 1e-12);
        assert_eq!(baseline_approval_rate(&[], &cfg), cfg.baseline_prior);
        assert_eq!(baseline_approval_rate(&[stats(29, 1.0)], &cfg), cfg.baseline_prior);
    }

    fn usage(hits: u64, sent: u64, unedited: u64) -> UsageCounts {
        UsageCounts { hit_count: hits, sent_count: sent, unedited_count: unedited }
    }

    #[test]
    fn the_guard_promotes_a_clear_winner_on_a_fresh_system() {
        // Nothing established yet: the baseline is the prior (0.5). 12 of 12 unedited has a
        // Wilson lower bound of about 0.76, well above it.
        let cfg = PromotionConfig { statistical_guard: true, ..PromotionConfig::default() };
        let config = [ConfigUsage {
            item: ConfigItem::intent("intent-new"),
            name: "PARKING",
            usage: usage(12, 12, 12),
            active: true,
            experimental: true,
        }];
        let reviews = review_experiments(&config, &cfg);
        assert_eq!(reviews.len(), 1);
        assert_eq!(reviews[0].decision.action, ExperimentAction::Promote, "{}", reviews[0].decision.reason);
        assert_eq!(reviews[0].decision.baseline, Some(0.5));
        // Without the guard the same numbers promote too; with it, a narrow win does not.
        let narrow = [ConfigUsage { usage: usage(10, 10, 8), ..config[0] }];
        assert_eq!(review_experiments(&narrow, &cfg)[0].decision.action, ExperimentAction::Keep);
    }

    #[test]
    fn only_active_experiments_are_reviewed_against_established_config() {
        let cfg = PromotionConfig { statistical_guard: true, ..PromotionConfig::default() };
        let item = |id: &'static str, usage: UsageCounts, active: bool, experimental: bool| ConfigUsage {
            item: ConfigItem::playbook_entry(id),
            name: id,
            usage,
            active,
            experimental,
        };
        let config = [
            item("established", usage(400, 400, 380), true, false),
            item("retired", usage(50, 50, 0), false, true),
            item("trial", usage(40, 40, 36), true, true),
        ];
        let reviews = review_experiments(&config, &cfg);
        assert_eq!(reviews.iter().map(|r| r.config.item.id).collect::<Vec<_>>(), vec!["trial"]);
        // 36/40 does not beat an established 95% with confidence.
        assert_eq!(reviews[0].decision.action, ExperimentAction::Keep);
        assert_eq!(reviews[0].decision.baseline, Some(0.95));
    }

    proptest! {
        #[test]
        fn promote_and_demote_follow_thresholds(hits in 0u64..100, rate in 0.0f64..=1.0) {
            let d = decide(&stats(hits, rate), &PromotionConfig::default(), None);
            let expected = if rate >= 0.8 && hits >= 10 {
                ExperimentAction::Promote
            } else if rate < 0.3 && hits >= 20 {
                ExperimentAction::Demote
            } else {
                ExperimentAction::Keep
            };
            prop_assert_eq!(d.action, expected);
        }
    }
}
