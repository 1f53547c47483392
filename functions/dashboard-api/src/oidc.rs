//! OpenID Connect against any issuer (a Cognito user pool in the template): the discovery
//! document, the issuer's keys (JWKS, fetched once and cached, fetched again when a token names
//! a key not seen yet), the authorization code exchange with PKCE, and the verification of the
//! tokens themselves — signature, issuer, audience, expiry, nonce and the admin group — which
//! this function does itself for the routes API Gateway's JWT authorizer does not guard.
//!
//! [`verify_token`] is the whole check, pure (keys and time are arguments); [`OidcProvider`]
//! adds the network around it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use autolearn_web::ApiError;
use autolearn_web::https::HttpsClient;

/// The algorithms accepted in a token header (asymmetric only: never `none` nor an HMAC).
pub const ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// Tolerated clock difference with the issuer, in seconds.
pub const LEEWAY_SECONDS: i64 = 30;

/// What a token must say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectations {
    /// The issuer, exactly (`iss`).
    pub issuer: String,
    /// Accepted audiences: an ID token's `aud`, or an access token's `client_id` (Cognito).
    pub audiences: Vec<String>,
    /// The claim listing a person's groups (`cognito:groups`).
    pub groups_claim: String,
    /// The group an admin belongs to.
    pub admin_group: String,
}

/// Why a token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT: {0}")]
    Malformed(String),
    #[error("the token's algorithm {0} is not accepted")]
    Algorithm(String),
    #[error("the token is signed with a key the issuer does not publish")]
    UnknownKey,
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token was issued by {found:?}, not by the configured issuer")]
    WrongIssuer { found: String },
    #[error("the token is not meant for this application (audience)")]
    WrongAudience,
    #[error("the token has expired")]
    Expired,
    #[error("the token does not answer this sign-in (nonce)")]
    Nonce,
    #[error("admin group {0} required")]
    NotAdmin(String),
    /// The identity provider refused the sign-in (e.g. the token endpoint's invalid_grant).
    #[error("the identity provider refused the sign-in: {0}")]
    Refused(String),
    /// The identity provider could not be reached or answered something unusable.
    #[error("identity provider: {0}")]
    Provider(String),
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::NotAdmin(_) => Self::Forbidden(error.to_string()),
            TokenError::Provider(detail) => Self::Internal(format!("identity provider: {detail}")),
            other => Self::Unauthorized(other.to_string()),
        }
    }
}

/// A verified admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// `email` when present, else `sub`.
    pub subject: String,
}

/// The groups of a claim: a JSON array, or a string as API Gateway flattens it.
fn groups(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Some(Value::String(text)) => autolearn_web::admin::groups_of(text),
        _ => Vec::new(),
    }
}

/// Verifies `token` with the issuer's `keys` at `now` (seconds since the epoch); `nonce` is the
/// one this sign-in sent, for an ID token coming back from the callback.
pub fn verify_token(
    token: &str,
    keys: &JwkSet,
    expect: &Expectations,
    nonce: Option<&str>,
    now: i64,
) -> Result<VerifiedToken, TokenError> {
    crate::jwt_crypto::install();
    let header =
        jsonwebtoken::decode_header(token).map_err(|error| TokenError::Malformed(error.to_string()))?;
    if !ALGORITHMS.contains(&header.alg) {
        return Err(TokenError::Algorithm(format!("{:?}", header.alg)));
    }
    let jwk = match header.kid.as_deref() {
        Some(kid) => keys.find(kid),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
    .ok_or(TokenError::UnknownKey)?;
    if let Some(declared) = jwk.common.key_algorithm
        && format!("{declared:?}") != format!("{:?}", header.alg)
    {
        return Err(TokenError::Algorithm(format!("{:?} with a {declared:?} key", header.alg)));
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|_| TokenError::UnknownKey)?;
    let mut validation = Validation::new(header.alg);
    // Checked below, against `now` and with the audience rules of both token kinds.
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
        .map_err(|error| match error.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::BadSignature,
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => {
                TokenError::Algorithm(format!("{:?}", header.alg))
            }
            _ => TokenError::Malformed(error.to_string()),
        })?
        .claims;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let issuer = text("iss").unwrap_or_default();
    if issuer != expect.issuer {
        return Err(TokenError::WrongIssuer { found: issuer.to_owned() });
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let meant_for_us = audiences
        .iter()
        .chain(text("client_id").as_ref())
        .any(|aud| expect.audiences.iter().any(|ours| ours == aud));
    if !meant_for_us {
        return Err(TokenError::WrongAudience);
    }
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp + LEEWAY_SECONDS > now => {}
        _ => return Err(TokenError::Expired),
    }
    if let Some(expected) = nonce {
        let presented = text("nonce").unwrap_or_default();
        if !bool::from(subtle::ConstantTimeEq::ct_eq(presented.as_bytes(), expected.as_bytes())) {
            return Err(TokenError::Nonce);
        }
    }
    if !groups(claims.get(&expect.groups_claim)).contains(&expect.admin_group) {
        return Err(TokenError::NotAdmin(expect.admin_group.clone()));
    }
    let subject = ["email", "sub", "username", "cognito:username"]
        .iter()
        .find_map(|name| text(name).filter(|value| !value.is_empty()))
        .unwrap_or("admin")
        .to_owned();
    Ok(VerifiedToken { subject })
}

