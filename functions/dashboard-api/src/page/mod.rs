//! `GET /admin/ai/learning`: the dashboard as a page for people, rendered on the server from the
//! same data as the JSON, with auto-escaping templates (askama). Charts are inline SVG whose
//! geometry is computed here from numbers only; every text from the data, customer text above
//! all, goes through the template's HTML escaping, and no template marks data as safe.
//!
//! The page runs no script at all. Its Content-Security-Policy allows nothing but its own
//! stylesheet (by hash), data: images and form posts to itself; apply and reject are plain HTML
//! forms that post here and are redirected back (303).

//!
//! By concern: [`charts`] (the SVG geometry, numbers only), [`view`] (the view model the
//! template renders) and, here, the handlers of the page and its review forms.

use std::sync::LazyLock;

use askama::Template;
use autolearn_web::ApiError;
use autolearn_web::extract::{Form, Path, Query};
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use chrono::Utc;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::dashboard::{self, Dashboard, DashboardQuery};
use crate::review::{self, Verdict};
use crate::{AdminIdentity, AppState};

pub mod charts;
pub mod view;

pub use view::LearningPage;

pub const PAGE_PATH: &str = "/admin/ai/learning";

/// The page's only style, inlined in a `<style>` element and allowed by its hash.
pub const CSS: &str = include_str!("../../templates/learning.css");

/// The Content-Security-Policy of the page: no scripts, no external anything.
pub static CONTENT_SECURITY_POLICY: LazyLock<String> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src data:; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    )
});

/// Renders the page for a dashboard.
pub fn render(data: &Dashboard) -> Result<String, ApiError> {
    LearningPage::new(data).render().map_err(|error| ApiError::Internal(format!("render page: {error}")))
}

/// The headers every page response carries.
pub fn page_headers(headers: &mut HeaderMap) {
    let csp = HeaderValue::from_str(&CONTENT_SECURITY_POLICY).expect("the policy is ASCII");
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// `GET /admin/ai/learning?days=N`.
pub async fn get_page(
    State(state): State<AppState>,
    _admin: AdminIdentity,
    Query(query): Query<DashboardQuery>,
) -> Result<Response, ApiError> {
    let days = query.days()?;
    let data = dashboard::load(&state.store, dashboard::today(), days, &state.promotion).await?;
    let mut response = render(&data)?.into_response();
    page_headers(response.headers_mut());
    Ok(response)
}

/// The review form's fields.
#[derive(Debug, Default, Deserialize)]
pub struct ReviewForm {
    pub note: Option<String>,
}

/// Form posts must come from the page itself: a browser marks a cross-site post, and this
/// refuses it (the identity travels in a header, never a cookie, but refuse anyway).
fn same_site(parts: &Parts) -> Result<(), ApiError> {
    let site = parts.headers.get("sec-fetch-site").and_then(|value| value.to_str().ok());
    if matches!(site, Some("cross-site" | "same-site")) {
        return Err(ApiError::Forbidden("review forms may only be posted from the dashboard page".into()));
    }
    Ok(())
}

/// A request's head, for the same-site check.
pub struct Head(Parts);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Head {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.clone()))
    }
}

async fn decide_from_page(
    state: &AppState,
    head: &Head,
    admin: &AdminIdentity,
    id: &str,
    verdict: Verdict,
    note: Option<String>,
) -> Result<Response, ApiError> {
    same_site(&head.0)?;
    let note = note.map(|note| note.chars().take(review::MAX_NOTE_CHARS).collect());
    review::decide(&state.store, id, verdict, note, admin, Utc::now()).await?;
    Ok(Redirect::to(PAGE_PATH).into_response())
}

/// `POST /admin/ai/learning/proposals/{id}/apply` (form): applies, then back to the page.
pub async fn apply_from_page(
    State(state): State<AppState>,
    head: Head,
    admin: AdminIdentity,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    decide_from_page(&state, &head, &admin, &id, Verdict::Apply, None).await
}

/// `POST /admin/ai/learning/proposals/{id}/reject` (form, optional `note`): rejects, then back.
pub async fn reject_from_page(
    State(state): State<AppState>,
    head: Head,
    admin: AdminIdentity,
    Path(id): Path<String>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, ApiError> {
    decide_from_page(&state, &head, &admin, &id, Verdict::Reject, form.note).await
}

#[cfg(test)]
mod tests {
    use super::charts::day_ticks;
    use super::*;
    use autolearn_model::PromotionConfig;
    use chrono::NaiveDate;

    const PAYLOAD: &str = "<script>alert(1)</script>\"'&";

    fn dashboard_with_payload() -> Dashboard {
        let proposal: autolearn_model::LearningProposal = serde_json::from_value(serde_json::json!({
            "proposalId": "p-1", "sessionId": "s-1", "kind": "new_intent", "status": "pending",
            "title": PAYLOAD, "intentName": "X", "description": PAYLOAD, "examples": [PAYLOAD],
            "confidence": "high", "impact": 3, "fingerprint": "f",
            "evidence": [
                {"conversationId": "c-1", "text": PAYLOAD},
                {"kind": "feedback", "conversationId": "c-2", "note": "Shortened",
                 "edit": {"before": PAYLOAD, "after": PAYLOAD}}
            ],
            "createdAt": "2026-11-16T09:00:00Z"
        }))
        .unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 16).unwrap();
        let counters: Vec<_> =
            dashboard::days_ending(today, 3).into_iter().map(autolearn_model::DailyCounters::new).collect();
        dashboard::build(today, 3, &counters, vec![], vec![], vec![proposal], &PromotionConfig::default())
    }

    #[test]
    fn customer_text_is_escaped_everywhere_it_appears() {
        let html = render(&dashboard_with_payload()).unwrap();
        assert!(!html.contains("<script"));
        let escaped = "&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;&#38;";
        // Title, description, example, evidence, and an edit's draft and sent reply: six times.
        assert_eq!(html.matches(escaped).count(), 6, "{html}");
    }

    #[test]
    fn the_policy_allows_exactly_the_page_style() {
        let html = render(&dashboard_with_payload()).unwrap();
        assert!(html.contains(&format!("<style>{CSS}</style>")));
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes()));
        assert!(CONTENT_SECURITY_POLICY.contains(&format!("style-src 'sha256-{hash}'")));
        assert!(CONTENT_SECURITY_POLICY.starts_with("default-src 'none';"));
    }

    #[test]
    fn day_labels_do_not_crowd_the_last_day() {
        let days = dashboard::days_ending(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(), 14);
        let ticks = day_ticks(&days, |i| i as f64);
        let xs: Vec<f64> = ticks.iter().map(|t| t.x.parse().unwrap()).collect();
        assert_eq!(xs.first(), Some(&0.0));
        assert_eq!(xs.last(), Some(&13.0));
        assert!(xs.windows(2).all(|w| w[1] - w[0] >= 2.0), "{xs:?}");
    }
}
