//! People's sign-in and the session cookie, through the router as API Gateway delivers requests
//! (the page's routes are not behind its JWT authorizer): the login redirect, the callback
//! against a local issuer with keys generated here, expired and tampered cookies, cookie posts
//! from another origin or site, forms without the session's token, and machine clients' bearer
//! JWTs verified by the function. The browser itself is in `browser.rs`.

mod common;

use autolearn_model::ProposalStatus;
use autolearn_testkit::fixtures;
use autolearn_testkit::http::{Reply, send};
use chrono::{Duration, Utc};
use common::*;
use dashboard_api::local_oidc::{LocalIssuer, SigningKey};
use dashboard_api::session::{SESSION_COOKIE, Session, SessionKey};
use serde_json::json;

const HOST: &str = "dashboard.example.com";

async fn setup() -> (Dash, LocalIssuer, SessionKey) {
    let issuer = serve_issuer("127.0.0.1", axum::Router::new()).await;
    let key = SessionKey::generate();
    let dash = Dash::with_sign_in(&issuer, key.clone()).await;
    for id in ["p-1", "p-2", "p-3"] {
        dash.store.create(&fixtures::proposal(id, "session-1", Utc::now())).await.unwrap();
    }
    (dash, issuer, key)
}

/// A request without authorizer claims or Authorization, to this host, with `headers`.
async fn request(dash: &Dash, method: &str, path: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
    request_to(dash, HOST, method, path, body, headers).await
}

