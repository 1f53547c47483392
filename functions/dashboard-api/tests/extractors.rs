//! Every way a request's parameters or body can fail extraction answers the documented JSON
//! error (`{"error": {"code", "message", "field"}}`) naming the bad parameter, through API
//! Gateway events as in AWS: a duplicated query parameter, a bad `limit`, a path parameter that
//! is not UTF-8, a review form that is not urlencoded, an unmatched route and a wrong method.

mod common;

use autolearn_testkit::http::{Reply, send};
use common::*;

/// Asserts the JSON error: status, `error.code` and `error.field`.
fn assert_error(reply: &Reply, status: u16, code: &str, field: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.headers["content-type"], "application/json", "{}", reply.text);
    assert_eq!(reply.body["error"]["code"], code, "{}", reply.text);
    assert_eq!(reply.body["error"]["field"].as_str(), field, "{}", reply.text);
    assert!(
        reply.body["error"]["message"].as_str().is_some_and(|message| !message.is_empty()),
        "{}",
        reply.text
    );
}

/// A form post to the page's review routes, as the browser sends it from the page.
async fn post_form(dash: &Dash, path: &str, content_type: Option<&str>, body: &str) -> Reply {
    let mut request = event("POST", path, body, Some(admin_claims()));
    request.headers_mut().remove("content-type");
    if let Some(content_type) = content_type {
        request.headers_mut().insert("content-type", content_type.parse().unwrap());
    }
    request.headers_mut().insert("sec-fetch-site", "same-origin".parse().unwrap());
    send(&dash.router, request).await
}

#[tokio::test]
async fn a_duplicated_query_parameter_is_named() {
    let dash = Dash::new().await;
    for path in ["/v1/learning/dashboard", "/admin/ai/learning"] {
        let reply = dash.admin("GET", &format!("{path}?days=1&days=2"), "").await;
        assert_error(&reply, 422, "invalid_request", Some("days"));
        assert!(reply.body["error"]["message"].as_str().unwrap().contains("duplicate"), "{}", reply.text);
    }
    let reply = dash.admin("GET", "/v1/proposals?status=pending&status=applied", "").await;
    assert_error(&reply, 422, "invalid_request", Some("status"));
}

#[tokio::test]
async fn a_bad_limit_is_named() {
    let dash = Dash::new().await;
    for query in ["limit=many", "limit=0", "limit=101", "limit=1&limit=2"] {
        let reply = dash.admin("GET", &format!("/v1/proposals?{query}"), "").await;
        assert_error(&reply, 422, "invalid_request", Some("limit"));
    }
    let reply = dash.admin("GET", "/v1/proposals?limit=2", "").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[tokio::test]
async fn a_path_parameter_that_is_not_utf8_is_named() {
    let dash = Dash::new().await;
    for path in ["/v1/proposals/%FF/apply", "/v1/proposals/%C3%28/reject"] {
        let reply = dash.admin("POST", path, "").await;
        assert_error(&reply, 422, "invalid_request", Some("id"));
    }
    let reply = post_form(&dash, "/admin/ai/learning/proposals/%FF/apply", None, "").await;
    assert_error(&reply, 422, "invalid_request", Some("id"));
    // A well-formed id that names nothing is still 404.
    let reply = dash.admin("POST", "/v1/proposals/p-none/apply", "").await;
    assert_error(&reply, 404, "not_found", None);
}

#[tokio::test]
async fn a_review_form_that_is_not_urlencoded_is_malformed() {
    let dash = Dash::new().await;
    let path = "/admin/ai/learning/proposals/p-none/reject";
    for (content_type, body) in [
        (Some("application/json"), r#"{"note": "dup"}"#),
        (
            Some("multipart/form-data; boundary=x"),
            "--x\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\ndup\r\n--x--",
        ),
        (Some("text/plain"), "note=dup"),
        (None, "note=dup"),
    ] {
        let reply = post_form(&dash, path, content_type, body).await;
        assert_error(&reply, 400, "malformed_request", None);
        let message = reply.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("application/x-www-form-urlencoded"), "{message}");
    }
    // A urlencoded form with the note twice names it.
    let reply = post_form(&dash, path, Some("application/x-www-form-urlencoded"), "note=a&note=b").await;
    assert_error(&reply, 422, "invalid_request", Some("note"));
    // A well-formed form reaches the handler: the proposal does not exist, said as a page (the
    // handlers of the page's routes answer people with pages).
    let reply = post_form(&dash, path, Some("application/x-www-form-urlencoded"), "note=dup").await;
    assert_eq!(reply.status, 404, "{}", reply.text);
    assert_eq!(reply.headers["content-type"], "text/html; charset=utf-8");
    assert!(reply.text.contains("p-none not found"), "{}", reply.text);
}

#[tokio::test]
async fn unmatched_routes_and_wrong_methods_answer_the_json_error() {
    let dash = Dash::new().await;
    let reply = dash.admin("GET", "/v1/nowhere", "").await;
    assert_error(&reply, 404, "not_found", None);
    let reply = dash.admin("DELETE", "/v1/proposals", "").await;
    assert_error(&reply, 405, "method_not_allowed", None);
    assert_eq!(reply.headers["allow"], "GET,HEAD");
    let reply = dash.admin("GET", "/v1/proposals/p-1/apply", "").await;
    assert_error(&reply, 405, "method_not_allowed", None);
}
