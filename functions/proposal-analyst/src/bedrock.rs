//! The model analyst: Amazon Bedrock's Converse API with one tool per question, so the answer
//! comes back as JSON in the tool's input, parsed strictly before use.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseOutput, InferenceConfiguration, Message, SpecificToolChoice,
    SystemContentBlock, Tool, ToolChoice, ToolConfiguration, ToolInputSchema, ToolSpecification,
};
use aws_smithy_types::{Document, Number};
use serde_json::Value;

use autolearn_model::{AnalystKind, DraftFeedback, LearningProposal, WrittenBy};

use crate::wording::{self, Prompt};

/// One call's time, retries (with backoff, on throttling) included.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);
/// Tokens the model may answer with: the tools' answers are short.
const MAX_ANSWER_TOKENS: i32 = 600;

/// The Bedrock client and what a run may spend.
#[derive(Debug, Clone)]
pub struct BedrockAnalyst {
    client: Client,
    model_id: String,
    max_calls: u32,
    max_tokens: u64,
}

/// What one run may still spend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    calls_left: u32,
    tokens_left: u64,
}

impl BedrockAnalyst {
    pub fn new(sdk: &aws_config::SdkConfig, model_id: &str, max_calls: u32, max_tokens: u64) -> Self {
        Self::with_timeout(sdk, model_id, max_calls, max_tokens, CALL_TIMEOUT)
    }

    /// The same with another time limit per call (tests use a short one).
    pub fn with_timeout(
        sdk: &aws_config::SdkConfig,
        model_id: &str,
        max_calls: u32,
        max_tokens: u64,
        timeout: Duration,
    ) -> Self {
        Self {
            client: autolearn_web::aws::bedrock_runtime(sdk, timeout),
            model_id: model_id.to_owned(),
            max_calls,
            max_tokens,
        }
    }

    /// A fresh budget for one run.
    pub fn budget(&self) -> Budget {
        Budget { calls_left: self.max_calls, tokens_left: self.max_tokens }
    }

    /// Words one proposal when the budget allows and the model answers validly; `false` leaves
    /// the rules' wording. Failures are logged by kind only: never the prompt or the answer.
    pub async fn word(&self, stored: &mut LearningProposal, budget: &mut Budget) -> bool {
        let Some((prompt, schema, question)) = wording::question(stored) else { return false };
        let Some(answer) = self.answer(prompt, schema, question, budget).await else { return false };
        match wording::apply(stored, prompt, answer) {
            Ok(()) => {
                stored.written_by = Some(WrittenBy {
                    analyst: AnalystKind::Bedrock,
                    model_id: Some(self.model_id.clone()),
                    prompt_version: Some(prompt.version.to_owned()),
                });
                true
            }
            Err(why) => {
                tracing::warn!(proposal = %stored.proposal_id, why, "the model's answer was refused; the rules' wording stays");
                false
            }
        }
    }

    /// The model's one-line summary of an edit, when the budget allows and the answer is valid.
    pub async fn summarize(&self, feedback: &DraftFeedback, budget: &mut Budget) -> Option<String> {
        let (prompt, schema, question) = wording::summary_question(feedback);
        let answer = self.answer(prompt, schema, question, budget).await?;
        wording::summary(answer)
            .inspect_err(|why| {
                tracing::warn!(execution = %feedback.execution_id, why, "the model's summary was refused");
            })
            .ok()
    }

    /// One call within the budget: the tool's input, or `None` (over budget, or the call failed).
    async fn answer(
        &self,
        prompt: Prompt,
        schema: Value,
        question: String,
        budget: &mut Budget,
    ) -> Option<Value> {
        if budget.calls_left == 0 || budget.tokens_left == 0 {
            return None;
        }
        budget.calls_left -= 1;
        match self.ask(prompt, schema, question).await {
            Ok((answer, tokens)) => {
                budget.tokens_left = budget.tokens_left.saturating_sub(tokens);
                Some(answer)
            }
            Err(why) => {
                tracing::warn!(
                    prompt = prompt.version,
                    why,
                    "the model did not answer; the rules' wording stays"
                );
                None
            }
        }
    }

    /// One Converse call that must answer with `prompt.tool`: its input and the tokens spent.
    async fn ask(&self, prompt: Prompt, schema: Value, question: String) -> Result<(Value, u64), String> {
        let tool = ToolSpecification::builder()
            .name(prompt.tool)
            .description("Answer with the wording.")
            .input_schema(ToolInputSchema::Json(to_document(&schema)))
            .build()
            .map_err(|e| e.to_string())?;
        let output = self
            .client
            .converse()
            .model_id(&self.model_id)
            .system(SystemContentBlock::Text(prompt.system.to_owned()))
            .messages(
                Message::builder()
                    .role(ConversationRole::User)
                    .content(ContentBlock::Text(question))
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .tool_config(
                ToolConfiguration::builder()
                    .tools(Tool::ToolSpec(tool))
                    .tool_choice(ToolChoice::Tool(
                        SpecificToolChoice::builder().name(prompt.tool).build().map_err(|e| e.to_string())?,
                    ))
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .inference_config(
                InferenceConfiguration::builder().max_tokens(MAX_ANSWER_TOKENS).temperature(0.0).build(),
            )
            .send()
            .await
            .map_err(|error| {
                let error = aws_sdk_bedrockruntime::Error::from(error);
                error.code().unwrap_or("the call failed").to_owned()
            })?;
        let tokens = output.usage().map_or(0, |usage| u64::try_from(usage.total_tokens()).unwrap_or(0));
        let Some(ConverseOutput::Message(message)) = output.output() else {
            return Err("no message".into());
        };
        let input = message
            .content()
            .iter()
            .find_map(|block| match block {
                ContentBlock::ToolUse(tool_use) if tool_use.name() == prompt.tool => {
                    Some(to_json(tool_use.input()))
                }
                _ => None,
            })
            .ok_or("no answer through the tool")?;
        Ok((input, tokens))
    }
}

fn to_document(value: &Value) -> Document {
    match value {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Document::Number(Number::PosInt(u)),
            (_, Some(i), _) => Document::Number(Number::NegInt(i)),
            (_, _, f) => Document::Number(Number::Float(f.unwrap_or_default())),
        },
        Value::String(s) => Document::String(s.clone()),
        Value::Array(items) => Document::Array(items.iter().map(to_document).collect()),
        Value::Object(map) => {
            Document::Object(map.iter().map(|(k, v)| (k.clone(), to_document(v))).collect::<HashMap<_, _>>())
        }
    }
}

fn to_json(document: &Document) -> Value {
    match document {
        Document::Null => Value::Null,
        Document::Bool(b) => Value::Bool(*b),
        Document::Number(Number::PosInt(u)) => Value::from(*u),
        Document::Number(Number::NegInt(i)) => Value::from(*i),
        Document::Number(Number::Float(f)) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        Document::String(s) => Value::String(s.clone()),
        Document::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Document::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}
