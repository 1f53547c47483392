//! Test support: AWS clients pointed at the project's moto server, and a fresh table per test.
//!
//! `make test` (through `scripts/with-moto.sh`) starts moto on a free loopback port and exports
//! `AWS_ENDPOINT_URL`; every test gets its own table, identity and bus names, so tests run in
//! parallel against one server without resets.

pub mod faults;

use autolearn_model::{Store, TableDefinition};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_config::{Region, SdkConfig};
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;

/// The endpoint of the local emulator. Panics with the fix when it is not set, since no test
/// here may reach real AWS.
pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        panic!(
            "AWS_ENDPOINT_URL is not set: run the tests with `make test` (or \
             `scripts/with-moto.sh cargo test`), which starts the local moto server"
        )
    })
}

/// SDK config for the emulator: dummy credentials, fixed region.
pub async fn sdk_config() -> SdkConfig {
    autolearn_web::aws::defaults()
        .endpoint_url(endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "autolearn-tests",
        ))
        .load()
        .await
}

/// A name no other test uses.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", ulid::Ulid::new().to_string().to_lowercase())
}

/// Counts the DynamoDB requests a client sends (every attempt that goes on the wire).
#[derive(Debug, Clone, Default)]
pub struct RequestCounter(Arc<AtomicUsize>);

impl RequestCounter {
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
    pub fn reset(&self) {
        self.0.store(0, Ordering::SeqCst);
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A fresh table created from `infra/template.yaml`, reached through `client`.
pub async fn fresh_table(client: aws_sdk_dynamodb::Client) -> Store {
    let table = unique_name("autolearn-test");
    TableDefinition::from_embedded_template()
        .expect("template table definition")
        .create(&client, &table)
        .await
        .expect("create table on moto");
    Store::new(client, table)
}

/// A store over a fresh table created from `infra/template.yaml`.
pub async fn fresh_store() -> Store {
    fresh_counted_store().await.0
}

/// A store over a fresh table, with a counter of the requests its client sends (the table's
/// creation is not counted).
pub async fn fresh_counted_store() -> (Store, RequestCounter) {
    let counter = RequestCounter::default();
    let config =
        aws_sdk_dynamodb::config::Builder::from(&sdk_config().await).interceptor(counter.clone()).build();
    let store = fresh_table(aws_sdk_dynamodb::Client::from_conf(config)).await;
    counter.reset();
    (store, counter)
}

/// Sample entities for tests, with plausible values a test overrides where it matters.
/// How many tasks [`run_concurrently`] keeps in flight. Each request a task makes may open
/// its own connection to the moto server, whose listen backlog (werkzeug's 128) drops the
/// connects beyond it on a busy machine; the SDK's 3.1 s connect timeout then fails the
/// request for a reason of the emulator's, not the code's under test (a 1,000-request test
/// failed 2 runs of 3 that way).
pub const MAX_IN_FLIGHT: usize = 100;

/// Runs the tasks concurrently on the runtime, at most [`MAX_IN_FLIGHT`] at a time, and
/// returns their outputs in the tasks' order.
pub async fn run_concurrently<T: Send + 'static>(
    tasks: impl IntoIterator<Item = impl std::future::Future<Output = T> + Send + 'static>,
) -> Vec<T> {
    let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let handles: Vec<_> = tasks
        .into_iter()
        .map(|task| {
            let in_flight = Arc::clone(&in_flight);
            tokio::spawn(async move {
                let _permit = in_flight.acquire_owned().await.expect("the semaphore is never closed");
                task.await
            })
        })
        .collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.expect("a task panicked"));
    }
    outputs
}

pub mod fixtures {
    use autolearn_model::*;
    use chrono::{DateTime, TimeZone, Utc};

