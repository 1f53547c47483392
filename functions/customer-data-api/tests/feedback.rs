//! One feedback record (`GET /v1/feedback/{id}`): its texts masked, the session that analysed it;
//! and who may read it.

mod common;

use autolearn_testkit::fixtures;
use autolearn_testkit::http::{api_event, send};
use chrono::Utc;
use common::*;
use serde_json::json;

#[tokio::test]
async fn a_feedback_record_shows_masked_texts_and_the_session_that_analysed_it() {
    let api = Api::new().await;
    let at = Utc::now();
    let mut execution = fixtures::execution("exec-fb-1", "conv-1", at);
    execution.draft_reply = Some("Write to jane.doe@example.com or call +1 415 555 0100.".into());
    let mut feedback = fixtures::feedback(&execution, at);
    feedback.sent_version = "Thanks! jane.doe@example.com will answer today.".into();
    api.store.create(&feedback).await.unwrap();

    let reply = api.admin("GET", "/v1/feedback/exec-fb-1", "").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["executionId"], "exec-fb-1");
    assert_eq!(reply.body["conversationId"], "conv-1");
    assert!(!reply.text.contains("jane.doe@example.com"), "unmasked: {}", reply.text);
    assert!(!reply.text.contains("555 0100"), "unmasked: {}", reply.text);
    assert!(reply.body["originalDraft"].as_str().unwrap().starts_with("Write to "));
    assert_eq!(reply.body["distance"], feedback.analysis.distance);
    assert_eq!(reply.body["analyzed"], false);
    assert!(reply.body["learningSessionId"].is_null());

    assert!(api.store.mark_feedback_analyzed("exec-fb-1", "s-week-9").await.unwrap());
    let reply = api.admin("GET", "/v1/feedback/exec-fb-1", "").await;
    assert_eq!(reply.body["analyzed"], true);
    assert_eq!(reply.body["learningSessionId"], "s-week-9");

    let reply = api.admin("GET", "/v1/feedback/exec-unknown", "").await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.body["error"]["message"], "feedback of execution exec-unknown not found");
}

#[tokio::test]
async fn only_an_admin_reads_customer_data() {
    let api = Api::new().await;
    let at = Utc::now();
    let execution = fixtures::execution("exec-fb-2", "conv-2", at);
    api.store.create(&fixtures::feedback(&execution, at)).await.unwrap();
    for path in ["/v1/feedback/exec-fb-2", "/v1/contacts/contact-1/data", "/v1/erasures/erasure-x"] {
        let anonymous = send(&api.router, api_event("GET", path, "", None)).await;
        assert_eq!(anonymous.status, 401, "{path}: {}", anonymous.text);
        let reader = json!({"sub": "u-2", "cognito:groups": "[readers]"});
        let forbidden = send(&api.router, api_event("GET", path, "", Some(reader))).await;
        assert_eq!(forbidden.status, 403, "{path}: {}", forbidden.text);
        assert_eq!(forbidden.body["error"]["message"], "admin group autolearn-admins required");
    }
    let anonymous = send(&api.router, api_event("DELETE", "/v1/contacts/contact-1", "", None)).await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    assert!(api.store.feedback("exec-fb-2").await.unwrap().is_some(), "nothing erased");

    // Local runs only: the runner's admin token stands in for the authorizer's claims.
    let mut request = api_event("GET", "/v1/feedback/exec-fb-2", "", None);
    request.headers_mut().insert("authorization", format!("Bearer {LOCAL_TOKEN}").parse().unwrap());
    let local = send(&api.router, request).await;
    assert_eq!(local.status, 200, "{}", local.text);
    assert_eq!(local.body["executionId"], "exec-fb-2");
}

#[tokio::test]
async fn every_served_operation_is_in_the_openapi_document() {
    let api = Api::new().await;
    let state = customer_data_api::AppState {
        store: api.store.clone(),
        bus: api.bus.bus.clone(),
        admins: autolearn_web::admin::Admins { admin_group: "g".into(), local_admin_token: None },
        cors_origin: None,
    };
    let table = customer_data_api::routes(state);
    assert_eq!(table.operations().len(), 4);
    let missing =
        autolearn_web::openapi::undocumented(table.operations(), autolearn_web::openapi::OPENAPI_YAML);
    assert!(missing.is_empty(), "undocumented: {missing:?}");
}
