//! The session history: `GET /v1/learning/sessions` pages the batch runs, the page shows the
//! latest newest first.

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
