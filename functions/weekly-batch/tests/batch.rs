//! The weekly batch against moto: a seeded week, run with the scheduled sample event from
//! `events/`; the session, proposals, analysed flags, A/B decisions, bus events and the email
//! read back from moto; reruns change nothing; a crash after any step resumes to the same state.

mod support;

use std::collections::BTreeSet;

use autolearn_model::*;
use autolearn_model::{BatchStatus, BatchStep, ExperimentAction};
use autolearn_testkit::{ObservedBus, fixtures};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::Value;
use weekly_batch::{Deps, StopPolicy, TriggerEvent, handle};

struct Env {
    deps: Deps,
    bus: ObservedBus,
}

fn schedule_event() -> TriggerEvent {
    serde_json::from_str(include_str!("../../../events/weekly-schedule.json")).unwrap()
}

/// The scheduled event fires at 2026-11-16T08:00Z: the period is the week before.
fn period_end() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 16, 8, 0, 0).unwrap()
}

impl Env {
    async fn new() -> Self {
        let (deps, bus) = support::observed_deps().await;
        let env = Self { deps, bus };
        env.seed().await;
        env
    }

    fn store(&self) -> &Store {
        &self.deps.store
    }

    async fn execution(
        &self,
        id: &str,
        conversation: &str,
        at: DateTime<Utc>,
        body: &str,
        matched: Option<&str>,
    ) {
        let mut execution = fixtures::execution(id, conversation, at);
        fixtures::set_body(&mut execution, body);
        match matched {
            Some(intent) => execution.intent.as_mut().unwrap().name = intent.into(),
            None => {
                execution.intent = None;
                execution.draft_reply = None;
            }
        }
        self.store().create(&execution).await.unwrap();
    }

    /// A week of a property-management inbox: showing requests the agent handles, maintenance
    /// requests and parking questions it does not know yet, reps shortening its drafts, and
    /// experiments that have earned a decision.
    async fn seed(&self) {
        let week_start = period_end() - Duration::days(7);
        let at = |i: i64| week_start + Duration::hours(3 + i * 7);
        let showing = [
            "Hi, is the 2-bed on Elm Street still available for a showing?",
            "Can I schedule a tour of the apartment this weekend?",
            "I'd like to see the unit on Oak Avenue, when can I come by?",
            "Is the studio available to view on Saturday?",
        ];
        for (i, body) in showing.iter().enumerate() {
            self.execution(
                &format!("show-{i}"),
                &format!("conv-show-{i}"),
                at(i as i64),
                body,
                Some("SHOWING_REQUEST"),
            )
            .await;
        }
        let maintenance = [
            "My kitchen sink is leaking, can someone come fix it?",
            "The kitchen sink leaks under the cabinet, please send maintenance",
            "Our bathroom sink is leaking again, can maintenance fix it this week?",
            "The heater is broken and the kitchen sink is leaking <script>alert(1)</script>",
            "Can you send someone to fix the leaking sink in my kitchen? Call 555-201-3344",
            "Maintenance request: sink leaking in the kitchen since Monday",
        ];
        for (i, body) in maintenance.iter().enumerate() {
            self.execution(&format!("gap-m{i}"), &format!("conv-m{i}"), at(5 + i as i64), body, None).await;
        }
        let parking = [
            "Is there a parking spot included with the apartment?",
            "Do you have garage parking available for tenants?",
            "How much does a reserved parking spot cost per month?",
            "Is parking included or is it extra for the garage spot?",
        ];
        for (i, body) in parking.iter().enumerate() {
            self.execution(&format!("gap-p{i}"), &format!("conv-p{i}"), at(12 + i as i64), body, None).await;
        }
        // Gaps from earlier weeks are not this week's business, but they are the
        // cross-conversation evidence that raises the maintenance proposal's confidence.
        for (i, body) in [
            "My sink is leaking, can you fix it?",
            "The kitchen sink has a leak, please send someone",
            "Leaking sink in the bathroom, need maintenance",
        ]
        .iter()
        .enumerate()
        {
            let at = week_start - Duration::days(3 + 10 * i as i64);
            self.execution(&format!("gap-old-{i}"), &format!("conv-old-{i}"), at, body, None).await;
        }

        let long = "Thanks for reaching out! I'd be happy to help with that. We have tours available most \
                    days of the week and our friendly team would love to show you around. Saturday at 10am is open.";
        for i in 0..5 {
            let execution = self.store().execution(&format!("show-{}", i % 4)).await.unwrap().unwrap();
            let mut feedback = fixtures::feedback(&execution, at(18 + i));
            feedback.execution_id = format!("fb-{i}");
            feedback.conversation_id = format!("conv-fb-{i}");
            fixtures::set_texts(&mut feedback, long, "Saturday at 10am is open.");
            self.store().create(&feedback).await.unwrap();
        }
        // Sent after the period's end: waits for next week's batch.
        let execution = self.store().execution("show-0").await.unwrap().unwrap();
        let mut late = fixtures::feedback(&execution, period_end() + Duration::hours(1));
        late.execution_id = "fb-late".into();
        self.store().create(&late).await.unwrap();

        let created = week_start - Duration::days(30);
        let mut winner = fixtures::intent("intent-winner", "PET_POLICY", created);
        winner.usage = UsageCounts { hit_count: 12, sent_count: 10, unedited_count: 9 };
        let mut loser = fixtures::intent("intent-loser", "LATE_FEES", created);
        loser.usage = UsageCounts { hit_count: 25, sent_count: 20, unedited_count: 4 };
        let mut young = fixtures::intent("intent-young", "KEYS", created);
        young.usage = UsageCounts { hit_count: 5, sent_count: 5, unedited_count: 5 };
        for intent in [winner, loser, young] {
            self.store().create(&intent).await.unwrap();
        }
        let mut stale = fixtures::proposal("stale", "old-session", period_end() - Duration::days(40));
        stale.proposal.fingerprint = "stale-fingerprint".into();
        self.store().create(&stale).await.unwrap();

        // Daily counters: accuracy and coverage both improve from last week to this week.
        for (day_offset, executions, matched, sent, unedited) in [(-10, 10, 5, 10, 4), (-3, 10, 7, 10, 6)] {
            let day = (period_end() + Duration::days(day_offset)).date_naive();
            self.store()
                .add_to_counters(
                    day,
                    0,
                    &[
                        (Counter::Executions, executions),
                        (Counter::Matched, matched),
                        (Counter::Sent, sent),
                        (Counter::Unedited, unedited),
                    ],
                )
                .await
                .unwrap();
        }
    }

