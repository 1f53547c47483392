//! The review of proposals: list them by status, apply or reject one.
//!
//! A decision is one transaction: the proposal moves from pending (a conditional write, so a
//! concurrent apply and reject cannot both win), its effect is written (a new experimental
//! intent or playbook entry, or examples appended to an intent), and the decision day's counter
//! of applied or rejected proposals grows (read by the dashboard as learning velocity).
//! Applied and rejected are final; a rejected proposal keeps its fingerprint, so the batch
//! never proposes it again.
//!
//! The rules live in [`rules`]; this module holds the HTTP handlers and maps [`ReviewError`] to
//! the API's errors, once.

use autolearn_model::{LearningProposal, ProposalStatus, Store};
use autolearn_web::ApiError;
use autolearn_web::extract::{Bytes, Path, Query};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use autolearn_learning::proposals::rank_by;

use crate::{AdminIdentity, AppState};

pub mod rules;

pub use rules::{Decided, Effect, MAX_NOTE_CHARS, ReviewError, Verdict};

impl From<ReviewError> for ApiError {
    fn from(error: ReviewError) -> Self {
        match error {
            ReviewError::InvalidId => ApiError::invalid("id", error.to_string()),
            ReviewError::NotFound(id) => ApiError::not_found(format!("proposal {id}")),
            ReviewError::AlreadyDecided { .. }
            | ReviewError::DecidedConcurrently(_)
            | ReviewError::NotApplicable(_)
            | ReviewError::EffectRefused(_) => ApiError::Conflict(error.to_string()),
            ReviewError::Store(store) => store.into(),
        }
    }
}

/// Applies or rejects a pending proposal as `admin`.
pub async fn decide(
    store: &Store,
    proposal_id: &str,
    verdict: Verdict,
    note: Option<String>,
    admin: &AdminIdentity,
    now: DateTime<Utc>,
) -> Result<Decided, ApiError> {
    Ok(rules::decide(store, proposal_id, verdict, note, &admin.subject, now).await?)
}

/// The body of a reject: an optional note.
#[derive(Debug, Default, Deserialize, garde::Validate)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RejectBody {
    #[garde(length(chars, max = MAX_NOTE_CHARS))]
    pub note: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    pub order: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<String>,
}

/// The order of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ListOrder {
    /// As the batch ranks them: impact, confidence, support (highest first). Reads every
    /// proposal of the status, which stays small for pending ones (they expire).
    Impact,
    /// Oldest first, straight from the index.
    Created,
}

/// Cursors of impact-ordered pages: the offset of the next page.
const RANK_CURSOR: &str = "rank-";

pub fn parse_order(raw: Option<&str>, status: ProposalStatus) -> Result<ListOrder, ApiError> {
    match raw.map(str::trim) {
        None if status == ProposalStatus::Pending => Ok(ListOrder::Impact),
        None => Ok(ListOrder::Created),
        Some("impact") => Ok(ListOrder::Impact),
        Some("created") => Ok(ListOrder::Created),
        Some(_) => Err(ApiError::invalid("order", "order must be impact or created")),
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProposalList {
    pub status: ProposalStatus,
    pub order: ListOrder,
    pub proposals: Vec<LearningProposal>,
    /// Cursor of the next page; null at the end.
    pub next: Option<String>,
}

pub fn parse_status(raw: Option<&str>) -> Result<ProposalStatus, ApiError> {
    ProposalStatus::parse(raw.map(str::trim).unwrap_or("pending"))
        .ok_or_else(|| ApiError::invalid("status", "status must be pending, applied, rejected or expired"))
}

/// `GET /v1/proposals?status=pending&order=impact&limit=50&cursor=…`: one page, ranked by
/// impact (the default for pending proposals) or oldest first (`order=created`, the default
/// for the other statuses).
pub async fn list_proposals(
    State(state): State<AppState>,
    _admin: AdminIdentity,
    Query(query): Query<ListQuery>,
) -> Result<Json<ProposalList>, ApiError> {
    let status = parse_status(query.status.as_deref())?;
    let limit = match query.limit.as_deref() {
        None => 50,
        Some(raw) => match raw.trim().parse::<i32>() {
            Ok(limit) if (1..=100).contains(&limit) => limit,
            _ => return Err(ApiError::invalid("limit", "limit must be an integer from 1 to 100")),
        },
    };
    let order = parse_order(query.order.as_deref(), status)?;
    if order == ListOrder::Created {
        let page = state.store.proposals_with_status(status, query.cursor.as_deref(), limit).await?;
        return Ok(Json(ProposalList { status, order, proposals: page.items, next: page.next }));
    }
    let offset = match query.cursor.as_deref() {
        None => 0,
        Some(cursor) => cursor
            .strip_prefix(RANK_CURSOR)
            .and_then(|offset| offset.parse::<usize>().ok())
            .ok_or_else(|| ApiError::invalid("cursor", "invalid pagination cursor"))?,
    };
    let mut all = state.store.all_proposals_with_status(status).await?;
    rank_by(&mut all, |stored| &stored.proposal);
    let end = (offset + limit as usize).min(all.len());
    let next = (end < all.len()).then(|| format!("{RANK_CURSOR}{end}"));
    let proposals = all.drain(offset.min(end)..end).collect();
    Ok(Json(ProposalList { status, order, proposals, next }))
}

/// `POST /v1/proposals/{id}/apply`.
pub async fn apply_proposal(
    State(state): State<AppState>,
    admin: AdminIdentity,
    Path(id): Path<String>,
) -> Result<Json<Decided>, ApiError> {
    Ok(Json(decide(&state.store, &id, Verdict::Apply, None, &admin, Utc::now()).await?))
}

/// `POST /v1/proposals/{id}/reject` with an optional `{"note": "…"}`.
pub async fn reject_proposal(
    State(state): State<AppState>,
    admin: AdminIdentity,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Decided>, ApiError> {
    let body: RejectBody = if body.iter().all(u8::is_ascii_whitespace) {
        RejectBody::default()
    } else {
        autolearn_web::json::parse(&body)?
    };
    Ok(Json(decide(&state.store, &id, Verdict::Reject, body.note, &admin, Utc::now()).await?))
}
