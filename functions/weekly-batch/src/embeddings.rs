//! Sentence embeddings for gap discovery (optional).
//!
//! With `EMBEDDINGS=bedrock` the batch asks an embedding model on Amazon Bedrock (Titan Text
//! Embeddings v2, `amazon.titan-embed-text-v2:0`, through InvokeModel) for a vector per gap
//! message of the period, and hands it to the learning engine: where two gap messages both
//! have one, their cosine ranks the neighbour candidates of the message graph; elsewhere the
//! lexical vectors do. Each text is masked with [`mask_for_model`] before it leaves and is never
//! logged. Identical texts are sent once per run; at most `EMBEDDINGS_MAX_MESSAGES` are sent.
//! A message whose call is over that budget, fails (after the SDK's retries on throttling),
//! times out or answers anything but a valid embedding simply has none: it stays lexical.
//! With `EMBEDDINGS=none` (the default) no Bedrock client is built and nothing changes.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use autolearn_learning::features::Embedding;
use autolearn_web::{ConfigError, config};
use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::Blob;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use autolearn_learning::text::mask_names;

/// `none` (default) or `bedrock`.
pub const EMBEDDINGS: &str = "EMBEDDINGS";
/// The Bedrock embedding model (required with `EMBEDDINGS=bedrock`; expected:
/// `amazon.titan-embed-text-v2:0`, whose request and answer this module speaks).
pub const EMBEDDINGS_MODEL_ID: &str = "EMBEDDINGS_MODEL_ID";
/// The most texts one batch run sends to the model (default 20,000); messages beyond it stay
/// lexical.
pub const EMBEDDINGS_MAX_MESSAGES: &str = "EMBEDDINGS_MAX_MESSAGES";

pub const DEFAULT_MAX_MESSAGES: u32 = 20_000;
/// A guard against a typo that would spend a fortune.
pub const MAX_MESSAGES_LIMIT: u32 = 1_000_000;

/// Dimensions asked of Titan Text Embeddings v2 (it offers 256, 512 and 1,024; 512 keeps
/// nearly all of 1,024's accuracy at half the memory).
pub const DIMENSIONS: usize = 512;
/// Characters of (masked) text sent per message. Titan v2 takes up to 8,192 tokens or 50,000
/// characters; chat messages are far shorter, and this stays under the token limit even at
/// two tokens a character.
pub const MAX_INPUT_CHARS: usize = 4_000;
/// Calls in flight at once.
pub const CONCURRENCY: usize = 8;
/// One call's time, retries (with backoff, on throttling) included.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Time all of a run's calls may take: a call not started by then is counted over budget, so
/// that a slow or throttled model cannot eat the batch's Lambda time.
const TIME_BUDGET: Duration = Duration::from_secs(5 * 60);

/// Which embeddings gap discovery gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EmbeddingsKind {
    /// None: the lexical vectors alone.
    #[default]
    None,
    /// From a model on Amazon Bedrock.
    Bedrock,
}

/// The embeddings' configuration, read once at cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddingsSettings {
    pub kind: EmbeddingsKind,
    pub model_id: Option<String>,
    pub max_messages: u32,
}

impl Default for EmbeddingsSettings {
    fn default() -> Self {
        Self { kind: EmbeddingsKind::None, model_id: None, max_messages: DEFAULT_MAX_MESSAGES }
    }
}

/// `EMBEDDINGS`: `none` or `bedrock`.
pub fn parse_embeddings(raw: &str) -> Result<EmbeddingsKind, ConfigError> {
    match raw.trim() {
        "none" => Ok(EmbeddingsKind::None),
        "bedrock" => Ok(EmbeddingsKind::Bedrock),
        other => {
            Err(ConfigError::Invalid { name: EMBEDDINGS, why: format!("{other:?} is not none or bedrock") })
        }
    }
}