    async fn run(&self, stop: StopPolicy) -> weekly_batch::BatchOutcome {
        handle(&self.deps, schedule_event(), stop).await.unwrap()
    }

    /// The state a batch leaves, in comparable form.
    async fn final_state(
        &self,
    ) -> (Vec<ProposalId>, BTreeSet<String>, Vec<(String, String)>, usize, SessionStatus) {
        let session_id =
            autolearn_model::keys::session_id_for_period(period_end() - Duration::days(7), period_end());
        let session = self.store().session(&session_id).await.unwrap().unwrap();
        let queue: BTreeSet<String> = self
            .store()
            .unanalyzed_feedback(None, 100)
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|feedback| feedback.execution_id)
            .collect();
        let decisions =
            session.decisions.iter().map(|d| (d.item_id.clone(), d.action.as_str().to_owned())).collect();
        let mut proposals = session.proposal_ids.clone();
        proposals.sort();
        (proposals, queue, decisions, self.emails_to_me().await.len(), session.status)
    }

    /// Emails moto sent from this test's sender.
    async fn emails_to_me(&self) -> Vec<Value> {
        let url = format!("{}/moto-api/data.json", autolearn_testkit::endpoint());
        let data: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        let sender = &self.deps.mailer.sender;
        let mut found = Vec::new();
        collect_messages(&data, sender, &mut found);
        found
    }
}

/// moto's state dump nests sent messages under its SES backend; find those from `sender`.
fn collect_messages(value: &Value, sender: &str, found: &mut Vec<Value>) {
    match value {
        Value::Object(map) => {
            if map.get("source").and_then(Value::as_str) == Some(sender) {
                found.push(value.clone());
                return;
            }
            map.values().for_each(|v| collect_messages(v, sender, found));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_messages(v, sender, found)),
        _ => {}
    }
}

