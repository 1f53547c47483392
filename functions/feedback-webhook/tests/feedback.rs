//! `POST /v1/feedback` driven with the API Gateway v2 sample in `events/`, against moto, with
//! the bus observed through a rule that targets an SQS queue.

use autolearn_model::{Counter, Execution, Store};
use autolearn_testkit::http::{
    Reply, TEST_SECRET, event_with, sample_body, send, send_concurrently, signed_event,
};
use autolearn_testkit::{ObservedBus, RequestCounter, fixtures, fresh_counted_store, run_concurrently};
use autolearn_web::idempotency::REPLAYED_HEADER;
use autolearn_web::routes::health;
use autolearn_web::signature::WebhookAuth;
use autolearn_web::webhook::WebhookConfig;
use axum::Router;
use axum::http::StatusCode;
use chrono::NaiveDate;
use feedback_webhook::{AppState, SERVICE, routes};
use serde_json::{Value, json};

const SAMPLE: &str = "events/post-feedback.json";
const DRAFT: &str = "I'd be happy to help with that! The 2-bed on Elm Street is available. \
                     Would Saturday at 10am or 11am work for you?";

struct Webhook {
    store: Store,
    requests: RequestCounter,
    bus: ObservedBus,
    router: Router,
}

impl Webhook {
    async fn new() -> Self {
        autolearn_web::telemetry::init();
        let (store, requests) = fresh_counted_store().await;
        let bus = ObservedBus::new().await;
        let webhook = WebhookConfig {
            auth: WebhookAuth::new(TEST_SECRET),
            max_body_bytes: autolearn_web::webhook::DEFAULT_MAX_BODY_BYTES,
            dates: autolearn_testkit::http::fixture_dates(),
        };
        let state = AppState { store: store.clone(), bus: bus.bus.clone(), webhook, edit_threshold: 0.2 };
        let router = routes(state).merge(health(SERVICE)).into_router();
        let at = fixtures::monday_9am();
        store.create(&fixtures::intent("intent-showing", "SHOWING_REQUEST", at)).await.unwrap();
        for id in ["pb-offer-times", "pb-confirm-address"] {
            store.create(&fixtures::playbook_entry(id, at)).await.unwrap();
        }
        requests.reset();
        Self { store, requests, bus, router }
    }

    /// An execution as the tracker stores it: drafted, on the dynamic intent, two entries.
    async fn seed_execution(&self, id: &str, draft: Option<&str>) -> Execution {
        let mut execution = fixtures::execution(id, &format!("conv-{id}"), fixtures::monday_9am());
        execution.intent.as_mut().unwrap().dynamic_intent_id = Some("intent-showing".into());
        execution.playbook_entry_ids = vec!["pb-offer-times".into(), "pb-confirm-address".into()];
        execution.draft_reply = draft.map(str::to_owned);
        self.store.create(&execution).await.unwrap();
        self.requests.reset();
        execution
    }

    async fn post(&self, execution_id: &str, sent_text: &str) -> Reply {
        let mut body = sample_body(SAMPLE);
        body["executionId"] = json!(execution_id);
        body["sentText"] = json!(sent_text);
        self.post_body(&body).await
    }

    async fn post_body(&self, body: &Value) -> Reply {
        send(&self.router, signed_event(SAMPLE, &body.to_string(), TEST_SECRET)).await
    }

    async fn counters(&self) -> autolearn_model::DailyCounters {
        self.store.daily_counters(&[day()]).await.unwrap().remove(0)
    }

    async fn usage(&self) -> (u64, u64, u64, u64) {
        let intent = self.store.intent("intent-showing").await.unwrap().unwrap().usage;
        let entry = self.store.playbook_entry("pb-offer-times").await.unwrap().unwrap().usage;
        (intent.sent_count, intent.unedited_count, entry.sent_count, entry.unedited_count)
    }

    async fn queue(&self) -> Vec<String> {
        let page = self.store.unanalyzed_feedback(None, 100).await.unwrap();
        page.items.into_iter().map(|feedback| feedback.execution_id).collect()
    }

