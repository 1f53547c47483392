//! The model analyst against a local server that answers like Amazon Bedrock's Converse API
//! (no network), behind the batch's hand-over: the batch stores the rules' wording, puts
//! `WordingRequested` on the bus and stops; the analyst words the stored proposals and continues
//! the batch. A valid tool answer rewords the proposal and summarizes the edits; a malformed
//! answer, throttling and a slow answer each fall back to the rules for that item; the budget
//! caps the calls; no request carries the planted email, phone, street address or name; and a
//! failed analyst leaves the rules' wording and the batch goes on.

#[path = "../../weekly-batch/tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use autolearn_model::*;
use autolearn_testkit::sdk_config;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use proposal_analyst::BedrockAnalyst;
use serde_json::{Value, json};
use support::{PLANTED, WITH_PERSONAL_DATA, observed_deps, proposals_of, seed_week_with, week_end};
use weekly_batch::TriggerEvent;

const DRAFT: &str = "Hi Maria, thanks for reaching out! I'd be happy to help with that. We have tours available \
                     most days of the week and our friendly team would love to show you around. Saturday at 10am is open.";
const SENT: &str = "Hi Maria, Saturday at 10am is open.";

/// How the fake model answers a question, by the tool it must answer with.
#[derive(Debug, Clone)]
enum Reply {
    Answer(Value),
    Throttle,
    Slow,
}

#[derive(Clone, Default)]
struct FakeModel {
    replies: Arc<BTreeMap<&'static str, Reply>>,
    requests: Arc<Mutex<Vec<Value>>>,
}

async fn converse(
    State(model): State<FakeModel>,
    Path(_model_id): Path<String>,
    _headers: HeaderMap,
    body: String,
) -> Response {
    let request: Value = serde_json::from_str(&body).expect("a JSON request");
    model.requests.lock().unwrap().push(request.clone());
    let tool = request["toolConfig"]["tools"][0]["toolSpec"]["name"].as_str().unwrap_or_default().to_owned();
    match model.replies.get(tool.as_str()).cloned() {
        Some(Reply::Answer(input)) => axum::Json(json!({
            "output": {"message": {"role": "assistant", "content": [
                {"toolUse": {"toolUseId": "tooluse-1", "name": tool, "input": input}}
            ]}},
            "stopReason": "tool_use",
            "usage": {"inputTokens": 300, "outputTokens": 80, "totalTokens": 380},
            "metrics": {"latencyMs": 12}
        }))
        .into_response(),
        Some(Reply::Throttle) | None => (
            StatusCode::TOO_MANY_REQUESTS,
            [("x-amzn-errortype", "ThrottlingException"), ("content-type", "application/json")],
            r#"{"message":"Too many requests, please wait before trying again."}"#,
        )
            .into_response(),
        Some(Reply::Slow) => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            StatusCode::OK.into_response()
        }
    }
}