#[tokio::test]
async fn a_week_becomes_a_session_proposals_decisions_events_and_one_email() {
    let env = Env::new().await;
    let outcome = env.run(StopPolicy::default()).await;
    assert_eq!(outcome.status, BatchStatus::Completed);
    assert_eq!(outcome.completed_steps.len(), BatchStep::ALL.len());

    let session = env.store().session(&outcome.session_id).await.unwrap().unwrap();
    assert_eq!(session.status, SessionStatus::Completed);
    assert_eq!(session.session_type, SessionType::Batch);
    assert_eq!(session.period_end, period_end());
    assert_eq!(session.stats.gap_messages, 10, "only this week's gaps");
    assert_eq!(session.stats.edits_analysed, 5, "only feedback sent before the period's end");
    assert_eq!(session.stats.conversations_analysed, 15);
    let summary = session.summary.clone().unwrap();
    assert!(summary.starts_with("15 conversations analysed"), "{summary}");

    // Proposals: a new intent from the maintenance gaps, a playbook amendment from the edits.
    let mut proposals = Vec::new();
    for id in &session.proposal_ids {
        proposals.push(env.store().proposal(id).await.unwrap().expect("stored proposal"));
    }
    let new_intents: Vec<&LearningProposal> =
        proposals.iter().filter(|p| p.proposal.kind == ProposalKind::NewIntent).collect();
    let maintenance = new_intents
        .iter()
        .find(|p| p.proposal.keywords.iter().any(|k| k.contains("sink") || k.contains("leak")))
        .unwrap_or_else(|| {
            panic!(
                "no maintenance intent in {:#?}",
                proposals.iter().map(|p| &p.proposal.title).collect::<Vec<_>>()
            )
        });
    let name = maintenance.proposal.intent_name.clone().unwrap();
    assert!(name.chars().all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()), "{name}");
    assert!((3..=5).contains(&maintenance.proposal.examples.len()), "{:?}", maintenance.proposal.examples);
    assert!(maintenance.proposal.evidence.len() >= 3);
    assert_eq!(maintenance.proposal.confidence, Confidence::High, "6 similar messages from 6 conversations");
    assert!(
        maintenance
            .proposal
            .examples
            .iter()
            .map(String::as_str)
            .chain(maintenance.proposal.evidence.iter().map(|e| e.shown_text()))
            .all(|t| !t.contains("555-201-3344"))
    );
    let amendment = proposals
        .iter()
        .find(|p| p.proposal.kind == ProposalKind::PlaybookAmendment)
        .expect("a playbook amendment from the shortened drafts");
    assert!(amendment.proposal.title.to_lowercase().contains("shorter"), "{}", amendment.proposal.title);
    assert!(amendment.proposal.evidence.len() >= 3);
    assert!(proposals.iter().all(|p| p.status == ProposalStatus::Pending));

    // Feedback of the period is analysed and out of the queue; later feedback waits.
    for i in 0..5 {
        let feedback = env.store().feedback(&format!("fb-{i}")).await.unwrap().unwrap();
        assert!(feedback.analyzed);
        assert_eq!(feedback.learning_session_id.as_deref(), Some(outcome.session_id.as_str()));
    }
    assert!(!env.store().feedback("fb-late").await.unwrap().unwrap().analyzed);

    // A/B: the design document's thresholds.
    let winner = env.store().intent("intent-winner").await.unwrap().unwrap();
    assert!(!winner.experimental && winner.active && winner.promoted_at.is_some());
    let loser = env.store().intent("intent-loser").await.unwrap().unwrap();
    assert!(!loser.active && loser.deactivated_at.is_some());
    let young = env.store().intent("intent-young").await.unwrap().unwrap();
    assert!(young.experimental && young.active, "too few hits to decide");
    let decisions: Vec<(&str, &str)> =
        session.decisions.iter().map(|d| (d.item_id.as_str(), d.action.as_str())).collect();
    assert_eq!(decisions, vec![("intent-loser", "demote"), ("intent-winner", "promote")]);
    let promoted = session.decisions.iter().find(|d| d.action == ExperimentAction::Promote).unwrap();
    assert_eq!(
        (promoted.usage.hit_count, promoted.usage.sent_count, promoted.usage.unedited_count),
        (12, 10, 9)
    );
    assert!(promoted.reason.contains("90%") || promoted.reason.contains("0.9"), "{}", promoted.reason);

    // The stale pending proposal expired.
    assert_eq!(env.store().proposal("stale").await.unwrap().unwrap().status, ProposalStatus::Expired);

    // Events.
    let events = env.bus.received().await;
    let types: BTreeSet<&str> = events.iter().filter_map(|e| e["detail-type"].as_str()).collect();
    assert_eq!(types, BTreeSet::from(["LearningSessionCreated", "IntentPromoted", "IntentDemoted"]));
    let created = events.iter().find(|e| e["detail-type"] == "LearningSessionCreated").unwrap();
    assert_eq!(created["detail"]["sessionId"], outcome.session_id.as_str());
    let promoted = events.iter().find(|e| e["detail-type"] == "IntentPromoted").unwrap();
    assert_eq!(promoted["detail"]["hitCount"], 12);

    // The email: subject, both parts, escaped customer text, the session knows its id.
    let emails = env.emails_to_me().await;
    assert_eq!(emails.len(), 1, "{emails:#?}");
    let email = emails[0].to_string();
    let improvements = proposals.len();
    assert!(
        email.contains(&format!("Weekly Learning Report \\u2014 {improvements} Improvements Suggested"))
            || email.contains(&format!("Weekly Learning Report — {improvements} Improvements Suggested")),
        "{email}"
    );
    assert!(!email.contains("<script>alert(1)</script>"), "customer text must be escaped");
    assert!(session.report_message_id.is_some());
}

