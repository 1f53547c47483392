//! What the batch tests on moto share: a fresh set of clients, a seeded week, a run.
#![allow(dead_code)] // Each test file uses its own part of these.

use autolearn_model::*;
use autolearn_testkit::{ObservedBus, fixtures, fresh_store, sdk_config, unique_name};
use chrono::{DateTime, Duration, TimeZone, Utc};
use weekly_batch::{Deps, Mailer, Settings};

pub const LONG_DRAFT: &str = "Thanks for reaching out! I'd be happy to help with that. We have tours available most \
                          days of the week and our friendly team would love to show you around. Saturday at 10am is open.";
pub const MAINTENANCE: [&str; 6] = [
    "My kitchen sink is leaking, can someone come fix it?",
    "The kitchen sink leaks under the cabinet, please send maintenance",
    "Our bathroom sink is leaking again, can maintenance fix it this week?",
    "The heater is broken and the kitchen sink is leaking",
    "Can you send someone to fix the leaking sink in my kitchen?",
    "Maintenance request: sink leaking in the kitchen since Monday",
];

/// Maintenance requests written by people who sign with their name and contact details: what
/// no model call may carry (the analyst's and the embeddings' tests).
pub const WITH_PERSONAL_DATA: [&str; 6] = [
    "Hi, this is Maria Lopez. My kitchen sink is leaking, can someone come fix it? maria.lopez@example.com",
    "The kitchen sink leaks under the cabinet, please send maintenance. Call me at 555-123-4567",
    "Our bathroom sink is leaking again at 12 Oak Street, can maintenance fix it this week?",
    "The heater is broken and the kitchen sink is leaking. Thanks, Maria Lopez",
    "Can you send someone to fix the leaking sink in my kitchen? My number is 555-123-4567",
    "Maintenance request: sink leaking in the kitchen since Monday, maria.lopez@example.com",
];
/// The personal data planted in [`WITH_PERSONAL_DATA`].
pub const PLANTED: [&str; 5] = ["Maria", "Lopez", "maria.lopez@example.com", "555-123-4567", "12 Oak Street"];

pub fn week_end(week: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 16, 8, 0, 0).unwrap() + Duration::weeks(week)
}

/// Fresh clients on moto (a table of its own, a bus whose events are observed, a verified
/// sender) and the default settings, with the rules analyst.
pub async fn observed_deps() -> (Deps, ObservedBus) {
    let ses = aws_sdk_sesv2::Client::new(&sdk_config().await);
    let sender = format!("{}@example.com", unique_name("autolearn"));
    ses.create_email_identity().email_identity(&sender).send().await.unwrap();
    let bus = ObservedBus::new().await;
    let deps = Deps {
        store: fresh_store().await,
        bus: bus.bus.clone(),
        mailer: Mailer { client: ses, sender, recipients: vec!["admin@example.com".into()] },
        settings: Settings {
            lookback_days: 90,
            review_url: "https://crm.example.test/admin/ai/learning".into(),
            promotion: Default::default(),
            expiry: Default::default(),
        },
        analyst: Default::default(),
        embedder: Default::default(),
    };
    (deps, bus)
}

pub async fn deps() -> Deps {
    observed_deps().await.0
}

/// A week of maintenance requests the agent cannot match and of drafts people cut short.
pub async fn seed_week(store: &Store, week: i64) {
    seed_week_with(store, week, &MAINTENANCE, LONG_DRAFT, "Saturday at 10am is open.").await;
}

/// A week of these unmatched messages, and of four sends of `sent` where the agent drafted
/// `draft`.
pub async fn seed_week_with(store: &Store, week: i64, gaps: &[&str], draft: &str, sent: &str) {
    let start = week_end(week) - Duration::days(7);
    let at = |i: i64| start + Duration::hours(5 + 9 * i);
    for (i, body) in gaps.iter().enumerate() {
        let mut execution =
            fixtures::execution(&format!("w{week}-gap-{i}"), &format!("w{week}-conv-{i}"), at(i as i64));
        fixtures::set_body(&mut execution, body);
        execution.intent = None;
        execution.draft_reply = None;
        store.create(&execution).await.unwrap();
    }
    let shown = fixtures::execution(&format!("w{week}-show"), &format!("w{week}-conv-show"), at(7));
    store.create(&shown).await.unwrap();
    for i in 0..4 {
        let mut feedback = fixtures::feedback(&shown, at(8 + i));
        feedback.execution_id = format!("w{week}-fb-{i}");
        feedback.conversation_id = format!("w{week}-conv-fb-{i}");
        fixtures::set_texts(&mut feedback, draft, sent);
        store.create(&feedback).await.unwrap();
    }
}

pub async fn run_week(deps: &Deps, week: i64) -> LearningSession {
    let end = week_end(week);
    let outcome = weekly_batch::run::run(
        deps,
        end - Duration::days(7),
        end,
        SessionType::Batch,
        Default::default(),
        Default::default(),
    )
    .await
    .unwrap();
    deps.store.session(&outcome.session_id).await.unwrap().unwrap()
}

pub async fn proposals_of(store: &Store, session: &LearningSession) -> Vec<LearningProposal> {
    let mut proposals = Vec::new();
    for id in &session.proposal_ids {
        proposals.push(store.proposal(id).await.unwrap().unwrap());
    }
    proposals
}
