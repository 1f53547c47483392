//! The dashboard previews exactly the A/B decisions the weekly batch takes, under any
//! configured thresholds: both read the same `PromotionConfig` and call the same review. Run
//! on moto with non-default thresholds and the Wilson guard on a fresh system (nothing
//! established yet, so the guard's baseline is the configured prior).

use std::collections::BTreeMap;

use autolearn_bus::EventBus;
use autolearn_learning::promotion::review_experiments;
use autolearn_model::{ExperimentAction, PromotionConfig, SessionType, UsageCounts};
use autolearn_testkit::{ObservedBus, fixtures, fresh_store, sdk_config, unique_name};
use chrono::{Duration, TimeZone, Utc};

fn usage(hits: u64, sent: u64, unedited: u64) -> UsageCounts {
    UsageCounts { hit_count: hits, sent_count: sent, unedited_count: unedited }
}

#[tokio::test]
async fn the_dashboard_and_the_batch_decide_alike_under_configured_thresholds() {
    let store = fresh_store().await;
    let at = Utc.with_ymd_and_hms(2026, 11, 10, 9, 0, 0).unwrap();
    let mut winner = fixtures::intent("intent-winner", "PARKING", at);
    winner.usage = usage(6, 6, 5);
    let mut loser = fixtures::intent("intent-loser", "REFERRAL", at);
    loser.usage = usage(12, 12, 1);
    let mut unproven = fixtures::playbook_entry("pb-unproven", at);
    unproven.experimental = true;
    unproven.usage = usage(9, 9, 6);
    store.create(&winner).await.unwrap();
    store.create(&loser).await.unwrap();
    store.create(&unproven).await.unwrap();

    let promotion = PromotionConfig {
        promote_min_approval: 0.6,
        promote_min_hits: 5,
        demote_max_approval: 0.5,
        demote_min_hits: 8,
        statistical_guard: true,
        baseline_prior: 0.4,
        ..PromotionConfig::default()
    };
    // The design's defaults would keep all three: these thresholds are what decides here.
    let config = [winner.config_usage(), loser.config_usage(), unproven.config_usage()];
    assert!(
        review_experiments(&config, &PromotionConfig::default())
            .iter()
            .all(|review| review.decision.action == ExperimentAction::Keep)
    );

    let today = (at + Duration::days(6)).date_naive();
    let dashboard = dashboard_api::dashboard::load(&store, today, 28, &promotion).await.unwrap();
    let previewed: BTreeMap<String, ExperimentAction> =
        dashboard.experiments.iter().map(|e| (e.id.clone(), e.decision.action)).collect();
    assert_eq!(
        previewed,
        BTreeMap::from([
            ("intent-winner".to_owned(), ExperimentAction::Promote),
            ("intent-loser".to_owned(), ExperimentAction::Demote),
            // 6 of 9 clears 0.6, but its Wilson lower bound (≈ 0.35) does not clear the prior.
            ("pb-unproven".to_owned(), ExperimentAction::Keep),
        ])
    );

    let ses = aws_sdk_sesv2::Client::new(&sdk_config().await);
    let sender = format!("{}@example.com", unique_name("autolearn"));
    ses.create_email_identity().email_identity(&sender).send().await.unwrap();
    let bus: EventBus = ObservedBus::new().await.bus;
    let deps = weekly_batch::Deps {
        store: store.clone(),
        bus,
        mailer: weekly_batch::Mailer { client: ses, sender, recipients: vec!["admin@example.com".into()] },
        settings: weekly_batch::Settings {
            lookback_days: 90,
            review_url: "https://crm.example.test/admin/ai/learning".into(),
            promotion,
            expiry: Default::default(),
        },
        analyst: Default::default(),
        embedder: Default::default(),
    };
    let end = at + Duration::days(6);
    weekly_batch::run::run(
        &deps,
        end - Duration::days(7),
        end,
        SessionType::Manual,
        Default::default(),
        Default::default(),
    )
    .await
    .unwrap();
    let session_id = autolearn_model::keys::session_id_for_period(end - Duration::days(7), end);
    let session = store.session(&session_id).await.unwrap().unwrap();
    let taken: BTreeMap<String, ExperimentAction> =
        session.decisions.iter().map(|d| (d.item_id.clone(), d.action)).collect();
    let previewed_changes: BTreeMap<String, ExperimentAction> =
        previewed.into_iter().filter(|(_, action)| *action != ExperimentAction::Keep).collect();
    assert_eq!(taken, previewed_changes);

    let winner = store.intent("intent-winner").await.unwrap().unwrap();
    assert!(!winner.experimental && winner.promoted_at.is_some());
    assert!(!store.intent("intent-loser").await.unwrap().unwrap().active);
    let unproven = store.playbook_entry("pb-unproven").await.unwrap().unwrap();
    assert!(unproven.experimental && unproven.active);
}