    async fn assert_nothing_written(&self) {
        assert!(self.counters().await.values.is_empty(), "counters written");
        assert_eq!(self.usage().await, (0, 0, 0, 0), "usage counted");
        assert!(self.queue().await.is_empty(), "feedback queued");
        assert!(self.bus.received().await.is_empty(), "event published");
    }
}

/// The day of the sample's sentAt.
fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 16).unwrap()
}

#[tokio::test]
async fn an_unedited_send_counts_toward_approval_and_queues_nothing() {
    let webhook = Webhook::new().await;
    webhook.seed_execution("exec-1", Some(DRAFT)).await;
    // Trailing whitespace and CRLF line endings are not edits.
    let reply = webhook.post("exec-1", &format!("{}  \r\n", DRAFT.replace('\n', "\r\n"))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body, json!({"executionId": "exec-1", "outcome": "unedited", "editDistance": 0.0}));

    assert_eq!(webhook.usage().await, (1, 1, 1, 1));
    let counters = webhook.counters().await;
    assert_eq!(counters.get(&Counter::Sent), 1);
    assert_eq!(counters.get(&Counter::Unedited), 1);
    assert_eq!(counters.get(&Counter::Rewritten), 0);
    assert_eq!(counters.get(&Counter::EditDistanceMicros), 0);
    assert!(webhook.queue().await.is_empty());
    assert!(webhook.bus.received().await.is_empty(), "only rewrites are published");
    let approval = webhook.store.intent("intent-showing").await.unwrap().unwrap().usage.approval_rate();
    assert_eq!(approval, Some(1.0));
}

#[tokio::test]
async fn a_light_edit_counts_without_feedback() {
    let webhook = Webhook::new().await;
    webhook.seed_execution("exec-1", Some(DRAFT)).await;
    let reply = webhook.post("exec-1", &DRAFT.replace("10am or 11am", "10am or noon")).await;
    assert_eq!(reply.body["outcome"], "lightlyEdited", "{}", reply.text);
    let distance = reply.body["editDistance"].as_f64().unwrap();
    assert!(distance > 0.0 && distance <= 0.2, "{distance}");

    assert_eq!(webhook.usage().await, (1, 0, 1, 0));
    let counters = webhook.counters().await;
    assert_eq!((counters.get(&Counter::Sent), counters.get(&Counter::LightlyEdited)), (1, 1));
    assert_eq!(counters.get(&Counter::EditDistanceMicros), (distance * 1e6).round() as i64);
    assert!(webhook.queue().await.is_empty());
}

#[tokio::test]
async fn a_rewrite_is_stored_queued_and_published() {
    let webhook = Webhook::new().await;
    webhook.seed_execution("exec-1", Some(DRAFT)).await;
    let sent = "Let me check availability for Saturday. Does morning work? Or is afternoon better? \
                Call me at (555) 014-2200. Rent is $1,850.";
    let reply = webhook.post("exec-1", sent).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["outcome"], "rewritten");
    let feedback_id = reply.body["feedbackId"].as_str().expect("feedback id").to_owned();

    let feedback = webhook.store.feedback("exec-1").await.unwrap().expect("stored");
    assert_eq!(feedback.feedback_id, feedback_id);
    assert_eq!(feedback.conversation_id, "conv-exec-1");
    assert_eq!(feedback.intent_name.as_deref(), Some("SHOWING_REQUEST"));
    assert_eq!(feedback.dynamic_intent_id.as_deref(), Some("intent-showing"));
    assert_eq!(feedback.original_draft, DRAFT);
    assert_eq!(feedback.sent_version, sent);
    assert!(!feedback.analyzed);
    assert!(feedback.edit_distance() > 0.2);
    assert_eq!(Some(feedback.edit_distance()), reply.body["editDistance"].as_f64());
    let reasons: Vec<String> = feedback
        .analysis
        .reasons
        .iter()
        .map(|reason| serde_json::to_value(reason.kind()).unwrap().as_str().unwrap().to_owned())
        .collect();
    for expected in ["questionAdded", "contactDetailsAdded", "numbersChanged", "phrasesRemoved"] {
        assert!(reasons.iter().any(|r| r == expected), "{expected} missing from {reasons:?}");
    }
    assert!(feedback.diff_summary().contains("removed \""), "{}", feedback.diff_summary());
    assert_eq!(reply.body["summary"], feedback.diff_summary());
    assert_eq!(webhook.queue().await, vec!["exec-1"]);

    assert_eq!(webhook.usage().await, (1, 0, 1, 0));
    let counters = webhook.counters().await;
    assert_eq!((counters.get(&Counter::Sent), counters.get(&Counter::Rewritten)), (1, 1));

    let events = webhook.bus.received().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["detail-type"], "DraftFeedbackRecorded");
    assert_eq!(events[0]["source"], "autolearn");
    assert_eq!(events[0]["detail"]["executionId"], "exec-1");
    assert_eq!(events[0]["detail"]["feedbackId"], feedback_id);
    assert!(events[0]["detail"]["reasons"].as_array().unwrap().contains(&json!("questionAdded")));
    assert!(!events[0].to_string().contains("014-2200"), "no customer text on the bus");
}