/// `EMBEDDINGS_MODEL_ID`: a model id (letters, digits, `.`, `:`, `-`, `_`), as `BEDROCK_MODEL_ID`.
pub fn parse_model_id(raw: &str) -> Result<String, ConfigError> {
    config::parse_bedrock_model_id(EMBEDDINGS_MODEL_ID, raw)
}

/// `EMBEDDINGS_MAX_MESSAGES`: a whole number from 1 to 1,000,000.
pub fn parse_max_messages(raw: &str) -> Result<u32, ConfigError> {
    config::parse_whole_in(EMBEDDINGS_MAX_MESSAGES, raw, 1..=MAX_MESSAGES_LIMIT)
}

impl EmbeddingsSettings {
    /// From `EMBEDDINGS`, `EMBEDDINGS_MODEL_ID` and `EMBEDDINGS_MAX_MESSAGES`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The same from any source of variables (a blank value is an unset one).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let value = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let kind = value(EMBEDDINGS).map_or(Ok(EmbeddingsKind::None), |raw| parse_embeddings(&raw))?;
        let model_id = match kind {
            EmbeddingsKind::None => None,
            EmbeddingsKind::Bedrock => Some(parse_model_id(
                &value(EMBEDDINGS_MODEL_ID).ok_or(ConfigError::Missing(EMBEDDINGS_MODEL_ID))?,
            )?),
        };
        let max_messages = value(EMBEDDINGS_MAX_MESSAGES)
            .map_or(Ok(DEFAULT_MAX_MESSAGES), |raw| parse_max_messages(raw.trim()))?;
        Ok(Self { kind, model_id, max_messages })
    }
}

/// Who gives the gap messages their embeddings.
#[derive(Debug, Clone, Default)]
pub enum Embedder {
    /// Nobody: gap discovery is lexical.
    #[default]
    None,
    Bedrock(BedrockEmbedder),
}

/// What a run's messages got: an embedding per message (in their order) or none, and counts.
#[derive(Debug, Clone, Default)]
pub struct Embedded {
    pub embeddings: Vec<Option<Embedding>>,
    pub counts: EmbeddingCounts,
}

/// Messages (not calls: identical texts share one) by what became of their embedding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmbeddingCounts {
    /// Got one.
    pub embedded: u64,
    /// Their call failed, timed out or answered no valid embedding (or there was no text).
    pub failed: u64,
    /// Beyond the run's budget of messages (or of time): not sent.
    pub over_budget: u64,
}

impl Embedder {
    /// The embedder the settings name, calling Bedrock through `sdk` when they name it (no
    /// client is built otherwise).
    pub fn new(settings: &EmbeddingsSettings, sdk: &aws_config::SdkConfig) -> Self {
        match (settings.kind, &settings.model_id) {
            (EmbeddingsKind::Bedrock, Some(model_id)) => {
                Embedder::Bedrock(BedrockEmbedder::new(sdk, model_id, settings.max_messages))
            }
            _ => Embedder::None,
        }
    }

    /// An embedding (or none) for each of `texts`, in their order.
    pub async fn embed(&self, texts: &[&str]) -> Embedded {
        match self {
            Embedder::None => Embedded { embeddings: vec![None; texts.len()], counts: Default::default() },
            Embedder::Bedrock(model) => model.embed(texts).await,
        }
    }
}

/// Titan Text Embeddings v2's request body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TitanRequest<'a> {
    input_text: &'a str,
    dimensions: usize,
    normalize: bool,
}

/// Titan Text Embeddings v2's answer. Its documented fields only (`embeddingsByType` repeats
/// the vector by type and is not read); anything else is refused.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TitanResponse {
    embedding: Vec<f32>,
    /// What the call is billed for.
    input_text_token_count: u64,
    #[serde(default)]
    #[allow(dead_code)]
    embeddings_by_type: Option<serde::de::IgnoredAny>,
}

/// The Bedrock client and what a run may send.
#[derive(Debug, Clone)]
pub struct BedrockEmbedder {
    client: Client,
    model_id: String,
    max_messages: u32,
    time_budget: Duration,
}