    /// A fixed moment, so tests do not depend on the clock.
    pub fn monday_9am() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 16, 9, 0, 0).unwrap()
    }

    pub fn execution(id: &str, conversation: &str, at: DateTime<Utc>) -> Execution {
        let mut execution = Execution {
            execution_id: id.into(),
            conversation_id: conversation.into(),
            contact_id: Some("contact-1".into()),
            message: InboundMessage {
                message_id: format!("msg-{id}"),
                body: String::new(),
                quoted: None,
                received_at: at,
            },
            intent: Some(MatchedIntent { name: "SHOWING_REQUEST".into(), dynamic_intent_id: None }),
            skill: Some("schedule_showing".into()),
            playbook_entry_ids: vec![],
            draft_reply: Some("I'd be happy to help with that! The unit is available.".into()),
            status: ExecutionStatus::Success,
            created_at: at,
            erased_at: None,
        };
        set_body(&mut execution, "Hi, is the 2-bed on Elm Street still available for a showing Saturday?");
        execution
    }

    /// The message's body and its quoted form, as the intent tracker stores them.
    pub fn set_body(execution: &mut Execution, body: &str) {
        execution.message.body = body.to_owned();
        execution.message.quoted = Some(autolearn_learning::text::masked_own_words(body));
    }

    /// The feedback's draft and sent reply, their masked forms (as the webhook stores them) and
    /// the analysis of the edit.
    pub fn set_texts(feedback: &mut DraftFeedback, draft: &str, sent: &str) {
        use autolearn_learning::text::mask_personal_data;
        feedback.original_draft = draft.to_owned();
        feedback.sent_version = sent.to_owned();
        feedback.masked_draft = Some(mask_personal_data(draft));
        feedback.masked_sent = Some(mask_personal_data(sent));
        feedback.analysis = autolearn_learning::edit::analyze_edit(draft, sent);
    }

    pub fn feedback(execution: &Execution, at: DateTime<Utc>) -> DraftFeedback {
        DraftFeedback {
            feedback_id: format!("fb-{}", execution.execution_id),
            execution_id: execution.execution_id.clone(),
            conversation_id: execution.conversation_id.clone(),
            intent_name: Some(execution.intent_name().to_owned()),
            dynamic_intent_id: None,
            original_draft: execution.draft_reply.clone().unwrap_or_default(),
            sent_version: "Let me check availability and get back to you today.".into(),
            masked_draft: Some(autolearn_learning::text::mask_personal_data(
                execution.draft_reply.as_deref().unwrap_or_default(),
            )),
            masked_sent: Some("Let me check availability and get back to you today.".into()),
            analysis: autolearn_learning::edit::analyze_edit(
                execution.draft_reply.as_deref().unwrap_or_default(),
                "Let me check availability and get back to you today.",
            ),
            ai_summary: None,
            analyzed: false,
            learning_session_id: None,
            sent_at: at,
            created_at: at,
        }
    }

    pub fn intent(id: &str, name: &str, at: DateTime<Utc>) -> DynamicIntent {
        DynamicIntent {
            intent_id: id.into(),
            name: name.into(),
            description: format!("Messages about {name}"),
            examples: vec!["my sink is leaking".into()],
            keywords: vec!["leak".into(), "repair".into()],
            active: true,
            experimental: true,
            extends_builtin: false,
            usage: UsageCounts::default(),
            promoted_at: None,
            deactivated_at: None,
            source_proposal_id: None,
            created_at: at,
        }
    }

    pub fn playbook_entry(id: &str, at: DateTime<Utc>) -> PlaybookEntry {
        PlaybookEntry {
            entry_id: id.into(),
            intent_name: Some("SHOWING_REQUEST".into()),
            text: "Offer two concrete showing times.".into(),
            active: true,
            experimental: false,
            usage: UsageCounts::default(),
            promoted_at: None,
            deactivated_at: None,
            source_proposal_id: None,
            created_at: at,
        }
    }

    pub fn session(id: &str, at: DateTime<Utc>) -> LearningSession {
        LearningSession {
            session_id: id.into(),
            session_type: SessionType::Batch,
            period_start: at - chrono::Duration::days(7),
            period_end: at,
            status: SessionStatus::Running,
            summary: None,
            stats: Default::default(),
            proposal_ids: vec![],
            completed_steps: vec![],
            decisions: vec![],
            report_message_id: None,
            feedback_read_chunks: None,
            lease_owner: None,
            lease_until: None,
            report_claimed_at: None,
            wording_requested_at: None,
            worded_at: None,
            created_at: at,
            updated_at: at,
        }
    }

    pub fn proposal(id: &str, session_id: &str, at: DateTime<Utc>) -> LearningProposal {
        let fingerprint = format!("newIntent:{id}");
        LearningProposal {
            proposal_id: id.into(),
            session_id: session_id.into(),
            status: ProposalStatus::Pending,
            proposal: Proposal {
                kind: ProposalKind::NewIntent,
                rejection_keys: vec![fingerprint.clone()],
                fingerprint,
                intent_name: Some("MAINTENANCE_REQUEST".into()),
                title: "New intent MAINTENANCE_REQUEST".into(),
                examples: vec!["the heater is broken".into()],
                keywords: vec!["broken".into()],
                playbook_text: None,
                confidence: Confidence::Medium,
                impact: 12,
                support_conversations: 3,
                evidence: vec![Evidence {
                    kind: EvidenceKind::GapMessage,
                    id: "exec-9".into(),
                    conversation_id: "c-9".into(),
                    text: Some("my heater is broken, call me at [phone]".into()),
                    score: Some(0.8),
                    note: None,
                    edit: None,
                }],
            },
            description: "Tenants reporting something broken".into(),
            written_by: None,
            refreshed_by: vec![],
            created_at: at,
            decided_at: None,
            decided_by: None,
            note: None,
        }
    }
}

