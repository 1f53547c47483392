//! Who may use the dashboard: an admin.
//!
//! In AWS, API Gateway's JWT authorizer has already verified the token; this function reads
//! the verified claims from the request context and requires the admin group in
//! `cognito:groups`. No identity is 401; an identity without the group is 403.
//!
//! Locally (`autolearn serve`, no API Gateway) the runner may configure an admin token, and then
//! `Authorization: Bearer <token>` is accepted. The Lambda binary never configures one.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use subtle::ConstantTimeEq;

use autolearn_web::ApiError;

use crate::AppState;

/// The claim that lists a Cognito user's groups.
pub const GROUPS_CLAIM: &str = "cognito:groups";

/// How admins are recognised.
#[derive(Clone)]
pub struct AdminAuth {
    /// The group an admin belongs to.
    pub admin_group: String,
    /// A bearer token accepted instead of JWT claims; only the local runner sets it.
    pub local_admin_token: Option<String>,
}

impl std::fmt::Debug for AdminAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("AdminAuth")
            .field("admin_group", &self.admin_group)
            .field("local_admin_token", &self.local_admin_token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// A request made by an admin. `subject` names them (the JWT `sub`, `email` or `username`
/// claim; `local-admin` for the local token) and is recorded on the decisions they make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminIdentity {
    pub subject: String,
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
        Ok(AdminIdentity { subject })
    }

    fn check_local_token(&self, parts: &Parts) -> Option<AdminIdentity> {
        let expected = self.local_admin_token.as_deref().filter(|token| !token.is_empty())?;
        let presented =
            parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")?.trim();
        bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
            .then(|| AdminIdentity { subject: "local-admin".to_owned() })
    }
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
        state
            .auth
            .check_local_token(parts)
            .ok_or_else(|| ApiError::Unauthorized("an admin identity is required".into()))
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
        let auth = AdminAuth { admin_group: "autolearn-admins".into(), local_admin_token: None };
        let mut claims = std::collections::HashMap::from([("sub".to_owned(), "u-1".to_owned())]);
        assert!(matches!(auth.check_claims(&claims), Err(ApiError::Forbidden(_))));
        claims.insert(GROUPS_CLAIM.into(), "[readers autolearn-admins-not]".into());
        assert!(matches!(auth.check_claims(&claims), Err(ApiError::Forbidden(_))));
        claims.insert(GROUPS_CLAIM.into(), "[readers autolearn-admins]".into());
        assert_eq!(auth.check_claims(&claims).unwrap().subject, "u-1");
    }
}
