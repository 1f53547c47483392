//! Sentence embeddings for gap discovery against a local server that answers like Amazon
//! Bedrock's InvokeModel with Titan Text Embeddings v2 (no network; the real SDK): the fake
//! model answers one direction per request, chosen by a keyword of the masked text. Two
//! requests asked in the same words become two new intents with the embeddings where the words
//! alone do not separate them; no request body carries the planted name, email, phone or
//! address; identical texts are sent once; throttling is retried, and a garbage or slow answer
//! leaves its message lexical while the run completes; `EMBEDDINGS_MAX_MESSAGES` caps the calls.

mod support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use autolearn_model::*;
use autolearn_testkit::sdk_config;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use support::{LONG_DRAFT, PLANTED, WITH_PERSONAL_DATA, deps, proposals_of, run_week, seed_week_with};
use weekly_batch::Deps;
use weekly_batch::embeddings::{BedrockEmbedder, DIMENSIONS, Embedder};

const MODEL_ID: &str = "amazon.titan-embed-text-v2:0";

/// Two requests asked in the same frame, each time with other words for what is asked about
/// (as the engine's test `embeddings_decide_which_messages_are_near_where_words_mislead`).
const PETS: [&str; 8] = [
    "keep a pet dog",
    "have a cat",
    "bring a pet puppy",
    "own kittens",
    "keep my pet hamster",
    "have a parrot",
    "bring a pet rabbit",
    "own a ferret",
];
const PARKING: [&str; 8] = [
    "use the garage",
    "rent a parking carport",
    "use the driveway",
    "get a parking spot",
    "rent a bay for vehicles",
    "get a parking permit",
    "use a space for my truck",
    "rent covered parking",
];
/// The fake model's keywords of each request: the direction it answers.
const PET_WORDS: [&str; 9] =
    ["pet", "dog", "cat", "puppy", "kittens", "hamster", "parrot", "rabbit", "ferret"];
const PARKING_WORDS: [&str; 9] =
    ["garage", "parking", "carport", "driveway", "spot", "bay", "vehicles", "permit", "truck"];

/// The week's gap messages: the pet questions (`w0-gap-0`…`7`), then the parking ones.
fn misleading_week() -> Vec<String> {
    PETS.iter()
        .chain(&PARKING)
        .map(|asked| format!("Hello, a question about my lease: may I {asked} at the apartment? Thanks"))
        .collect()
}

/// The request of gap message `w0-gap-{i}` (0 pets, 1 parking).
fn request_of(id: &str) -> usize {
    let i: usize = id.strip_prefix("w0-gap-").and_then(|i| i.parse().ok()).expect("a gap message id");
    usize::from(i >= PETS.len())
}

/// Besides the shared planted data, a second person's, in a message that differs from another
/// only by it.
const ALSO_PLANTED: [&str; 2] = ["John", "john@example.org"];

/// How the fake model answers a text holding one of these words.
#[derive(Debug, Clone, Default)]
struct Faults {
    /// 429 `ThrottlingException` on the first try of the text, an answer on the next.
    throttle_first: Vec<&'static str>,
    /// 200 with a body that is not Titan's JSON.
    garbage: Vec<&'static str>,
    /// An answer after 5 s, past the call's time.
    slow: Vec<&'static str>,
}

#[derive(Clone, Default)]
struct FakeTitan {
    faults: Arc<Faults>,
    requests: Arc<Mutex<Vec<Value>>>,
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase)
}

fn has_any(text: &str, keywords: &[&str]) -> bool {
    words(text).any(|word| keywords.contains(&word.as_str()))
}

/// One direction per request (pets, parking, anything else), each text a little off it.
fn vector(text: &str) -> Vec<f32> {
    let request = if has_any(text, &PET_WORDS) {
        0
    } else if has_any(text, &PARKING_WORDS) {
        1
    } else {
        2
    };
    let hash = text.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let mut values = vec![0.0f32; DIMENSIONS];
    values[request] = 1.0;
    values[3] = 0.1 * (hash % 3) as f32;
    values[4] = 0.1 * (hash % 2) as f32;
    let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
    values.iter().map(|v| v / norm).collect()
}

