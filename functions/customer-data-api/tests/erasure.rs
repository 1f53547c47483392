//! An erasure of a contact with many items is paged and resumable: each call does a bounded
//! amount of work and records its progress; a later call (a retry, or another worker) continues
//! from the recorded cursor until nothing of the contact is left. On moto.

mod common;

use autolearn_model::{ErasureStatus, LearningProposal, ProposalReference, Store, keys};
use autolearn_testkit::fixtures;
use chrono::{Duration, Utc};
use common::Api;
use customer_data_api::contacts::rules::{self, Budget};

const CONTACT: &str = "contact-with-many-items";

/// Message `i` of the contact (execution `id`, its own conversation), with feedback when asked,
/// quoted as evidence by `proposal`, with the reference item the batch writes for it.
async fn seed_quoted_message(
    store: &Store,
    proposal: &mut LearningProposal,
    id: &str,
    i: i64,
    feedback: bool,
) {
    let at = fixtures::monday_9am() + Duration::minutes(i);
    let mut execution = fixtures::execution(id, &format!("conv-{i}"), at);
    execution.contact_id = Some(CONTACT.into());
    fixtures::set_body(&mut execution, &format!("Message number {i} of the contact"));
    store.create(&execution).await.unwrap();
    if feedback {
        store.create(&fixtures::feedback(&execution, at)).await.unwrap();
    }
    let mut evidence = fixtures::proposal("x", "s", at).proposal.evidence.remove(0);
    evidence.id = execution.execution_id.clone();
    proposal.proposal.evidence.push(evidence);
    let reference = ProposalReference {
        execution_id: execution.execution_id.clone(),
        proposal_id: proposal.proposal_id.clone(),
    };
    store.put(&reference).await.unwrap();
}

#[tokio::test]
async fn a_large_erasure_continues_page_by_page_from_its_recorded_cursor() {
    let api = Api::new().await;
    let at = fixtures::monday_9am();
    let mut proposal = fixtures::proposal("prop-many", "session-1", at);
    proposal.proposal.evidence.clear();
    for i in 0..7 {
        seed_quoted_message(&api.store, &mut proposal, &format!("many-{i}"), i, i % 2 == 0).await;
    }
    api.store.create(&proposal).await.unwrap();
    let budget = Budget { page: 2, pages: 1 };

    let first =
        rules::erase_within(&api.store, &api.bus.bus, CONTACT, "admin", Utc::now(), budget).await.unwrap();
    assert_eq!(first.record.status, ErasureStatus::InProgress);
    assert_eq!(first.record.executions_erased, 2);
    assert!(first.record.cursor.is_some(), "the next call continues after the first page");
    let erasure_id = keys::erasure_id_for_contact(CONTACT);
    assert_eq!(first.record.erasure_id, erasure_id);
    let progress = api.admin("GET", &format!("/v1/erasures/{erasure_id}"), "").await;
    assert_eq!(progress.status, 200, "{}", progress.text);
    assert_eq!(progress.body["status"], "inProgress");
    assert_eq!(progress.body["executionsErased"], 2);

    // Other calls pick it up from the stored record until it completes.
    let mut calls = 1;
    let last = loop {
        let next = rules::erase_within(&api.store, &api.bus.bus, CONTACT, "admin", Utc::now(), budget)
            .await
            .unwrap();
        calls += 1;
        if next.record.status == ErasureStatus::Completed {
            break next;
        }
        assert!(calls < 10, "the erasure does not progress: {:?}", next.record);
    };
    assert_eq!(calls, 4, "7 executions, 2 a call");
    assert_eq!(last.record.executions_erased, 7);
    assert_eq!(last.record.proposals_redacted, 7, "one evidence removed per execution");
    assert!(api.store.contact_execution_ids(CONTACT, None, 10).await.unwrap().items.is_empty());
    let redacted = api.store.proposal("prop-many").await.unwrap().unwrap();
    assert!(redacted.proposal.evidence.is_empty());
    for i in 0..7 {
        let execution = api.store.execution(&format!("many-{i}")).await.unwrap().unwrap();
        assert!(
            execution.contact_id.is_none()
                && execution.message.body.is_empty()
                && execution.message.quoted.is_none()
                && execution.erased_at.is_some()
        );
        assert!(execution.draft_reply.is_none());
        assert!(api.store.feedback(&format!("many-{i}")).await.unwrap().is_none());
        assert!(api.store.proposal_references(&format!("many-{i}")).await.unwrap().is_empty());
    }

    // Over HTTP, the completed erasure is a no-op (200), and the event went out once.
    let again = api.admin("DELETE", &format!("/v1/contacts/{CONTACT}"), "").await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["executionsErased"], 7);
    let events = api.bus.received().await;
    assert_eq!(
        events.iter().filter(|event| event["detail-type"] == "ContactErased").count(),
        1,
        "{events:#?}"
    );

    // Data of the contact arriving later is erased by the next request, under the same erasure.
    let mut late = fixtures::execution("many-late", "conv-late", at + Duration::hours(1));
    late.contact_id = Some(CONTACT.into());
    api.store.create(&late).await.unwrap();
    let reopened = api.admin("DELETE", &format!("/v1/contacts/{CONTACT}"), "").await;
    assert_eq!(reopened.status, 202, "{}", reopened.text);
    assert_eq!(reopened.body["erasureId"], erasure_id.as_str());
    assert_eq!(reopened.body["status"], "completed");
    assert_eq!(reopened.body["executionsErased"], 8);
    assert!(api.store.execution("many-late").await.unwrap().unwrap().contact_id.is_none());
}