async fn request_to(
    dash: &Dash,
    host: &str,
    method: &str,
    path: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let mut request = event(method, path, body, None);
    request.headers_mut().insert("host", host.parse().unwrap());
    if method == "POST" && path.starts_with("/admin/") {
        request.headers_mut().insert("content-type", "application/x-www-form-urlencoded".parse().unwrap());
    }
    for (name, value) in headers {
        let name = axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    send(&dash.router, request).await
}

fn cookie(key: &SessionKey, session: &Session) -> String {
    format!("{SESSION_COOKIE}={}", key.seal_session(session))
}

async fn status_of(dash: &Dash, id: &str) -> ProposalStatus {
    dash.store.proposal(id).await.unwrap().unwrap().status
}

#[tokio::test]
async fn the_login_flow_sets_a_strict_signed_session_cookie_and_returns_to_the_page() {
    let (dash, issuer, _) = setup().await;
    // The emailed link without a session: off to sign in, remembering where it was going.
    let reply = request(&dash, "GET", "/admin/ai/learning?days=90", "", &[]).await;
    assert_eq!(reply.status, 303, "{}", reply.text);
    assert_eq!(reply.headers["location"], "/admin/login?return_to=%2Fadmin%2Fai%2Flearning%3Fdays%3D90");

    let reply =
        request(&dash, "GET", "/admin/login?return_to=%2Fadmin%2Fai%2Flearning%3Fdays%3D90", "", &[]).await;
    assert_eq!(reply.status, 303, "{}", reply.text);
    let authorize = url::Url::parse(reply.headers["location"].to_str().unwrap()).unwrap();
    assert!(authorize.as_str().starts_with(&format!("{}/authorize?", issuer.issuer)), "{authorize}");
    let query: std::collections::HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["redirect_uri"], format!("https://{HOST}/admin/callback"));
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["response_type"], "code");
    let login_cookie = reply.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(login_cookie.starts_with("__Host-autolearn-login="), "{login_cookie}");
    for part in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=600"] {
        assert!(login_cookie.contains(part), "{login_cookie} lacks {part}");
    }

    // The issuer signs the admin in (it only redirects to loopback hosts: the same flow again,
    // to the dashboard as 127.0.0.1:9) and its redirect comes back with a code.
    let loopback = "127.0.0.1:9";
    let reply = request_to(&dash, loopback, "GET", "/admin/login", "", &[]).await;
    let login_cookie = reply.headers["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let authorize = reply.headers["location"].to_str().unwrap().to_owned();
    assert!(authorize.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fadmin%2Fcallback"), "{authorize}");
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let back = http.get(&authorize).send().await.unwrap();
    assert_eq!(back.status(), 303);
    let back = url::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(back.path(), "/admin/callback");
    let callback = format!("/admin/callback?{}", back.query().unwrap());
    let reply = request_to(&dash, loopback, "GET", &callback, "", &[("cookie", &login_cookie)]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    // On to the page by itself (and by the link), with the session and without the login state.
    assert_eq!(reply.headers["refresh"], "0;url=/admin/ai/learning");
    assert!(reply.text.contains("<a id=\"continue\" href=\"/admin/ai/learning\">"), "{}", reply.text);
    let cookies: Vec<&str> =
        reply.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
    let session =
        cookies.iter().find(|c| c.starts_with("__Host-autolearn-session=")).expect("a session cookie");
    for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age=3600"] {
        assert!(session.contains(part), "{session} lacks {part}");
    }
    assert!(cookies.iter().any(|c| c.starts_with("__Host-autolearn-login=;") && c.contains("Max-Age=0")));
    let session = session.split(';').next().unwrap();
    let reply = request_to(&dash, loopback, "GET", "/admin/ai/learning", "", &[("cookie", session)]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.text.contains("name=\"csrf\""), "the forms carry the session's token");
    // A code works once.
    let reply = request_to(&dash, loopback, "GET", &callback, "", &[("cookie", &login_cookie)]).await;
    assert_eq!(reply.status, 401, "{}", reply.text);
    assert!(reply.text.contains("invalid_grant"), "{}", reply.text);

    // A callback without the login cookie, or with another state.
    let reply = request(&dash, "GET", "/admin/callback?code=x&state=y", "", &[]).await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert!(reply.text.contains("the login cookie is missing"), "{}", reply.text);
    let reply = request_to(
        &dash,
        loopback,
        "GET",
        "/admin/callback?code=x&state=y",
        "",
        &[("cookie", &login_cookie)],
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert!(reply.text.contains("the state does not match"), "{}", reply.text);
    let reply =
        request(&dash, "GET", "/admin/callback?error=access_denied&error_description=nope", "", &[]).await;
    assert_eq!(reply.status, 401, "{}", reply.text);
    assert!(reply.text.contains("access_denied (nope)"), "{}", reply.text);
    // Only paths on this site are places to return to.
    for bad in ["https%3A%2F%2Fevil.example.com", "%2F%2Fevil.example.com", "%2F%5Cevil.example.com"] {
        let reply = request(&dash, "GET", &format!("/admin/login?return_to={bad}"), "", &[]).await;
        assert_eq!(reply.status, 422, "{bad}: {}", reply.text);
    }
}

#[tokio::test]
async fn an_expired_or_tampered_cookie_is_refused() {
    let (dash, _, key) = setup().await;
    let now = Utc::now();
    let good = cookie(&key, &Session::new("ann@example.com".into(), now));
    let reply = request(&dash, "GET", "/v1/learning/dashboard?days=7", "", &[("cookie", &good)]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let reply = request(&dash, "GET", "/admin/ai/learning", "", &[("cookie", &good)]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);

    let expired = cookie(
        &key,
        &Session { exp: (now - Duration::seconds(1)).timestamp(), ..Session::new("ann".into(), now) },
    );
    let reply = request(&dash, "GET", "/v1/learning/dashboard?days=7", "", &[("cookie", &expired)]).await;
    assert_eq!(reply.status, 401, "{}", reply.text);
    assert_eq!(
        reply.body["error"]["message"],
        "the session cookie has expired: sign in again at /admin/login"
    );

    // Tampered: the payload of another session under this one's signature, and a cookie signed
    // with another key.
    let other = key.seal_session(&Session::new("mallory@example.com".into(), now));
    let forged =
        format!("{SESSION_COOKIE}={}.{}", other.split_once('.').unwrap().0, good.rsplit_once('.').unwrap().1);
    let foreign = cookie(&SessionKey::generate(), &Session::new("ann".into(), now));
    for bad in [&forged, &foreign] {
        let reply = request(&dash, "GET", "/v1/learning/dashboard?days=7", "", &[("cookie", bad)]).await;
        assert_eq!(reply.status, 401, "{}", reply.text);
        assert!(
            reply.body["error"]["message"].as_str().unwrap().contains("signature does not match"),
            "{}",
            reply.text
        );
    }
    // The page sends the browser to sign in again and drops the bad cookie.
    for bad in [&expired, &forged] {
        let reply = request(&dash, "GET", "/admin/ai/learning", "", &[("cookie", bad)]).await;
        assert_eq!(reply.status, 303, "{}", reply.text);
        assert!(reply.headers["location"].to_str().unwrap().starts_with("/admin/login?return_to="));
        let clear = reply.headers["set-cookie"].to_str().unwrap();
        assert!(clear.starts_with(&format!("{SESSION_COOKIE}=;")) && clear.contains("Max-Age=0"), "{clear}");
    }
    // And a form posted with either changes nothing.
    let reply = request(
        &dash,
        "POST",
        "/admin/ai/learning/proposals/p-1/apply",
        "csrf=x",
        &[("cookie", &expired), ("sec-fetch-site", "same-origin")],
    )
    .await;
    assert_eq!(reply.status, 401, "{}", reply.text);
    assert_eq!(status_of(&dash, "p-1").await, ProposalStatus::Pending);
}

#[tokio::test]
async fn cookie_requests_from_another_site_or_without_the_form_token_are_refused() {
    let (dash, _, key) = setup().await;
    let session = Session::new("ann@example.com".into(), Utc::now());
    let jar = cookie(&key, &session);
    let form = format!("csrf={}", session.csrf);
    let same_origin = format!("https://{HOST}");
    let apply = "/admin/ai/learning/proposals/p-1/apply";

    // The page's form, posted from another origin or site, even with the right token.
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("origin", "https://evil.example.com")], "Origin https://evil.example.com is not this site"),
        (&[("origin", "null")], "Origin null is not this site"),
        (&[("sec-fetch-site", "cross-site"), ("origin", &same_origin)], "Sec-Fetch-Site: cross-site"),
        (&[], "must carry Origin or Sec-Fetch-Site"),
    ];
    for (headers, expected) in cases {
        let mut headers = headers.to_vec();
        headers.push(("cookie", &jar));
        let reply = request(&dash, "POST", apply, &form, &headers).await;
        assert_eq!(reply.status, 403, "{headers:?}: {}", reply.text);
        assert_eq!(reply.headers["content-type"], "text/html; charset=utf-8");
        assert!(reply.text.contains(expected), "{expected}: {}", reply.text);
    }
    // Same origin without the session's token, or with another session's.
    let other = Session::new("ann@example.com".into(), Utc::now());
    for body in ["", &format!("csrf={}", other.csrf) as &str] {
        let headers =
            [("cookie", jar.as_str()), ("origin", same_origin.as_str()), ("sec-fetch-site", "same-origin")];
        let reply = request(&dash, "POST", apply, body, &headers).await;
        assert_eq!(reply.status, 403, "{body}: {}", reply.text);
        assert!(reply.text.contains("CSRF token is missing or is not this session"), "{}", reply.text);
    }
    assert_eq!(status_of(&dash, "p-1").await, ProposalStatus::Pending);
    // The page's own post: applied, back to the page.
    let headers =
        [("cookie", jar.as_str()), ("origin", same_origin.as_str()), ("sec-fetch-site", "same-origin")];
    let reply = request(&dash, "POST", apply, &form, &headers).await;
    assert_eq!(reply.status, 303, "{}", reply.text);
    assert_eq!(status_of(&dash, "p-1").await, ProposalStatus::Applied);

    // /v1 POSTs on the cookie alone: refused from another origin, accepted from this one.
    let reply = request(
        &dash,
        "POST",
        "/v1/proposals/p-2/reject",
        "",
        &[("cookie", &jar), ("origin", "https://evil.example.com")],
    )
    .await;
    assert_eq!(reply.status, 403, "{}", reply.text);
    assert_eq!(reply.body["error"]["code"], "forbidden");
    assert!(reply.body["error"]["message"].as_str().unwrap().contains("Origin https://evil.example.com"));
    let reply = request(
        &dash,
        "POST",
        "/v1/learning/batch-runs",
        "",
        &[("cookie", &jar), ("sec-fetch-site", "same-site")],
    )
    .await;
    assert_eq!(reply.status, 403, "{}", reply.text);
    assert_eq!(status_of(&dash, "p-2").await, ProposalStatus::Pending);
    let reply = request(
        &dash,
        "POST",
        "/v1/proposals/p-2/reject",
        "",
        &[("cookie", &jar), ("origin", &same_origin), ("sec-fetch-site", "same-origin")],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(status_of(&dash, "p-2").await, ProposalStatus::Rejected);

    // Signing out needs the token too, and drops the cookie.
    let reply = request(&dash, "POST", "/admin/logout", "", &headers).await;
    assert_eq!(reply.status, 403, "{}", reply.text);
    let reply = request(&dash, "POST", "/admin/logout", &form, &headers).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.headers["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
}

#[tokio::test]
async fn a_machine_clients_bearer_jwt_still_works() {
    let (dash, issuer, _) = setup().await;
    // An access token of the issuer: the client in client_id, no aud (as Cognito's).
    let mut access = issuer.admin_claims("unused", None);
    access.as_object_mut().unwrap().remove("aud");
    access["client_id"] = json!(CLIENT_ID);
    access["token_use"] = json!("access");
    let token = issuer.key.sign(&access);
    let bearer = format!("Bearer {token}");
    for path in ["/v1/learning/dashboard?days=7", "/v1/proposals", "/admin/ai/learning"] {
        let reply = request(&dash, "GET", path, "", &[("authorization", &bearer)]).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
    }
    // Not a cookie: no origin rules for it.
    let reply = request(
        &dash,
        "POST",
        "/v1/proposals/p-3/apply",
        "",
        &[("authorization", &bearer), ("origin", "https://tools.example.com")],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(status_of(&dash, "p-3").await, ProposalStatus::Applied);
    // The JWT authorizer's claims (the /v1 routes in AWS) still work too.
    assert_eq!(dash.admin("GET", "/v1/proposals", "").await.status, 200);

    // Refused: another key, another audience, no admin group, expired.
    let foreign = SigningKey::generate().sign(&access);
    let mut other_client = access.clone();
    other_client["client_id"] = json!("someone-else");
    let mut no_group = access.clone();
    no_group["cognito:groups"] = json!(["readers"]);
    let mut expired = access.clone();
    expired["exp"] = json!(Utc::now().timestamp() - 3600);
    for (token, status, message) in [
        (foreign, 401, "the token is signed with a key the issuer does not publish"),
        (issuer.key.sign(&other_client), 401, "the token is not meant for this application (audience)"),
        (issuer.key.sign(&no_group), 403, "admin group autolearn-admins required"),
        (issuer.key.sign(&expired), 401, "the token has expired"),
    ] {
        let reply =
            request(&dash, "GET", "/v1/proposals", "", &[("authorization", &format!("Bearer {token}"))])
                .await;
        assert_eq!(reply.status, status, "{}", reply.text);
        assert_eq!(reply.body["error"]["message"], message);
    }
}
