//! What the batch did: the learning sessions (`GET /v1/learning/sessions`, paged, and the page's
//! session history). One feedback record, with its customer text, is the customer-data API's
//! (`GET /v1/feedback/{id}`).

use autolearn_model::{LearningSession, Store};
use autolearn_web::ApiError;
use autolearn_web::extract::Query;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use crate::{AdminIdentity, AppState};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsQuery {
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// One page of sessions, oldest period first.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionList {
    pub sessions: Vec<LearningSession>,
    /// Cursor of the next page; null at the end.
    pub next: Option<String>,
}

fn parse_limit(raw: Option<&str>) -> Result<i32, ApiError> {
    match raw {
        None => Ok(20),
        Some(raw) => match raw.trim().parse::<i32>() {
            Ok(limit) if (1..=100).contains(&limit) => Ok(limit),
            _ => Err(ApiError::invalid("limit", "limit must be an integer from 1 to 100")),
        },
    }
}

/// `GET /v1/learning/sessions?limit=20&cursor=…`: the batch runs, in period order.
pub async fn list_sessions(
    State(state): State<AppState>,
    _admin: AdminIdentity,
    Query(query): Query<SessionsQuery>,
) -> Result<Json<SessionList>, ApiError> {
    let limit = parse_limit(query.limit.as_deref())?;
    let page = state.store.sessions(query.cursor.as_deref(), limit).await?;
    Ok(Json(SessionList { sessions: page.items, next: page.next }))
}

/// The sessions of the page's history: the latest `count`, newest first (one session per week,
/// so every page of the period-ordered index is read; a few dozen items a year).
pub async fn latest_sessions(store: &Store, count: usize) -> Result<Vec<LearningSession>, ApiError> {
    let sessions =
        autolearn_model::store::all_pages(
            |cursor| async move { store.sessions(cursor.as_deref(), 100).await },
        )
        .await?;
    Ok(sessions.into_iter().rev().take(count).collect())
}
