//! One feedback record as admins see it (`GET /v1/feedback/{id}`): the draft, the sent reply and
//! the analysis of the edit, every customer-facing text masked as everywhere it is shown.

use autolearn_learning::text::mask_personal_data;
use autolearn_model::DraftFeedback;
use autolearn_web::ApiError;
use autolearn_web::admin::AdminIdentity;
use autolearn_web::extract::Path;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::AppState;

/// A feedback record as shown to admins: customer-facing texts masked.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackView {
    pub feedback_id: String,
    pub execution_id: String,
    pub conversation_id: String,
    pub intent_name: Option<String>,
    pub original_draft: String,
    pub sent_version: String,
    pub distance: f64,
    pub summary: String,
    pub reasons: serde_json::Value,
    pub removed_phrases: Vec<String>,
    pub added_phrases: Vec<String>,
    pub analyzed: bool,
    /// The session that analysed it, once one has.
    pub learning_session_id: Option<String>,
    pub sent_at: DateTime<Utc>,
}

impl From<DraftFeedback> for FeedbackView {
    fn from(feedback: DraftFeedback) -> Self {
        let masked = |texts: &[String]| texts.iter().map(|text| mask_personal_data(text)).collect();
        Self {
            reasons: masked_json(serde_json::to_value(&feedback.analysis.reasons).unwrap_or_default()),
            removed_phrases: masked(&feedback.analysis.removed_phrases),
            added_phrases: masked(&feedback.analysis.added_phrases),
            summary: mask_personal_data(&feedback.analysis.summary),
            original_draft: mask_personal_data(&feedback.original_draft),
            sent_version: mask_personal_data(&feedback.sent_version),
            distance: feedback.analysis.distance,
            feedback_id: feedback.feedback_id,
            execution_id: feedback.execution_id,
            conversation_id: feedback.conversation_id,
            intent_name: feedback.intent_name,
            analyzed: feedback.analyzed,
            learning_session_id: feedback.learning_session_id.map(|id| id.to_string()),
            sent_at: feedback.sent_at,
        }
    }
}

/// Every text of a JSON value masked, but the `code` of a reason.
fn masked_json(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(text) => Value::String(mask_personal_data(&text)),
        Value::Array(items) => Value::Array(items.into_iter().map(masked_json).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(key, value)| {
                    let value = if key == "code" { value } else { masked_json(value) };
                    (key, value)
                })
                .collect(),
        ),
        other => other,
    }
}

/// `GET /v1/feedback/{id}`: the feedback of execution `id` (the executionId the send was
/// reported with; the webhook's answer names it).
pub async fn get_feedback(
    State(state): State<AppState>,
    _admin: AdminIdentity,
    Path(id): Path<String>,
) -> Result<Json<FeedbackView>, ApiError> {
    let feedback = state
        .store
        .feedback(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("feedback of execution {id}")))?;
    Ok(Json(feedback.into()))
}
