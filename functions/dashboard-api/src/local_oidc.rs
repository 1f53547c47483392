//! A local OpenID Connect issuer with keys it generates, for the local runner and the tests (the
//! Lambda never mounts it): the discovery document, the JWKS, an authorize endpoint that signs in
//! the local admin at once (loopback redirect URIs only), and a token endpoint that checks the
//! PKCE verifier and answers a signed ID token. The dashboard signs people in against it exactly
//! as against Cognito.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::oidc::pkce_challenge;
use crate::session::random_token;

/// An ES256 signing key and its public JWK.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    encoding: EncodingKey,
    pub jwk: Jwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh P-256 key.
    pub fn generate() -> Self {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key generation");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("a P-256 key");
        // The uncompressed point: 0x04, x, y.
        let point = pair.public_key().as_ref();
        let kid = random_token()[..16].to_owned();
        let jwk: Jwk = serde_json::from_value(json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        }))
        .expect("an EC JWK");
        Self { kid, encoding: EncodingKey::from_ec_der(pkcs8.as_ref()), jwk }
    }

    /// A JWT of `claims` signed with this key.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        crate::jwt_crypto::install();
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("signing works")
    }

    pub fn jwks(&self) -> JwkSet {
        JwkSet { keys: vec![self.jwk.clone()] }
    }
}

/// What an issued code stands for.
#[derive(Debug, Clone)]
struct Grant {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
}

/// The local issuer.
#[derive(Debug, Clone)]
pub struct LocalIssuer {
    /// The issuer URL, e.g. `http://127.0.0.1:8080/local-oidc`; its path is where it is served.
    pub issuer: String,
    pub key: SigningKey,
    /// The subject and email of the local admin, and the groups they belong to.
    pub admin_email: String,
    pub groups: Vec<String>,
    codes: Arc<Mutex<HashMap<String, Grant>>>,
}

impl LocalIssuer {
    pub fn new(issuer: impl Into<String>, admin_group: &str) -> Self {
        Self {
            issuer: issuer.into(),
            key: SigningKey::generate(),
            admin_email: "admin@localhost".into(),
            groups: vec![admin_group.to_owned()],
            codes: Default::default(),
        }
    }

    /// The claims of a token for the local admin, valid for an hour, for `audience`.
    pub fn admin_claims(&self, audience: &str, nonce: Option<&str>) -> Value {
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({
            "iss": self.issuer, "sub": "local-admin", "aud": audience, "email": self.admin_email,
            "cognito:groups": self.groups, "iat": now, "exp": now + 3600, "token_use": "id",
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        claims
    }

    /// The issuer's routes, at its URL's path.
    pub fn router(self) -> Router {
        let base = url::Url::parse(&self.issuer)
            .map(|url| url.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        Router::new()
            .route(&format!("{base}/.well-known/openid-configuration"), get(discovery))
            .route(&format!("{base}/jwks.json"), get(jwks))
            .route(&format!("{base}/authorize"), get(authorize))
            .route(&format!("{base}/token"), post(token))
            .with_state(self)
    }
}

async fn discovery(State(issuer): State<LocalIssuer>) -> Json<Value> {
    let base = issuer.issuer.trim_end_matches('/');
    Json(json!({
        "issuer": issuer.issuer,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks.json"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks(State(issuer): State<LocalIssuer>) -> Json<JwkSet> {
    Json(issuer.key.jwks())
}

#[derive(Debug, Deserialize)]
struct AuthorizeQuery {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    state: String,
    nonce: Option<String>,
    code_challenge: String,
    code_challenge_method: String,
}

fn refuse(why: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_request", "error_description": why})))
        .into_response()
}

/// Signs the local admin in at once and sends them back with a code.
async fn authorize(State(issuer): State<LocalIssuer>, Query(query): Query<AuthorizeQuery>) -> Response {
    let loopback = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"];
    if !loopback.iter().any(|prefix| query.redirect_uri.starts_with(prefix)) {
        return refuse("the local issuer only redirects to loopback addresses");
    }
    if query.response_type != "code" || query.code_challenge_method != "S256" {
        return refuse("only response_type=code with an S256 code_challenge");
    }
    let code = random_token();
    let grant = Grant {
        client_id: query.client_id,
        redirect_uri: query.redirect_uri.clone(),
        challenge: query.code_challenge,
        nonce: query.nonce,
    };
    issuer.codes.lock().expect("codes lock").insert(code.clone(), grant);
    let Ok(mut url) = url::Url::parse(&query.redirect_uri) else {
        return refuse("redirect_uri is not a URL");
    };
    url.query_pairs_mut().append_pair("code", &code).append_pair("state", &query.state);
    Redirect::to(url.as_str()).into_response()
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    grant_type: String,
    code: String,
    redirect_uri: String,
    client_id: String,
    code_verifier: String,
}

/// Answers the ID token of a code once, when the verifier, client and redirect URI match.
async fn token(State(issuer): State<LocalIssuer>, Form(form): Form<TokenForm>) -> Response {
    let grant = issuer.codes.lock().expect("codes lock").remove(&form.code);
    let Some(grant) = grant else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant"}))).into_response();
    };
    if form.grant_type != "authorization_code"
        || grant.client_id != form.client_id
        || grant.redirect_uri != form.redirect_uri
        || pkce_challenge(&form.code_verifier) != grant.challenge
    {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant"}))).into_response();
    }
    let id_token = issuer.key.sign(&issuer.admin_claims(&grant.client_id, grant.nonce.as_deref()));
    let mut access = issuer.admin_claims(&grant.client_id, None);
    access["token_use"] = json!("access");
    Json(json!({
        "id_token": id_token,
        "access_token": issuer.key.sign(&access),
        "token_type": "Bearer",
        "expires_in": 3600,
    }))
    .into_response()
}
