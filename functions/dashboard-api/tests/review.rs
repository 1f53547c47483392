//! The review of proposals: transitions, their effects, the counters of learning velocity, and a
//! concurrent apply and reject of one proposal.

mod common;

use autolearn_model::{Counter, LearningProposal, ProposalKind, ProposalStatus};
use autolearn_testkit::fixtures;
use chrono::Utc;
use common::*;
use serde_json::json;

async fn seed_proposal(dash: &Dash, id: &str, kind: ProposalKind) -> LearningProposal {
    let mut proposal = fixtures::proposal(id, "session-1", Utc::now());
    proposal.proposal.kind = kind;
    match kind {
        ProposalKind::NewIntent => {}
        ProposalKind::PlaybookAmendment => {
            proposal.proposal.title = "Shorter replies for showing requests".into();
            proposal.proposal.intent_name = Some("SHOWING_REQUEST".into());
            proposal.proposal.playbook_text = Some("Keep replies under three sentences.".into());
        }
        ProposalKind::IntentExample => {
            proposal.proposal.intent_name = Some("SHOWING_REQUEST".into());
            proposal.proposal.examples =
                vec!["can I see the flat on Sunday?".into(), "my sink is leaking".into()];
        }
    }
    dash.store.create(&proposal).await.unwrap();
    proposal
}

async fn decided_today(dash: &Dash) -> (i64, i64) {
    let day = dash.store.daily_counters(&[today()]).await.unwrap().remove(0);
    (day.get(&Counter::ProposalsApplied), day.get(&Counter::ProposalsRejected))
}

#[tokio::test]
async fn applying_a_new_intent_proposal_creates_an_experimental_intent_once() {
    let dash = Dash::new().await;
    let proposal = seed_proposal(&dash, "p-new", ProposalKind::NewIntent).await;
    let reply = dash.admin("POST", "/v1/proposals/p-new/apply", "").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["effect"], json!({"kind": "intent", "id": "intent-p-new"}));
    assert_eq!(reply.body["proposal"]["status"], "applied");
    assert_eq!(reply.body["proposal"]["decidedBy"], ADMIN_SUB);

    let intent = dash.store.intent("intent-p-new").await.unwrap().expect("intent created");
    assert_eq!(intent.name, "MAINTENANCE_REQUEST");
    assert_eq!(intent.description, proposal.description);
    assert_eq!(intent.examples, proposal.proposal.examples);
    assert_eq!(intent.keywords, proposal.proposal.keywords);
    assert!(intent.experimental && intent.active);
    assert_eq!(intent.usage, Default::default());
    assert_eq!(intent.source_proposal_id.as_deref(), Some("p-new"));

    let stored = dash.store.proposal("p-new").await.unwrap().unwrap();
    assert_eq!(stored.status, ProposalStatus::Applied);
    assert_eq!(stored.proposal.fingerprint, proposal.proposal.fingerprint);
    assert!(stored.decided_at.is_some());
    assert_eq!(decided_today(&dash).await, (1, 0));

    // Final: a retried apply and a later reject are refused, and nothing is counted twice.
    for action in ["apply", "reject"] {
        let reply = dash.admin("POST", &format!("/v1/proposals/p-new/{action}"), "").await;
        assert_eq!(reply.status, 409, "{}", reply.text);
        assert_eq!(reply.body["error"]["message"], "proposal p-new is already applied");
    }
    assert_eq!(decided_today(&dash).await, (1, 0));
    let page = dash.store.intents(None, 100).await.unwrap();
    assert_eq!(page.items.len(), 1);

    // The listings by status follow.
    let pending = dash.admin("GET", "/v1/proposals", "").await;
    assert_eq!(pending.body["proposals"], json!([]));
    let applied = dash.admin("GET", "/v1/proposals?status=applied", "").await;
    assert_eq!(applied.body["status"], "applied");
    assert_eq!(applied.body["proposals"][0]["proposalId"], "p-new");
    assert_eq!(applied.body["next"], json!(null));
    let dashboard = dash.dashboard(7).await;
    assert_eq!(dashboard["metrics"]["learningVelocity"]["applied"], 1);
    assert_eq!(dashboard["experiments"][0]["id"], "intent-p-new");
}

#[tokio::test]
async fn applying_a_playbook_proposal_creates_an_experimental_entry() {
    let dash = Dash::new().await;
    seed_proposal(&dash, "p-pb", ProposalKind::PlaybookAmendment).await;
    let reply = dash.admin("POST", "/v1/proposals/p-pb/apply", "").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["effect"], json!({"kind": "playbookEntry", "id": "playbook-p-pb"}));
    let entry = dash.store.playbook_entry("playbook-p-pb").await.unwrap().expect("entry created");
    assert_eq!(entry.text, "Keep replies under three sentences.");
    assert_eq!(entry.intent_name.as_deref(), Some("SHOWING_REQUEST"));
    assert!(entry.experimental && entry.active);
    assert_eq!(entry.source_proposal_id.as_deref(), Some("p-pb"));
}