#[tokio::test]
async fn a_send_without_a_draft_is_counted_apart() {
    let webhook = Webhook::new().await;
    webhook.seed_execution("exec-1", None).await;
    let reply = webhook.post("exec-1", "Thanks, a technician will come by tomorrow.").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body, json!({"executionId": "exec-1", "outcome": "noDraft"}));
    let counters = webhook.counters().await;
    assert_eq!(counters.get(&Counter::SentWithoutDraft), 1);
    assert_eq!(counters.get(&Counter::Sent), 0, "draft accuracy counts drafted sends only");
    assert_eq!(webhook.usage().await, (0, 0, 0, 0));
    assert!(webhook.queue().await.is_empty());
}

#[tokio::test]
async fn duplicate_deliveries_count_once() {
    let webhook = Webhook::new().await;
    webhook.seed_execution("exec-1", Some(DRAFT)).await;
    let sent = "Let me check availability and get back to you today.";
    let mut body = sample_body(SAMPLE);
    body["executionId"] = json!("exec-1");
    body["sentText"] = json!(sent);
    let text = body.to_string();

    let deliveries =
        send_concurrently(&webhook.router, (0..1000).map(|_| signed_event(SAMPLE, &text, TEST_SECRET))).await;
    let mut first = None;
    let mut replayed = 0;
    for reply in deliveries {
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        if reply.headers.get(REPLAYED_HEADER).is_some() {
            replayed += 1;
        }
        assert_eq!(first.get_or_insert_with(|| reply.body.clone()), &reply.body, "every answer is the first");
    }
    assert_eq!(replayed, 999);
    assert_eq!(webhook.queue().await, vec!["exec-1"]);
    assert_eq!(webhook.usage().await, (1, 0, 1, 0));
    let counters = webhook.counters().await;
    assert_eq!((counters.get(&Counter::Sent), counters.get(&Counter::Rewritten)), (1, 1));
    assert_eq!(webhook.bus.received().await.len(), 1, "published once");

    // Another text for the same execution is a conflict and changes nothing.
    let reply = webhook.post("exec-1", "A completely different reply.").await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert_eq!(webhook.store.feedback("exec-1").await.unwrap().unwrap().sent_version, sent);
    assert_eq!(webhook.counters().await.get(&Counter::Sent), 1);
}