/// API Gateway v2 sample events from `events/`, signed and sent through a router.
pub mod http {
    use autolearn_web::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookAuth};
    use axum::Router;
    use axum::http::{HeaderMap, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    /// The secret the tests sign with.
    pub const TEST_SECRET: &str = "test-webhook-secret-0123456789";

    /// A date window that accepts the samples' and fixtures' fixed dates (November 2026)
    /// whenever the tests run; tests of the window itself use the default.
    pub fn fixture_dates() -> autolearn_web::bounds::DateWindow {
        autolearn_web::bounds::DateWindow { max_age: chrono::Duration::days(100 * 365), ..Default::default() }
    }

    /// A sample event from `events/` (path relative to the repository root).
    pub fn sample_event(relative_path: &str) -> serde_json::Value {
        let path = format!("{}/../../{relative_path}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
        serde_json::from_str(&text).expect("sample event is JSON")
    }

    /// The JSON body inside a sample event.
    pub fn sample_body(relative_path: &str) -> serde_json::Value {
        serde_json::from_str(sample_event(relative_path)["body"].as_str().expect("event has a body"))
            .expect("event body is JSON")
    }

    /// The sample event with `body` in place of its own, signed now with `secret`, parsed by
    /// lambda_http exactly as the Lambda runtime would.
    pub fn signed_event(relative_path: &str, body: &str, secret: &str) -> lambda_http::Request {
        let timestamp = chrono::Utc::now().timestamp();
        let signature = WebhookAuth::new(secret).sign(timestamp, body.as_bytes());
        event_with(relative_path, body, Some((timestamp, signature)))
    }

    /// The sample event with `body` and, when given, these signature headers (none otherwise).
    pub fn event_with(
        relative_path: &str,
        body: &str,
        signature: Option<(i64, String)>,
    ) -> lambda_http::Request {
        let mut event = sample_event(relative_path);
        event["body"] = serde_json::Value::String(body.to_owned());
        let headers = event["headers"].as_object_mut().expect("event has headers");
        headers.remove(TIMESTAMP_HEADER);
        headers.remove(SIGNATURE_HEADER);
        if let Some((timestamp, signature)) = signature {
            headers.insert(TIMESTAMP_HEADER.into(), timestamp.to_string().into());
            headers.insert(SIGNATURE_HEADER.into(), signature.into());
        }
        lambda_http::request::from_str(&event.to_string()).expect("lambda_http parses the event")
    }

    /// The sample events of admin requests (`events/`): a GET, and a POST with a body.
    pub const ADMIN_GET_SAMPLE: &str = "events/get-dashboard.json";
    pub const ADMIN_POST_SAMPLE: &str = "events/post-apply-proposal.json";
    /// The subject of [`admin_claims`].
    pub const ADMIN_SUB: &str = "8f1c2d3e-0000-4000-8000-000000000001";

    /// The claims API Gateway's JWT authorizer passes for an admin (group `autolearn-admins`,
    /// flattened as API Gateway flattens it).
    pub fn admin_claims() -> serde_json::Value {
        serde_json::json!({"sub": ADMIN_SUB, "email": "admin@example.com", "cognito:groups": "[readers autolearn-admins]"})
    }

    /// An API Gateway v2 event from the admin samples, for `method path?query` with `body`,
    /// carrying `claims` in the JWT authorizer context (no authorizer and no Authorization
    /// header at all when `None`).
    pub fn api_event(
        method: &str,
        path_and_query: &str,
        body: &str,
        claims: Option<serde_json::Value>,
    ) -> lambda_http::Request {
        use serde_json::{Value, json};
        let mut event = sample_event(if method == "GET" { ADMIN_GET_SAMPLE } else { ADMIN_POST_SAMPLE });
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        event["rawPath"] = json!(path);
        event["rawQueryString"] = json!(query);
        let params: serde_json::Map<String, Value> = query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k.to_owned(), json!(v))
            })
            .collect();
        if params.is_empty() {
            event.as_object_mut().unwrap().remove("queryStringParameters");
        } else {
            event["queryStringParameters"] = Value::Object(params);
        }
        event["requestContext"]["http"]["method"] = json!(method);
        event["requestContext"]["http"]["path"] = json!(path);
        event["body"] = json!(body);
        match claims {
            Some(claims) => event["requestContext"]["authorizer"]["jwt"]["claims"] = claims,
            None => {
                event["requestContext"].as_object_mut().unwrap().remove("authorizer");
                event["headers"].as_object_mut().unwrap().remove("authorization");
            }
        }
        lambda_http::request::from_str(&event.to_string()).expect("lambda_http parses the event")
    }

    /// A response, read whole.
    #[derive(Debug)]
    pub struct Reply {
        pub status: StatusCode,
        pub headers: HeaderMap,
        pub body: serde_json::Value,
        pub text: String,
    }

    /// Sends the requests through the router concurrently, at most
    /// [`MAX_IN_FLIGHT`](crate::MAX_IN_FLIGHT) at a time, and returns the replies in the
    /// requests' order.
    pub async fn send_concurrently(
        router: &Router,
        requests: impl IntoIterator<Item = lambda_http::Request>,
    ) -> Vec<Reply> {
        let tasks = requests.into_iter().map(|request| {
            let router = router.clone();
            async move { send(&router, request).await }
        });
        crate::run_concurrently(tasks).await
    }

    /// Sends a request through a router and reads the response.
    pub async fn send(router: &Router, request: lambda_http::Request) -> Reply {
        let response = router.clone().oneshot(request).await.expect("routers are infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("read body").to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        Reply { status, headers, body, text }
    }
}

