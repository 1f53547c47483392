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
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use chrono::Utc;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::auth::Credential;
use crate::dashboard::{self, Dashboard, DashboardQuery};
use crate::review::{self, Verdict};
use crate::{AdminIdentity, AppState};
use cookie::SameSite;
use subtle::ConstantTimeEq;

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

/// Renders the page for a dashboard; `csrf` is the session's form token, put in every form.
pub fn render(data: &Dashboard, csrf: Option<&str>) -> Result<String, ApiError> {
    render_with(data, csrf, &[])
}

/// How many learning sessions the page's history shows.
pub const SESSIONS_SHOWN: usize = 12;

/// [`render`] with the session history (newest first).
pub fn render_with(
    data: &Dashboard,
    csrf: Option<&str>,
    sessions: &[autolearn_model::LearningSession],
) -> Result<String, ApiError> {
    let mut page = LearningPage::new(data);
    page.csrf = csrf.map(str::to_owned);
    page.sessions = sessions.iter().map(view::SessionRow::new).collect();
    page.render().map_err(|error| ApiError::Internal(format!("render page: {error}")))
}

/// The headers every page response carries.
pub fn page_headers(headers: &mut HeaderMap) {
    let csp = HeaderValue::from_str(&CONTENT_SECURITY_POLICY).expect("the policy is ASCII");
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Not no-referrer: under it a browser sends `Origin: null` with the page's own form posts,
    // which the origin check of cookie requests must then refuse. same-origin sends nothing to
    // other sites and the real origin here.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// Text for HTML: `&<>"'` escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A small page for people: `title`, then `body` (HTML, escaped by the caller).
pub fn small_page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>{CSS}</style></head><body><header><h1>{title}</h1></header><main>{body}</main></body></html>",
        title = escape(title)
    );
    let mut response = (status, html).into_response();
    page_headers(response.headers_mut());
    response
}

/// An error as a page for people: the status and the message naming the problem.
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        Self(error)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        if let ApiError::Internal(detail) = &self.0 {
            tracing::error!(error = %detail, "page request failed");
        }
        let mut body = format!("<p id=\"error\">{}</p>", escape(&self.0.to_string()));
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            body.push_str("<p><a href=\"/admin/login\">Sign in</a></p>");
        }
        small_page(status, status.canonical_reason().unwrap_or("Error"), &body)
    }
}

/// The admin of a page request. A browser without a valid session is sent to sign in (a GET,
/// which comes back here afterwards), or answered with an error page (a form post).
pub struct PageAdmin(pub AdminIdentity);

impl axum::extract::FromRequestParts<AppState> for PageAdmin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match AdminIdentity::from_request_parts(parts, state).await {
            Ok(identity) => Ok(Self(identity)),
            Err(ApiError::Unauthorized(_))
                if parts.method == Method::GET
                    && state.auth.sign_in.is_some()
                    && !parts.headers.contains_key(header::AUTHORIZATION) =>
            {
                let return_to = parts.uri.path_and_query().map(|pq| pq.as_str()).unwrap_or(PAGE_PATH);
                let mut login = url::form_urlencoded::Serializer::new(String::new());
                login.append_pair("return_to", return_to);
                let mut response = Redirect::to(&format!("/admin/login?{}", login.finish())).into_response();
                if crate::session::cookie_value(&parts.headers, crate::session::SESSION_COOKIE).is_some() {
                    let clear =
                        crate::session::clear_cookie(crate::session::SESSION_COOKIE, SameSite::Strict);
                    response
                        .headers_mut()
                        .insert(header::SET_COOKIE, HeaderValue::from_str(&clear).expect("ASCII"));
                }
                Err(response)
            }
            Err(error) => Err(PageError(error).into_response()),
        }
    }
}

/// `GET /admin/ai/learning?days=N`.
pub async fn get_page(
    State(state): State<AppState>,
    PageAdmin(admin): PageAdmin,
    Query(query): Query<DashboardQuery>,
) -> Result<Response, PageError> {
    let days = query.days()?;
    let data = dashboard::load(&state.store, dashboard::today(), days, &state.promotion)
        .await
        .map_err(ApiError::from)?;
    let csrf = match &admin.credential {
        Credential::Session { csrf } => Some(csrf.as_str()),
        _ => None,
    };
    let sessions = crate::history::latest_sessions(&state.store, SESSIONS_SHOWN).await?;
    let mut response = render_with(&data, csrf, &sessions)?.into_response();
    page_headers(response.headers_mut());
    Ok(response)
}

/// The review form's fields.
#[derive(Debug, Default, Deserialize)]
pub struct ReviewForm {
    pub note: Option<String>,
    /// The session's form token (required when signed in by cookie).
    pub csrf: Option<String>,
}

/// Form posts must come from the page itself: a browser marks a cross-site post, and this
/// refuses it whatever the credential.
fn same_site(parts: &Parts) -> Result<(), ApiError> {
    let site = parts.headers.get("sec-fetch-site").and_then(|value| value.to_str().ok());
    if let Some(site @ ("cross-site" | "same-site")) = site {
        return Err(ApiError::Forbidden(format!(
            "review forms may only be posted from the dashboard page (Sec-Fetch-Site: {site})"
        )));
    }
    Ok(())
}

/// A form posted on the strength of the session cookie carries the session's token.
pub fn check_csrf(admin: &AdminIdentity, presented: Option<&str>) -> Result<(), ApiError> {
    let Credential::Session { csrf } = &admin.credential else { return Ok(()) };
    let matches = presented.is_some_and(|presented| bool::from(presented.as_bytes().ct_eq(csrf.as_bytes())));
    if !matches {
        return Err(ApiError::Forbidden(
            "the form's CSRF token is missing or is not this session's: reload the page and try again".into(),
        ));
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
    form: ReviewForm,
) -> Result<Response, PageError> {
    same_site(&head.0)?;
    check_csrf(admin, form.csrf.as_deref())?;
    let note = form.note.map(|note| note.chars().take(review::MAX_NOTE_CHARS).collect());
    review::decide(&state.store, id, verdict, note, admin, Utc::now()).await?;
    Ok(Redirect::to(PAGE_PATH).into_response())
}

/// `POST /admin/ai/learning/proposals/{id}/apply` (form, `csrf`): applies, then back to the page.
pub async fn apply_from_page(
    State(state): State<AppState>,
    head: Head,
    PageAdmin(admin): PageAdmin,
    Path(id): Path<String>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, PageError> {
    decide_from_page(&state, &head, &admin, &id, Verdict::Apply, form).await
}

/// `POST /admin/ai/learning/proposals/{id}/reject` (form, `csrf`, optional `note`): rejects, then
/// back.
pub async fn reject_from_page(
    State(state): State<AppState>,
    head: Head,
    PageAdmin(admin): PageAdmin,
    Path(id): Path<String>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, PageError> {
    decide_from_page(&state, &head, &admin, &id, Verdict::Reject, form).await
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
        let html = render(&dashboard_with_payload(), None).unwrap();
        assert!(!html.contains("<script"));
        let escaped = "&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;&#38;";
        // Title, description, example, evidence, and an edit's draft and sent reply: six times.
        assert_eq!(html.matches(escaped).count(), 6, "{html}");
    }

    #[test]
    fn days_without_sends_are_summed_up_not_listed() {
        let html = render(&dashboard_with_payload(), None).unwrap();
        assert!(html.contains("No drafts sent in the period."), "{html}");
        assert!(!html.contains("<tr><td>2026-11-1"), "{html}");
    }

    #[test]
    fn the_policy_allows_exactly_the_page_style() {
        let html = render(&dashboard_with_payload(), None).unwrap();
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