#[tokio::test]
async fn a_send_costs_two_dynamodb_round_trips_and_a_rewrite_one_more_to_clear_its_outbox_entry() {
    let webhook = Webhook::new().await;
    webhook.seed_execution("exec-1", Some(DRAFT)).await;
    webhook.post("exec-1", DRAFT).await;
    assert_eq!(webhook.requests.get(), 2, "read the execution, then one transaction");
    webhook.seed_execution("exec-2", Some(DRAFT)).await;
    webhook.post("exec-2", "Let me check availability and get back to you today.").await;
    assert_eq!(webhook.requests.get(), 3, "read, one transaction, and the outbox entry cleared once put");
    assert!(webhook.store.outbox(None, 10).await.unwrap().items.is_empty());
    webhook.requests.reset();
    webhook.post("exec-2", "Let me check availability and get back to you today.").await;
    assert_eq!(webhook.requests.get(), 2, "a redelivery is answered from the refused transaction");
    webhook.requests.reset();
    webhook.post("exec-404", "Hello").await;
    assert_eq!(webhook.requests.get(), 1);
}

async fn assert_refused(webhook: &Webhook, reply: Reply, status: StatusCode, field: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert!(reply.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", reply.text);
    if let Some(field) = field {
        assert_eq!(reply.body["error"]["field"], field, "{}", reply.text);
    }
    webhook.assert_nothing_written().await;
}

#[tokio::test]
async fn bad_input_is_refused_and_writes_nothing() {
    let webhook = Webhook::new().await;
    webhook.seed_execution("exec-1", Some(DRAFT)).await;
    let valid = {
        let mut body = sample_body(SAMPLE);
        body["executionId"] = json!("exec-1");
        body
    };

    let reply = webhook.post("exec-404", "Hello there").await;
    assert_refused(&webhook, reply, StatusCode::NOT_FOUND, None).await;

    let text = valid.to_string();
    let unsigned = send(&webhook.router, event_with(SAMPLE, &text, None)).await;
    assert_refused(&webhook, unsigned, StatusCode::UNAUTHORIZED, None).await;
    let now = chrono::Utc::now().timestamp();
    let forged = WebhookAuth::new("some-other-secret-value").sign(now, text.as_bytes());
    let reply = send(&webhook.router, event_with(SAMPLE, &text, Some((now, forged)))).await;
    assert_refused(&webhook, reply, StatusCode::UNAUTHORIZED, None).await;
    let stale = now - 3600;
    let signature = WebhookAuth::new(TEST_SECRET).sign(stale, text.as_bytes());
    let reply = send(&webhook.router, event_with(SAMPLE, &text, Some((stale, signature)))).await;
    assert_refused(&webhook, reply, StatusCode::UNAUTHORIZED, None).await;

    let reply =
        send(&webhook.router, signed_event(SAMPLE, "{\"executionId\": \"exec-1\",", TEST_SECRET)).await;
    assert_refused(&webhook, reply, StatusCode::BAD_REQUEST, None).await;

    for (field, change) in [
        ("sentText", json!({"sentText": 7})),
        ("sentText", json!({"sentText": ""})),
        ("sentAt", json!({"sentAt": "yesterday"})),
        ("executionId", json!({"executionId": "no spaces allowed"})),
    ] {
        let mut body = valid.clone();
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let reply = webhook.post_body(&body).await;
        assert_refused(&webhook, reply, StatusCode::UNPROCESSABLE_ENTITY, Some(field)).await;
    }
    let mut missing = valid.clone();
    missing.as_object_mut().unwrap().remove("sentText");
    let reply = webhook.post_body(&missing).await;
    assert_refused(&webhook, reply, StatusCode::UNPROCESSABLE_ENTITY, Some("sentText")).await;

    let mut huge = valid.clone();
    huge["sentText"] = json!("x".repeat(300 * 1024));
    let reply = webhook.post_body(&huge).await;
    assert_refused(&webhook, reply, StatusCode::PAYLOAD_TOO_LARGE, None).await;
}

#[tokio::test]
async fn a_redelivery_long_after_the_send_is_answered_from_the_execution_and_counts_nothing() {
    let webhook = Webhook::new().await;
    webhook.seed_execution("exec-1", Some(DRAFT)).await;
    let first = webhook.post("exec-1", DRAFT).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let stored = webhook.store.execution("exec-1").await.unwrap();
    assert!(stored.is_some());

    let state = AppState {
        store: webhook.store.clone(),
        bus: webhook.bus.bus.clone(),
        webhook: WebhookConfig {
            auth: WebhookAuth::new(TEST_SECRET),
            max_body_bytes: autolearn_web::webhook::DEFAULT_MAX_BODY_BYTES,
            dates: autolearn_testkit::http::fixture_dates(),
        },
        edit_threshold: 0.2,
    };
    let mut body = sample_body(SAMPLE);
    body["executionId"] = json!("exec-1");
    body["sentText"] = json!(DRAFT);
    // Long past the idempotency record's TTL: the execution's recorded send still answers.
    let later = chrono::Utc::now() + chrono::Duration::days(autolearn_web::idempotency::TTL_DAYS + 60);
    let replay = feedback_webhook::send::record(&state, body.to_string().as_bytes(), later).await.unwrap();
    assert!(replay.replayed);
    assert_eq!(serde_json::from_str::<Value>(&replay.body).unwrap(), first.body);
    body["sentText"] = json!("Something else entirely.");
    let other = feedback_webhook::send::record(&state, body.to_string().as_bytes(), later).await;
    assert!(matches!(other, Err(autolearn_web::ApiError::Conflict(_))), "{other:?}");
    assert_eq!(webhook.usage().await, (1, 1, 1, 1), "the unedited send counted once");
    assert_eq!(webhook.counters().await.get(&Counter::Unedited), 1);
}

/// Posts until the answer is not 503, as the CRM does on `Retry-After`.
async fn post_until_accepted(router: &Router, body: &Value) -> (Reply, usize) {
    let mut unavailable = 0;
    loop {
        let reply = send(router, signed_event(SAMPLE, &body.to_string(), TEST_SECRET)).await;
        if reply.status != StatusCode::SERVICE_UNAVAILABLE {
            return (reply, unavailable);
        }
        assert!(reply.headers.contains_key("retry-after"), "503 without Retry-After");
        unavailable += 1;
    }
}

#[tokio::test]
async fn conflicts_throttling_and_lost_answers_lose_no_send_and_count_none_twice() {
    use autolearn_testkit::faults::{FaultRates, Faults};
    autolearn_web::telemetry::init();
    let faults = Faults::new(FaultRates::default());
    let config = faults.sdk_config().await;
    let store = autolearn_testkit::fresh_table(aws_sdk_dynamodb::Client::new(&config)).await;
    let bus = ObservedBus::new().await;
    let webhook_config = WebhookConfig {
        auth: WebhookAuth::new(TEST_SECRET),
        max_body_bytes: autolearn_web::webhook::DEFAULT_MAX_BODY_BYTES,
        dates: autolearn_testkit::http::fixture_dates(),
    };
    let state =
        AppState { store: store.clone(), bus: bus.bus.clone(), webhook: webhook_config, edit_threshold: 0.2 };
    let router = routes(state).into_router();
    let at = fixtures::monday_9am();
    store.create(&fixtures::intent("intent-showing", "SHOWING_REQUEST", at)).await.unwrap();
    for id in ["pb-offer-times", "pb-confirm-address"] {
        store.create(&fixtures::playbook_entry(id, at)).await.unwrap();
    }
    let mut bodies = Vec::new();
    for i in 0..200 {
        let id = format!("exec-{i:03}");
        let mut execution = fixtures::execution(&id, &format!("conv-{}", i % 41), at);
        execution.intent.as_mut().unwrap().dynamic_intent_id = Some("intent-showing".into());
        execution.playbook_entry_ids = vec!["pb-offer-times".into(), "pb-confirm-address".into()];
        execution.draft_reply = Some(DRAFT.into());
        store.create(&execution).await.unwrap();
        let mut body = sample_body(SAMPLE);
        body["executionId"] = json!(id);
        // Every other send goes out unedited, the rest rewritten.
        body["sentText"] =
            json!(if i % 2 == 0 { DRAFT } else { "Let me check availability and get back to you today." });
        bodies.push(body);
    }

    faults.set(FaultRates {
        transaction_conflict: 0.3,
        transaction_throttled: 0.05,
        transaction_answer_lost: 0.05,
        ..FaultRates::default()
    });
    let tasks = bodies.iter().cloned().map(|body| {
        let router = router.clone();
        async move { post_until_accepted(&router, &body).await }
    });
    let mut unavailable = 0;
    for (reply, refused) in run_concurrently(tasks).await {
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        unavailable += refused;
    }
    assert!(unavailable < 10, "{unavailable} answers were 503: the store's retries absorb conflicts");
    assert!(faults.injected.conflicts() > 30, "{:?}", faults.injected);
    assert!(faults.injected.lost_answers() > 0, "{:?}", faults.injected);
    // Redeliveries of some sends under the same faults count nothing.
    for body in bodies.iter().step_by(7) {
        let (reply, _) = post_until_accepted(&router, body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        assert_eq!(reply.headers.get(REPLAYED_HEADER).unwrap(), "true");
    }
    faults.set(FaultRates::default());

    let intent = store.intent("intent-showing").await.unwrap().unwrap().usage;
    assert_eq!((intent.sent_count, intent.unedited_count), (200, 100));
    for entry in ["pb-offer-times", "pb-confirm-address"] {
        let usage = store.playbook_entry(entry).await.unwrap().unwrap().usage;
        assert_eq!((usage.sent_count, usage.unedited_count), (200, 100));
    }
    let counters = store.daily_counters(&[day()]).await.unwrap().remove(0);
    assert_eq!(counters.get(&Counter::Sent), 200);
    assert_eq!(counters.get(&Counter::Unedited), 100);
    assert_eq!(counters.get(&Counter::Rewritten), 100);
    let queued = autolearn_model::all_pages(|cursor| {
        let store = store.clone();
        async move { store.unanalyzed_feedback(cursor.as_deref(), 100).await }
    })
    .await
    .unwrap();
    assert_eq!(queued.len(), 100, "every rewrite queued once");
}

#[tokio::test]
async fn dates_outside_the_window_and_oversized_texts_are_422_naming_the_field_and_write_nothing() {
    let mut webhook = Webhook::new().await;
    webhook.seed_execution("exec-1", Some(DRAFT)).await;
    let state = AppState {
        store: webhook.store.clone(),
        bus: webhook.bus.bus.clone(),
        // The production window: 30 days back, 5 minutes ahead of now.
        webhook: WebhookConfig {
            auth: WebhookAuth::new(TEST_SECRET),
            max_body_bytes: autolearn_web::webhook::DEFAULT_MAX_BODY_BYTES,
            dates: Default::default(),
        },
        edit_threshold: 0.2,
    };
    webhook.router = routes(state).into_router();
    let now = chrono::Utc::now();
    let at = |moment: chrono::DateTime<chrono::Utc>| json!(moment.to_rfc3339());
    let cases = [
        ("sentAt", at(now - chrono::Duration::days(31))),
        ("sentAt", at(now + chrono::Duration::minutes(10))),
        ("sentAt", json!("+262142-12-31T23:59:59Z")),
        ("sentText", json!("é".repeat(autolearn_web::bounds::MAX_SENT_TEXT_CHARS + 1))),
    ];
    for (field, value) in cases {
        let mut body = sample_body(SAMPLE);
        body["executionId"] = json!("exec-1");
        body["sentAt"] = at(now);
        body[field] = value;
        let reply = webhook.post_body(&body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", reply.text);
        assert_eq!(reply.body["error"]["field"], field, "{}", reply.text);
    }
    webhook.assert_nothing_written().await;
    let mut body = sample_body(SAMPLE);
    body["executionId"] = json!("exec-1");
    body["sentAt"] = at(now - chrono::Duration::days(29));
    assert_eq!(webhook.post_body(&body).await.status, StatusCode::CREATED);
}