#[tokio::test]
async fn applying_an_example_proposal_adds_its_examples_to_the_intent() {
    let dash = Dash::new().await;
    dash.store.create(&fixtures::intent("intent-showing", "SHOWING_REQUEST", Utc::now())).await.unwrap();
    seed_proposal(&dash, "p-ex", ProposalKind::IntentExample).await;
    let reply = dash.admin("POST", "/v1/proposals/p-ex/apply", "").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["effect"], json!({"kind": "intentExamples", "id": "intent-showing", "added": 1}));
    let intent = dash.store.intent("intent-showing").await.unwrap().unwrap();
    // The fixture's example was there already; only the new one is appended.
    assert_eq!(intent.examples, vec!["my sink is leaking", "can I see the flat on Sunday?"]);
}

#[tokio::test]
async fn examples_for_a_built_in_intent_go_to_its_overlay() {
    // No dynamic intent is named SHOWING_REQUEST: the CRM owns it.
    let dash = Dash::new().await;
    seed_proposal(&dash, "p-ex", ProposalKind::IntentExample).await;
    let reply = dash.admin("POST", "/v1/proposals/p-ex/apply", "").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["effect"], json!({"kind": "intentExamples", "id": "intent-p-ex", "added": 2}));
    let overlay = dash.store.intent("intent-p-ex").await.unwrap().unwrap();
    assert_eq!(overlay.name, "SHOWING_REQUEST");
    assert!(overlay.extends_builtin && overlay.active && !overlay.experimental);
    assert_eq!(overlay.examples, vec!["can I see the flat on Sunday?", "my sink is leaking"]);
    assert_eq!(decided_today(&dash).await, (1, 0));

    // The next example proposal for it appends to the overlay; nothing else is created.
    let mut later = seed_proposal(&dash, "p-ex2", ProposalKind::IntentExample).await;
    later.proposal.examples = vec!["is the flat free to view on Monday?".into()];
    dash.store.put(&later).await.unwrap();
    let reply = dash.admin("POST", "/v1/proposals/p-ex2/apply", "").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["effect"], json!({"kind": "intentExamples", "id": "intent-p-ex", "added": 1}));
    assert!(dash.store.intent("intent-p-ex2").await.unwrap().is_none());
    let overlay = dash.store.intent("intent-p-ex").await.unwrap().unwrap();
    assert_eq!(overlay.examples.len(), 3);
    // An overlay is no experiment: the A/B rules never see it.
    let dashboard = dash.admin("GET", "/v1/learning/dashboard", "").await;
    assert_eq!(dashboard.body["experiments"], json!([]));
    assert_eq!(dashboard.body["activeConfig"]["intents"][0]["extendsBuiltin"], true);
}