async fn invoke(State(model): State<FakeTitan>, Path(_model_id): Path<String>, body: String) -> Response {
    let request: Value = serde_json::from_str(&body).expect("a JSON request");
    let text = request["inputText"].as_str().unwrap_or_default().to_owned();
    let tries = {
        let mut requests = model.requests.lock().unwrap();
        requests.push(request);
        requests.iter().filter(|earlier| earlier["inputText"] == text.as_str()).count()
    };
    let json_body = |body: String| ([("content-type", "application/json")], body).into_response();
    let faults = &model.faults;
    if has_any(&text, &faults.throttle_first) && tries == 1 {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("x-amzn-errortype", "ThrottlingException"), ("content-type", "application/json")],
            r#"{"message":"Too many requests, please wait before trying again."}"#,
        )
            .into_response();
    }
    if has_any(&text, &faults.garbage) {
        return json_body(r#"{"embedding": "not a vector", "inputTextTokenCount": 3}"#.into());
    }
    if has_any(&text, &faults.slow) {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let embedding = vector(&text);
    json_body(
        json!({
            "embedding": embedding,
            "inputTextTokenCount": words(&text).count(),
            "embeddingsByType": {"float": embedding},
        })
        .to_string(),
    )
}

/// Serves the fake model on a free port; returns its endpoint.
async fn serve(model: FakeTitan) -> String {
    let app = axum::Router::new().route("/model/{model_id}/invoke", post(invoke)).with_state(model);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

/// What one batch run gave.
struct Run {
    proposals: Vec<LearningProposal>,
    stats: SessionStats,
    requests: Vec<Value>,
}

/// A batch run over a week of these gap messages (and the support's rewritten sends), with
/// `embedder` giving gap discovery its embeddings.
async fn run(deps: &Deps, gaps: &[String]) -> (Vec<LearningProposal>, SessionStats) {
    let gaps: Vec<&str> = gaps.iter().map(String::as_str).collect();
    seed_week_with(&deps.store, 0, &gaps, LONG_DRAFT, "Saturday at 10am is open.").await;
    let session = run_week(deps, 0).await;
    (proposals_of(&deps.store, &session).await, session.stats)
}

/// The same with the fake model at `faults`, at most `max_messages` sent.
async fn run_with(gaps: &[String], faults: Faults, max_messages: u32) -> Run {
    let model = FakeTitan { faults: Arc::new(faults), ..FakeTitan::default() };
    let endpoint = serve(model.clone()).await;
    let sdk = sdk_config().await.into_builder().endpoint_url(endpoint).build();
    let mut deps = deps().await;
    deps.embedder = Embedder::Bedrock(BedrockEmbedder::with_timeout(
        &sdk,
        MODEL_ID,
        max_messages,
        Duration::from_secs(3),
    ));
    let (proposals, stats) = run(&deps, gaps).await;
    let requests = model.requests.lock().unwrap().clone();
    Run { proposals, stats, requests }
}

fn new_intents(proposals: &[LearningProposal]) -> Vec<&Proposal> {
    proposals.iter().map(|stored| &stored.proposal).filter(|p| p.kind == ProposalKind::NewIntent).collect()
}

/// The requests (0 pets, 1 parking) of a new intent's gap messages.
fn requests_in(intent: &Proposal) -> BTreeSet<usize> {
    intent.evidence.iter().filter(|e| e.kind == EvidenceKind::GapMessage).map(|e| request_of(&e.id)).collect()
}

fn tries_of(requests: &[Value], word: &str) -> usize {
    requests.iter().filter(|r| has_any(r["inputText"].as_str().unwrap_or_default(), &[word])).count()
}

#[tokio::test]
async fn embeddings_separate_two_requests_whose_words_mislead() {
    let week = misleading_week();
    let with = run_with(&week, Faults::default(), 20_000).await;
    let intents = new_intents(&with.proposals);
    let names: Vec<_> = intents.iter().map(|p| p.intent_name.clone()).collect();
    assert_eq!(intents.len(), 2, "{names:?}");
    let mut seen = BTreeSet::new();
    for intent in &intents {
        let requests = requests_in(intent);
        assert_eq!(requests.len(), 1, "{:?} mixes the requests: {:?}", intent.intent_name, intent.evidence);
        seen.extend(requests);
        assert!(intent.impact >= 5, "{:?}: {}", intent.intent_name, intent.impact);
    }
    assert_eq!(seen, BTreeSet::from([0, 1]), "{names:?}");
    assert_eq!(with.requests.len(), week.len(), "one call per distinct message");
    assert_eq!(with.stats.gaps_embedded, week.len() as u64);
    assert_eq!((with.stats.gap_embeddings_failed, with.stats.gaps_over_embedding_budget), (0, 0));
    for request in &with.requests {
        let keys: BTreeSet<&str> = request.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["inputText", "dimensions", "normalize"]), "{request}");
        assert_eq!((request["dimensions"].as_u64(), request["normalize"].as_bool()), (Some(512), Some(true)));
    }

    // The same week without embeddings: the words alone do not tell the two requests apart.
    let lexical = deps().await;
    assert!(matches!(lexical.embedder, Embedder::None));
    let (proposals, stats) = run(&lexical, &week).await;
    let intents = new_intents(&proposals);
    assert!(
        intents.len() < 2 || intents.iter().any(|intent| requests_in(intent).len() > 1),
        "{:?}",
        intents.iter().map(|p| (&p.intent_name, requests_in(p))).collect::<Vec<_>>()
    );
    assert_eq!(stats.gaps_embedded, 0);
}