/// The parts of the discovery document used here.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
}

/// The sign-in client at an issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    pub expect: Expectations,
    /// The app client that signs people in (authorization code with PKCE, no secret).
    pub client_id: String,
    pub scopes: String,
}

/// How long keys are trusted before they are fetched again, and the least time between two
/// fetches caused by an unknown key id (a token naming a made-up key cannot hammer the issuer).
const JWKS_MAX_AGE: Duration = Duration::from_secs(3600);
const JWKS_MIN_REFRESH: Duration = Duration::from_secs(30);

/// An issuer, with its discovery document and keys cached for the life of the process.
#[derive(Debug)]
pub struct OidcProvider {
    pub settings: OidcSettings,
    http: HttpsClient,
    discovery: tokio::sync::OnceCell<Discovery>,
    jwks: tokio::sync::RwLock<Option<(Instant, Arc<JwkSet>)>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
}

impl OidcProvider {
    pub fn new(settings: OidcSettings) -> Self {
        // Redirects are not followed: an issuer's endpoints answer where discovery says.
        let http = HttpsClient::new(Duration::from_secs(5));
        Self { settings, http, discovery: Default::default(), jwks: Default::default() }
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, TokenError> {
        let response = self
            .http
            .get_json(url)
            .await
            .map_err(|error| TokenError::Provider(format!("GET {url}: {error}")))?;
        if !response.status.is_success() {
            return Err(TokenError::Provider(format!("GET {url} answered {}", response.status)));
        }
        serde_json::from_slice(&response.body)
            .map_err(|error| TokenError::Provider(format!("GET {url}: {error}")))
    }

    /// The discovery document, fetched once.
    pub async fn discovery(&self) -> Result<&Discovery, TokenError> {
        self.discovery
            .get_or_try_init(|| async {
                let issuer = self.settings.expect.issuer.trim_end_matches('/');
                let document: Discovery =
                    self.get_json(&format!("{issuer}/.well-known/openid-configuration")).await?;
                if document.issuer != self.settings.expect.issuer {
                    return Err(TokenError::Provider(format!(
                        "the discovery document names issuer {:?}",
                        document.issuer
                    )));
                }
                Ok(document)
            })
            .await
    }

    /// The issuer's keys: cached; fetched again when older than an hour, or when `kid` is not
    /// among them (at most every 30 seconds).
    async fn keys(&self, kid: Option<&str>) -> Result<Arc<JwkSet>, TokenError> {
        if let Some((fetched, keys)) = self.jwks.read().await.as_ref() {
            let known = kid.is_none_or(|kid| keys.find(kid).is_some());
            if fetched.elapsed() < JWKS_MAX_AGE && (known || fetched.elapsed() < JWKS_MIN_REFRESH) {
                return Ok(keys.clone());
            }
        }
        let jwks_uri = self.discovery().await?.jwks_uri.clone();
        let keys: Arc<JwkSet> = Arc::new(self.get_json(&jwks_uri).await?);
        *self.jwks.write().await = Some((Instant::now(), keys.clone()));
        Ok(keys)
    }

    /// Verifies a token of this issuer now.
    pub async fn verify(&self, token: &str, nonce: Option<&str>) -> Result<VerifiedToken, TokenError> {
        let kid =
            jsonwebtoken::decode_header(token).map_err(|error| TokenError::Malformed(error.to_string()))?.kid;
        let keys = self.keys(kid.as_deref()).await?;
        verify_token(token, &keys, &self.settings.expect, nonce, chrono::Utc::now().timestamp())
    }

    /// Where to send a person to sign in.
    pub async fn authorize_url(
        &self,
        redirect_uri: &str,
        state: &str,
        nonce: &str,
        challenge: &str,
    ) -> Result<String, TokenError> {
        let endpoint = &self.discovery().await?.authorization_endpoint;
        let mut url = url::Url::parse(endpoint)
            .map_err(|error| TokenError::Provider(format!("authorization_endpoint: {error}")))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &self.settings.scopes)
            .append_pair("state", state)
            .append_pair("nonce", nonce)
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(url.into())
    }

