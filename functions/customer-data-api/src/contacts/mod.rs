//! A contact's data on request: the export (`GET /v1/contacts/{contactId}/data`), the erasure
//! (`DELETE /v1/contacts/{contactId}`, 202 with the erasure's id) and its progress
//! (`GET /v1/erasures/{id}`). The rules live in [`rules`]; this module holds the HTTP handlers
//! and maps [`ContactError`] to the API's errors, once. Neither the contact's text nor their id
//! is logged (an erasure is named by its id).

use autolearn_model::ErasureRecord;
use autolearn_web::ApiError;
use autolearn_web::admin::AdminIdentity;
use autolearn_web::extract::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::Serialize;

use crate::AppState;

pub mod rules;

pub use rules::{ContactData, ContactError, Erased};

impl From<ContactError> for ApiError {
    fn from(error: ContactError) -> Self {
        match error {
            ContactError::InvalidContactId(_) => ApiError::invalid("contactId", error.to_string()),
            ContactError::InvalidErasureId => ApiError::invalid("id", error.to_string()),
            ContactError::ErasureNotFound(id) => ApiError::not_found(format!("erasure {id}")),
            ContactError::Store(store) => store.into(),
        }
    }
}

/// An erasure as the API shows it: its record and where to follow it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErasureView {
    #[serde(flatten)]
    pub record: ErasureRecord,
    /// Where its progress is read (`GET`).
    pub status_url: String,
}

impl From<ErasureRecord> for ErasureView {
    fn from(record: ErasureRecord) -> Self {
        let status_url = format!("/v1/erasures/{}", record.erasure_id);
        Self { record, status_url }
    }
}

/// `GET /v1/contacts/{contactId}/data`: everything stored about the contact, as JSON.
pub async fn export_contact(
    State(state): State<AppState>,
    _admin: AdminIdentity,
    Path(contact_id): Path<String>,
) -> Result<Json<ContactData>, ApiError> {
    Ok(Json(rules::export(&state.store, &contact_id, Utc::now()).await?))
}

/// `DELETE /v1/contacts/{contactId}`: erases the contact's data (or continues an erasure left
/// in progress). 202 with the erasure, `completed` or `inProgress` (repeat the request to
/// continue); 200 when it was already complete and nothing of the contact was found.
pub async fn erase_contact(
    State(state): State<AppState>,
    admin: AdminIdentity,
    Path(contact_id): Path<String>,
) -> Result<(StatusCode, Json<ErasureView>), ApiError> {
    let Erased { record, no_op } =
        rules::erase(&state.store, &state.bus, &contact_id, &admin.subject, Utc::now()).await?;
    let status = if no_op { StatusCode::OK } else { StatusCode::ACCEPTED };
    Ok((status, Json(record.into())))
}

/// `GET /v1/erasures/{id}`: an erasure's progress.
pub async fn get_erasure(
    State(state): State<AppState>,
    _admin: AdminIdentity,
    Path(id): Path<String>,
) -> Result<Json<ErasureView>, ApiError> {
    Ok(Json(rules::erasure(&state.store, &id).await?.into()))
}