/// DynamoDB refuses some of the erasure's transactions (conflicts, throttling) and loses the
/// answers of others it applied; the emulator never does, so a fault-injecting HTTP client
/// under the SDK does. Calls that fail are repeated, as a client repeats the DELETE: the
/// erasure ends with exactly the state and counts of an undisturbed one.
#[tokio::test]
async fn an_erasure_under_conflicts_throttling_and_lost_answers_ends_as_an_undisturbed_one() {
    // Enough messages that a run with no fault at all, which would test nothing, is out of
    // reach, and the faults' dice seeded (the test's runtime is one thread): the same faults
    // on every run.
    const MESSAGES: i64 = 24;
    fastrand::seed(20_261_201);
    use autolearn_testkit::faults::{FaultRates, Faults};
    let faults = Faults::new(FaultRates::default());
    let config = faults.sdk_config().await;
    let store = autolearn_testkit::fresh_table(aws_sdk_dynamodb::Client::new(&config)).await;
    let bus = autolearn_testkit::ObservedBus::new().await;
    let at = fixtures::monday_9am();
    let mut proposal = fixtures::proposal("prop-faults", "session-1", at);
    let other_evidence = proposal.proposal.evidence.len();
    for i in 0..MESSAGES {
        seed_quoted_message(&store, &mut proposal, &format!("faulty-{i}"), i, true).await;
    }
    store.create(&proposal).await.unwrap();

    faults.set(FaultRates {
        transaction_conflict: 0.3,
        transaction_throttled: 0.05,
        transaction_answer_lost: 0.1,
        ..FaultRates::default()
    });
    let budget = Budget { page: 2, pages: 1 };
    let mut calls = 0;
    let last = loop {
        calls += 1;
        assert!(calls < 300, "the erasure does not finish under faults");
        match rules::erase_within(&store, &bus.bus, CONTACT, "admin", Utc::now(), budget).await {
            Ok(erased) if erased.record.status == ErasureStatus::Completed => break erased,
            Ok(_) | Err(_) => continue,
        }
    };
    faults.set(FaultRates::default());
    let injected = &faults.injected;
    assert!(
        injected.conflicts() + injected.throttles() + injected.lost_answers() > 0,
        "no fault was injected"
    );

    assert_eq!(last.record.executions_erased, MESSAGES as u64);
    assert_eq!(last.record.proposals_redacted, MESSAGES as u64);
    assert!(store.contact_execution_ids(CONTACT, None, 10).await.unwrap().items.is_empty());
    let redacted = store.proposal("prop-faults").await.unwrap().unwrap();
    assert_eq!(redacted.proposal.evidence.len(), other_evidence, "the other evidence stays");
    for i in 0..MESSAGES {
        let id = format!("faulty-{i}");
        let execution = store.execution(&id).await.unwrap().unwrap();
        assert!(execution.contact_id.is_none() && execution.message.body.is_empty());
        assert!(store.feedback(&id).await.unwrap().is_none());
        assert!(store.proposal_references(&id).await.unwrap().is_empty());
    }
    let events = bus.received().await;
    assert_eq!(
        events.iter().filter(|event| event["detail-type"] == "ContactErased").count(),
        1,
        "{events:#?}"
    );
}