    /// Exchanges an authorization code (with its PKCE verifier) for the ID token.
    pub async fn exchange(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<String, TokenError> {
        let endpoint = self.discovery().await?.token_endpoint.clone();
        let fields = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", self.settings.client_id.as_str()),
            ("code_verifier", verifier),
        ];
        let response = self
            .http
            .post_form(&endpoint, &fields)
            .await
            .map_err(|error| TokenError::Provider(format!("token endpoint: {error}")))?;
        let status = response.status;
        if !status.is_success() {
            // The body may say why (invalid_grant); it carries no token, so it may be shown.
            let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
            let reason = body.get("error").and_then(Value::as_str).unwrap_or("no reason given");
            let answer = format!("the token endpoint answered {status}: {reason}");
            return Err(if status.is_client_error() {
                TokenError::Refused(answer)
            } else {
                TokenError::Provider(answer)
            });
        }
        let tokens: TokenResponse = serde_json::from_slice(&response.body)
            .map_err(|error| TokenError::Provider(format!("token endpoint: {error}")))?;
        tokens.id_token.ok_or_else(|| TokenError::Provider("the token endpoint returned no id_token".into()))
    }
}

/// The S256 PKCE challenge of a verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::local_oidc::SigningKey;
    use serde_json::json;

    const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_test";
    const NOW: i64 = 1_800_000_000;

    fn expect() -> Expectations {
        Expectations {
            issuer: ISSUER.into(),
            audiences: vec!["client-1".into()],
            groups_claim: "cognito:groups".into(),
            admin_group: "autolearn-admins".into(),
        }
    }

    fn claims() -> Value {
        json!({
            "iss": ISSUER, "sub": "u-1", "aud": "client-1", "email": "ann@example.com",
            "cognito:groups": ["readers", "autolearn-admins"], "exp": NOW + 600, "nonce": "n-1",
        })
    }

    fn check(key: &SigningKey, keys: &JwkSet, claims: &Value) -> Result<VerifiedToken, TokenError> {
        verify_token(&key.sign(claims), keys, &expect(), Some("n-1"), NOW)
    }

    #[test]
    fn a_good_id_token_names_the_admin() {
        let key = SigningKey::generate();
        assert_eq!(
            check(&key, &key.jwks(), &claims()),
            Ok(VerifiedToken { subject: "ann@example.com".into() })
        );
        // An access token: no aud, the client in client_id, no nonce asked.
        let mut access = claims();
        access.as_object_mut().unwrap().remove("aud");
        access["client_id"] = json!("client-1");
        assert!(verify_token(&key.sign(&access), &key.jwks(), &expect(), None, NOW).is_ok());
    }

    #[test]
    fn each_wrong_claim_is_refused_by_name() {
        let key = SigningKey::generate();
        let with = |name: &str, value: Value| {
            let mut claims = claims();
            claims[name] = value;
            check(&key, &key.jwks(), &claims)
        };
        assert_eq!(
            with("iss", json!("https://evil.example.com")),
            Err(TokenError::WrongIssuer { found: "https://evil.example.com".into() })
        );
        assert_eq!(with("aud", json!("client-2")), Err(TokenError::WrongAudience));
        assert_eq!(with("aud", json!(["client-2", "client-3"])), Err(TokenError::WrongAudience));
        assert_eq!(with("exp", json!(NOW - LEEWAY_SECONDS - 1)), Err(TokenError::Expired));
        assert_eq!(with("nonce", json!("n-2")), Err(TokenError::Nonce));
        assert_eq!(
            with("cognito:groups", json!(["readers"])),
            Err(TokenError::NotAdmin("autolearn-admins".into()))
        );
        assert_eq!(
            with("cognito:groups", json!("autolearn-admins-not")),
            Err(TokenError::NotAdmin("autolearn-admins".into()))
        );
        let mut no_exp = claims();
        no_exp.as_object_mut().unwrap().remove("exp");
        assert_eq!(check(&key, &key.jwks(), &no_exp), Err(TokenError::Expired));
        let mut no_groups = claims();
        no_groups.as_object_mut().unwrap().remove("cognito:groups");
        assert_eq!(
            check(&key, &key.jwks(), &no_groups),
            Err(TokenError::NotAdmin("autolearn-admins".into()))
        );
    }

    #[test]
    fn a_bad_signature_or_a_foreign_key_is_refused() {
        let key = SigningKey::generate();
        let token = key.sign(&claims());
        // The payload of another token under this token's signature.
        let mut other = claims();
        other["sub"] = json!("u-2");
        let other = key.sign(&other);
        let parts: Vec<&str> = token.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], other.split('.').nth(1).unwrap(), parts[2]);
        assert_eq!(
            verify_token(&forged, &key.jwks(), &expect(), Some("n-1"), NOW),
            Err(TokenError::BadSignature)
        );
        // Signed by a key of the same id that the issuer does not publish.
        let mut impostor = SigningKey::generate();
        impostor.kid = key.kid.clone();
        assert_eq!(check(&impostor, &key.jwks(), &claims()), Err(TokenError::BadSignature));
        // A key id the issuer does not publish.
        assert_eq!(check(&SigningKey::generate(), &key.jwks(), &claims()), Err(TokenError::UnknownKey));
        // An HMAC token (alg confusion) and an unsigned one.
        let hs = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &claims(),
            &jsonwebtoken::EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        assert!(matches!(
            verify_token(&hs, &key.jwks(), &expect(), Some("n-1"), NOW),
            Err(TokenError::Algorithm(_))
        ));
        let none = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), parts[1]);
        assert!(verify_token(&none, &key.jwks(), &expect(), Some("n-1"), NOW).is_err());
        assert!(matches!(
            verify_token("not-a-jwt", &key.jwks(), &expect(), None, NOW),
            Err(TokenError::Malformed(_))
        ));
    }

    /// An RSA key made for this test only (`openssl genpkey -algorithm RSA -pkeyopt
    /// rsa_keygen_bits:2048`, then `openssl rsa -traditional -outform DER`: PKCS#1, base64) and
    /// its public JWK: Cognito signs its tokens RS256.
    pub(crate) const RSA_KEY_PKCS1: &str = concat!(
        "MIIEowIBAAKCAQEAqssAeWu24IwUpysIB0DAcJZ/FomLq/NVuJQdJMx/+rN7BnPwVgBLFf+DJcpawrSo5920WUkJ",
        "ZwshwF39vvkvd73e2BoCiOmISqbPWQ5RKCNp3VNnFCTmdMZAkFVd3ixzqUK4JyhyuoGbKZbZzING9om4dvbXTPDn",
        "gMVUJLvb/saulNHCV9jg0BJgoU0ROoxm5Io54+MhPnxS5amDeMrK8czudEd5cBmjO7kBST44kKeYfLW9KSUidp44",
        "DfVm9sQp7FvyjsnEosGbi4K20ZaWxlL8X1TWQSn6iNQnmAgvOwAmJNF9Gvnkwy9aUGZsVEEb11e4Ab6atoxS7sjD",
        "FF+EzwIDAQABAoIBAATaO6s3ejyq/jM5r8K0/kK0o+u6ALPj9/2Eh8dx3/j5fHdUd/GZlIiNd+Zs92Msyte7ntIi",
        "lxfMYysaAImaftTCGkC9jHDjYbHtR1raY0fmqa1WH0mdOsb6kv8GzeHwFWEruhuytH/ECuqFlK6Q1EVQ6GLI5JkV",
        "Bx7LfHaGt9tnMc7u6kTuNeD9/PV5Y8MfwQyNL9sJGFoQaXDMi58Ja/Pg00VxXXhatVxYPQ/+x4+AUcOeuuGCBQzu",
        "R8SkM2SWlBUKXeuzQ7qI+dhnTLVe88BufJm7cfTntcQLEF8Ra8Os3guclNc7wNsutnQvbQToVCSUbs2sc68ClwQi",
        "En2PM+ECgYEA2Knn4zL016Aus76VT/nMR254fiT67F9cyDEoLgEQgebosfGTCOKKtZfofaMNNKS4tocd3+2KmTHp",
        "uZ2aFIBxv5lLxYVsfx4ZBeiCZDlnj9BDoQVQxcNbmm0MO2i1LDSBeuQ8O/0hVDupT7FHFt4nVwPO2rE0a9fF5IqU",
        "zh5VwkcCgYEAyc0d84NqYvAdJsXMNTiRWonVu7cTvIyGuY8cXGZCz5nFSAXHj/A/xnLspJ0jmksXITYk20Z6kAMU",
        "FqW0rwUJdI0FUd+uMTKeohiISA2k1hnGEnQhzeZXfqoaW4fk6Hor8MEvLVgO/zcEB3kxUQQTkzTLxI1pRlEgWATp",
        "oN61JTkCgYEA1UZq/TsryRXk4wq38AH1FFuqQIImfodgza+V3bMujLDAXmluU1CtOhROx125ohiDuylGPyeVRzfa",
        "2txIz+WgEvrTm5u7MWZvO2Gk+QOI7ggUimyxFfs4MMsnP1PTA7CrxEzm/iYuqLwR7mCTme8UypL1DFFjSMUeB9pi",
        "oIM76AECgYB1769KaooZSlTvHPgMPoQMUrObohIhxkrSVUXw5j6zjx2RyvbnMzRCaVXNmpx9Btd8rGT71YO5eGMc",
        "HTmsc5gkCmqKf9wQmpHFD+tNmNO14Jg2nrJG4BBQUV9YEOKBzyyw5mYI7QbOtrtfFr/wph4+kMNpmm9lDfKGHlDf",
        "mGhrWQKBgFgAX8rft7Gz+fiI2bIRT5mQKsG1Rh5Rf+6jPIP/YayqUIBtXDdLYYH1njETqFxYKf5BY+DFb3c80aVL",
        "Lnb3f6db53N++krK+C2yDom26APXnE4o3Po/dL4wHmxVKCBArScMVGQSG5GM3+040I285N4EM6a6Z+DIfDR8ZnBj",
        "yJ2r",
    );
    pub(crate) const RSA_MODULUS: &str = "qssAeWu24IwUpysIB0DAcJZ_FomLq_NVuJQdJMx_-rN7BnPwVgBLFf-DJcpawrSo5920WUkJZwshwF39vvkvd73e2BoCiOmISqbPWQ5RKCNp3VNnFCTmdMZAkFVd3ixzqUK4JyhyuoGbKZbZzING9om4dvbXTPDngMVUJLvb_saulNHCV9jg0BJgoU0ROoxm5Io54-MhPnxS5amDeMrK8czudEd5cBmjO7kBST44kKeYfLW9KSUidp44DfVm9sQp7FvyjsnEosGbi4K20ZaWxlL8X1TWQSn6iNQnmAgvOwAmJNF9Gvnkwy9aUGZsVEEb11e4Ab6atoxS7sjDFF-Ezw";

    #[test]
    fn an_rs256_token_as_cognito_signs_verifies_and_a_changed_one_does_not() {
        let keys: JwkSet = serde_json::from_value(json!({"keys": [{
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": "rsa-1", "n": RSA_MODULUS, "e": "AQAB",
        }]}))
        .unwrap();
        let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
        header.kid = Some("rsa-1".into());
        let signing = jsonwebtoken::EncodingKey::from_rsa_der(
            &base64::Engine::decode(&base64::engine::general_purpose::STANDARD, RSA_KEY_PKCS1).unwrap(),
        );
        crate::jwt_crypto::install();
        let sign = |claims: &Value| jsonwebtoken::encode(&header, claims, &signing).unwrap();
        let token = sign(&claims());
        assert_eq!(
            verify_token(&token, &keys, &expect(), Some("n-1"), NOW),
            Ok(VerifiedToken { subject: "ann@example.com".into() })
        );
        let mut other = claims();
        other["sub"] = json!("u-2");
        let other = sign(&other);
        let parts: Vec<&str> = token.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], other.split('.').nth(1).unwrap(), parts[2]);
        assert_eq!(verify_token(&forged, &keys, &expect(), Some("n-1"), NOW), Err(TokenError::BadSignature));
    }

    fn b64(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn the_pkce_challenge_is_the_base64url_sha256_of_the_verifier() {
        // Computed independently: base64.urlsafe_b64encode(hashlib.sha256(v).digest()) in Python.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wJ1mtDrj7aOk"),
            "tJleqHN897k2Oe4Kr2qF5RxJb7oJP7UIwk9qr-qkuQw"
        );
    }
}