#[tokio::test]
async fn no_personal_data_leaves_and_identical_texts_are_sent_once() {
    let mut week: Vec<String> = WITH_PERSONAL_DATA.iter().map(|text| (*text).to_owned()).collect();
    // The same message twice, and one that differs only in whom to write to: masked, it is
    // the same text as the last.
    week.push(WITH_PERSONAL_DATA[1].to_owned());
    week.push("Maintenance request: sink leaking in the kitchen since Monday, john@example.org".into());
    let run = run_with(&week, Faults::default(), 20_000).await;
    assert_eq!(run.requests.len(), WITH_PERSONAL_DATA.len(), "identical (masked) texts are sent once");
    assert_eq!(run.stats.gaps_embedded, week.len() as u64);
    for request in &run.requests {
        let sent = request.to_string();
        for planted in PLANTED.iter().chain(&ALSO_PLANTED) {
            assert!(!sent.contains(planted), "{planted:?} left for the model: {sent}");
        }
    }
    let sent: Vec<&str> = run.requests.iter().map(|r| r["inputText"].as_str().unwrap()).collect();
    assert!(sent.iter().any(|text| text.contains("[email]")), "{sent:?}");
    assert!(sent.iter().any(|text| text.contains("[phone]")), "{sent:?}");
    assert!(sent.iter().any(|text| text.contains("[address]")), "{sent:?}");
    assert!(sent.iter().any(|text| text.contains("[name]")), "{sent:?}");
}

#[tokio::test]
async fn throttling_is_retried_and_a_garbage_or_slow_answer_leaves_its_message_lexical() {
    let week = misleading_week();
    let faults = Faults {
        throttle_first: vec!["hamster", "truck"],
        garbage: vec!["parrot"],
        slow: vec!["ferret", "driveway"],
    };
    let run = run_with(&week, faults, 20_000).await;
    // The SDK retried each throttled call, which then answered.
    assert_eq!(tries_of(&run.requests, "hamster"), 2);
    assert_eq!(tries_of(&run.requests, "truck"), 2);
    // A garbage answer is not retried; a slow one is given up at the call's time.
    assert_eq!(tries_of(&run.requests, "parrot"), 1);
    assert_eq!(run.stats.gaps_embedded, week.len() as u64 - 3);
    assert_eq!(run.stats.gap_embeddings_failed, 3);
    assert_eq!(run.stats.gaps_over_embedding_budget, 0);
    // The run completed (`run_week` checks it) and still proposes the requests.
    let intents = new_intents(&run.proposals);
    assert!(!intents.is_empty(), "{:?}", run.proposals.iter().map(|p| &p.proposal.title).collect::<Vec<_>>());
    assert_eq!(run.stats.new_intent_proposals, intents.len() as u64);
}

#[tokio::test]
async fn the_budget_caps_the_messages_sent() {
    let week = misleading_week();
    let run = run_with(&week, Faults::default(), 5).await;
    assert_eq!(run.requests.len(), 5);
    assert_eq!(run.stats.gaps_embedded, 5);
    assert_eq!(run.stats.gaps_over_embedding_budget, week.len() as u64 - 5);
    assert_eq!(run.stats.gap_messages, week.len() as u64);
}
