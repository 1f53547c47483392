//! People's sign-in: OAuth 2.0 authorization code with PKCE against the configured OpenID
//! Connect issuer.
//!
//! - `GET /admin/login?return_to=/admin/ai/learning?days=90` keeps a random state, nonce and PKCE
//!   verifier in the signed login cookie and sends the browser to the issuer's authorize
//!   endpoint;
//! - `GET /admin/callback?code&state` checks the state against the cookie, exchanges the code
//!   (with the verifier) for the ID token, verifies it (keys, issuer, audience, expiry, nonce,
//!   admin group), sets the session cookie and sends the browser on to `return_to`. It answers a
//!   small page that moves on by itself rather than a redirect: the issuer's redirect is a
//!   cross-site navigation, and a SameSite=Strict cookie set in it is sent only on a navigation
//!   started from this site;
//! - `POST /admin/logout` (form with the session's token) removes the session cookie.

use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use cookie::SameSite;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use autolearn_web::ApiError;
use autolearn_web::extract::{Form, Query};

use crate::AppState;
use crate::auth::{SignIn, site_origin};
use crate::oidc::pkce_challenge;
use crate::page::{self, PAGE_PATH, PageAdmin, PageError, escape, small_page};
use crate::session::{
    LOGIN_COOKIE, LOGIN_TTL, LoginState, SESSION_COOKIE, SESSION_TTL, Session, clear_cookie, cookie_value,
    random_token, set_cookie,
};

pub const LOGIN_PATH: &str = "/admin/login";
pub const CALLBACK_PATH: &str = "/admin/callback";
pub const LOGOUT_PATH: &str = "/admin/logout";

/// A place on this site to return to: a path (with its query), never another host.
pub fn safe_return_to(raw: Option<&str>) -> Result<String, ApiError> {
    let Some(raw) = raw.filter(|raw| !raw.is_empty()) else { return Ok(PAGE_PATH.to_owned()) };
    let path_only = raw.starts_with('/') && !raw.starts_with("//") && !raw.starts_with("/\\");
    let plain = raw.len() <= 1024 && raw.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    if !(path_only && plain) {
        return Err(ApiError::invalid(
            "return_to",
            "return_to must be a path on this site, such as /admin/ai/learning",
        ));
    }
    Ok(raw.to_owned())
}

fn sign_in(state: &AppState) -> Result<&SignIn, ApiError> {
    state
        .auth
        .sign_in
        .as_deref()
        .ok_or_else(|| ApiError::not_found("sign-in (no identity provider is configured)"))
}

fn with_cookies(mut response: Response, cookies: &[String]) -> Response {
    for cookie in cookies {
        response
            .headers_mut()
            .append(header::SET_COOKIE, HeaderValue::from_str(cookie).expect("cookies are ASCII"));
    }
    response
}

/// The head of a request, for its host.
pub struct RequestHead(pub Parts);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RequestHead {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.clone()))
    }
}

fn callback_uri(parts: &Parts) -> Result<String, ApiError> {
    Ok(format!("{}{CALLBACK_PATH}", site_origin(parts)?))
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    pub return_to: Option<String>,
}

/// `GET /admin/login`: off to the identity provider.
pub async fn login(
    State(state): State<AppState>,
    RequestHead(parts): RequestHead,
    Query(query): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let sign_in = sign_in(&state)?;
    let login = LoginState {
        state: random_token(),
        nonce: random_token(),
        verifier: format!("{}{}", random_token(), random_token()),
        return_to: safe_return_to(query.return_to.as_deref())?,
        exp: (Utc::now() + LOGIN_TTL).timestamp(),
    };
    let url = sign_in
        .provider
        .authorize_url(&callback_uri(&parts)?, &login.state, &login.nonce, &pkce_challenge(&login.verifier))
        .await
        .map_err(ApiError::from)?;
    let cookie = set_cookie(LOGIN_COOKIE, sign_in.key.seal_login(&login), LOGIN_TTL, SameSite::Lax);
    Ok(with_cookies(Redirect::to(&url).into_response(), &[cookie]))
}

#[derive(Debug, Default, Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// `GET /admin/callback`: back from the identity provider.
pub async fn callback(
    State(state): State<AppState>,
    RequestHead(parts): RequestHead,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, PageError> {
    let sign_in = sign_in(&state)?;
    if let Some(error) = &query.error {
        let description = query.error_description.as_deref().unwrap_or("no description");
        return Err(ApiError::Unauthorized(format!(
            "the identity provider refused the sign-in: {error} ({description})"
        ))
        .into());
    }
    let login = cookie_value(&parts.headers, LOGIN_COOKIE)
        .ok_or_else(|| ApiError::Malformed("no sign-in is in progress in this browser (the login cookie is missing): start again at /admin/login".into()))?;
    let login = sign_in
        .key
        .open_login(login, Utc::now())
        .map_err(|error| ApiError::Malformed(format!("{error}: start again at /admin/login")))?;
    let state_matches = query
        .state
        .as_deref()
        .is_some_and(|presented| bool::from(presented.as_bytes().ct_eq(login.state.as_bytes())));
    if !state_matches {
        return Err(ApiError::Malformed(
            "the state does not match this browser's sign-in: start again at /admin/login".into(),
        )
        .into());
    }
    let code = query
        .code
        .as_deref()
        .filter(|code| !code.is_empty())
        .ok_or_else(|| ApiError::invalid("code", "the identity provider sent no code"))?;
    let id_token = sign_in
        .provider
        .exchange(code, &callback_uri(&parts)?, &login.verifier)
        .await
        .map_err(ApiError::from)?;
    let verified = sign_in.provider.verify(&id_token, Some(&login.nonce)).await.map_err(ApiError::from)?;
    tracing::info!(subject = %verified.subject, "admin signed in");
    let session = Session::new(verified.subject, Utc::now());
    let target = escape(&login.return_to);
    let body =
        format!("<p>Signed in. <a id=\"continue\" href=\"{target}\">Continue to the dashboard</a>.</p>");
    let mut response = small_page(StatusCode::OK, "Signed in", &body);
    // Moves on by itself (no script: the policy allows none); the link is the fallback.
    let refresh = format!("0;url={}", login.return_to);
    response
        .headers_mut()
        .insert(header::REFRESH, HeaderValue::from_str(&refresh).expect("return_to is ASCII"));
    Ok(with_cookies(
        response,
        &[
            set_cookie(SESSION_COOKIE, sign_in.key.seal_session(&session), SESSION_TTL, SameSite::Strict),
            clear_cookie(LOGIN_COOKIE, SameSite::Lax),
        ],
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct LogoutForm {
    pub csrf: Option<String>,
}

/// `POST /admin/logout`: the session cookie goes.
pub async fn logout(
    PageAdmin(admin): PageAdmin,
    Form(form): Form<LogoutForm>,
) -> Result<Response, PageError> {
    page::check_csrf(&admin, form.csrf.as_deref())?;
    let body = format!("<p>Signed out.</p><p><a href=\"{LOGIN_PATH}\">Sign in again</a></p>");
    Ok(with_cookies(
        small_page(StatusCode::OK, "Signed out", &body),
        &[clear_cookie(SESSION_COOKIE, SameSite::Strict)],
    ))
}
