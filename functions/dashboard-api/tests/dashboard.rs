//! `GET /v1/learning/dashboard`, the manual trigger, auth and CORS, through the router with API
//! Gateway v2 events, against moto.

mod common;

use autolearn_model::{
    Confidence, Counter, LearningProposal, ProposalKind, ProposalStatus, Store, UsageCounts,
};
use autolearn_testkit::fixtures;
use autolearn_testkit::http::send;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use common::*;
use futures::StreamExt;
use serde_json::{Value, json};

fn r(numerator: i64, denominator: i64) -> f64 {
    numerator as f64 / denominator as f64
}

/// Seeds a week: counters on two days (split over shards), intents, entries, proposals.
async fn seed(dash: &Dash) -> (NaiveDate, Vec<LearningProposal>) {
    let today = today();
    let first = today - Duration::days(6);
    // The first day of the period, split over two shards to check the sum.
    dash.add(
        first,
        0,
        &[
            (Counter::Executions, 6),
            (Counter::Matched, 5),
            (Counter::Gaps, 2),
            (Counter::Drafted, 5),
            (Counter::Skill("schedule_showing".into()), 6),
            (Counter::Intent("MAINTENANCE_REQUEST".into()), 3),
            (Counter::PlaybookEntry("pb-1".into()), 4),
            (Counter::Sent, 4),
            (Counter::Unedited, 2),
            (Counter::LightlyEdited, 1),
            (Counter::Rewritten, 1),
            (Counter::EditDistanceMicros, 1_000_000),
        ],
    )
    .await;
    dash.add(
        first,
        5,
        &[
            (Counter::Executions, 4),
            (Counter::Matched, 3),
            (Counter::Gaps, 1),
            (Counter::Skill("pricing".into()), 2),
            (Counter::Intent("SHOWING_REQUEST".into()), 5),
            (Counter::Sent, 2),
            (Counter::Unedited, 1),
            (Counter::LightlyEdited, 1),
            (Counter::EditDistanceMicros, 500_000),
            (Counter::SentWithoutDraft, 2),
        ],
    )
    .await;
    dash.add(
        today,
        3,
        &[
            (Counter::Executions, 4),
            (Counter::Matched, 4),
            (Counter::Skill("pricing".into()), 3),
            (Counter::PlaybookEntry("pb-1".into()), 1),
            (Counter::PlaybookEntry("pb-2".into()), 2),
            (Counter::ProposalsApplied, 2),
            (Counter::ProposalsRejected, 1),
        ],
    )
    .await;
    // Outside the period: must not count.
    dash.add(today - Duration::days(7), 1, &[(Counter::Executions, 1000), (Counter::ProposalsApplied, 9)])
        .await;

    let at = Utc::now() - Duration::days(3);
    let mut maintenance = fixtures::intent("intent-maint", "MAINTENANCE_REQUEST", at);
    maintenance.usage = UsageCounts { hit_count: 12, sent_count: 10, unedited_count: 9 };
    let mut showing = fixtures::intent("intent-showing", "SHOWING_REQUEST", at);
    showing.experimental = false;
    showing.usage = UsageCounts { hit_count: 30, sent_count: 20, unedited_count: 15 };
    let mut retired = fixtures::intent("intent-old", "OLD_INTENT", at);
    retired.active = false;
    for intent in [&maintenance, &showing, &retired] {
        dash.store.create(intent).await.unwrap();
    }
    let mut pb1 = fixtures::playbook_entry("pb-1", at);
    pb1.experimental = true;
    pb1.usage = UsageCounts { hit_count: 25, sent_count: 20, unedited_count: 4 };
    let mut pb2 = fixtures::playbook_entry("pb-2", at);
    pb2.intent_name = None;
    pb2.text = "Always confirm the address.".into();
    pb2.usage = UsageCounts { hit_count: 3, sent_count: 0, unedited_count: 0 };
    for entry in [&pb1, &pb2] {
        dash.store.create(entry).await.unwrap();
    }

    let proposal = |id: &str, impact: u64, confidence: Confidence, minutes: i64| {
        let mut p = fixtures::proposal(id, "session-1", at + Duration::minutes(minutes));
        p.proposal.impact = impact;
        p.proposal.confidence = confidence;
        p
    };
    let high_impact = proposal("p-high", 20, Confidence::Low, 2);
    let sure = proposal("p-sure", 3, Confidence::High, 3);
    let mut older = proposal("p-older", 3, Confidence::Medium, 0);
    older.proposal.kind = ProposalKind::PlaybookAmendment;
    older.proposal.playbook_text = Some("Keep replies short.".into());
    let newer = proposal("p-newer", 3, Confidence::Medium, 1);
    let mut applied = proposal("p-applied", 99, Confidence::High, 0);
    applied.status = ProposalStatus::Applied;
    for p in [&high_impact, &sure, &older, &newer, &applied] {
        dash.store.create(p).await.unwrap();
    }
    // Ranked as the batch ranks: impact, confidence, support, then kind (a new intent before a
    // playbook amendment), so the newer new-intent proposal comes before the older amendment.
    (today, vec![high_impact, sure, newer, older])
}

