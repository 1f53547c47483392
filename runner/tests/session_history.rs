//! The session history shows each batch run: two real runs of the weekly batch on moto (an empty
//! week and the next), then the dashboard's `GET /v1/learning/sessions` and the page list both,
//! each with its period, type, status and steps and the report's SES message id.

mod common;

use autolearn_testkit::http::{sample_event, send};
use autolearn_testkit::{ObservedBus, fresh_store, sdk_config, unique_name};
use chrono::{Duration, TimeZone, Utc};
use serde_json::json;

fn admin_get(path: &str) -> lambda_http::Request {
    let mut event = sample_event("events/get-dashboard.json");
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!(query);
    event.as_object_mut().unwrap().remove("queryStringParameters");
    event["requestContext"]["http"]["path"] = json!(path);
    event["requestContext"]["authorizer"]["jwt"]["claims"] =
        json!({"sub": "admin-1", "cognito:groups": "[admins]"});
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

#[tokio::test]
async fn each_batch_run_appears_in_the_session_history() {
    let store = fresh_store().await;
    let bus = ObservedBus::new().await;
    let aws = sdk_config().await;
    let ses = aws_sdk_sesv2::Client::new(&aws);
    let sender = format!("{}@example.com", unique_name("autolearn"));
    ses.create_email_identity().email_identity(&sender).send().await.unwrap();
    let deps = weekly_batch::Deps {
        store: store.clone(),
        bus: bus.bus.clone(),
        mailer: weekly_batch::Mailer { client: ses, sender, recipients: vec!["admin@example.com".into()] },
        settings: weekly_batch::Settings::from_env("https://crm.example.test").unwrap(),
        analyst: autolearn_model::AnalystKind::Rules,
        embedder: weekly_batch::embeddings::Embedder::None,
    };
    let first = Utc.with_ymd_and_hms(2026, 11, 9, 8, 0, 0).unwrap();
    for week in 0..2 {
        let event = weekly_batch::TriggerEvent {
            detail_type: "Scheduled Event".into(),
            time: first + Duration::weeks(week),
            detail: Default::default(),
        };
        weekly_batch::handle(&deps, event, Default::default()).await.unwrap();
    }

    let mut services = common::offline_services();
    services.store = store;
    services.bus = bus.bus.clone();
    let (_, routes) = autolearn_runner::function_routes(&services)
        .into_iter()
        .find(|(name, _)| *name == dashboard_api::SERVICE)
        .unwrap();
    let router = routes.into_router();

    let reply = send(&router, admin_get("/v1/learning/sessions")).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let sessions = reply.body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{}", reply.text);
    for (session, end) in sessions.iter().zip(["2026-11-09T08:00:00Z", "2026-11-16T08:00:00Z"]) {
        assert_eq!(session["periodEnd"], end, "{session}");
        assert_eq!(session["status"], "completed", "{session}");
        assert!(session["reportMessageId"].as_str().is_some_and(|id| !id.is_empty()), "{session}");
    }

    let reply = send(&router, admin_get("/admin/ai/learning")).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let html = &reply.text;
    let rows: Vec<&str> = html.split("<tr class=\"session\"").skip(1).collect();
    assert_eq!(rows.len(), 2, "{html}");
    assert!(rows[0].contains("2026-11-09 to 2026-11-16") && rows[1].contains("2026-11-02 to 2026-11-09"));
    for (row, session) in rows.iter().zip(sessions.iter().rev()) {
        assert!(row.contains("<strong>completed</strong>") && row.contains("done: "), "{row}");
        assert!(row.contains(session["reportMessageId"].as_str().unwrap()), "{row}");
    }
}