/// Serves the fake model on a free port; returns its endpoint.
async fn serve(model: FakeModel) -> String {
    let app = axum::Router::new().route("/model/{model_id}/converse", post(converse)).with_state(model);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

/// The batch's trigger for the seeded week: the manual one, or what its continuation says.
/// The analyst's dependencies: `model` served over HTTP behind the Bedrock client (at most
/// `max_calls` calls a run, each answer awaited 1.5 s), writing to `store` and `bus`.
async fn analyst_deps(
    model: &FakeModel,
    store: Store,
    bus: autolearn_bus::EventBus,
    max_calls: u32,
) -> proposal_analyst::Deps {
    let endpoint = serve(model.clone()).await;
    let sdk = sdk_config().await.into_builder().endpoint_url(endpoint).build();
    let model = BedrockAnalyst::with_timeout(
        &sdk,
        "anthropic.claude-test",
        max_calls,
        100_000,
        Duration::from_millis(1500),
    );
    proposal_analyst::Deps { store, bus, model }
}

fn trigger(detail_type: &str) -> TriggerEvent {
    serde_json::from_value(json!({
        "detail-type": detail_type,
        "time": week_end(0),
        "detail": {"periodEnd": week_end(0)}
    }))
    .unwrap()
}

/// A batch run of the seeded week with `ANALYST=bedrock` and the model at `replies`, at most
/// `max_calls` calls: the batch until it hands over, the analyst, the batch's continuation.
async fn run_with(
    replies: BTreeMap<&'static str, Reply>,
    max_calls: u32,
) -> (Vec<LearningProposal>, SessionStats, Vec<Value>, Store) {
    let model = FakeModel { replies: Arc::new(replies), ..FakeModel::default() };
    let (mut deps, bus) = observed_deps().await;
    deps.analyst = AnalystKind::Bedrock;
    let analyst = analyst_deps(&model, deps.store.clone(), deps.bus.clone(), max_calls).await;
    seed_week_with(&deps.store, 0, &WITH_PERSONAL_DATA, DRAFT, SENT).await;

    let handed_over =
        weekly_batch::handle(&deps, trigger("BatchLearningRequested"), Default::default()).await.unwrap();
    assert_eq!(handed_over.status, BatchStatus::AwaitingAnalyst);
    assert_eq!(handed_over.completed_steps, [BatchStep::Proposals]);
    let rules_worded = proposals_of(
        &deps.store,
        &deps.store.session(handed_over.session_id.as_str()).await.unwrap().unwrap(),
    )
    .await;
    assert!(rules_worded.iter().all(|stored| stored.written_by == Some(WrittenBy::rules())));
    let requested: Vec<Value> =
        bus.received().await.into_iter().filter(|event| event["detail-type"] == "WordingRequested").collect();
    assert_eq!(requested.len(), 1, "{requested:?}");
    let request = serde_json::from_value(requested[0]["detail"].clone()).unwrap();
    // A second trigger while the analyst works waits for it, and asks nothing again.
    let waiting =
        weekly_batch::handle(&deps, trigger("BatchLearningRequested"), Default::default()).await.unwrap();
    assert_eq!(waiting.status, BatchStatus::AwaitingAnalyst);

    let worded = proposal_analyst::handle(&analyst, request).await.unwrap();
    assert!(!worded.already_worded);
    let continued: Vec<Value> = bus
        .received()
        .await
        .into_iter()
        .filter(|event| event["detail-type"] == "BatchContinuationRequested")
        .collect();
    assert_eq!(continued.len(), 1, "the analyst continues the batch: {continued:?}");
    let done =
        weekly_batch::handle(&deps, trigger("BatchContinuationRequested"), Default::default()).await.unwrap();
    assert_eq!(done.status, BatchStatus::Completed);
    assert_eq!(done.completed_steps, BatchStep::ALL);
    let requests_before_redelivery = model.requests.lock().unwrap().len();
    let again =
        proposal_analyst::handle(&analyst, serde_json::from_value(requested[0]["detail"].clone()).unwrap())
            .await
            .unwrap();
    assert!(again.already_worded, "a redelivered request words nothing twice");
    assert_eq!(model.requests.lock().unwrap().len(), requests_before_redelivery);

    let session = deps.store.session(done.session_id.as_str()).await.unwrap().unwrap();
    let proposals = proposals_of(&deps.store, &session).await;
    let requests = model.requests.lock().unwrap().clone();
    (proposals, session.stats, requests, deps.store)
}

/// The `WordingRequested` event the batch put on the bus when it handed over.
async fn wording_request(bus: &autolearn_testkit::ObservedBus) -> Value {
    bus.received()
        .await
        .into_iter()
        .find(|event| event["detail-type"] == "WordingRequested")
        .expect("the batch asked for the wording")
}

fn amendment_answer() -> Reply {
    Reply::Answer(json!({
        "reason": "Showing drafts pad the answer with promises before the one slot people asked about.",
        "playbookText": "- Answer a showing request with the open slot only.\n- Leave out the tour promises."
    }))
}

fn intent_answer() -> Reply {
    Reply::Answer(json!({
        "name": "SINK_REPAIR",
        "description": "Tenants report a leaking sink and ask for a repair.",
        "answerOutline": "Confirm the request is logged; give when a technician comes; ask for access."
    }))
}

fn summary_answer() -> Reply {
    Reply::Answer(json!({"summary": "Cut the tour promises and kept only the open slot."}))
}

/// The fake model's answers to every question, the new intent's replaced by `intent`.
fn replies(intent: Reply) -> BTreeMap<&'static str, Reply> {
    BTreeMap::from([
        ("word_amendment", amendment_answer()),
        ("name_intent", intent),
        ("summarize_edit", summary_answer()),
    ])
}

/// The seeded week's rewritten sends.
const EDITS: u64 = 4;