/// The outcome of one text.
enum Outcome {
    /// The embedding and the input tokens it was billed.
    Embedded(Embedding, u64),
    /// The call failed, timed out or answered no valid embedding: why, by kind.
    Failed(String),
    /// Nothing to send (the message was blank).
    NoText,
    OverBudget,
}

impl BedrockEmbedder {
    pub fn new(sdk: &aws_config::SdkConfig, model_id: &str, max_messages: u32) -> Self {
        Self::with_timeout(sdk, model_id, max_messages, CALL_TIMEOUT)
    }

    /// The same with another time limit per call (tests use a short one).
    pub fn with_timeout(
        sdk: &aws_config::SdkConfig,
        model_id: &str,
        max_messages: u32,
        timeout: Duration,
    ) -> Self {
        Self {
            client: autolearn_web::aws::bedrock_runtime(sdk, timeout),
            model_id: model_id.to_owned(),
            max_messages,
            time_budget: TIME_BUDGET,
        }
    }

    /// An embedding (or none) for each of `texts`, in their order: each distinct masked text
    /// is sent once, the first `max_messages` of them, [`CONCURRENCY`] at a time. Outcomes are
    /// logged as counts by kind, never with the text.
    pub async fn embed(&self, texts: &[&str]) -> Embedded {
        let inputs: Vec<String> = texts.iter().map(|text| model_input(text)).collect();
        // Distinct inputs in first-seen order, and which one each message is.
        let mut distinct: Vec<&str> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        let which: Vec<usize> = inputs
            .iter()
            .map(|input| {
                *index.entry(input.as_str()).or_insert_with(|| {
                    distinct.push(input.as_str());
                    distinct.len() - 1
                })
            })
            .collect();
        let budget = self.max_messages as usize;
        let started = Instant::now();
        let outcomes: Vec<Outcome> = futures::stream::iter(distinct.iter().enumerate())
            .map(|(i, input)| async move {
                if input.is_empty() {
                    Outcome::NoText
                } else if i >= budget || started.elapsed() >= self.time_budget {
                    Outcome::OverBudget
                } else {
                    match self.call(input).await {
                        Ok((embedding, tokens)) => Outcome::Embedded(embedding, tokens),
                        Err(why) => Outcome::Failed(why),
                    }
                }
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;

        let mut counts = EmbeddingCounts::default();
        let mut failures: BTreeMap<&str, u64> = BTreeMap::new();
        let embeddings = which
            .iter()
            .map(|&i| match &outcomes[i] {
                Outcome::Embedded(embedding, _) => {
                    counts.embedded += 1;
                    Some(embedding.clone())
                }
                Outcome::Failed(why) => {
                    counts.failed += 1;
                    *failures.entry(why.as_str()).or_default() += 1;
                    None
                }
                Outcome::NoText => {
                    counts.failed += 1;
                    *failures.entry("no text").or_default() += 1;
                    None
                }
                Outcome::OverBudget => {
                    counts.over_budget += 1;
                    None
                }
            })
            .collect();
        let calls = outcomes
            .iter()
            .filter(|outcome| matches!(outcome, Outcome::Embedded(..) | Outcome::Failed(_)))
            .count();
        let tokens: u64 = outcomes
            .iter()
            .map(|outcome| match outcome {
                Outcome::Embedded(_, tokens) => *tokens,
                _ => 0,
            })
            .sum();
        tracing::info!(
            model = %self.model_id,
            calls,
            tokens,
            embedded = counts.embedded,
            failed = counts.failed,
            over_budget = counts.over_budget,
            "gap messages embedded"
        );
        for (why, messages) in failures {
            tracing::warn!(why, messages, "gap messages without an embedding stay lexical");
        }
        Embedded { embeddings, counts }
    }

    /// One InvokeModel call: the text's embedding, or why there is none (a kind, never the
    /// text or the answer).
    async fn call(&self, input: &str) -> Result<(Embedding, u64), String> {
        let body =
            serde_json::to_vec(&TitanRequest { input_text: input, dimensions: DIMENSIONS, normalize: true })
                .map_err(|_| "the request did not serialize".to_owned())?;
        let output = self
            .client
            .invoke_model()
            .model_id(&self.model_id)
            .content_type("application/json")
            .accept("application/json")
            .body(Blob::new(body))
            .send()
            .await
            .map_err(|error| match error {
                SdkError::TimeoutError(_) => "the call timed out".to_owned(),
                error => {
                    aws_sdk_bedrockruntime::Error::from(error).code().unwrap_or("the call failed").to_owned()
                }
            })?;
        parse_answer(output.body().as_ref())
    }
}

/// What is sent for a message, from its quoted form (the sender's own words as discovery reads
/// them, no thread an email reply quotes, no mail client's signature, personal data masked where
/// the message came in): names masked too, as for the analyst, trimmed, at most
/// [`MAX_INPUT_CHARS`] characters. Replies that quote the same answer would otherwise be near
/// in meaning whatever each asks. A message without a quoted form (recorded before it was
/// stored) has no text to send.
fn model_input(quoted: &str) -> String {
    let masked = mask_names(quoted);
    let trimmed = masked.trim();
    match trimmed.char_indices().nth(MAX_INPUT_CHARS) {
        Some((end, _)) => trimmed[..end].to_owned(),
        None => trimmed.to_owned(),
    }
}

/// Titan's answer, strictly: JSON of its documented shape, [`DIMENSIONS`] finite values with a
/// direction; and the input tokens it reports.
fn parse_answer(body: &[u8]) -> Result<(Embedding, u64), String> {
    let answer: TitanResponse =
        serde_json::from_slice(body).map_err(|_| "the answer is not Titan's JSON".to_owned())?;
    if answer.embedding.len() != DIMENSIONS {
        return Err(format!("the embedding does not have {DIMENSIONS} dimensions"));
    }
    let tokens = answer.input_text_token_count;
    Embedding::new(answer.embedding).map(|embedding| (embedding, tokens)).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Variables as set: (name, value).
    type Vars<'a> = &'a [(&'a str, &'a str)];

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        move |name| vars.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone())
    }