#[tokio::test]
async fn a_rerun_of_the_same_event_changes_nothing_and_sends_nothing() {
    let env = Env::new().await;
    env.run(StopPolicy::default()).await;
    let first = env.final_state().await;
    env.bus.received().await;

    let again = env.run(StopPolicy::default()).await;
    assert_eq!(again.status, BatchStatus::Completed);
    assert_eq!(env.final_state().await, first);
    assert!(env.bus.received().await.is_empty(), "no event published twice");
    assert_eq!(env.emails_to_me().await.len(), 1);
}

#[tokio::test]
async fn a_crash_after_any_step_resumes_to_the_same_final_state() {
    let reference = Env::new().await;
    reference.run(StopPolicy::default()).await;
    let expected = reference.final_state().await;

    for step in BatchStep::ALL {
        let env = Env::new().await;
        let stopped = env.run(StopPolicy { crash_after: Some(step), ..Default::default() }).await;
        assert_eq!(stopped.status, BatchStatus::Interrupted);
        assert_eq!(stopped.completed_steps.last(), Some(&step));
        let resumed = env.run(StopPolicy::default()).await;
        assert_eq!(resumed.status, BatchStatus::Completed, "after a crash at {step:?}");
        let state = env.final_state().await;
        // Proposal ids derive from the session and fingerprint: identical across environments.
        assert_eq!(state, expected, "after a crash at {step:?}");
    }
}

#[tokio::test]
async fn a_run_near_its_deadline_hands_over_through_the_bus() {
    let env = Env::new().await;
    let stop = StopPolicy {
        deadline: Some(std::time::Instant::now()),
        margin: std::time::Duration::from_secs(60),
        crash_after: None,
    };
    let outcome = env.run(stop).await;
    assert_eq!(outcome.status, BatchStatus::Continuing);
    assert!(outcome.completed_steps.is_empty());
    let events = env.bus.received().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["detail-type"], "BatchContinuationRequested");
    assert_eq!(events[0]["detail"]["periodEnd"], "2026-11-16T08:00:00Z");

    // The continuation event (as EventBridge delivers it) continues the same period.
    let continuation: TriggerEvent = serde_json::from_value(serde_json::json!({
        "detail-type": "BatchContinuationRequested",
        "time": "2026-11-16T08:15:00Z",
        "detail": events[0]["detail"].clone(),
    }))
    .unwrap();
    let resumed = handle(&env.deps, continuation, StopPolicy::default()).await.unwrap();
    assert_eq!(resumed.session_id, outcome.session_id);
    assert_eq!(resumed.status, BatchStatus::Completed);
}

/// Messages and feedback stored before their masked forms were (an earlier release) are learnt
/// from but never quoted: the batch masks nothing itself, so what it has no masked form of never
/// reaches a proposal, its evidence or the email.
#[tokio::test]
async fn text_stored_without_its_masked_form_is_never_quoted() {
    let (deps, _bus) = support::observed_deps().await;
    let draft = "Hi Maria, thanks for reaching out! I'd be happy to help with that. We have tours available \
                 most days of the week and our friendly team would love to show you around. Saturday at 10am is open.";
    support::seed_week_with(
        &deps.store,
        0,
        &support::WITH_PERSONAL_DATA,
        draft,
        "Hi Maria, Saturday at 10am is open.",
    )
    .await;
    for i in 0..support::WITH_PERSONAL_DATA.len() {
        let mut execution = deps.store.execution(&format!("w0-gap-{i}")).await.unwrap().unwrap();
        execution.message.quoted = None;
        deps.store.put(&execution).await.unwrap();
    }
    for i in 0..4 {
        let mut feedback = deps.store.feedback(&format!("w0-fb-{i}")).await.unwrap().unwrap();
        (feedback.masked_draft, feedback.masked_sent) = (None, None);
        deps.store.put(&feedback).await.unwrap();
    }
    let session = support::run_week(&deps, 0).await;
    assert!(session.has_completed(BatchStep::Report));
    let proposals = support::proposals_of(&deps.store, &session).await;
    let new_intent = proposals.iter().find(|stored| stored.proposal.kind == ProposalKind::NewIntent);
    let new_intent = new_intent.expect("the messages are still learnt from");
    assert!(new_intent.proposal.examples.is_empty(), "{:?}", new_intent.proposal.examples);
    assert!(new_intent.proposal.evidence.iter().all(|evidence| evidence.text.is_none()));
    let stored = serde_json::to_string(&proposals).unwrap() + session.summary.as_deref().unwrap_or_default();
    for planted in support::PLANTED {
        assert!(!stored.contains(planted), "{planted:?} quoted: {stored}");
    }
}
