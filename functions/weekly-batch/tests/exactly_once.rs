//! The batch's exactly-once guarantees against moto: it takes out of the queue exactly the
//! feedback its analysis read, whatever arrives between its steps.

use autolearn_model::*;
use autolearn_testkit::{ObservedBus, fixtures, fresh_store, sdk_config, unique_name};
use chrono::{DateTime, Duration, TimeZone, Utc};
use weekly_batch::{BatchOutcome, Deps, Mailer, Settings, StopPolicy, TriggerEvent, handle};

struct Env {
    deps: Deps,
    _bus: ObservedBus,
}

/// The end of the first week a test runs (the scheduled sample's time).
fn first_end() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 16, 8, 0, 0).unwrap()
}

fn scheduled(end: DateTime<Utc>) -> TriggerEvent {
    serde_json::from_value(serde_json::json!({
        "detail-type": "Scheduled Event",
        "time": end.to_rfc3339(),
        "detail": {},
    }))
    .unwrap()
}

impl Env {
    async fn new() -> Self {
        let store = fresh_store().await;
        let bus = ObservedBus::new().await;
        let ses = aws_sdk_sesv2::Client::new(&sdk_config().await);
        let sender = format!("{}@example.com", unique_name("autolearn"));
        ses.create_email_identity().email_identity(&sender).send().await.unwrap();
        let deps = Deps {
            store,
            bus: bus.bus.clone(),
            mailer: Mailer { client: ses, sender, recipients: vec!["admin@example.com".into()] },
            settings: Settings {
                lookback_days: 90,
                review_url: "https://crm.example.test/admin/ai/learning".into(),
                promotion: Default::default(),
                expiry: Default::default(),
            },
        };
        Self { deps, _bus: bus }
    }

    fn store(&self) -> &Store {
        &self.deps.store
    }

    /// A rewritten send of its own execution, sent at `sent_at` and stored now.
    async fn feedback(&self, id: &str, sent_at: DateTime<Utc>) {
        let execution = fixtures::execution(id, &format!("conv-{id}"), sent_at - Duration::minutes(5));
        self.store().create(&execution).await.unwrap();
        let mut feedback = fixtures::feedback(&execution, sent_at);
        feedback.created_at = Utc::now();
        self.store().create(&feedback).await.unwrap();
    }

    async fn run(&self, end: DateTime<Utc>, stop: StopPolicy) -> BatchOutcome {
        handle(&self.deps, scheduled(end), stop).await.unwrap()
    }

    async fn analysed_by(&self, id: &str) -> Option<String> {
        let feedback = self.store().feedback(id).await.unwrap().unwrap();
        feedback.learning_session_id.filter(|_| feedback.analyzed).map(|session| session.to_string())
    }
}

#[tokio::test]
async fn feedback_arriving_between_the_analysis_and_the_marking_is_analysed_by_the_next_run() {
    let env = Env::new().await;
    let week = first_end() - Duration::days(7);
    for i in 0..3 {
        env.feedback(&format!("fb-{i}"), week + Duration::days(i + 1)).await;
    }
    let stopped = env
        .run(first_end(), StopPolicy { crash_after: Some(BatchStep::Proposals), ..Default::default() })
        .await;
    assert_eq!(stopped.status, BatchStatus::Interrupted);
    let session = env.store().session(&stopped.session_id).await.unwrap().unwrap();
    assert_eq!(session.stats.edits_analysed, 3);

    // Sent within the period, delivered while the run was between its steps (a continuation can
    // be hours later): the analysis has not read it, so this run must leave it queued.
    env.feedback("fb-during", first_end() - Duration::hours(2)).await;
    let first = env.run(first_end(), StopPolicy::default()).await;
    assert_eq!(first.status, BatchStatus::Completed);
    for i in 0..3 {
        assert_eq!(env.analysed_by(&format!("fb-{i}")).await.as_deref(), Some(first.session_id.as_str()));
    }
    assert_eq!(env.analysed_by("fb-during").await, None, "marked analysed without being analysed");

    let second = env.run(first_end() + Duration::days(7), StopPolicy::default()).await;
    assert_eq!(second.status, BatchStatus::Completed);
    let session = env.store().session(&second.session_id).await.unwrap().unwrap();
    assert_eq!(session.stats.edits_analysed, 1, "the next run analyses it");
    assert_eq!(env.analysed_by("fb-during").await.as_deref(), Some(second.session_id.as_str()));
}