    #[test]
    fn the_embeddings_variables_parse_or_name_the_problem() {
        assert_eq!(EmbeddingsSettings::from_lookup(lookup(&[])).unwrap(), EmbeddingsSettings::default());
        let settings = EmbeddingsSettings::from_lookup(lookup(&[
            (EMBEDDINGS, "bedrock"),
            (EMBEDDINGS_MODEL_ID, " amazon.titan-embed-text-v2:0 "),
            (EMBEDDINGS_MAX_MESSAGES, "500"),
        ]))
        .unwrap();
        assert_eq!(settings.kind, EmbeddingsKind::Bedrock);
        assert_eq!(settings.model_id.as_deref(), Some("amazon.titan-embed-text-v2:0"));
        assert_eq!(settings.max_messages, 500);
        // A model id is read only with EMBEDDINGS=bedrock, and is then required.
        let none = EmbeddingsSettings::from_lookup(lookup(&[(EMBEDDINGS_MODEL_ID, "bad id;")])).unwrap();
        assert_eq!(none.model_id, None);
        let missing = EmbeddingsSettings::from_lookup(lookup(&[(EMBEDDINGS, "bedrock")])).unwrap_err();
        assert_eq!(missing, ConfigError::Missing(EMBEDDINGS_MODEL_ID));
        assert!(missing.to_string().contains(EMBEDDINGS_MODEL_ID), "{missing}");

        let cases: [(Vars, &str, &str); 7] = [
            (&[(EMBEDDINGS, "titan")], EMBEDDINGS, "titan"),
            (&[(EMBEDDINGS, "Bedrock")], EMBEDDINGS, "Bedrock"),
            (
                &[(EMBEDDINGS, "bedrock"), (EMBEDDINGS_MODEL_ID, "titan v2; drop")],
                EMBEDDINGS_MODEL_ID,
                "titan v2",
            ),
            (&[(EMBEDDINGS_MAX_MESSAGES, "0")], EMBEDDINGS_MAX_MESSAGES, "\"0\""),
            (&[(EMBEDDINGS_MAX_MESSAGES, "1000001")], EMBEDDINGS_MAX_MESSAGES, "1000001"),
            (&[(EMBEDDINGS_MAX_MESSAGES, "-5")], EMBEDDINGS_MAX_MESSAGES, "-5"),
            (&[(EMBEDDINGS_MAX_MESSAGES, "20k")], EMBEDDINGS_MAX_MESSAGES, "20k"),
        ];
        for (vars, name, quoted) in cases {
            let error = EmbeddingsSettings::from_lookup(lookup(vars)).unwrap_err().to_string();
            assert!(error.contains(name) && error.contains(quoted), "{vars:?}: {error}");
        }
        assert_eq!(parse_max_messages("1000000").unwrap(), 1_000_000);
        assert_eq!(parse_max_messages("1").unwrap(), 1);
        assert_eq!(parse_embeddings(" none ").unwrap(), EmbeddingsKind::None);
    }