#[tokio::test]
async fn rejecting_keeps_the_fingerprint_and_the_note() {
    let dash = Dash::new().await;
    let proposal = seed_proposal(&dash, "p-no", ProposalKind::NewIntent).await;
    let too_long = json!({"note": "x".repeat(2001)}).to_string();
    let reply = dash.admin("POST", "/v1/proposals/p-no/reject", &too_long).await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert_eq!(reply.body["error"]["field"], "note");
    let reply = dash.admin("POST", "/v1/proposals/p-no/reject", "{\"note\": ").await;
    assert_eq!(reply.status, 400);
    assert_eq!(decided_today(&dash).await, (0, 0));

    let reply = dash.admin("POST", "/v1/proposals/p-no/reject", r#"{"note": "we have this already"}"#).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body.get("effect"), None);
    let stored = dash.store.proposal("p-no").await.unwrap().unwrap();
    assert_eq!(stored.status, ProposalStatus::Rejected);
    assert_eq!(stored.note.as_deref(), Some("we have this already"));
    assert_eq!(stored.proposal.fingerprint, proposal.proposal.fingerprint);
    assert!(dash.store.intent("intent-p-no").await.unwrap().is_none());
    assert_eq!(decided_today(&dash).await, (0, 1));
    let reply = dash.admin("POST", "/v1/proposals/p-no/apply", "").await;
    assert_eq!(reply.status, 409);
    assert_eq!(reply.body["error"]["message"], "proposal p-no is already rejected");
    let rejected = dash.admin("GET", "/v1/proposals?status=rejected", "").await;
    assert_eq!(rejected.body["proposals"][0]["proposalId"], "p-no");

    // Unknown proposals and bad parameters.
    assert_eq!(dash.admin("POST", "/v1/proposals/p-none/apply", "").await.status, 404);
    let reply = dash.admin("GET", "/v1/proposals?status=maybe", "").await;
    assert_eq!((reply.status.as_u16(), reply.body["error"]["field"].as_str()), (422, Some("status")));
    let reply = dash.admin("GET", "/v1/proposals?limit=500", "").await;
    assert_eq!((reply.status.as_u16(), reply.body["error"]["field"].as_str()), (422, Some("limit")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_concurrent_apply_and_reject_cannot_both_win() {
    let dash = Dash::new().await;
    let rounds = 8;
    let (mut applied_wins, mut rejected_wins) = (0, 0);
    for round in 0..rounds {
        let id = format!("p-race-{round}");
        let mut proposal = fixtures::proposal(&id, "session-1", Utc::now());
        // Each round proposes its own intent (an active intent's name cannot be proposed twice).
        proposal.proposal.intent_name = Some(format!("RACE_{round}"));
        dash.store.create(&proposal).await.unwrap();
        let apply_path = format!("/v1/proposals/{id}/apply");
        let reject_path = format!("/v1/proposals/{id}/reject");
        let (apply, reject) =
            tokio::join!(dash.admin("POST", &apply_path, ""), dash.admin("POST", &reject_path, ""));
        let statuses = (apply.status.as_u16(), reject.status.as_u16());
        assert!(
            statuses == (200, 409) || statuses == (409, 200),
            "round {round}: {statuses:?} {} {}",
            apply.text,
            reject.text
        );
        let stored = dash.store.proposal(&id).await.unwrap().unwrap();
        let intent = dash.store.intent(&format!("intent-{id}")).await.unwrap();
        if statuses.0 == 200 {
            applied_wins += 1;
            assert_eq!(stored.status, ProposalStatus::Applied);
            assert!(intent.is_some());
            assert!(reject.body["error"]["message"].as_str().unwrap().contains("applied"), "{}", reject.text);
        } else {
            rejected_wins += 1;
            assert_eq!(stored.status, ProposalStatus::Rejected);
            assert!(intent.is_none(), "a rejected proposal created its intent");
            assert!(apply.body["error"]["message"].as_str().unwrap().contains("rejected"), "{}", apply.text);
        }
    }
    assert_eq!(decided_today(&dash).await, (applied_wins, rejected_wins));
    assert_eq!(applied_wins + rejected_wins, rounds);
}

#[tokio::test]
async fn a_new_intent_named_like_an_active_one_is_refused() {
    let dash = Dash::new().await;
    dash.store.create(&fixtures::intent("intent-maint", "MAINTENANCE_REQUEST", Utc::now())).await.unwrap();
    seed_proposal(&dash, "p-dup", ProposalKind::NewIntent).await;
    let reply = dash.admin("POST", "/v1/proposals/p-dup/apply", "").await;
    assert_eq!(reply.status, 409, "{}", reply.text);
    assert_eq!(
        reply.body["error"]["message"],
        "an active dynamic intent named MAINTENANCE_REQUEST already exists"
    );
    assert_eq!(dash.store.proposal("p-dup").await.unwrap().unwrap().status, ProposalStatus::Pending);
    assert_eq!(decided_today(&dash).await, (0, 0));
}

#[tokio::test]
async fn pending_proposals_are_listed_by_impact_and_the_created_order_stays_available() {
    let dash = Dash::new().await;
    let at = Utc::now();
    for (i, (id, impact)) in [("p-small", 3), ("p-big", 20), ("p-mid", 7)].into_iter().enumerate() {
        let mut proposal = fixtures::proposal(id, "session-1", at + chrono::Duration::minutes(i as i64));
        proposal.proposal.impact = impact;
        proposal.proposal.fingerprint = format!("fp-{id}");
        dash.store.create(&proposal).await.unwrap();
    }
    let ids = |reply: &autolearn_testkit::http::Reply| -> Vec<String> {
        reply.body["proposals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["proposalId"].as_str().unwrap().to_owned())
            .collect()
    };

    let first = dash.admin("GET", "/v1/proposals?limit=2", "").await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["order"], "impact");
    assert_eq!(ids(&first), ["p-big", "p-mid"]);
    let cursor = first.body["next"].as_str().expect("a second page").to_owned();
    let second = dash.admin("GET", &format!("/v1/proposals?limit=2&cursor={cursor}"), "").await;
    assert_eq!(ids(&second), ["p-small"]);
    assert_eq!(second.body["next"], json!(null));

    let created = dash.admin("GET", "/v1/proposals?order=created", "").await;
    assert_eq!(created.body["order"], "created");
    assert_eq!(ids(&created), ["p-small", "p-big", "p-mid"]);

    let bad = dash.admin("GET", "/v1/proposals?order=newest", "").await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert_eq!(bad.body["error"]["field"], "order");
    let bad = dash.admin("GET", "/v1/proposals?cursor=rank-x", "").await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert_eq!(bad.body["error"]["field"], "cursor");
}
