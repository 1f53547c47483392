//! A contact's data on request, end to end on moto, through the same routers the functions
//! serve: executions and sends through the webhooks, the real weekly batch, a proposal applied
//! by an admin, then the contact's export and erasure. Afterwards no item of the table (read by
//! a Scan, which only a test does) holds the contact's id or text, the counters and approval
//! rates are what they were, the pending proposal keeps its other evidence, and a second erasure
//! changes nothing. And items past their retention are ignored by every reader.

use std::collections::HashMap;

use autolearn_bus::EventBus;
use autolearn_model::store::to_item;
use autolearn_model::{LearningProposal, ProposalKind, ProposalStatus, SessionType, Store, keys};
use autolearn_runner::Services;
use autolearn_testkit::http::{Reply, TEST_SECRET, fixture_dates, send};
use autolearn_testkit::{ObservedBus, fixtures, fresh_store, sdk_config, unique_name};
use autolearn_web::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookAuth};
use autolearn_web::webhook::WebhookConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use axum::Router;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};

const TOKEN: &str = "erasure-test-admin-token";
/// The contact whose data is exported and erased.
const CONTACT: &str = "contact-erase-me-7731";
/// Another contact, whose data must stay.
const OTHER: &str = "contact-keep-4410";

/// The erased contact's messages: gaps about maintenance, like the others' below, so the batch
/// clusters them into one new intent. Each is unique to this contact. Both are email replies:
/// a new intent quotes what they wrote above the signature and the thread, and erasure must
/// find that copy.
const THEIR_GAPS: [&str; 2] = [
    "Zephyrine here, the kitchen sink is leaking again, can someone come fix it?\n\nSent from my iPhone\n\n\
     On Mon, Nov 16, 2026 at 9:12 AM Pine Hills Leasing <leasing@example.com> wrote:\n\
     > Thanks for reaching out! We will send someone this week.",
    "Zephyrine again: the kitchen sink leak is worse, please send maintenance today\n\n\
     -----Original Message-----\nFrom: Pine Hills Leasing\nSent: Tuesday, November 17, 2026 8:02 AM\n\
     Thanks for reaching out! We will send someone this week.",
];
const OTHER_GAPS: [&str; 4] = [
    "My kitchen sink is leaking, can someone come fix it?",
    "The kitchen sink leaks under the cabinet, please send maintenance",
    "Can you send someone to fix the leaking sink in my kitchen?",
    "Maintenance request: sink leaking in the kitchen since Monday",
];
const DRAFT: &str = "Thanks for reaching out! I'd be happy to help with that. We have tours available most \
                     days of the week and our friendly team would love to show you around. Saturday at 10am is open.";
const SENT: &str = "Saturday at 10am is open.";
/// What was sent to the erased contact: the same cut as the others', with their name.
const THEIR_SENT: &str = "Saturday at 10am is open, Zephyrine.";

fn week_end() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 16, 8, 0, 0).unwrap()
}

struct Stack {
    store: Store,
    bus: ObservedBus,
    router: Router,
    deps: weekly_batch::Deps,
}

impl Stack {
    async fn new() -> Self {
        Self::over(fresh_store().await).await
    }

    async fn over(store: Store) -> Self {
        let bus = ObservedBus::new().await;
        let services = Services {
            store: store.clone(),
            bus: bus.bus.clone(),
            webhook: WebhookConfig {
                auth: WebhookAuth::new(TEST_SECRET),
                max_body_bytes: 256 * 1024,
                dates: fixture_dates(),
            },
            edit_threshold: 0.2,
            admin: dashboard_api::AdminAuth {
                admins: dashboard_api::Admins {
                    admin_group: "autolearn-admins".into(),
                    local_admin_token: Some(TOKEN.into()),
                },
                sign_in: None,
            },
            cors_origin: None,
            promotion: Default::default(),
        };
        let router = autolearn_runner::all_routes(&services).into_router();
        let ses = aws_sdk_sesv2::Client::new(&sdk_config().await);
        let sender = format!("{}@example.com", unique_name("autolearn"));
        ses.create_email_identity().email_identity(&sender).send().await.unwrap();
        let observed: EventBus = bus.bus.clone();
        let deps = weekly_batch::Deps {
            store: store.clone(),
            bus: observed,
            mailer: weekly_batch::Mailer {
                client: ses,
                sender,
                recipients: vec!["admin@example.com".into()],
            },
            settings: weekly_batch::Settings {
                lookback_days: 90,
                review_url: "https://crm.example.test/admin/ai/learning".into(),
                promotion: Default::default(),
                expiry: Default::default(),
            },
            analyst: Default::default(),
            embedder: Default::default(),
        };
        Self { store, bus, router, deps }
    }

