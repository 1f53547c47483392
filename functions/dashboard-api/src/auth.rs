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
//! tampered with is 401 naming which.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use subtle::ConstantTimeEq;

use autolearn_web::ApiError;

use crate::AppState;
use crate::oidc::OidcProvider;
use crate::session::{SESSION_COOKIE, SessionKey, cookie_value};

/// People's sign-in: the issuer and the key of the session cookies.
#[derive(Debug)]
pub struct SignIn {
    pub provider: OidcProvider,
    pub key: SessionKey,
}

/// The claim that lists a Cognito user's groups.
pub const GROUPS_CLAIM: &str = "cognito:groups";

/// How admins are recognised.
#[derive(Clone)]
pub struct AdminAuth {
    /// The group an admin belongs to.
    pub admin_group: String,
    /// A bearer token accepted instead of JWT claims; only the local runner sets it.
    pub local_admin_token: Option<String>,
    /// People's sign-in and bearer JWTs verified here; `None` accepts neither.
    pub sign_in: Option<Arc<SignIn>>,
}

impl std::fmt::Debug for AdminAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("AdminAuth")
            .field("admin_group", &self.admin_group)
            .field("local_admin_token", &self.local_admin_token.as_ref().map(|_| "<set>"))
            .field("sign_in", &self.sign_in.as_ref().map(|sign_in| &sign_in.provider.settings))
            .finish()
    }
}

/// A request made by an admin. `subject` names them (the JWT `sub`, `email` or `username`
/// claim; `local-admin` for the local token) and is recorded on the decisions they make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminIdentity {
    pub subject: String,
    pub credential: Credential,
}

/// How a request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// API Gateway's JWT authorizer.
    Authorizer,
    /// A bearer JWT verified by this function.
    Bearer,
    /// The local runner's admin token.
    LocalToken,
    /// The session cookie, with the session's form token.
    Session { csrf: String },
}

/// The groups of a `cognito:groups` claim. API Gateway flattens the JSON array into a string,
/// either as `[admins other]` or as a JSON array; a single group may also come bare or
/// comma-separated.
pub fn groups_of(claim: &str) -> Vec<String> {
    let claim = claim.trim();
    if let Ok(list) = serde_json::from_str::<Vec<String>>(claim) {
        return list;
    }
    claim
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|group| group.trim_matches('"'))
        .filter(|group| !group.is_empty())
        .map(str::to_owned)
        .collect()
}

impl AdminAuth {
    /// Decides on the verified claims of a request (`None` when there are none).
    pub fn check_claims(
        &self,
        claims: &std::collections::HashMap<String, String>,
    ) -> Result<AdminIdentity, ApiError> {
        let is_admin =
            claims.get(GROUPS_CLAIM).is_some_and(|groups| groups_of(groups).contains(&self.admin_group));
        if !is_admin {
            return Err(ApiError::Forbidden(format!("admin group {} required", self.admin_group)));
        }
        let subject = ["sub", "email", "username", "cognito:username"]
            .iter()
            .find_map(|name| claims.get(*name).filter(|value| !value.is_empty()))
            .cloned()
            .unwrap_or_else(|| "admin".to_owned());
        Ok(AdminIdentity { subject, credential: Credential::Authorizer })
    }

    fn check_local_token(&self, presented: &str) -> Option<AdminIdentity> {
        let expected = self.local_admin_token.as_deref().filter(|token| !token.is_empty())?;
        bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
            .then(|| AdminIdentity { subject: "local-admin".to_owned(), credential: Credential::LocalToken })
    }

    /// The identity of a request without authorizer claims: its bearer token, else its session
    /// cookie.
    pub async fn check_request(&self, parts: &Parts) -> Result<AdminIdentity, ApiError> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let presented = value
                .to_str()
                .ok()
                .and_then(|value| value.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or_else(|| {
                    ApiError::Unauthorized("the Authorization header must be Bearer <token>".into())
                })?;
            if let Some(identity) = self.check_local_token(presented) {
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

/// The verified JWT claims API Gateway put in the request context, if any.
fn jwt_claims(parts: &Parts) -> Option<&std::collections::HashMap<String, String>> {
    match parts.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => {
            let claims = &context.authorizer.as_ref()?.jwt.as_ref()?.claims;
            (!claims.is_empty()).then_some(claims)
        }
        _ => None,
    }
}

impl FromRequestParts<AppState> for AdminIdentity {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(claims) = jwt_claims(parts) {
            return state.auth.check_claims(claims);
        }
        state.auth.check_request(parts).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_claims_in_every_shape() {
        assert_eq!(groups_of("[autolearn-admins other]"), vec!["autolearn-admins", "other"]);
        assert_eq!(groups_of(r#"["autolearn-admins","other"]"#), vec!["autolearn-admins", "other"]);
        assert_eq!(groups_of("autolearn-admins"), vec!["autolearn-admins"]);
        assert_eq!(groups_of("a, b"), vec!["a", "b"]);
        assert!(groups_of("[]").is_empty());
    }

    #[test]
    fn claims_without_the_group_are_forbidden() {
        let auth =
            AdminAuth { admin_group: "autolearn-admins".into(), local_admin_token: None, sign_in: None };
        let mut claims = std::collections::HashMap::from([("sub".to_owned(), "u-1".to_owned())]);
        assert!(matches!(auth.check_claims(&claims), Err(ApiError::Forbidden(_))));
        claims.insert(GROUPS_CLAIM.into(), "[readers autolearn-admins-not]".into());
        assert!(matches!(auth.check_claims(&claims), Err(ApiError::Forbidden(_))));
        claims.insert(GROUPS_CLAIM.into(), "[readers autolearn-admins]".into());
        assert_eq!(auth.check_claims(&claims).unwrap().subject, "u-1");
    }
}
