//! The session history and one feedback record: `GET /v1/learning/sessions` pages the batch
//! runs, the page shows the latest newest first, and `GET /v1/feedback/{id}` shows a record with
//! its texts masked and the session that analysed it.

mod common;

use autolearn_model::BatchStep;
use autolearn_testkit::fixtures;
use chrono::{Duration, TimeZone, Utc};
use common::*;

#[tokio::test]
async fn sessions_are_paged_as_json_and_listed_on_the_page_newest_first() {
    let dash = Dash::new().await;
    let first = Utc.with_ymd_and_hms(2026, 11, 2, 8, 0, 0).unwrap();
    for (week, id) in ["s-week-1", "s-week-2", "s-week-3"].iter().enumerate() {
        let mut session = fixtures::session(id, first + Duration::weeks(week as i64));
        if week == 2 {
            session.report_message_id = Some("ses-message-0003".into());
            session.completed_steps = vec![BatchStep::Proposals];
            session.proposal_ids = vec!["p-a".into(), "p-b".into()];
            session.stats.edits_analysed = 7;
        }
        dash.store.create(&session).await.unwrap();
    }
    let reply = dash.admin("GET", "/v1/learning/sessions?limit=2", "").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let ids: Vec<&str> =
        reply.body["sessions"].as_array().unwrap().iter().map(|s| s["sessionId"].as_str().unwrap()).collect();
    assert_eq!(ids, ["s-week-1", "s-week-2"]);
    let next = reply.body["next"].as_str().expect("a next page").to_owned();
    let reply = dash.admin("GET", &format!("/v1/learning/sessions?limit=2&cursor={next}"), "").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["sessions"][0]["sessionId"], "s-week-3");
    assert_eq!(reply.body["sessions"][0]["reportMessageId"], "ses-message-0003");
    assert!(reply.body["next"].is_null());
    let reply = dash.admin("GET", "/v1/learning/sessions?limit=0", "").await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.body["error"]["field"], "limit");

    let page = dash.admin("GET", "/admin/ai/learning", "").await;
    assert_eq!(page.status, 200, "{}", page.text);
    let html = &page.text;
    assert!(html.contains("<section id=\"learning-sessions\""));
    let position =
        |id: &str| html.find(&format!("id=\"session-{id}\"")).unwrap_or_else(|| panic!("{id} missing"));
    assert!(position("s-week-3") < position("s-week-2") && position("s-week-2") < position("s-week-1"));
    let row = &html[position("s-week-3")..];
    let row = &row[..row.find("</tr>").unwrap()];
    for part in [
        "2026-11-09 to 2026-11-16",
        "done: proposals",
        "7 edits",
        "ses-message-0003",
        "<td class=\"num\">2</td>",
    ] {
        assert!(row.contains(part), "{part} not in {row}");
    }
}

#[tokio::test]
async fn a_feedback_record_shows_masked_texts_and_the_session_that_analysed_it() {
    let dash = Dash::new().await;
    let at = Utc::now();
    let mut execution = fixtures::execution("exec-fb-1", "conv-1", at);
    execution.draft_reply = Some("Write to jane.doe@example.com or call +1 415 555 0100.".into());
    let mut feedback = fixtures::feedback(&execution, at);
    feedback.sent_version = "Thanks! jane.doe@example.com will answer today.".into();
    dash.store.create(&feedback).await.unwrap();

    let reply = dash.admin("GET", "/v1/feedback/exec-fb-1", "").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["executionId"], "exec-fb-1");
    assert_eq!(reply.body["conversationId"], "conv-1");
    assert!(!reply.text.contains("jane.doe@example.com"), "unmasked: {}", reply.text);
    assert!(!reply.text.contains("555 0100"), "unmasked: {}", reply.text);
    assert!(reply.body["originalDraft"].as_str().unwrap().starts_with("Write to "));
    assert_eq!(reply.body["distance"], feedback.analysis.distance);
    assert_eq!(reply.body["analyzed"], false);
    assert!(reply.body["learningSessionId"].is_null());

    assert!(dash.store.mark_feedback_analyzed("exec-fb-1", "s-week-9").await.unwrap());
    let reply = dash.admin("GET", "/v1/feedback/exec-fb-1", "").await;
    assert_eq!(reply.body["analyzed"], true);
    assert_eq!(reply.body["learningSessionId"], "s-week-9");

    let reply = dash.admin("GET", "/v1/feedback/exec-unknown", "").await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.body["error"]["message"], "feedback of execution exec-unknown not found");
}