    #[test]
    fn what_is_sent_is_the_quoted_form_with_names_masked_and_bounded() {
        use autolearn_learning::text::masked_own_words;
        let quoted = masked_own_words("  Hi Maria, the sink leaks. maria.lopez@example.com, 555-123-4567  ");
        assert_eq!(model_input(&quoted), "Hi [name], the sink leaks. [email], [phone]");
        let long = "é".repeat(MAX_INPUT_CHARS + 10);
        assert_eq!(model_input(&long).chars().count(), MAX_INPUT_CHARS);
        assert_eq!(model_input("   "), "");
        // What the customer wrote, not the answer the reply quotes nor the phone's signature:
        // the quoted form stored at ingestion holds only that.
        let reply = "Is parking included?\nSent from my iPhone\n\nOn Mon, Nov 30, 2026 at 9:12 AM Pine Hills <leasing@example.com> wrote:\n> Thanks for reaching out!";
        assert_eq!(model_input(&masked_own_words(reply)), "Is parking included?");
    }

    #[test]
    fn only_an_answer_of_titans_shape_is_an_embedding() {
        let vector = |n: usize, value: f32| serde_json::json!(vec![value; n]);
        let answer = |embedding: serde_json::Value| {
            serde_json::to_vec(&serde_json::json!({"embedding": embedding, "inputTextTokenCount": 7}))
                .unwrap()
        };
        let (embedding, tokens) = parse_answer(&answer(vector(DIMENSIONS, 0.5))).unwrap();
        assert_eq!((embedding.dimensions(), tokens), (DIMENSIONS, 7));
        let with_types = serde_json::json!({
            "embedding": vector(DIMENSIONS, 0.1), "inputTextTokenCount": 7,
            "embeddingsByType": {"float": vector(DIMENSIONS, 0.1)}
        });
        assert!(parse_answer(&serde_json::to_vec(&with_types).unwrap()).is_ok());
        for bad in [
            answer(vector(DIMENSIONS - 1, 0.5)),
            answer(vector(DIMENSIONS, 0.0)),
            answer(serde_json::json!(vec!["a"; DIMENSIONS])),
            b"{\"embedding\": [0.5], \"inputTextTokenCount\": 1, \"extra\": 1}".to_vec(),
            serde_json::to_vec(&serde_json::json!({"embedding": vector(DIMENSIONS, 0.5)})).unwrap(),
            b"<html>oops</html>".to_vec(),
            Vec::new(),
        ] {
            assert!(parse_answer(&bad).is_err(), "{}", String::from_utf8_lossy(&bad));
        }
        // A value beyond f32 is no finite number.
        let huge = format!(
            "{{\"embedding\": [1e39{}], \"inputTextTokenCount\": 1}}",
            ", 0.1".repeat(DIMENSIONS - 1)
        );
        assert!(parse_answer(huge.as_bytes()).is_err());
    }
}
