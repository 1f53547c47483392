//! The signed cookies of people's sign-in: the session (`__Host-autolearn-session`, HttpOnly,
//! Secure, SameSite=Strict, one hour) and the short login state (`__Host-autolearn-login`,
//! SameSite=Lax so that it comes back with the identity provider's redirect, ten minutes).
//!
//! A value is `base64url(JSON payload) "." base64url(HMAC-SHA256(key, purpose "." payload))`:
//! the purpose in the MAC keeps a login state from passing for a session. The payload carries its
//! own expiry, checked here, so a cookie kept beyond its `Max-Age` is refused all the same.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use cookie::{Cookie, SameSite};
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The session cookie.
pub const SESSION_COOKIE: &str = "__Host-autolearn-session";
/// The login state between `/admin/login` and `/admin/callback`.
pub const LOGIN_COOKIE: &str = "__Host-autolearn-login";
/// How long a session lasts.
pub const SESSION_TTL: chrono::Duration = chrono::Duration::hours(1);
/// How long a sign-in may take at the identity provider.
pub const LOGIN_TTL: chrono::Duration = chrono::Duration::minutes(10);
/// The shortest accepted key, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// Why a cookie is refused. The messages name the problem without repeating the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CookieError {
    #[error("the {0} cookie is not well formed")]
    Malformed(&'static str),
    #[error("the {0} cookie's signature does not match (tampered, or signed with another key)")]
    BadSignature(&'static str),
    #[error("the {0} cookie has expired")]
    Expired(&'static str),
}

/// The HMAC key of the cookies (from configuration; the local runner generates one).
#[derive(Clone)]
pub struct SessionKey(Vec<u8>);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(<hidden>)")
    }
}

impl SessionKey {
    /// A key of at least [`MIN_KEY_BYTES`] bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, String> {
        let bytes = bytes.into();
        if bytes.len() < MIN_KEY_BYTES {
            return Err(format!("must be at least {MIN_KEY_BYTES} bytes, not {}", bytes.len()));
        }
        Ok(Self(bytes))
    }

    /// A fresh random key (the local runner's, and tests').
    pub fn generate() -> Self {
        Self(random_bytes::<32>().to_vec())
    }

    fn mac(&self, purpose: &str, payload: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        mac
    }

    /// Signs `value` for `purpose`.
    pub fn sign<T: Serialize>(&self, purpose: &str, value: &T) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("cookie payloads serialize"));
        let tag = URL_SAFE_NO_PAD.encode(self.mac(purpose, &payload).finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    /// The value signed for `purpose`, if the signature holds (compared in constant time).
    pub fn verify<T: DeserializeOwned>(&self, purpose: &'static str, signed: &str) -> Result<T, CookieError> {
        let (payload, tag) = signed.split_once('.').ok_or(CookieError::Malformed(purpose))?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| CookieError::Malformed(purpose))?;
        self.mac(purpose, payload).verify_slice(&tag).map_err(|_| CookieError::BadSignature(purpose))?;
        let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| CookieError::Malformed(purpose))?;
        serde_json::from_slice(&json).map_err(|_| CookieError::Malformed(purpose))
    }
}

/// `N` random bytes.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The operating system's CSPRNG (getrandom), through ring, which TLS and the JWT checks use.
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .expect("the operating system's random number generator answers");
    bytes
}

/// A random URL-safe token of 32 bytes.
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// A signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Who (the ID token's subject, or its email when present).
    pub sub: String,
    /// The form token of this session (CSRF).
    pub csrf: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
}

impl Session {
    pub fn new(sub: String, now: DateTime<Utc>) -> Self {
        Self { sub, csrf: random_token(), exp: (now + SESSION_TTL).timestamp() }
    }
}

/// What `/admin/callback` needs from `/admin/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginState {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    /// Where to go after sign-in (a path on this site).
    pub return_to: String,
    pub exp: i64,
}

const SESSION_PURPOSE: &str = "session";
const LOGIN_PURPOSE: &str = "login";

