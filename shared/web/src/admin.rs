//! Who an admin is, for every function that serves admins (the dashboard, the customer-data API):
//! the claims API Gateway's JWT authorizer verified, whose groups must include the admin group,
//! or, in local runs only, the runner's admin token. The dashboard adds people's sign-in (session
//! cookies, bearer JWTs it verifies itself) on top; each function implements axum's
//! `FromRequestParts` for [`AdminIdentity`] with its own state.

use std::collections::HashMap;

use axum::http::header;
use axum::http::request::Parts;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use subtle::ConstantTimeEq;

use crate::{ApiError, ConfigError, config};

/// The Cognito group (JWT claim `cognito:groups`) an admin must belong to.
pub const ADMIN_GROUP: &str = "ADMIN_GROUP";
pub const DEFAULT_ADMIN_GROUP: &str = "autolearn-admins";

/// The claim that lists a Cognito user's groups.
pub const GROUPS_CLAIM: &str = "cognito:groups";

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
    /// A bearer JWT verified by the function itself (the dashboard).
    Bearer,
    /// The local runner's admin token.
    LocalToken,
    /// The dashboard's session cookie, with the session's form token.
    Session { csrf: String },
}

/// Who is an admin: members of a group, and (local runner only) the holder of a token.
#[derive(Clone)]
pub struct Admins {
    /// The group an admin belongs to.
    pub admin_group: String,
    /// A bearer token accepted instead of JWT claims; only the local runner sets it.
    pub local_admin_token: Option<String>,
}

impl std::fmt::Debug for Admins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("Admins")
            .field("admin_group", &self.admin_group)
            .field("local_admin_token", &self.local_admin_token.as_ref().map(|_| "<set>"))
            .finish()
    }
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

/// The verified JWT claims API Gateway put in the request context, if any.
pub fn jwt_claims(parts: &Parts) -> Option<&HashMap<String, String>> {
    match parts.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => {
            let claims = &context.authorizer.as_ref()?.jwt.as_ref()?.claims;
            (!claims.is_empty()).then_some(claims)
        }
        _ => None,
    }
}

/// The token of an `Authorization: Bearer <token>` header: `None` without the header, an error
/// naming the expected form when it is something else.
pub fn bearer_token(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|token| Some(token.trim()))
        .ok_or_else(|| ApiError::Unauthorized("the Authorization header must be Bearer <token>".into()))
}

impl Admins {
    /// A deployed function's admins: the group of `ADMIN_GROUP` (default `autolearn-admins`), no
    /// local token.
    pub fn from_env() -> Result<Self, ConfigError> {
        let admin_group = config::optional(ADMIN_GROUP, DEFAULT_ADMIN_GROUP.to_owned())?;
        Ok(Self { admin_group, local_admin_token: None })
    }

    /// Decides on the verified claims of a request.
    pub fn check_claims(&self, claims: &HashMap<String, String>) -> Result<AdminIdentity, ApiError> {
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

    /// The local admin, when `presented` is the local token (compared in constant time).
    pub fn check_local_token(&self, presented: &str) -> Option<AdminIdentity> {
        let expected = self.local_admin_token.as_deref().filter(|token| !token.is_empty())?;
        bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
            .then(|| AdminIdentity { subject: "local-admin".to_owned(), credential: Credential::LocalToken })
    }

    /// The identity of a request to a route behind the JWT authorizer: its claims, else (local
    /// runs) the local token. No identity is 401, one without the admin group 403.
    pub fn check_authorized(&self, parts: &Parts) -> Result<AdminIdentity, ApiError> {
        if let Some(claims) = jwt_claims(parts) {
            return self.check_claims(claims);
        }
        match bearer_token(parts)? {
            Some(token) => self
                .check_local_token(token)
                .ok_or_else(|| ApiError::Unauthorized("the bearer token is not accepted".into())),
            None => Err(ApiError::Unauthorized(
                "an admin identity is required: send Authorization: Bearer <JWT> through the API".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admins(token: Option<&str>) -> Admins {
        Admins { admin_group: "autolearn-admins".into(), local_admin_token: token.map(str::to_owned) }
    }

    fn parts(authorization: Option<&str>) -> Parts {
        let mut request = axum::http::Request::builder().uri("/v1/x");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        request.body(()).unwrap().into_parts().0
    }

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
        let admins = admins(None);
        let mut claims = HashMap::from([("sub".to_owned(), "u-1".to_owned())]);
        assert!(matches!(admins.check_claims(&claims), Err(ApiError::Forbidden(_))));
        claims.insert(GROUPS_CLAIM.into(), "[readers autolearn-admins-not]".into());
        assert!(matches!(admins.check_claims(&claims), Err(ApiError::Forbidden(_))));
        claims.insert(GROUPS_CLAIM.into(), "[readers autolearn-admins]".into());
        assert_eq!(admins.check_claims(&claims).unwrap().subject, "u-1");
    }

    #[test]
    fn without_claims_only_the_local_token_is_an_admin() {
        let local = admins(Some("local-secret"));
        let identity = local.check_authorized(&parts(Some("Bearer local-secret"))).unwrap();
        assert_eq!(identity.credential, Credential::LocalToken);
        for (authorization, why) in [
            (Some("Bearer other"), "the bearer token is not accepted"),
            (Some("Basic abc"), "the Authorization header must be Bearer <token>"),
            (None, "an admin identity is required"),
        ] {
            match local.check_authorized(&parts(authorization)) {
                Err(ApiError::Unauthorized(message)) => assert!(message.starts_with(why), "{message}"),
                other => panic!("{authorization:?}: {other:?}"),
            }
        }
        // Without a configured token (every deployed function), no bearer token is an admin.
        assert!(admins(None).check_authorized(&parts(Some("Bearer "))).is_err());
    }
}