fn iso_week(day: NaiveDate) -> String {
    format!("{}-W{:02}", day.iso_week().year(), day.iso_week().week())
}

#[tokio::test]
async fn every_field_of_the_dashboard_follows_the_seeded_data() {
    let dash = Dash::new().await;
    let (today, ranked) = seed(&dash).await;
    let first = today - Duration::days(6);
    let body = dash.dashboard(7).await;

    assert_eq!(body["period"], json!({"days": 7, "from": first.to_string(), "to": today.to_string()}));

    // Learning health: coverage = matched / executions over the period; gaps per day.
    let day = |i: i64| (first + Duration::days(i)).to_string();
    let mut gap_trend: Vec<Value> = (0..7)
        .map(|i| json!({"day": day(i), "executions": 0, "matched": 0, "gaps": 0, "coverage": null}))
        .collect();
    gap_trend[0] = json!({"day": day(0), "executions": 10, "matched": 8, "gaps": 3, "coverage": r(8, 10)});
    gap_trend[6] = json!({"day": day(6), "executions": 4, "matched": 4, "gaps": 0, "coverage": 1.0});
    assert_eq!(
        body["health"],
        json!({"coverageScore": r(12, 14), "executions": 14, "matched": 12, "gaps": 3, "gapTrend": gap_trend})
    );

    // Feedback timeline: mean edit distance = micros / 1e6 / sent; accuracy = unedited / sent.
    let mut timeline: Vec<Value> = (0..7)
        .map(|i| {
            json!({"day": day(i), "sent": 0, "unedited": 0, "lightlyEdited": 0, "rewritten": 0,
                   "sentWithoutDraft": 0, "meanEditDistance": null, "accuracy": null})
        })
        .collect();
    timeline[0] = json!({"day": day(0), "sent": 6, "unedited": 3, "lightlyEdited": 2, "rewritten": 1,
                         "sentWithoutDraft": 2, "meanEditDistance": 1.5e6 / 1e6 / 6.0, "accuracy": 0.5});
    assert_eq!(body["feedbackTimeline"], json!(timeline));

    // Active dynamic config: active items only, lifetime counts and period hits.
    assert_eq!(
        body["activeConfig"]["intents"],
        json!([
            {"intentId": "intent-maint", "name": "MAINTENANCE_REQUEST", "description": "Messages about MAINTENANCE_REQUEST",
             "examples": ["my sink is leaking"], "keywords": ["leak", "repair"], "experimental": true,
             "extendsBuiltin": false, "hitCount": 12, "sentCount": 10, "uneditedCount": 9, "approvalRate": r(9, 10), "hitsInPeriod": 3},
            {"intentId": "intent-showing", "name": "SHOWING_REQUEST", "description": "Messages about SHOWING_REQUEST",
             "examples": ["my sink is leaking"], "keywords": ["leak", "repair"], "experimental": false,
             "extendsBuiltin": false, "hitCount": 30, "sentCount": 20, "uneditedCount": 15, "approvalRate": 0.75, "hitsInPeriod": 5},
        ])
    );
    assert_eq!(
        body["activeConfig"]["playbookEntries"],
        json!([
            {"entryId": "pb-1", "intentName": "SHOWING_REQUEST", "text": "Offer two concrete showing times.",
             "experimental": true, "hitCount": 25, "sentCount": 20, "uneditedCount": 4, "approvalRate": 0.2,
             "injectionsInPeriod": 5},
            {"entryId": "pb-2", "intentName": null, "text": "Always confirm the address.",
             "experimental": false, "hitCount": 3, "sentCount": 0, "uneditedCount": 0, "approvalRate": null,
             "injectionsInPeriod": 2},
        ])
    );

    // Pending proposals, ranked as the batch ranks them; every stored field.
    assert_eq!(body["pendingProposals"], serde_json::to_value(&ranked).unwrap());

    // Experiments: progress toward both thresholds and the decision the rules take now.
    assert_eq!(
        body["experiments"],
        json!([
            {"kind": "intent", "id": "intent-maint", "name": "MAINTENANCE_REQUEST",
             "hitCount": 12, "sentCount": 10, "uneditedCount": 9, "approvalRate": r(9, 10),
             "progress": {
                "promotion": {"minHits": 10, "hitsProgress": 1.0, "approvalThreshold": 0.8, "approvalMet": true, "met": true},
                "demotion": {"minHits": 20, "hitsProgress": 0.6, "approvalThreshold": 0.3, "approvalMet": false, "met": false}},
             "decision": {"action": "promote", "reason": "approval 90% over 12 hits: at least 80% with at least 10 hits"}},
            {"kind": "playbookEntry", "id": "pb-1", "name": "Offer two concrete showing times.",
             "hitCount": 25, "sentCount": 20, "uneditedCount": 4, "approvalRate": 0.2,
             "progress": {
                "promotion": {"minHits": 10, "hitsProgress": 1.0, "approvalThreshold": 0.8, "approvalMet": false, "met": false},
                "demotion": {"minHits": 20, "hitsProgress": 1.0, "approvalThreshold": 0.3, "approvalMet": true, "met": true}},
             "decision": {"action": "demote", "reason": "approval 20% over 25 hits: below 30% with at least 20 hits"}},
        ])
    );

    // The five metrics.
    let days: Vec<NaiveDate> = (0..7).map(|i| first + Duration::days(i)).collect();
    let mut weeks: Vec<Value> = Vec::new();
    for d in &days {
        if weeks.last().is_none_or(|w| w["week"] != iso_week(*d)) {
            weeks.push(json!({"week": iso_week(*d), "applied": 0, "rejected": 0}));
        }
    }
    let last = weeks.len() - 1;
    weeks[last]["applied"] = json!(2);
    weeks[last]["rejected"] = json!(1);
    assert_eq!(
        body["metrics"],
        json!({
            "intentCoverage": {"value": r(12, 14), "matched": 12, "executions": 14},
            "draftAccuracy": {"value": 0.5, "unedited": 3, "sent": 6},
            "learningVelocity": {"perWeek": r(2, weeks.len() as i64), "applied": 2, "rejected": 1, "weeks": weeks},
            "skillUtilization": [
                {"skill": "schedule_showing", "uses": 6, "share": r(6, 14)},
                {"skill": "pricing", "uses": 5, "share": r(5, 14)},
            ],
            "playbookHitRate": [
                {"entryId": "pb-1", "text": "Offer two concrete showing times.", "injections": 5, "rate": r(5, 14)},
                {"entryId": "pb-2", "text": "Always confirm the address.", "injections": 2, "rate": r(2, 14)},
            ],
        })
    );
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 7, "unexpected top-level fields: {keys:?}");
}

