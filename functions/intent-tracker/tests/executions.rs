//! `POST /v1/executions` driven with the API Gateway v2 samples in `events/`, against moto.

use autolearn_model::{Counter, ExecutionStatus, Store};
use autolearn_testkit::http::{
    Reply, TEST_SECRET, event_with, sample_body, send, send_concurrently, signed_event,
};
use autolearn_testkit::{RequestCounter, fixtures, fresh_counted_store, run_concurrently};
use autolearn_web::idempotency::REPLAYED_HEADER;
use autolearn_web::routes::health;
use autolearn_web::signature::WebhookAuth;
use autolearn_web::webhook::WebhookConfig;
use axum::Router;
use axum::http::StatusCode;
use chrono::NaiveDate;
use intent_tracker::{AppState, SERVICE, routes};
use serde_json::{Value, json};

const MATCHED: &str = "events/post-execution-matched.json";
const GAP: &str = "events/post-execution-gap.json";

struct Tracker {
    store: Store,
    requests: RequestCounter,
    router: Router,
}

impl Tracker {
    async fn new() -> Self {
        Self::with_body_limit(autolearn_web::webhook::DEFAULT_MAX_BODY_BYTES).await
    }

    async fn with_body_limit(max_body_bytes: usize) -> Self {
        autolearn_web::telemetry::init();
        let (store, requests) = fresh_counted_store().await;
        let webhook = WebhookConfig {
            auth: WebhookAuth::new(TEST_SECRET),
            max_body_bytes,
            dates: autolearn_testkit::http::fixture_dates(),
        };
        let router = routes(AppState { store: store.clone(), webhook }).merge(health(SERVICE)).into_router();
        Self { store, requests, router }
    }

    /// The dynamic intent and playbook entries the matched sample refers to.
    async fn seed_config(&self) {
        let at = fixtures::monday_9am();
        self.store.create(&fixtures::intent("intent-showing", "SHOWING_REQUEST", at)).await.unwrap();
        for id in ["pb-offer-times", "pb-confirm-address"] {
            self.store.create(&fixtures::playbook_entry(id, at)).await.unwrap();
        }
    }

    async fn post(&self, sample: &str, body: &Value) -> Reply {
        send(&self.router, signed_event(sample, &body.to_string(), TEST_SECRET)).await
    }

    async fn counters(&self, day: NaiveDate) -> autolearn_model::DailyCounters {
        self.store.daily_counters(&[day]).await.unwrap().remove(0)
    }

    /// Nothing about this execution reached the table.
    async fn assert_nothing_written(&self, body: &Value) {
        let id = body["executionId"].as_str().unwrap_or("exec-01JD7S3K9Q");
        assert_eq!(self.store.execution(id).await.unwrap(), None, "execution written");
        let now = chrono::Utc::now();
        assert_eq!(self.store.idempotency_record("executions", id, now).await.unwrap(), None);
        let counters = self.counters(day()).await;
        assert!(counters.values.is_empty(), "counters written: {:?}", counters.values);
        if let Some(intent) = self.store.intent("intent-showing").await.unwrap() {
            assert_eq!(intent.usage.hit_count, 0, "intent hit counted");
        }
    }
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 16).unwrap()
}