fn of_kind(proposals: &[LearningProposal], kind: ProposalKind) -> &LearningProposal {
    proposals.iter().find(|stored| stored.proposal.kind == kind).unwrap_or_else(|| {
        panic!("no {kind:?} in {:?}", proposals.iter().map(|p| &p.proposal.title).collect::<Vec<_>>())
    })
}

#[tokio::test]
async fn valid_answers_word_the_proposals_and_no_personal_data_leaves() {
    let (proposals, stats, requests, store) = run_with(replies(intent_answer()), 10).await;

    let amendment = of_kind(&proposals, ProposalKind::PlaybookAmendment);
    assert_eq!(
        amendment.proposal.playbook_text.as_deref(),
        Some("- Answer a showing request with the open slot only.\n- Leave out the tour promises.")
    );
    assert!(amendment.description.starts_with("Showing drafts pad the answer"));
    let written_by = amendment.written_by.as_ref().unwrap();
    assert_eq!(written_by.analyst, AnalystKind::Bedrock);
    assert_eq!(written_by.prompt_version.as_deref(), Some("amendment-v1"));
    let intent = of_kind(&proposals, ProposalKind::NewIntent);
    assert_eq!(intent.proposal.intent_name.as_deref(), Some("SINK_REPAIR"));
    assert!(intent.proposal.title.contains("SINK_REPAIR"), "{}", intent.proposal.title);
    assert!(intent.description.contains("Suggested answer: Confirm the request is logged"));
    assert_eq!(intent.written_by.as_ref().unwrap().prompt_version.as_deref(), Some("intent-v1"));
    // The rules still decided what is proposed and on what evidence.
    assert!(amendment.proposal.evidence.len() >= 3 && intent.proposal.impact >= 4);

    // Each rewritten send got the model's summary beside the rules'.
    for i in 0..EDITS {
        let feedback = store.feedback(&format!("w0-fb-{i}")).await.unwrap().unwrap();
        assert_eq!(
            feedback.ai_summary.as_deref(),
            Some("Cut the tour promises and kept only the open slot.")
        );
        assert!(feedback.analysis.summary.starts_with("Shortened"), "{}", feedback.analysis.summary);
    }
    assert_eq!(stats.worded_by_model, 2 + EDITS);
    assert_eq!(stats.worded_by_rules, proposals.len() as u64 - 2);
    assert_eq!(requests.len() as u64, 2 + EDITS, "one call per proposal the model words and per edit");
    for request in &requests {
        let sent = request.to_string();
        for planted in PLANTED {
            assert!(!sent.contains(planted), "{planted:?} left in a prompt: {sent}");
        }
        assert!(sent.contains("[email]") || sent.contains("[name]"), "{sent}");
    }
}

#[tokio::test]
async fn a_malformed_throttled_or_slow_answer_leaves_that_item_to_the_rules() {
    for (case, failing) in [
        ("malformed", Reply::Answer(json!({"name": "sink repair", "description": "x"}))),
        ("throttled", Reply::Throttle),
        ("slow", Reply::Slow),
    ] {
        let (proposals, stats, requests, _) = run_with(replies(failing), 10).await;
        let intent = of_kind(&proposals, ProposalKind::NewIntent);
        assert_ne!(intent.proposal.intent_name.as_deref(), Some("SINK_REPAIR"), "{case}");
        assert_eq!(intent.written_by.as_ref().unwrap().analyst, AnalystKind::Rules, "{case}");
        assert!(intent.description.starts_with("People ask about "), "{case}: {}", intent.description);
        // The other item still takes the model's wording.
        let amendment = of_kind(&proposals, ProposalKind::PlaybookAmendment);
        assert_eq!(amendment.written_by.as_ref().unwrap().analyst, AnalystKind::Bedrock, "{case}");
        assert_eq!(stats.worded_by_model, 1 + EDITS, "{case}");
        if case == "throttled" {
            // The SDK retried the throttled call with backoff (up to three tries, as many as fit
            // in the call's time) before giving up on it.
            let intent_calls = requests.iter().filter(|r| r.to_string().contains("name_intent")).count();
            assert!((2..=3).contains(&intent_calls), "{case}: {intent_calls} tries");
        }
    }
}