    async fn webhook(&self, path: &str, body: &Value) -> Reply {
        let body = body.to_string();
        let timestamp = Utc::now().timestamp();
        let signature = WebhookAuth::new(TEST_SECRET).sign(timestamp, body.as_bytes());
        let request = lambda_http::http::Request::builder()
            .method("POST")
            .uri(path)
            .header("content-type", "application/json")
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(lambda_http::Body::Text(body))
            .unwrap();
        send(&self.router, request).await
    }

    async fn admin(&self, method: &str, path: &str) -> Reply {
        let request = lambda_http::http::Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(lambda_http::Body::Empty)
            .unwrap();
        send(&self.router, request).await
    }

    async fn execution(&self, id: &str, contact: &str, body: &str, drafted: bool, at: DateTime<Utc>) {
        let request = json!({
            "executionId": id,
            "conversationId": format!("conv-{id}"),
            "contactId": contact,
            "message": {"id": format!("msg-{id}"), "body": body, "receivedAt": at},
            "intent": if drafted { json!({"name": "SHOWING_REQUEST"}) } else { Value::Null },
            "playbookEntryIds": [],
            "draftReply": if drafted { json!(DRAFT) } else { Value::Null },
            "status": "success",
            "createdAt": at,
        });
        let reply = self.webhook("/v1/executions", &request).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }

    async fn send(&self, id: &str, sent: &str, at: DateTime<Utc>) {
        let reply =
            self.webhook("/v1/feedback", &json!({"executionId": id, "sentText": sent, "sentAt": at})).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        assert_eq!(reply.body["outcome"], "rewritten", "{}", reply.text);
    }

    /// The dashboard's numbers: everything but the texts (config and pending proposals).
    async fn counted(&self) -> Value {
        let today = Utc::now().date_naive();
        let dashboard =
            dashboard_api::dashboard::load(&self.store, today, 60, &Default::default()).await.unwrap();
        let dashboard = serde_json::to_value(dashboard).unwrap();
        let usage: Vec<Value> = self
            .store
            .all_intents()
            .await
            .unwrap()
            .into_iter()
            .map(|intent| json!([intent.intent_id, intent.usage, intent.usage.approval_rate()]))
            .collect();
        json!({
            "health": dashboard["health"],
            "feedbackTimeline": dashboard["feedbackTimeline"],
            "experiments": dashboard["experiments"],
            "metrics": dashboard["metrics"],
            "usage": usage,
        })
    }

    /// Every item of the table, as text (a Scan: only the test reads the table this way).
    async fn scan(&self) -> Vec<String> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .store
                .client()
                .scan()
                .table_name(self.store.table_name())
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .unwrap();
            items.extend(output.items.unwrap_or_default().iter().map(|item| format!("{item:?}")));
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return items,
            }
        }
    }
}

/// A week in which the contact and others wrote in: gaps about the same maintenance topic, and
/// drafts people cut to the same short answer.
async fn seed_week(stack: &Stack) {
    let start = week_end() - Duration::days(7);
    let at = |i: i64| start + Duration::hours(5 + 7 * i);
    for (i, body) in THEIR_GAPS.iter().enumerate() {
        stack.execution(&format!("their-gap-{i}"), CONTACT, body, false, at(i as i64)).await;
    }
    for (i, body) in OTHER_GAPS.iter().enumerate() {
        stack.execution(&format!("other-gap-{i}"), OTHER, body, false, at(2 + i as i64)).await;
    }
    stack
        .execution("their-show", CONTACT, "Zephyrine asking: can I see the flat on Saturday?", true, at(6))
        .await;
    stack.send("their-show", THEIR_SENT, at(7)).await;
    for i in 0..3 {
        let id = format!("other-show-{i}");
        stack.execution(&id, OTHER, "Can I see the flat on Saturday?", true, at(8 + 2 * i)).await;
        stack.send(&id, SENT, at(9 + 2 * i)).await;
    }
}

