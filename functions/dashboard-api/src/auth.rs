//! Who may use the dashboard: an admin, recognised by the first of
//!
//! 1. the claims API Gateway's JWT authorizer verified (the `/v1/...` routes in AWS): the admin
//!    group must be in `cognito:groups`;
//! 2. `Authorization: Bearer <token>`: the local runner's admin token, or a JWT of the configured
//!    issuer that this function verifies itself ([`crate::oidc`]) — machine clients on the
//!    routes the authorizer does not guard;
//! 3. the signed session cookie people get from `/admin/login` ([`crate::session`]). A request
//!    that changes anything (any method but GET/HEAD/OPTIONS) on the strength of the cookie
//!    alone must come from this site's own pages: `Sec-Fetch-Site: same-origin`, and an `Origin`
//!    naming this host ([`same_origin`]); the page's forms also carry the session's CSRF token.
//!
//! No identity is 401; an identity without the admin group is 403; a cookie that is expired or
//! tampered with is 401 naming which. The first two are [`autolearn_web::admin`]'s, shared with
//! the customer-data API.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};

use autolearn_web::ApiError;
pub use autolearn_web::admin::{AdminIdentity, Admins, Credential};
use autolearn_web::admin::{bearer_token, jwt_claims};

use crate::AppState;
use crate::oidc::OidcProvider;
use crate::session::{SESSION_COOKIE, SessionKey, cookie_value};

/// People's sign-in: the issuer and the key of the session cookies.
#[derive(Debug)]
pub struct SignIn {
    pub provider: OidcProvider,
    pub key: SessionKey,
}

/// How admins are recognised: the group and the local token ([`Admins`]), and people's sign-in.
#[derive(Clone)]
pub struct AdminAuth {
    pub admins: Admins,
    /// People's sign-in and bearer JWTs verified here; `None` accepts neither.
    pub sign_in: Option<Arc<SignIn>>,
}

impl std::fmt::Debug for AdminAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminAuth")
            .field("admins", &self.admins)
            .field("sign_in", &self.sign_in.as_ref().map(|sign_in| &sign_in.provider.settings))
            .finish()
    }
}

impl AdminAuth {
    /// The identity of a request without authorizer claims: its bearer token, else its session
    /// cookie.
    pub async fn check_request(&self, parts: &Parts) -> Result<AdminIdentity, ApiError> {
        if let Some(presented) = bearer_token(parts)? {
            if let Some(identity) = self.admins.check_local_token(presented) {
                return Ok(identity);
            }
            let sign_in = self
                .sign_in
                .as_ref()
                .ok_or_else(|| ApiError::Unauthorized("the bearer token is not accepted".into()))?;
            let verified = sign_in.provider.verify(presented, None).await?;
            return Ok(AdminIdentity { subject: verified.subject, credential: Credential::Bearer });
        }
        let cookie = self.sign_in.as_ref().zip(cookie_value(&parts.headers, SESSION_COOKIE));
        let Some((sign_in, value)) = cookie else {
            return Err(ApiError::Unauthorized(
                "an admin identity is required: sign in at /admin/login, or send Authorization: Bearer <JWT>"
                    .into(),
            ));
        };
        let session = sign_in
            .key
            .open_session(value, chrono::Utc::now())
            .map_err(|error| ApiError::Unauthorized(format!("{error}: sign in again at /admin/login")))?;
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            same_origin(parts)?;
        }
        Ok(AdminIdentity { subject: session.sub, credential: Credential::Session { csrf: session.csrf } })
    }
}

/// The host a request was sent to (`Host`, or the URI's authority).
pub fn request_host(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|authority| authority.to_string()))
        .map(|host| host.to_ascii_lowercase())
}

/// `scheme://host` of this site as the browser sees it: `X-Forwarded-Proto` when API Gateway
/// sets it, else http for a loopback host and https for any other.
pub fn site_origin(parts: &Parts) -> Result<String, ApiError> {
    let host = request_host(parts).ok_or_else(|| ApiError::Malformed("the request names no Host".into()))?;
    let forwarded = parts.headers.get("x-forwarded-proto").and_then(|value| value.to_str().ok());
    let loopback = ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|name| host == *name || host.starts_with(&format!("{name}:")));
    let scheme = match forwarded {
        Some("http") => "http",
        Some("https") => "https",
        _ if loopback => "http",
        _ => "https",
    };
    Ok(format!("{scheme}://{host}"))
}

/// A request made on the strength of the session cookie must come from this site's own pages:
/// the browser's `Sec-Fetch-Site`, when sent, must be `same-origin`, and `Origin`, when sent,
/// must name this host; one of them must be there (every current browser sends both on a POST).
pub fn same_origin(parts: &Parts) -> Result<(), ApiError> {
    let header = |name: &str| parts.headers.get(name).map(|value| value.to_str().unwrap_or("?").to_owned());
    let site = header("sec-fetch-site");
    if let Some(site) = &site
        && site != "same-origin"
    {
        return Err(ApiError::Forbidden(format!(
            "cross-site request refused: the browser marked it Sec-Fetch-Site: {site}, and a request \
             signed in by cookie is accepted only from this site's own pages"
        )));
    }
    match header("origin") {
        Some(origin) => {
            let host = request_host(parts).unwrap_or_default();
            let origin_host = origin.split_once("://").map(|(_, rest)| rest.to_ascii_lowercase());
            if origin_host.as_deref() != Some(host.as_str()) {
                return Err(ApiError::Forbidden(format!(
                    "cross-origin request refused: Origin {origin} is not this site ({host}), and a \
                     request signed in by cookie is accepted only from this site's own pages"
                )));
            }
        }
        None if site.is_none() => {
            return Err(ApiError::Forbidden(
                "a request signed in by cookie must carry Origin or Sec-Fetch-Site (every current \
                 browser sends them)"
                    .into(),
            ));
        }
        None => {}
    }
    Ok(())
}

impl FromRequestParts<AppState> for AdminIdentity {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(claims) = jwt_claims(parts) {
            return state.auth.admins.check_claims(claims);
        }
        state.auth.check_request(parts).await
    }
}