/// An event bus on moto whose events can be read back: a rule sends everything with source
/// `autolearn` to an SQS queue (moto keeps no other record of put events).
pub struct ObservedBus {
    pub bus: autolearn_bus::EventBus,
    pub bus_name: String,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

impl ObservedBus {
    pub async fn new() -> Self {
        let config = sdk_config().await;
        let events = aws_sdk_eventbridge::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        let bus_name = unique_name("autolearn-bus");
        events.create_event_bus().name(&bus_name).send().await.expect("create bus");
        let queue_url = sqs
            .create_queue()
            .queue_name(unique_name("bus-observer"))
            .send()
            .await
            .expect("create queue")
            .queue_url
            .expect("queue url");
        let queue_arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .and_then(|mut attributes| attributes.remove(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .expect("queue arn");
        let rule = unique_name("observe");
        events
            .put_rule()
            .name(&rule)
            .event_bus_name(&bus_name)
            .event_pattern(r#"{"source": ["autolearn"]}"#)
            .send()
            .await
            .expect("put rule");
        events
            .put_targets()
            .rule(&rule)
            .event_bus_name(&bus_name)
            .targets(
                aws_sdk_eventbridge::types::Target::builder().id("observer").arn(queue_arn).build().unwrap(),
            )
            .send()
            .await
            .expect("put targets");
        let bus = autolearn_bus::EventBus::new(events, bus_name.clone());
        Self { bus, bus_name, sqs, queue_url }
    }

    /// Every event delivered so far (EventBridge envelopes: `detail-type`, `source`, `detail`).
    pub async fn received(&self) -> Vec<serde_json::Value> {
        let mut events = Vec::new();
        loop {
            let output = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("receive");
            let messages = output.messages.unwrap_or_default();
            if messages.is_empty() {
                return events;
            }
            for message in messages {
                let body = message.body.as_deref().unwrap_or("null");
                events.push(serde_json::from_str(body).expect("event JSON"));
                if let Some(handle) = message.receipt_handle {
                    self.sqs
                        .delete_message()
                        .queue_url(&self.queue_url)
                        .receipt_handle(handle)
                        .send()
                        .await
                        .ok();
                }
            }
        }
    }
}