fn of_kind(proposals: &[LearningProposal], kind: ProposalKind) -> LearningProposal {
    proposals
        .iter()
        .find(|p| p.proposal.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} in {proposals:#?}"))
        .clone()
}

/// Their id, or their name (which only their messages and the reply to them hold), in any case:
/// a keyword taken from their text would be lower case.
fn holds_their_data(item: &str) -> Option<&'static str> {
    let item = item.to_lowercase();
    [CONTACT, "zephyrine"].into_iter().find(|needle| item.contains(needle))
}

#[tokio::test]
async fn a_contact_is_exported_then_erased_leaving_counts_and_other_evidence() {
    let stack = Stack::new().await;
    seed_week(&stack).await;
    let end = week_end();
    let outcome = weekly_batch::run::run(
        &stack.deps,
        end - Duration::days(7),
        end,
        SessionType::Batch,
        Default::default(),
        Default::default(),
    )
    .await
    .unwrap();
    let session = stack.store.session(&outcome.session_id).await.unwrap().unwrap();
    let mut proposals = Vec::new();
    for id in &session.proposal_ids {
        proposals.push(stack.store.proposal(id).await.unwrap().unwrap());
    }
    let new_intent = of_kind(&proposals, ProposalKind::NewIntent);
    let amendment = of_kind(&proposals, ProposalKind::PlaybookAmendment);
    assert!(amendment.proposal.evidence.iter().any(|e| e.id == "their-show"), "{amendment:#?}");
    assert!(
        new_intent.proposal.examples.iter().any(|example| example.contains("Zephyrine")),
        "the new intent quotes the contact: {:#?}",
        new_intent.proposal.examples
    );
    // ... in their own words: neither the thread their replies quote nor a signature.
    for text in new_intent
        .proposal
        .examples
        .iter()
        .chain(new_intent.proposal.evidence.iter().filter_map(|e| e.text.as_ref()))
    {
        for quoted in ["Sent from", "wrote:", "Original Message", "Thanks for reaching out", "[email]"] {
            assert!(!text.contains(quoted), "{text:?}");
        }
    }
    let applied = stack.admin("POST", &format!("/v1/proposals/{}/apply", new_intent.proposal_id)).await;
    assert_eq!(applied.status, 200, "{}", applied.text);
    let intent_id = applied.body["effect"]["id"].as_str().unwrap().to_owned();

    // Customer text is written with its expiry: RETENTION_DAYS (400 by default) from now.
    let item = stack
        .store
        .client()
        .get_item()
        .table_name(stack.store.table_name())
        .key(keys::PK, AttributeValue::S(keys::execution_pk("their-show")))
        .key(keys::SK, AttributeValue::S(keys::EXECUTION_SK.into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let expires_at: i64 = item[keys::TTL_ATTRIBUTE].as_n().unwrap().parse().unwrap();
    let expected = (Utc::now() + Duration::days(400)).timestamp();
    assert!((expected - expires_at).abs() < 600, "expires at {expires_at}, expected about {expected}");

    let before = stack.counted().await;
    // Where their data is before: their executions (with the sends), the feedback, both
    // proposals, the applied intent.
    let holding: Vec<String> = stack
        .scan()
        .await
        .into_iter()
        .filter(|item| holds_their_data(item).is_some())
        .map(|item| {
            let key = |name: &str| {
                item.split(&format!("\"{name}\": S(\""))
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .unwrap_or("")
                    .to_owned()
            };
            format!("{} {}", key("PK"), key("SK"))
        })
        .collect();
    for kind in ["EXECUTION", "FEEDBACK", "INTENT#", "PROPOSAL#"] {
        assert!(holding.iter().any(|keys| keys.contains(kind)), "no {kind} holds their data: {holding:#?}");
    }
    assert_eq!(holding.iter().filter(|keys| keys.starts_with("PROPOSAL#")).count(), 2, "{holding:#?}");
    let other_evidence: Vec<String> = amendment
        .proposal
        .evidence
        .iter()
        .filter(|e| !e.id.starts_with("their-"))
        .map(|e| e.id.clone())
        .collect();
    assert!(!other_evidence.is_empty());

    // The export holds everything about the contact.
    let export = stack.admin("GET", &format!("/v1/contacts/{CONTACT}/data")).await;
    assert_eq!(export.status, 200, "{}", export.text);
    let data = &export.body;
    assert_eq!(data["contactId"], CONTACT);
    assert_eq!(data["retentionDays"], 400);
    let executions = data["executions"].as_array().unwrap();
    let ids: Vec<&str> = executions.iter().map(|e| e["executionId"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    for id in ["their-gap-0", "their-gap-1", "their-show"] {
        assert!(ids.contains(&id), "{id} not in {ids:?}");
    }
    let show = executions.iter().find(|e| e["executionId"] == "their-show").unwrap();
    assert_eq!(show["feedback"]["sentVersion"], THEIR_SENT);
    assert_eq!(show["message"]["body"], "Zephyrine asking: can I see the flat on Saturday?");
    assert!(
        show["quotedIn"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["proposalId"] == amendment.proposal_id.as_str()),
        "{show:#}"
    );
    let intents = data["intents"].as_array().unwrap();
    assert!(intents.iter().any(|i| i["intentId"] == intent_id.as_str()), "{data:#}");
    assert!(!export.text.contains(OTHER), "another contact's data is not exported");

    // The erasure: 202 with the erasure's id, completed within the request.
    let erased = stack.admin("DELETE", &format!("/v1/contacts/{CONTACT}")).await;
    assert_eq!(erased.status, 202, "{}", erased.text);
    assert_eq!(erased.body["status"], "completed", "{}", erased.text);
    assert_eq!(erased.body["executionsErased"], 3);
    assert!(erased.body["proposalsRedacted"].as_u64().unwrap() >= 2, "{}", erased.text);
    assert!(erased.body["intentsRedacted"].as_u64().unwrap() >= 1, "{}", erased.text);
    let erasure_id = erased.body["erasureId"].as_str().unwrap().to_owned();
    assert!(!erasure_id.contains(CONTACT));

    // No item holds their id or their text.
    let leftovers: Vec<String> =
        stack.scan().await.into_iter().filter(|item| holds_their_data(item).is_some()).collect();
    assert!(leftovers.is_empty(), "items still holding the contact's data: {leftovers:#?}");

    // Counts and approval rates are what they were.
    assert_eq!(stack.counted().await, before);

    // The pending proposal keeps its other evidence; the applied intent its other examples.
    let after = stack.store.proposal(&amendment.proposal_id).await.unwrap().unwrap();
    assert_eq!(after.status, ProposalStatus::Pending);
    let ids: Vec<String> = after.proposal.evidence.iter().map(|e| e.id.clone()).collect();
    assert!(ids.iter().all(|id| !id.starts_with("their-")), "{ids:?}");
    assert_eq!(ids, other_evidence);
    assert_eq!(after.proposal.impact, amendment.proposal.impact, "what it counted stays");
    let listed = stack.admin("GET", "/v1/proposals?status=pending").await;
    assert!(
        listed.body["proposals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["proposalId"] == amendment.proposal_id.as_str())
    );
    let intent = stack.store.intent(&intent_id).await.unwrap().unwrap();
    assert!(!intent.examples.is_empty());
    assert!(intent.examples.iter().all(|example| !example.contains("Zephyrine")), "{:?}", intent.examples);

    // Its record, without the contact id, and the event on the bus.
    let status = stack.admin("GET", &format!("/v1/erasures/{erasure_id}")).await;
    assert_eq!(status.status, 200, "{}", status.text);
    assert_eq!(status.body["status"], "completed");
    let events = stack.bus.received().await;
    let erased_events: Vec<&Value> = events.iter().filter(|e| e["detail-type"] == "ContactErased").collect();
    assert_eq!(erased_events.len(), 1, "{events:#?}");
    assert_eq!(erased_events[0]["detail"]["erasureId"], erasure_id.as_str());
    assert!(stack.store.outbox(None, 10).await.unwrap().items.is_empty(), "the event left the outbox");

    // A second erasure is a no-op; the export is empty.
    let again = stack.admin("DELETE", &format!("/v1/contacts/{CONTACT}")).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["erasureId"], erasure_id.as_str());
    assert_eq!(again.body["executionsErased"], 3);
    assert!(stack.bus.received().await.is_empty(), "no second event");
    let empty = stack.admin("GET", &format!("/v1/contacts/{CONTACT}/data")).await;
    assert_eq!(empty.body["executions"], json!([]));
    assert_eq!(empty.body["intents"], json!([]));

    // A replayed webhook of an erased execution counts nothing again.
    let replay = stack
        .webhook(
            "/v1/feedback",
            &json!({"executionId": "their-show", "sentText": THEIR_SENT, "sentAt": week_end() - Duration::days(7) + Duration::hours(5 + 49)}),
        )
        .await;
    assert!(replay.status == 201 || replay.status == 409, "{}", replay.text);
    assert_eq!(stack.counted().await, before);
    assert!(stack.scan().await.iter().all(|item| holds_their_data(item).is_none()));

    // The other contact's data is all there.
    let kept = stack.admin("GET", &format!("/v1/contacts/{OTHER}/data")).await;
    assert_eq!(kept.body["executions"].as_array().unwrap().len(), 7, "{}", kept.text);
}

#[tokio::test]
async fn bad_contact_ids_are_refused_naming_the_parameter_and_nothing_is_written() {
    let stack = Stack::new().await;
    let long = "c".repeat(129);
    for (method, path) in [
        ("DELETE", format!("/v1/contacts/{long}")),
        ("GET", format!("/v1/contacts/{long}/data")),
        ("DELETE", "/v1/contacts/has%20space".to_owned()),
    ] {
        let reply = stack.admin(method, &path).await;
        assert_eq!(reply.status, 422, "{method} {path}: {}", reply.text);
        assert_eq!(reply.body["error"]["field"], "contactId", "{}", reply.text);
    }
    let unknown = stack.admin("GET", "/v1/erasures/erasure-unknown").await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);
    assert!(stack.scan().await.is_empty(), "nothing written");
    let anonymous = lambda_http::http::Request::builder()
        .method("DELETE")
        .uri(format!("/v1/contacts/{CONTACT}"))
        .body(lambda_http::Body::Empty)
        .unwrap();
    assert_eq!(send(&stack.router, anonymous).await.status, 401);
}

/// Writes an entity as its writer would, but with an expiry already past (moto never deletes
/// expired items, and DynamoDB only days later).
async fn put_expired<T: autolearn_model::Entity>(store: &Store, entity: &T) {
    let mut item: HashMap<String, AttributeValue> = to_item(entity).unwrap();
    let past = (Utc::now() - Duration::days(1)).timestamp();
    item.insert(keys::TTL_ATTRIBUTE.into(), AttributeValue::N(past.to_string()));
    store.client().put_item().table_name(store.table_name()).set_item(Some(item)).send().await.unwrap();
}

#[tokio::test]
async fn items_past_their_retention_are_ignored_by_every_reader_and_still_erased() {
    let store = fresh_store().await;
    let at = fixtures::monday_9am();
    let mut old = fixtures::execution("exec-old", "conv-old", at);
    old.contact_id = Some(CONTACT.into());
    old.intent = None;
    old.draft_reply = None;
    let old_feedback = fixtures::feedback(&old, at);
    let old_proposal = fixtures::proposal("prop-old", "session-old", at);
    put_expired(&store, &old).await;
    put_expired(&store, &old_feedback).await;
    put_expired(&store, &old_proposal).await;
    let live = fixtures::execution("exec-live", "conv-live", at);
    store.create(&live).await.unwrap();

    // The store's readers: gets, index listings, the queue.
    assert!(store.execution("exec-old").await.unwrap().is_none());
    assert!(store.feedback("exec-old").await.unwrap().is_none());
    assert!(store.proposal("prop-old").await.unwrap().is_none());
    let day = store.executions_of_day(at.date_naive(), None, 100).await.unwrap();
    assert_eq!(day.items.iter().map(|e| e.execution_id.as_str()).collect::<Vec<_>>(), ["exec-live"]);
    assert!(store.gap_executions_of_day(at.date_naive(), None, 100).await.unwrap().items.is_empty());
    assert!(store.unanalyzed_feedback(None, 100).await.unwrap().items.is_empty());
    assert!(store.all_proposals_with_status(ProposalStatus::Pending).await.unwrap().is_empty());

    // The API: the feedback route, the proposals, the dashboard, the export.
    let stack = Stack::over(store.clone()).await;
    assert_eq!(stack.admin("GET", "/v1/feedback/exec-old").await.status, 404);
    let pending = stack.admin("GET", "/v1/proposals?status=pending").await;
    assert_eq!(pending.body["proposals"], json!([]), "{}", pending.text);
    let dashboard =
        dashboard_api::dashboard::load(&store, at.date_naive(), 7, &Default::default()).await.unwrap();
    assert!(dashboard.pending_proposals.is_empty());
    let export = stack.admin("GET", &format!("/v1/contacts/{CONTACT}/data")).await;
    assert_eq!(export.body["executions"], json!([]), "{}", export.text);

    // The batch: an expired gap is not learnt from.
    let end = at + Duration::days(1);
    let outcome = weekly_batch::run::run(
        &stack.deps,
        end - Duration::days(7),
        end,
        SessionType::Batch,
        Default::default(),
        Default::default(),
    )
    .await
    .unwrap();
    let session = store.session(&outcome.session_id).await.unwrap().unwrap();
    assert_eq!(session.stats.gap_messages, 0);
    assert_eq!(session.stats.edits_analysed, 0);

    // Until TTL deletes them, expired items still hold text: an erasure erases them too.
    let erased = stack.admin("DELETE", &format!("/v1/contacts/{CONTACT}")).await;
    assert_eq!(erased.status, 202, "{}", erased.text);
    assert_eq!(erased.body["executionsErased"], 1, "{}", erased.text);
    assert!(stack.scan().await.iter().all(|item| !item.contains(CONTACT)));
}

#[tokio::test]
async fn contact_erased_refused_by_the_bus_waits_in_the_outbox_and_the_batch_drain_puts_it_once() {
    use autolearn_testkit::faults::{FaultRates, Faults};
    let stack = Stack::new().await;
    let mut execution = fixtures::execution("exec-1", "conv-1", fixtures::monday_9am());
    execution.contact_id = Some(CONTACT.into());
    stack.store.create(&execution).await.unwrap();

    let faults = Faults::new(FaultRates { put_events: 1.0, ..FaultRates::default() });
    let failing = EventBus::new(
        aws_sdk_eventbridge::Client::new(&faults.sdk_config().await),
        stack.bus.bus_name.clone(),
    );
    let erased =
        customer_data_api::contacts::rules::erase(&stack.store, &failing, CONTACT, "admin", Utc::now())
            .await
            .unwrap();
    assert_eq!(
        erased.record.status,
        autolearn_model::ErasureStatus::Completed,
        "erased whatever the bus does"
    );
    assert!(faults.injected.put_events() > 0);
    assert!(stack.bus.received().await.is_empty());
    let waiting = stack.store.outbox(None, 10).await.unwrap().items;
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert!(!waiting[0].detail.contains(CONTACT), "the event names the erasure, not the contact");

    assert_eq!(weekly_batch::outbox::drain(&stack.store, &stack.bus.bus).await.unwrap(), 1);
    assert!(stack.store.outbox(None, 10).await.unwrap().items.is_empty());
    assert_eq!(weekly_batch::outbox::drain(&stack.store, &stack.bus.bus).await.unwrap(), 0, "put once");
    let events = stack.bus.received().await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["detail-type"], "ContactErased");
    assert_eq!(events[0]["detail"]["erasureId"], erased.record.erasure_id.as_str());
}
