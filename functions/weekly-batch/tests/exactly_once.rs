//! The batch's exactly-once guarantees against moto: it takes out of the queue exactly the
//! feedback its analysis read, whatever arrives between its steps; one run at a time works on a
//! period's session; the report is sent once, and a failed send is sent by the next run.

mod support;

use autolearn_model::*;
use autolearn_testkit::{ObservedBus, fixtures};
use chrono::{DateTime, Duration, TimeZone, Utc};
use weekly_batch::{BatchOutcome, Deps, StopPolicy, TriggerEvent, handle};

struct Env {
    deps: Deps,
    bus: ObservedBus,
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
        let (deps, bus) = support::observed_deps().await;
        Self { deps, bus }
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

    fn trigger(&self, detail_type: &str, end: DateTime<Utc>) -> TriggerEvent {
        serde_json::from_value(
            serde_json::json!({"detail-type": detail_type, "time": end.to_rfc3339(), "detail": {}}),
        )
        .unwrap()
    }

    /// Emails moto sent from this test's sender.
    async fn emails(&self) -> usize {
        let url = format!("{}/moto-api/data.json", autolearn_testkit::endpoint());
        let data: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        let mut found = 0;
        count_messages(&data, &self.deps.mailer.sender, &mut found);
        found
    }

    async fn sessions(&self) -> usize {
        autolearn_model::all_pages(
            |cursor| async move { self.store().sessions(cursor.as_deref(), 100).await },
        )
        .await
        .unwrap()
        .len()
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

/// moto's state dump nests sent messages under its SES backend; count those from `sender`.
fn count_messages(value: &serde_json::Value, sender: &str, found: &mut usize) {
    match value {
        serde_json::Value::Object(map) => {
            if map.get("source").and_then(serde_json::Value::as_str) == Some(sender) {
                *found += 1;
                return;
            }
            map.values().for_each(|v| count_messages(v, sender, found));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| count_messages(v, sender, found)),
        _ => {}
    }
}

#[tokio::test]
async fn two_triggers_for_one_period_at_once_make_one_session_and_one_email() {
    let env = Env::new().await;
    env.feedback("fb-0", first_end() - Duration::days(2)).await;
    let scheduled = env.trigger("Scheduled Event", first_end());
    let manual = env.trigger("BatchLearningRequested", first_end());
    let (a, b) = tokio::join!(
        handle(&env.deps, scheduled.clone(), StopPolicy::default()),
        handle(&env.deps, manual, StopPolicy::default())
    );
    let completed = [&a, &b]
        .iter()
        .filter(|result| matches!(result, Ok(outcome) if outcome.status == BatchStatus::Completed))
        .count();
    assert!(completed >= 1, "{a:?} {b:?}");
    for result in [&a, &b] {
        assert!(
            matches!(result, Ok(_) | Err(weekly_batch::BatchError::Leased { .. })),
            "the other run completes after the first or stops on its lease: {result:?}"
        );
    }
    assert_eq!(env.sessions().await, 1);
    assert_eq!(env.emails().await, 1);
    // A redelivery later finds the session done and sends nothing.
    let again = handle(&env.deps, scheduled, StopPolicy::default()).await.unwrap();
    assert_eq!(again.status, BatchStatus::Completed);
    assert_eq!(env.emails().await, 1);
}

#[tokio::test]
async fn a_trigger_for_a_period_another_run_holds_does_nothing_until_the_lease_ends() {
    let env = Env::new().await;
    env.feedback("fb-0", first_end() - Duration::days(2)).await;
    let stopped = env
        .run(first_end(), StopPolicy { crash_after: Some(BatchStep::Proposals), ..Default::default() })
        .await;
    // Another run (alive, its deadline ahead) holds the session.
    let now = Utc::now();
    assert!(
        env.store()
            .lease_session(&stopped.session_id, "other-run", now, now + Duration::minutes(10))
            .await
            .unwrap()
    );

    let refused =
        handle(&env.deps, env.trigger("BatchLearningRequested", first_end()), StopPolicy::default()).await;
    assert!(matches!(refused, Err(weekly_batch::BatchError::Leased { .. })), "{refused:?}");
    let session = env.store().session(&stopped.session_id).await.unwrap().unwrap();
    assert_eq!(session.completed_steps, vec![BatchStep::Proposals], "the refused run wrote nothing");
    assert_eq!(env.analysed_by("fb-0").await, None);
    assert_eq!(env.emails().await, 0);

    // The holder's deadline passes (it died): the next trigger takes over and finishes.
    let later = Utc::now();
    assert!(
        env.store()
            .lease_session(&stopped.session_id, "other-run", later, later - Duration::seconds(1))
            .await
            .unwrap()
    );
    let resumed = env.run(first_end(), StopPolicy::default()).await;
    assert_eq!(resumed.status, BatchStatus::Completed);
    assert_eq!(env.emails().await, 1);
    assert_eq!(env.sessions().await, 1);
}

#[tokio::test]
async fn a_failed_report_send_is_sent_by_the_next_run_and_only_once() {
    use autolearn_testkit::faults::{FaultRates, Faults};
    let mut env = Env::new().await;
    env.feedback("fb-0", first_end() - Duration::days(2)).await;
    let faults = Faults::new(FaultRates { send_email: 1.0, ..FaultRates::default() });
    env.deps.mailer.client = aws_sdk_sesv2::Client::new(&faults.sdk_config().await);

    let failed = handle(&env.deps, env.trigger("Scheduled Event", first_end()), StopPolicy::default()).await;
    assert!(matches!(failed, Err(weekly_batch::BatchError::Email(_))), "{failed:?}");
    assert!(faults.injected.send_email() > 0);
    assert_eq!(env.emails().await, 0);
    let session_id =
        autolearn_model::keys::session_id_for_period(first_end() - Duration::days(7), first_end());
    let session = env.store().session(&session_id).await.unwrap().unwrap();
    assert_eq!(session.report_claimed_at, None, "the claim was given back");
    assert!(!session.has_completed(BatchStep::Report));

    faults.set(FaultRates::default());
    let retried = env.run(first_end(), StopPolicy::default()).await;
    assert_eq!(retried.status, BatchStatus::Completed);
    assert!(retried.report_message_id.is_some());
    assert_eq!(env.emails().await, 1);
    env.run(first_end(), StopPolicy::default()).await;
    assert_eq!(env.emails().await, 1);
}

#[tokio::test]
async fn a_feedback_event_the_bus_refused_waits_in_the_outbox_and_the_next_trigger_puts_it_once() {
    use autolearn_testkit::faults::{FaultRates, Faults};
    let env = Env::new().await;
    let at = first_end() - Duration::days(1);
    let mut execution = fixtures::execution("exec-1", "conv-1", at);
    execution.draft_reply =
        Some("I'd be happy to help with that! The unit is available for a showing.".into());
    env.store().create(&execution).await.unwrap();

    // The webhook's bus client fails every PutEvents.
    let faults = Faults::new(FaultRates { put_events: 1.0, ..FaultRates::default() });
    let failing = autolearn_bus::EventBus::new(
        aws_sdk_eventbridge::Client::new(&faults.sdk_config().await),
        env.bus.bus_name.clone(),
    );
    let state = feedback_webhook::AppState {
        store: env.store().clone(),
        bus: failing,
        webhook: autolearn_web::webhook::WebhookConfig {
            auth: autolearn_web::signature::WebhookAuth::new(autolearn_testkit::http::TEST_SECRET),
            max_body_bytes: autolearn_web::webhook::DEFAULT_MAX_BODY_BYTES,
            dates: autolearn_testkit::http::fixture_dates(),
        },
        edit_threshold: 0.2,
    };
    let body = serde_json::json!({"executionId": "exec-1", "sentText": "Yes, Saturday at 10am works.", "sentAt": at});
    let answer =
        feedback_webhook::send::record(&state, body.to_string().as_bytes(), Utc::now()).await.unwrap();
    assert_eq!(answer.status.as_u16(), 201, "the send is recorded whatever the bus does");
    assert!(faults.injected.put_events() > 0);
    assert!(env.bus.received().await.is_empty());
    assert_eq!(env.store().outbox(None, 10).await.unwrap().items.len(), 1, "the event waits in the outbox");

    // The next trigger (any period) drains the outbox through a working bus, once.
    env.run(first_end(), StopPolicy::default()).await;
    let events: Vec<_> = env
        .bus
        .received()
        .await
        .into_iter()
        .filter(|event| event["detail-type"] == "DraftFeedbackRecorded")
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["detail"]["executionId"], "exec-1");
    assert!(events[0]["detail"]["feedbackId"].is_string(), "consumers deduplicate by feedbackId");
    assert!(env.store().outbox(None, 10).await.unwrap().items.is_empty());
    env.run(first_end(), StopPolicy::default()).await;
    let again = env.bus.received().await;
    assert!(again.iter().all(|event| event["detail-type"] != "DraftFeedbackRecorded"), "put once");
}