#[tokio::test]
async fn ratios_without_a_denominator_are_null_not_nan() {
    let dash = Dash::new().await;
    let body = dash.dashboard(28).await;
    assert_eq!(body["period"]["days"], 28);
    assert_eq!(body["health"]["gapTrend"].as_array().unwrap().len(), 28);
    assert_eq!(body["health"]["coverageScore"], Value::Null);
    assert_eq!(body["metrics"]["intentCoverage"]["value"], Value::Null);
    assert_eq!(body["metrics"]["draftAccuracy"]["value"], Value::Null);
    assert_eq!(body["metrics"]["learningVelocity"]["perWeek"], 0.0);
    assert!(body["feedbackTimeline"].as_array().unwrap().iter().all(|d| d["meanEditDistance"].is_null()));
}

#[tokio::test]
async fn days_is_validated() {
    let dash = Dash::new().await;
    assert_eq!(dash.dashboard(365).await["health"]["gapTrend"].as_array().unwrap().len(), 365);
    for bad in ["0", "366", "abc", "-3"] {
        let reply = dash.admin("GET", &format!("/v1/learning/dashboard?days={bad}"), "").await;
        assert_eq!(reply.status, 422, "days={bad}: {}", reply.text);
        assert_eq!(reply.body["error"]["field"], "days");
    }
    let reply = dash.admin("GET", "/v1/learning/dashboard", "").await;
    assert_eq!(reply.body["period"]["days"], 28);
}