impl SessionKey {
    pub fn seal_session(&self, session: &Session) -> String {
        self.sign(SESSION_PURPOSE, session)
    }

    /// The session of a cookie value, refused when not signed by this key or expired at `now`.
    pub fn open_session(&self, value: &str, now: DateTime<Utc>) -> Result<Session, CookieError> {
        let session: Session = self.verify(SESSION_PURPOSE, value)?;
        if session.exp <= now.timestamp() {
            return Err(CookieError::Expired(SESSION_PURPOSE));
        }
        Ok(session)
    }

    pub fn seal_login(&self, login: &LoginState) -> String {
        self.sign(LOGIN_PURPOSE, login)
    }

    pub fn open_login(&self, value: &str, now: DateTime<Utc>) -> Result<LoginState, CookieError> {
        let login: LoginState = self.verify(LOGIN_PURPOSE, value)?;
        if login.exp <= now.timestamp() {
            return Err(CookieError::Expired(LOGIN_PURPOSE));
        }
        Ok(login)
    }
}

/// A `Set-Cookie` value: `__Host-` (Secure, Path=/, no Domain), HttpOnly.
pub fn set_cookie(
    name: &'static str,
    value: String,
    max_age: chrono::Duration,
    same_site: SameSite,
) -> String {
    Cookie::build((name, value))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(same_site)
        .max_age(cookie::time::Duration::seconds(max_age.num_seconds()))
        .build()
        .to_string()
}

/// A `Set-Cookie` value that removes a cookie.
pub fn clear_cookie(name: &'static str, same_site: SameSite) -> String {
    set_cookie(name, String::new(), chrono::Duration::zero(), same_site)
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie_value<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SessionKey {
        SessionKey::new(vec![7u8; 32]).unwrap()
    }

    #[test]
    fn a_session_round_trips_until_it_expires() {
        let now = Utc::now();
        let session = Session::new("admin@example.com".into(), now);
        let sealed = key().seal_session(&session);
        assert_eq!(key().open_session(&sealed, now), Ok(session.clone()));
        let later = now + SESSION_TTL;
        assert_eq!(key().open_session(&sealed, later), Err(CookieError::Expired("session")));
    }

    #[test]
    fn tampered_foreign_or_misused_values_are_refused() {
        let now = Utc::now();
        let sealed = key().seal_session(&Session::new("a".into(), now));
        // Another payload under the old tag.
        let other = key().seal_session(&Session::new("b".into(), now));
        let forged = format!("{}.{}", other.split_once('.').unwrap().0, sealed.split_once('.').unwrap().1);
        assert_eq!(key().open_session(&forged, now), Err(CookieError::BadSignature("session")));
        // Another key.
        let foreign = SessionKey::new(vec![8u8; 32]).unwrap();
        assert_eq!(foreign.open_session(&sealed, now), Err(CookieError::BadSignature("session")));
        // A login state is not a session.
        let login = LoginState {
            state: "s".into(),
            nonce: "n".into(),
            verifier: "v".into(),
            return_to: "/".into(),
            exp: now.timestamp() + 60,
        };
        assert_eq!(
            key().open_session(&key().seal_login(&login), now),
            Err(CookieError::BadSignature("session"))
        );
        assert_eq!(key().open_session("garbage", now), Err(CookieError::Malformed("session")));
    }

    #[test]
    fn short_keys_are_refused_and_cookies_carry_their_attributes() {
        assert!(SessionKey::new(vec![1u8; 31]).is_err());
        let line = set_cookie(SESSION_COOKIE, "v".into(), SESSION_TTL, SameSite::Strict);
        for part in
            ["__Host-autolearn-session=v", "HttpOnly", "SameSite=Strict", "Secure", "Path=/", "Max-Age=3600"]
        {
            assert!(line.contains(part), "{line} lacks {part}");
        }
        assert!(!line.contains("Domain"));
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("cookie", "a=1; __Host-autolearn-session=xyz; b=2".parse().unwrap());
        assert_eq!(cookie_value(&headers, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie_value(&headers, LOGIN_COOKIE), None);
    }
}