#[tokio::test]
async fn a_matched_execution_is_stored_with_every_count() {
    let tracker = Tracker::new().await;
    tracker.seed_config().await;
    let body = sample_body(MATCHED);

    let reply = tracker.post(MATCHED, &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(
        reply.body,
        json!({"executionId": "exec-01JD7S3K9Q", "intent": "SHOWING_REQUEST", "matched": true, "drafted": true, "gap": false})
    );

    let stored = tracker.store.execution("exec-01JD7S3K9Q").await.unwrap().expect("stored");
    assert_eq!(stored.conversation_id, "conv-1001");
    assert_eq!(stored.contact_id.as_deref(), Some("contact-77"));
    assert_eq!(stored.message.body, body["message"]["body"].as_str().unwrap());
    assert_eq!(stored.intent.as_ref().unwrap().dynamic_intent_id.as_deref(), Some("intent-showing"));
    assert_eq!(stored.playbook_entry_ids, vec!["pb-offer-times", "pb-confirm-address"]);
    assert_eq!(stored.status, ExecutionStatus::Success);
    assert!(!stored.is_gap());

    assert_eq!(tracker.store.intent("intent-showing").await.unwrap().unwrap().usage.hit_count, 1);
    for id in ["pb-offer-times", "pb-confirm-address"] {
        assert_eq!(tracker.store.playbook_entry(id).await.unwrap().unwrap().usage.hit_count, 1);
    }
    let counters = tracker.counters(day()).await;
    assert_eq!(counters.get(&Counter::Executions), 1);
    assert_eq!(counters.get(&Counter::Matched), 1);
    assert_eq!(counters.get(&Counter::Drafted), 1);
    assert_eq!(counters.get(&Counter::Gaps), 0);
    assert_eq!(counters.skills().collect::<Vec<_>>(), vec![("schedule_showing", 1)]);
    assert_eq!(counters.intents().collect::<Vec<_>>(), vec![("SHOWING_REQUEST", 1)]);
    assert_eq!(
        counters.playbook_entries().collect::<Vec<_>>(),
        vec![("pb-confirm-address", 1), ("pb-offer-times", 1)]
    );
    let listed = tracker.store.executions_of_day(day(), None, 10).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert!(tracker.store.gap_executions_of_day(day(), None, 10).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn a_gap_is_counted_and_queued_for_the_batch() {
    let tracker = Tracker::new().await;
    let reply = tracker.post(GAP, &sample_body(GAP)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["intent"], "UNKNOWN");
    assert_eq!(reply.body["gap"], true);

    let counters = tracker.counters(day()).await;
    assert_eq!(counters.get(&Counter::Executions), 1);
    assert_eq!(counters.get(&Counter::Matched), 0);
    assert_eq!(counters.get(&Counter::Drafted), 0);
    assert_eq!(counters.get(&Counter::Gaps), 1);
    assert_eq!(counters.intents().collect::<Vec<_>>(), vec![("UNKNOWN", 1)]);
    let gaps = tracker.store.gap_executions_of_day(day(), None, 10).await.unwrap();
    assert_eq!(gaps.items.len(), 1);
    assert_eq!(gaps.items[0].execution_id, "exec-01JD7S4M2X");
}

#[tokio::test]
async fn an_error_run_or_a_drafted_unknown_is_not_mistaken() {
    let tracker = Tracker::new().await;
    // An agent error is not a gap: the agent did not run successfully.
    let mut failed = sample_body(GAP);
    failed["status"] = json!("error");
    let reply = tracker.post(GAP, &failed).await;
    assert_eq!(reply.body["gap"], false, "{}", reply.text);
    // An explicit UNKNOWN intent is the same as none, and a draft without intent is a gap.
    let mut unknown = sample_body(GAP);
    unknown["executionId"] = json!("exec-unknown");
    unknown["intent"] = json!({"name": "UNKNOWN"});
    unknown["draftReply"] = json!("Thanks, we'll look into it.");
    let reply = tracker.post(GAP, &unknown).await;
    assert_eq!(
        reply.body,
        json!({"executionId": "exec-unknown", "intent": "UNKNOWN", "matched": false, "drafted": true, "gap": true})
    );
    let counters = tracker.counters(day()).await;
    assert_eq!((counters.get(&Counter::Executions), counters.get(&Counter::Gaps)), (2, 1));
}

#[tokio::test]
async fn replays_return_the_first_response_and_change_nothing() {
    let tracker = Tracker::new().await;
    tracker.seed_config().await;
    let body = sample_body(MATCHED);
    let first = tracker.post(MATCHED, &body).await;
    assert_eq!(first.status, StatusCode::CREATED);

    let text = body.to_string();
    let replays =
        send_concurrently(&tracker.router, (0..1000).map(|_| signed_event(MATCHED, &text, TEST_SECRET)))
            .await;
    for replay in replays {
        assert_eq!(replay.status, StatusCode::CREATED, "{}", replay.text);
        assert_eq!(replay.body, first.body);
        assert_eq!(replay.headers.get(REPLAYED_HEADER).unwrap(), "true");
    }

    // A replay with the same content serialised differently is the same request.
    let reordered: Value = serde_json::from_str(&serde_json::to_string_pretty(&body).unwrap()).unwrap();
    assert_eq!(tracker.post(MATCHED, &reordered).await.status, StatusCode::CREATED);

    assert_eq!(tracker.store.intent("intent-showing").await.unwrap().unwrap().usage.hit_count, 1);
    assert_eq!(tracker.store.playbook_entry("pb-offer-times").await.unwrap().unwrap().usage.hit_count, 1);
    let counters = tracker.counters(day()).await;
    assert_eq!(counters.get(&Counter::Executions), 1);
    assert_eq!(counters.get(&Counter::Matched), 1);
}

#[tokio::test]
async fn the_same_id_with_another_body_is_a_conflict() {
    let tracker = Tracker::new().await;
    tracker.seed_config().await;
    let body = sample_body(MATCHED);
    tracker.post(MATCHED, &body).await;

    let mut changed = body.clone();
    changed["draftReply"] = json!("Something else entirely.");
    let reply = tracker.post(MATCHED, &changed).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert_eq!(reply.body["error"]["code"], "conflict");
    let stored = tracker.store.execution("exec-01JD7S3K9Q").await.unwrap().unwrap();
    assert_eq!(stored.draft_reply.as_deref(), body["draftReply"].as_str());
    assert_eq!(tracker.counters(day()).await.get(&Counter::Executions), 1);
}

#[tokio::test]
async fn concurrent_executions_on_one_intent_count_exactly() {
    let tracker = Tracker::new().await;
    tracker.seed_config().await;
    let requests = (0..200).map(|i| {
        let mut body = sample_body(MATCHED);
        body["executionId"] = json!(format!("exec-{i:03}"));
        body["conversationId"] = json!(format!("conv-{}", i % 37));
        signed_event(MATCHED, &body.to_string(), TEST_SECRET)
    });
    for reply in send_concurrently(&tracker.router, requests).await {
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    }
    assert_eq!(tracker.store.intent("intent-showing").await.unwrap().unwrap().usage.hit_count, 200);
    assert_eq!(
        tracker.store.playbook_entry("pb-confirm-address").await.unwrap().unwrap().usage.hit_count,
        200
    );
    let counters = tracker.counters(day()).await;
    assert_eq!(counters.get(&Counter::Executions), 200);
    assert_eq!(counters.intents().collect::<Vec<_>>(), vec![("SHOWING_REQUEST", 200)]);
}

#[tokio::test]
async fn each_request_costs_one_dynamodb_call() {
    let tracker = Tracker::new().await;
    tracker.seed_config().await;
    let body = sample_body(MATCHED);

    tracker.requests.reset();
    assert_eq!(tracker.post(MATCHED, &body).await.status, StatusCode::CREATED);
    assert_eq!(tracker.requests.get(), 1, "a new execution is one transaction");

    tracker.requests.reset();
    assert_eq!(tracker.post(MATCHED, &body).await.status, StatusCode::CREATED);
    assert_eq!(tracker.requests.get(), 1, "a replay is the refused transaction, which returns the record");

    let mut unknown = body.clone();
    unknown["executionId"] = json!("exec-other");
    unknown["intent"]["dynamicIntentId"] = json!("intent-nope");
    tracker.requests.reset();
    assert_eq!(tracker.post(MATCHED, &unknown).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(tracker.requests.get(), 1);

    tracker.requests.reset();
    let mut malformed = body.clone();
    malformed["status"] = json!("maybe");
    tracker.post(MATCHED, &malformed).await;
    assert_eq!(tracker.requests.get(), 0, "bad input never reaches DynamoDB");
}

/// A change that makes a valid body invalid.
type Mutation = Box<dyn Fn(&mut Value)>;

/// Sends a request that must be refused with `status`, naming `field` when given, and checks
/// that nothing was written.
async fn assert_refused(
    tracker: &Tracker,
    reply: Reply,
    status: StatusCode,
    field: Option<&str>,
    body: &Value,
) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert!(reply.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", reply.text);
    if let Some(field) = field {
        assert_eq!(reply.body["error"]["field"], field, "{}", reply.text);
    }
    tracker.assert_nothing_written(body).await;
}

#[tokio::test]
async fn unsigned_forged_or_stale_requests_are_401() {
    let tracker = Tracker::new().await;
    tracker.seed_config().await;
    let body = sample_body(MATCHED);
    let text = body.to_string();
    let now = chrono::Utc::now().timestamp();

    let unsigned = send(&tracker.router, event_with(MATCHED, &text, None)).await;
    assert_refused(&tracker, unsigned, StatusCode::UNAUTHORIZED, None, &body).await;

    let forged_signature = WebhookAuth::new("not-the-secret-at-all").sign(now, text.as_bytes());
    let forged = send(&tracker.router, event_with(MATCHED, &text, Some((now, forged_signature)))).await;
    assert_refused(&tracker, forged, StatusCode::UNAUTHORIZED, None, &body).await;

    let stale = now - 6 * 60;
    let stale_signature = WebhookAuth::new(TEST_SECRET).sign(stale, text.as_bytes());
    let stale_reply = send(&tracker.router, event_with(MATCHED, &text, Some((stale, stale_signature)))).await;
    assert_refused(&tracker, stale_reply, StatusCode::UNAUTHORIZED, None, &body).await;

    // A body changed after signing.
    let signature = WebhookAuth::new(TEST_SECRET).sign(now, text.as_bytes());
    let tampered = text.replace("Saturday", "Sunday");
    let tampered_reply = send(&tracker.router, event_with(MATCHED, &tampered, Some((now, signature)))).await;
    assert_refused(&tracker, tampered_reply, StatusCode::UNAUTHORIZED, None, &body).await;
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_writes_nothing() {
    let tracker = Tracker::new().await;
    tracker.seed_config().await;
    let valid = sample_body(MATCHED);

    let reply = send(&tracker.router, signed_event(MATCHED, "{\"executionId\": ", TEST_SECRET)).await;
    assert_refused(&tracker, reply, StatusCode::BAD_REQUEST, None, &valid).await;

    let cases: Vec<(&str, Mutation)> = vec![
        ("executionId", Box::new(|b| b["executionId"] = json!(42))),
        ("conversationId", Box::new(|b| drop(b.as_object_mut().unwrap().remove("conversationId")))),
        ("message.body", Box::new(|b| drop(b["message"].as_object_mut().unwrap().remove("body")))),
        ("message.body", Box::new(|b| b["message"]["body"] = json!(""))),
        ("message.receivedAt", Box::new(|b| b["message"]["receivedAt"] = json!("last tuesday"))),
        ("status", Box::new(|b| b["status"] = json!("maybe"))),
        ("createdAt", Box::new(|b| drop(b.as_object_mut().unwrap().remove("createdAt")))),
        ("playbookEntryIds", Box::new(|b| b["playbookEntryIds"] = json!("pb-offer-times"))),
        (
            "playbookEntryIds",
            Box::new(|b| b["playbookEntryIds"] = json!(["pb-offer-times", "pb-offer-times"])),
        ),
        ("intent.name", Box::new(|b| b["intent"]["name"] = json!("showing request"))),
        ("executionId", Box::new(|b| b["executionId"] = json!("exec/../../etc"))),
        ("surprise", Box::new(|b| b["surprise"] = json!(true))),
        ("intent.dynamicIntentId", Box::new(|b| b["intent"]["dynamicIntentId"] = json!("intent-nope"))),
        ("playbookEntryIds[1]", Box::new(|b| b["playbookEntryIds"][1] = json!("pb-nope"))),
    ];
    for (field, mutate) in cases {
        let mut body = valid.clone();
        mutate(&mut body);
        let reply = tracker.post(MATCHED, &body).await;
        let expected_field = if field == "surprise" { None } else { Some(field) };
        assert_refused(&tracker, reply, StatusCode::UNPROCESSABLE_ENTITY, expected_field, &valid).await;
    }

    // Invalid UTF-8 inside a string: signed as bytes, refused before parsing as text.
    let mut bytes = valid.to_string().into_bytes();
    let position = bytes.windows(8).position(|w| w == b"Saturday").unwrap();
    bytes[position] = 0xff;
    let reply = send(&tracker.router, signed_bytes_event(&bytes)).await;
    assert_refused(&tracker, reply, StatusCode::BAD_REQUEST, None, &valid).await;
}

/// API Gateway carries a body that is not text base64-encoded; so does this event.
fn signed_bytes_event(bytes: &[u8]) -> lambda_http::Request {
    use base64::Engine;
    let timestamp = chrono::Utc::now().timestamp();
    let signature = WebhookAuth::new(TEST_SECRET).sign(timestamp, bytes);
    let mut event = autolearn_testkit::http::sample_event(MATCHED);
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(bytes));
    event["isBase64Encoded"] = json!(true);
    event["headers"]["x-autolearn-timestamp"] = json!(timestamp.to_string());
    event["headers"]["x-autolearn-signature"] = json!(signature);
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

#[tokio::test]
async fn an_oversized_body_is_413_and_writes_nothing() {
    let tracker = Tracker::new().await;
    tracker.seed_config().await;
    let valid = sample_body(MATCHED);
    let mut body = valid.clone();
    body["message"]["body"] = json!("a".repeat(300 * 1024));
    let reply = tracker.post(MATCHED, &body).await;
    assert_refused(&tracker, reply, StatusCode::PAYLOAD_TOO_LARGE, None, &valid).await;
}

#[tokio::test]
async fn text_beyond_the_item_limit_is_refused_naming_the_field() {
    // With a body limit above DynamoDB's item limit, the item check is what refuses.
    let tracker = Tracker::with_body_limit(1024 * 1024).await;
    tracker.seed_config().await;
    let valid = sample_body(MATCHED);
    let mut body = valid.clone();
    body["draftReply"] = json!("é".repeat(200 * 1024));
    let reply = tracker.post(MATCHED, &body).await;
    assert_refused(&tracker, reply, StatusCode::UNPROCESSABLE_ENTITY, Some("draftReply"), &valid).await;
}

/// A tracker whose DynamoDB client meets `faults` (every other request goes to moto as usual).
async fn faulty_tracker(faults: &autolearn_testkit::faults::Faults) -> Tracker {
    autolearn_web::telemetry::init();
    let config = faults.sdk_config().await;
    let counter = RequestCounter::default();
    let dynamodb = aws_sdk_dynamodb::config::Builder::from(&config).interceptor(counter.clone()).build();
    let store = autolearn_testkit::fresh_table(aws_sdk_dynamodb::Client::from_conf(dynamodb)).await;
    let webhook = WebhookConfig {
        auth: WebhookAuth::new(TEST_SECRET),
        max_body_bytes: autolearn_web::webhook::DEFAULT_MAX_BODY_BYTES,
        dates: autolearn_testkit::http::fixture_dates(),
    };
    let router = routes(AppState { store: store.clone(), webhook }).merge(health(SERVICE)).into_router();
    Tracker { store, requests: counter, router }
}

/// Posts until the answer is not 503, as the CRM does on `Retry-After`; every 503 must say
/// when to come back.
async fn post_until_accepted(router: &Router, body: &Value) -> (Reply, usize) {
    let mut unavailable = 0;
    loop {
        let reply = send(router, signed_event(MATCHED, &body.to_string(), TEST_SECRET)).await;
        if reply.status != StatusCode::SERVICE_UNAVAILABLE {
            return (reply, unavailable);
        }
        assert!(reply.headers.contains_key("retry-after"), "503 without Retry-After");
        unavailable += 1;
    }
}

#[tokio::test]
async fn conflicts_throttling_and_lost_answers_lose_nothing_and_count_nothing_twice() {
    use autolearn_testkit::faults::{FaultRates, Faults};
    let faults = Faults::new(FaultRates::default());
    let tracker = faulty_tracker(&faults).await;
    tracker.seed_config().await;
    // Every execution hits the same dynamic intent, playbook entries and day: on DynamoDB these
    // transactions conflict with each other; here 30% of attempts are cancelled for it, some are
    // throttled, and some are applied with their answer lost (the SDK sends them again).
    faults.set(FaultRates {
        transaction_conflict: 0.3,
        transaction_throttled: 0.05,
        transaction_answer_lost: 0.05,
        ..FaultRates::default()
    });
    let bodies: Vec<Value> = (0..200)
        .map(|i| {
            let mut body = sample_body(MATCHED);
            body["executionId"] = json!(format!("exec-{i:03}"));
            body["conversationId"] = json!(format!("conv-{}", i % 37));
            body
        })
        .collect();
    let tasks = bodies.iter().cloned().map(|body| {
        let router = tracker.router.clone();
        async move { post_until_accepted(&router, &body).await }
    });
    let mut unavailable = 0;
    for (reply, refused) in run_concurrently(tasks).await {
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        unavailable += refused;
    }
    // The store's own retries absorb the conflicts: without them about 70 of the 200 would
    // have been 503 (each of those resent here as the CRM would).
    assert!(unavailable < 10, "{unavailable} answers were 503");
    let injected = &faults.injected;
    assert!(injected.conflicts() > 30, "conflicts were injected: {}", injected.conflicts());
    assert!(injected.throttles() > 0 && injected.lost_answers() > 0, "{injected:?}");

    // Redeliveries under the same faults answer the first response and count nothing.
    for body in bodies.iter().step_by(10) {
        let (reply, _) = post_until_accepted(&tracker.router, body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        assert_eq!(reply.headers.get(REPLAYED_HEADER).unwrap(), "true");
    }

    faults.set(FaultRates::default());
    for body in &bodies {
        let id = body["executionId"].as_str().unwrap();
        assert!(tracker.store.execution(id).await.unwrap().is_some(), "{id} lost");
    }
    assert_eq!(tracker.store.intent("intent-showing").await.unwrap().unwrap().usage.hit_count, 200);
    for entry in ["pb-offer-times", "pb-confirm-address"] {
        assert_eq!(tracker.store.playbook_entry(entry).await.unwrap().unwrap().usage.hit_count, 200);
    }
    let counters = tracker.counters(day()).await;
    assert_eq!(counters.get(&Counter::Executions), 200);
    assert_eq!(counters.get(&Counter::Matched), 200);
    assert_eq!(counters.get(&Counter::Drafted), 200);
    assert_eq!(counters.intents().collect::<Vec<_>>(), vec![("SHOWING_REQUEST", 200)]);
}

#[tokio::test]
async fn a_transaction_still_refused_after_every_retry_is_503_with_retry_after_and_writes_nothing() {
    use autolearn_testkit::faults::{FaultRates, Faults};
    let faults = Faults::new(FaultRates::default());
    let mut tracker = faulty_tracker(&faults).await;
    tracker.seed_config().await;
    tracker.store = tracker.store.clone().with_retry(autolearn_model::store::RetryPolicy {
        max_attempts: 3,
        base: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(2),
    });
    let webhook = WebhookConfig {
        auth: WebhookAuth::new(TEST_SECRET),
        max_body_bytes: autolearn_web::webhook::DEFAULT_MAX_BODY_BYTES,
        dates: autolearn_testkit::http::fixture_dates(),
    };
    tracker.router = routes(AppState { store: tracker.store.clone(), webhook }).into_router();
    faults.set(FaultRates { transaction_conflict: 1.0, ..FaultRates::default() });
    let body = sample_body(MATCHED);
    let reply = tracker.post(MATCHED, &body).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{}", reply.text);
    assert_eq!(reply.body["error"]["code"], "unavailable");
    assert_eq!(reply.headers.get("retry-after").unwrap(), "1");
    assert_eq!(faults.injected.conflicts(), 3, "one try and two retries");
    faults.set(FaultRates::default());
    tracker.assert_nothing_written(&body).await;
    // The CRM's retry, once DynamoDB accepts it, records the execution.
    assert_eq!(tracker.post(MATCHED, &body).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_replay_after_its_idempotency_record_expired_counts_nothing_again() {
    let tracker = Tracker::new().await;
    tracker.seed_config().await;
    let body = sample_body(MATCHED);
    assert_eq!(tracker.post(MATCHED, &body).await.status, StatusCode::CREATED);
    let state = AppState {
        store: tracker.store.clone(),
        webhook: WebhookConfig {
            auth: WebhookAuth::new(TEST_SECRET),
            max_body_bytes: autolearn_web::webhook::DEFAULT_MAX_BODY_BYTES,
            dates: autolearn_testkit::http::fixture_dates(),
        },
    };
    let later = chrono::Utc::now() + chrono::Duration::days(autolearn_web::idempotency::TTL_DAYS + 30);
    let replay = intent_tracker::record::record(&state, body.to_string().as_bytes(), later).await.unwrap();
    assert!(replay.replayed, "the stored execution answers the late replay");
    // An execution stored before its quoted form was (no `quoted`) is the same request too.
    let id = body["executionId"].as_str().unwrap();
    let mut earlier = tracker.store.execution(id).await.unwrap().unwrap();
    earlier.message.quoted = None;
    tracker.store.put(&earlier).await.unwrap();
    let replay = intent_tracker::record::record(&state, body.to_string().as_bytes(), later).await.unwrap();
    assert!(replay.replayed, "a late replay of an execution stored without its quoted form");
    let mut changed = body.clone();
    changed["skill"] = json!("other_skill");
    let conflict = intent_tracker::record::record(&state, changed.to_string().as_bytes(), later).await;
    assert!(matches!(conflict, Err(autolearn_web::ApiError::Conflict(_))), "{conflict:?}");
    assert_eq!(tracker.store.intent("intent-showing").await.unwrap().unwrap().usage.hit_count, 1);
    assert_eq!(tracker.counters(day()).await.get(&Counter::Executions), 1);
}

#[tokio::test]
async fn dates_outside_the_window_and_unbounded_skill_names_are_422_naming_the_field_and_write_nothing() {
    let mut tracker = Tracker::new().await;
    tracker.seed_config().await;
    // The production window: 30 days back, 5 minutes ahead of now.
    let webhook = WebhookConfig {
        auth: WebhookAuth::new(TEST_SECRET),
        max_body_bytes: autolearn_web::webhook::DEFAULT_MAX_BODY_BYTES,
        dates: Default::default(),
    };
    tracker.router = routes(AppState { store: tracker.store.clone(), webhook }).into_router();
    let now = chrono::Utc::now();
    let at = |moment: chrono::DateTime<chrono::Utc>| json!(moment.to_rfc3339());
    let cases = [
        ("createdAt", "createdAt", at(now - chrono::Duration::days(31))),
        ("createdAt", "createdAt", at(now + chrono::Duration::minutes(10))),
        ("createdAt", "createdAt", json!("9999-12-31T23:59:59Z")),
        ("skill", "skill", json!("Schedule Showing!")),
        ("skill", "skill", json!("x".repeat(65))),
    ];
    for (key, field, value) in cases {
        let mut body = sample_body(MATCHED);
        body["createdAt"] = at(now);
        body[key] = value.clone();
        let reply = tracker.post(MATCHED, &body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{value}: {}", reply.text);
        assert_eq!(reply.body["error"]["field"], field, "{}", reply.text);
        assert_eq!(tracker.store.execution("exec-01JD7S3K9Q").await.unwrap(), None, "{value} was written");
    }
    assert_eq!(tracker.store.intent("intent-showing").await.unwrap().unwrap().usage.hit_count, 0);
    // Within the window it is recorded.
    let mut body = sample_body(MATCHED);
    body["createdAt"] = at(now - chrono::Duration::days(29));
    assert_eq!(tracker.post(MATCHED, &body).await.status, StatusCode::CREATED);
}

/// The message is masked once, where it comes in: the execution stores the form the learning
/// quotes (the sender's own words, personal data masked) beside the body.
#[tokio::test]
async fn the_message_is_stored_with_the_form_the_learning_quotes() {
    let tracker = Tracker::new().await;
    let mut body = sample_body(GAP);
    body["message"]["body"] =
        json!("Do you take pets? Call me at 555-123-4567 or jane.doe@example.com\nSent from my iPhone");
    let reply = tracker.post(GAP, &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let id = body["executionId"].as_str().unwrap();
    let stored = tracker.store.execution(id).await.unwrap().unwrap();
    assert_eq!(stored.message.body, body["message"]["body"].as_str().unwrap());
    assert_eq!(stored.message.quoted.as_deref(), Some("Do you take pets? Call me at [phone] or [email]"));
}