#[tokio::test]
async fn the_budget_caps_the_calls_of_a_run() {
    let (proposals, stats, requests, _) = run_with(replies(intent_answer()), 1).await;
    assert_eq!(requests.len(), 1);
    assert_eq!(stats.worded_by_model, 1);
    // The proposals come first; no edit got a summary from the model.
    assert_eq!(stats.worded_by_rules, proposals.len() as u64 - 1 + EDITS);
    let by_model = proposals
        .iter()
        .filter(|stored| stored.written_by.as_ref().is_some_and(|w| w.analyst == AnalystKind::Bedrock))
        .count();
    assert_eq!(by_model, 1);
}

/// A run that stored the model's wording but stopped before saving the session (a timeout, a
/// crash): its rerun asks the model nothing again and still counts what the model wrote.
#[tokio::test]
async fn a_rerun_after_an_interrupted_wording_asks_nothing_again_and_counts_the_models_items() {
    let model = FakeModel { replies: Arc::new(replies(intent_answer())), ..FakeModel::default() };
    let (mut deps, bus) = observed_deps().await;
    deps.analyst = AnalystKind::Bedrock;
    let analyst = analyst_deps(&model, deps.store.clone(), deps.bus.clone(), 10).await;
    seed_week_with(&deps.store, 0, &WITH_PERSONAL_DATA, DRAFT, SENT).await;
    let handed_over =
        weekly_batch::handle(&deps, trigger("BatchLearningRequested"), Default::default()).await.unwrap();
    let request = wording_request(&bus).await;
    let first =
        proposal_analyst::handle(&analyst, serde_json::from_value(request["detail"].clone()).unwrap())
            .await
            .unwrap();
    assert_eq!(first.worded_by_model, 2 + EDITS);

    // The session as the run left it had it stopped after storing the wording.
    let session_id = handed_over.session_id.as_str();
    let now = chrono::Utc::now();
    let store = &deps.store;
    assert!(store.lease_session(session_id, "test", now, now + chrono::Duration::minutes(1)).await.unwrap());
    let mut session = store.session(session_id).await.unwrap().unwrap();
    session.worded_at = None;
    session.stats.worded_by_model = 0;
    session.stats.worded_by_rules = 0;
    store.save_session(&session, "test").await.unwrap();
    assert!(store.release_session(session_id, "test").await.unwrap());
    let asked = model.requests.lock().unwrap().len();

    let rerun =
        proposal_analyst::handle(&analyst, serde_json::from_value(request["detail"].clone()).unwrap())
            .await
            .unwrap();
    assert!(!rerun.already_worded);
    assert_eq!(model.requests.lock().unwrap().len(), asked, "the model is asked nothing again");
    let session = store.session(session_id).await.unwrap().unwrap();
    let proposals = proposals_of(store, &session).await;
    assert_eq!((rerun.worded_by_model, session.stats.worded_by_model), (2 + EDITS, 2 + EDITS));
    assert_eq!(session.stats.worded_by_rules, proposals.len() as u64 - 2);
    assert_eq!(
        of_kind(&proposals, ProposalKind::NewIntent).written_by.as_ref().unwrap().analyst,
        AnalystKind::Bedrock
    );
}

/// When Lambda gives up on the analyst, its on-failure destination puts the failure on the bus,
/// with the request that failed; the batch it triggers keeps the rules' wording and finishes.
#[tokio::test]
async fn a_failed_analyst_leaves_the_rules_wording_and_the_batch_goes_on() {
    let (mut deps, bus) = observed_deps().await;
    deps.analyst = AnalystKind::Bedrock;
    seed_week_with(&deps.store, 0, &WITH_PERSONAL_DATA, DRAFT, SENT).await;
    let handed_over =
        weekly_batch::handle(&deps, trigger("BatchLearningRequested"), Default::default()).await.unwrap();
    assert_eq!(handed_over.status, BatchStatus::AwaitingAnalyst);
    let request = wording_request(&bus).await;

    let failure: TriggerEvent = serde_json::from_value(json!({
        "version": "0",
        "detail-type": "Lambda Function Invocation Result - Failure",
        "source": "lambda",
        "time": chrono::Utc::now(),
        "detail": {
            "version": "1.0",
            "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
            "requestPayload": request,
            "responsePayload": {"errorType": "Runtime.ExitError", "errorMessage": "the analyst crashed"}
        }
    }))
    .unwrap();
    let done = weekly_batch::handle(&deps, failure, Default::default()).await.unwrap();
    assert_eq!(done.status, BatchStatus::Completed);
    assert_eq!(done.session_id, handed_over.session_id, "the failure names the period it continues");
    assert!(done.report_message_id.is_some(), "the report went out");
    let session = deps.store.session(done.session_id.as_str()).await.unwrap().unwrap();
    assert!(session.worded_at.is_none());
    let proposals = proposals_of(&deps.store, &session).await;
    assert!(!proposals.is_empty());
    assert!(proposals.iter().all(|stored| stored.written_by == Some(WrittenBy::rules())));
    assert_eq!(session.stats.worded_by_model, 0);
}