/// Writes `count` executions spread over the period, with their counters, as the tracker would.
async fn seed_executions(store: &Store, count: usize) {
    let today = today();
    let items: Vec<_> = (0..count)
        .map(|i| {
            let at = Utc::now() - Duration::days((i % 7) as i64) - Duration::seconds(i as i64 % 3600);
            let execution = fixtures::execution(&format!("exec-{i:05}"), &format!("conv-{}", i % 97), at);
            autolearn_model::store::to_item(&execution).unwrap()
        })
        .collect();
    let client = store.client().clone();
    let table = store.table_name().to_owned();
    futures::stream::iter(items.chunks(25).map(|chunk| chunk.to_vec()))
        .map(|chunk| {
            let (client, table) = (client.clone(), table.clone());
            async move {
                let writes = chunk
                    .into_iter()
                    .map(|item| {
                        aws_sdk_dynamodb::types::WriteRequest::builder()
                            .put_request(
                                aws_sdk_dynamodb::types::PutRequest::builder()
                                    .set_item(Some(item))
                                    .build()
                                    .unwrap(),
                            )
                            .build()
                    })
                    .collect();
                client.batch_write_item().request_items(table, writes).send().await.unwrap();
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;
    for back in 0..7 {
        let on_day = (0..count).filter(|i| i % 7 == back).count() as i64;
        if on_day > 0 {
            let day = today - Duration::days(back as i64);
            let increments = [
                (Counter::Executions, on_day),
                (Counter::Matched, on_day),
                (Counter::Drafted, on_day),
                (Counter::Skill("schedule_showing".into()), on_day),
                (Counter::Intent("SHOWING_REQUEST".into()), on_day),
            ];
            store.add_to_counters(day, (back % 8) as u32, &increments).await.unwrap();
        }
    }
}

#[tokio::test]
async fn the_number_of_dynamodb_requests_does_not_depend_on_the_number_of_messages() {
    let small = Dash::new().await;
    let large = Dash::new().await;
    seed_executions(&small.store, 10).await;
    seed_executions(&large.store, 10_000).await;
    let mut counts = Vec::new();
    for dash in [&small, &large] {
        dash.requests.reset();
        let body = dash.dashboard(28).await;
        counts.push(dash.requests.get());
        let expected = if std::ptr::eq(dash, &small) { 10 } else { 10_000 };
        assert_eq!(body["metrics"]["intentCoverage"]["executions"], expected);
    }
    // 28 days × 8 shards = 224 counter items: 3 BatchGetItem; one Query each for intents,
    // playbook entries and pending proposals.
    assert_eq!(counts, vec![6, 6]);
    // It grows with the days shown, not the messages: 365 × 8 = 2,920 items, 30 BatchGetItem.
    large.requests.reset();
    large.dashboard(365).await;
    assert_eq!(large.requests.get(), 33);
}

#[tokio::test]
async fn without_identity_401_without_the_admin_group_403() {
    let dash = Dash::new().await;
    for (method, path) in [
        ("GET", "/v1/learning/dashboard"),
        ("GET", "/v1/proposals"),
        ("POST", "/v1/proposals/p-1/apply"),
        ("POST", "/v1/proposals/p-1/reject"),
        ("POST", "/v1/learning/batch-runs"),
        ("GET", "/v1/learning/batch-runs/batch-1"),
        ("GET", "/admin/ai/learning"),
        ("POST", "/admin/ai/learning/proposals/p-1/apply"),
    ] {
        let reply = send(&dash.router, event(method, path, "", None)).await;
        assert_eq!(reply.status, 401, "{method} {path}: {}", reply.text);
        if path.starts_with("/admin/") {
            // The page's routes answer people with a page naming the problem.
            assert_eq!(reply.headers["content-type"], "text/html; charset=utf-8");
            assert!(reply.text.contains("an admin identity is required"), "{}", reply.text);
        } else {
            assert_eq!(reply.body["error"]["code"], "unauthorized");
        }
        let claims = json!({"sub": "someone", "cognito:groups": "[readers autolearn-admins-x]"});
        let reply = send(&dash.router, event(method, path, "", Some(claims))).await;
        assert_eq!(reply.status, 403, "{method} {path}: {}", reply.text);
        let no_groups = json!({"sub": "someone"});
        let reply = send(&dash.router, event(method, path, "", Some(no_groups))).await;
        assert_eq!(reply.status, 403, "{method} {path}: {}", reply.text);
    }
    // The group claim as a JSON array also works.
    let claims = json!({"sub": "a", "cognito:groups": "[\"autolearn-admins\"]"});
    let reply = send(&dash.router, event("GET", "/v1/learning/dashboard", "", Some(claims))).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

fn local_request(method: &str, path: &str, token: Option<&str>) -> axum::http::Request<axum::body::Body> {
    let mut builder = axum::http::Request::builder().method(method).uri(path);
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(axum::body::Body::empty()).unwrap()
}

#[tokio::test]
async fn the_local_admin_token_is_accepted_only_when_configured() {
    use tower::ServiceExt;
    let local = Dash::with_token(Some("local-token-0123456789")).await;
    let status = |dash: &Dash, token: Option<&'static str>| {
        let router = dash.router.clone();
        async move {
            router.oneshot(local_request("GET", "/v1/learning/dashboard", token)).await.unwrap().status()
        }
    };
    assert_eq!(status(&local, Some("local-token-0123456789")).await, 200);
    assert_eq!(status(&local, Some("local-token-wrong")).await, 401);
    assert_eq!(status(&local, None).await, 401);
    // The Lambda configuration has no token: a bearer header alone is never enough.
    let lambda = Dash::new().await;
    assert_eq!(status(&lambda, Some("local-token-0123456789")).await, 401);
    assert_eq!(status(&lambda, Some("")).await, 401);
}

#[tokio::test]
async fn the_manual_trigger_puts_batch_learning_requested_on_the_bus() {
    let dash = Dash::new().await;
    let before = Utc::now();
    let reply = dash.admin("POST", "/v1/learning/batch-runs", "").await;
    assert_eq!(reply.status, 202, "{}", reply.text);
    assert_eq!(reply.body["status"], "requested");
    let start: chrono::DateTime<Utc> = serde_json::from_value(reply.body["periodStart"].clone()).unwrap();
    let end: chrono::DateTime<Utc> = serde_json::from_value(reply.body["periodEnd"].clone()).unwrap();
    assert_eq!(end - start, Duration::days(7));
    assert_eq!(end.timestamp() % 3600, 0, "the period ends at the start of an hour");
    assert!(end <= before + Duration::hours(1) && before - end < Duration::hours(1), "{end} vs {before}");
    let events = dash.bus.received().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["detail-type"], "BatchLearningRequested");
    assert_eq!(events[0]["source"], "autolearn");
    let detail = &events[0]["detail"];
    assert_eq!(detail["requestedBy"], ADMIN_SUB);
    assert_eq!(detail["periodStart"], reply.body["periodStart"]);
    assert_eq!(detail["periodEnd"], reply.body["periodEnd"]);
    let session_id = reply.body["sessionId"].as_str().unwrap().to_owned();
    assert_eq!(reply.body["statusUrl"], format!("/v1/learning/batch-runs/{session_id}"));

    // Until the run creates its session, its status is 404; then the session's progress.
    let status = dash.admin("GET", &format!("/v1/learning/batch-runs/{session_id}"), "").await;
    assert_eq!(status.status, 404, "{}", status.text);
    let mut session = autolearn_testkit::fixtures::session(&session_id, end);
    session.completed_steps = vec![autolearn_model::BatchStep::Proposals];
    dash.store.create(&session).await.unwrap();
    let status = dash.admin("GET", &format!("/v1/learning/batch-runs/{session_id}"), "").await;
    assert_eq!(status.status, 200, "{}", status.text);
    assert_eq!(status.body["status"], "running");
    assert_eq!(status.body["completedSteps"], serde_json::json!(["proposals"]));
    assert_eq!(status.body["reportSent"], false);
}

#[test]
fn manual_triggers_within_one_hour_coalesce_into_one_period() {
    use chrono::TimeZone;
    let early = Utc.with_ymd_and_hms(2026, 11, 16, 9, 0, 1).unwrap();
    let late = Utc.with_ymd_and_hms(2026, 11, 16, 9, 59, 59).unwrap();
    let next = Utc.with_ymd_and_hms(2026, 11, 16, 10, 0, 0).unwrap();
    assert_eq!(dashboard_api::manual_period(early), dashboard_api::manual_period(late));
    assert_ne!(dashboard_api::manual_period(late), dashboard_api::manual_period(next));
    assert_eq!(dashboard_api::manual_period(early).1, Utc.with_ymd_and_hms(2026, 11, 16, 9, 0, 0).unwrap());
}

#[tokio::test]
async fn cors_allows_the_configured_front_end_only() {
    use tower::ServiceExt;
    let dash = Dash::new().await;
    let preflight = |origin: &str| {
        axum::http::Request::builder()
            .method("OPTIONS")
            .uri("/v1/learning/dashboard")
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let response = dash.router.clone().oneshot(preflight(FRONT_END)).await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(response.headers()["access-control-allow-origin"], FRONT_END);
    let methods = response.headers()["access-control-allow-methods"].to_str().unwrap().to_owned();
    assert!(methods.contains("GET") && methods.contains("POST"), "{methods}");
    let response = dash.router.clone().oneshot(preflight("https://evil.example")).await.unwrap();
    assert!(response.headers().get("access-control-allow-origin").is_none());
    // A real request from the front end gets the header too.
    let mut request = event("GET", "/v1/learning/dashboard", "", Some(admin_claims()));
    request.headers_mut().insert("origin", FRONT_END.parse().unwrap());
    let reply = send(&dash.router, request).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.headers["access-control-allow-origin"], FRONT_END);
}

#[tokio::test]
async fn every_served_operation_is_in_the_openapi_document() {
    let dash = Dash::new().await;
    let state = dashboard_api::AppState {
        store: dash.store.clone(),
        bus: dash.bus.bus.clone(),
        auth: dashboard_api::AdminAuth {
            admins: dashboard_api::Admins { admin_group: "g".into(), local_admin_token: None },
            sign_in: None,
        },
        cors_origin: None,
        promotion: Default::default(),
    };
    let table = dashboard_api::routes(state);
    assert_eq!(table.operations().len(), 13);
    let missing =
        autolearn_web::openapi::undocumented(table.operations(), autolearn_web::openapi::OPENAPI_YAML);
    assert!(missing.is_empty(), "undocumented: {missing:?}");
}