/// DynamoDB cancels some of the analyst's writes (conflicts, throttling), loses the answers of
/// others it applied, and EventBridge refuses the continuation; the emulator never does, so a
/// fault-injecting HTTP client under the SDK does. Each failed run is retried as Lambda retries
/// the event: the session ends worded as an undisturbed run words it, and the batch continues.
#[tokio::test]
async fn the_wording_under_refused_writes_lost_answers_and_a_refused_continuation_ends_as_an_undisturbed_one()
{
    use autolearn_testkit::faults::{FaultRates, Faults};
    let model = FakeModel { replies: Arc::new(replies(intent_answer())), ..FakeModel::default() };
    let faults = Faults::new(FaultRates::default());
    let faulty = faults.sdk_config().await;
    let (mut deps, bus) = observed_deps().await;
    deps.store = autolearn_testkit::fresh_table(aws_sdk_dynamodb::Client::new(&faulty)).await;
    deps.analyst = AnalystKind::Bedrock;
    let faulty_bus =
        autolearn_bus::EventBus::new(aws_sdk_eventbridge::Client::new(&faulty), bus.bus_name.clone());
    let analyst = analyst_deps(&model, deps.store.clone(), faulty_bus, 10).await;
    seed_week_with(&deps.store, 0, &WITH_PERSONAL_DATA, DRAFT, SENT).await;
    let handed_over =
        weekly_batch::handle(&deps, trigger("BatchLearningRequested"), Default::default()).await.unwrap();
    assert_eq!(handed_over.status, BatchStatus::AwaitingAnalyst);
    let request = wording_request(&bus).await;

    // The dice seeded (the test's runtime is one thread): the same faults on every run.
    fastrand::seed(20_261_201);
    let rates = FaultRates {
        transaction_conflict: 0.3,
        transaction_throttled: 0.1,
        transaction_answer_lost: 0.2,
        ..FaultRates::default()
    };
    // The first run's continuation is refused for sure (after its wording was saved).
    faults.set(FaultRates { put_events: 1.0, ..rates });
    let mut attempts = 0;
    let worded = loop {
        attempts += 1;
        if attempts == 2 {
            faults.set(rates);
        }
        assert!(attempts < 40, "the wording does not finish under faults");
        if let Ok(worded) =
            proposal_analyst::handle(&analyst, serde_json::from_value(request["detail"].clone()).unwrap())
                .await
        {
            break worded;
        }
    };
    faults.set(FaultRates::default());
    let injected = &faults.injected;
    assert!(injected.conflicts() + injected.throttles() + injected.lost_answers() > 0, "{injected:?}");
    assert!(injected.put_events() > 0, "{injected:?}");
    assert!(attempts > 1, "a fault failed a run");

    let session = deps.store.session(handed_over.session_id.as_str()).await.unwrap().unwrap();
    assert!(session.worded_at.is_some());
    assert_eq!((worded.worded_by_model, session.stats.worded_by_model), (2 + EDITS, 2 + EDITS));
    let proposals = proposals_of(&deps.store, &session).await;
    for kind in [ProposalKind::PlaybookAmendment, ProposalKind::NewIntent] {
        assert_eq!(
            of_kind(&proposals, kind).written_by.as_ref().unwrap().analyst,
            AnalystKind::Bedrock,
            "{kind:?}"
        );
    }
    assert_eq!(
        of_kind(&proposals, ProposalKind::NewIntent).proposal.intent_name.as_deref(),
        Some("SINK_REPAIR")
    );
    assert!(
        bus.received().await.iter().any(|event| event["detail-type"] == "BatchContinuationRequested"),
        "the continuation went out in the end"
    );
    let done =
        weekly_batch::handle(&deps, trigger("BatchContinuationRequested"), Default::default()).await.unwrap();
    assert_eq!(done.status, BatchStatus::Completed);
}
