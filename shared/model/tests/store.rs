//! The store against the project's moto server: every entity round-trips, conditional writes
//! and transactions refuse what they must, counters stay exact under concurrency, the sparse
//! queue holds exactly the waiting feedback, and pagination sees every item once.

use std::collections::BTreeSet;

use autolearn_model::*;
use autolearn_testkit::{fixtures, fresh_store, run_concurrently};
use chrono::Duration;

#[tokio::test]
async fn every_entity_round_trips() {
    let store = fresh_store().await;
    let at = fixtures::monday_9am();

    let execution = fixtures::execution("e1", "c1", at);
    store.create(&execution).await.unwrap();
    assert_eq!(store.execution("e1").await.unwrap(), Some(execution.clone()));

    let feedback = fixtures::feedback(&execution, at);
    store.create(&feedback).await.unwrap();
    assert_eq!(store.feedback("e1").await.unwrap(), Some(feedback));

    let mut intent = fixtures::intent("i1", "MAINTENANCE_REQUEST", at);
    intent.usage = UsageCounts { hit_count: 11, sent_count: 10, unedited_count: 9 };
    intent.promoted_at = Some(at);
    store.create(&intent).await.unwrap();
    assert_eq!(store.intent("i1").await.unwrap(), Some(intent));

    let entry = fixtures::playbook_entry("p1", at);
    store.create(&entry).await.unwrap();
    assert_eq!(store.playbook_entry("p1").await.unwrap(), Some(entry));

    let mut session = fixtures::session("s1", at);
    session.stats.conversations_analysed = 47;
    session.proposal_ids = vec!["pr1".into()];
    store.create(&session).await.unwrap();
    assert_eq!(store.session("s1").await.unwrap(), Some(session));

    let proposal = fixtures::proposal("pr1", "s1", at);
    store.create(&proposal).await.unwrap();
    assert_eq!(store.proposal("pr1").await.unwrap(), Some(proposal));

    let record = IdempotencyRecord {
        scope: "executions".into(),
        key: "e1".into(),
        request_hash: "abc".into(),
        response_status: 201,
        response_body: "{}".into(),
        created_at: at,
        expires_at: (at + Duration::days(1)).timestamp(),
    };
    store.create(&record).await.unwrap();
    assert_eq!(store.idempotency_record("executions", "e1", at).await.unwrap(), Some(record));
    // Expired records are ignored even though the emulator (like DynamoDB, lazily) keeps them.
    let later = at + Duration::days(2);
    assert_eq!(store.idempotency_record("executions", "e1", later).await.unwrap(), None);

    assert_eq!(store.execution("missing").await.unwrap(), None);
}

#[tokio::test]
async fn conditional_create_refuses_a_duplicate() {
    let store = fresh_store().await;
    let at = fixtures::monday_9am();
    let first = fixtures::execution("e1", "c1", at);
    store.create(&first).await.unwrap();

    let mut second = first.clone();
    second.message.body = "something else".into();
    let error = store.create(&second).await.unwrap_err();
    assert!(matches!(error, StoreError::AlreadyExists { kind: "execution", .. }), "{error}");
    assert_eq!(store.execution("e1").await.unwrap(), Some(first), "the original is untouched");
}

#[tokio::test]
async fn a_transaction_whose_condition_fails_writes_nothing() {
    let store = fresh_store().await;
    let at = fixtures::monday_9am();
    let intent = fixtures::intent("i1", "MAINTENANCE_REQUEST", at);
    store.create(&intent).await.unwrap();

    let execution = fixtures::execution("e1", "c1", at);
    let mut transaction = Transaction::new();
    transaction.create(&execution).unwrap();
    transaction.add_usage(ConfigItem::intent("i1"), &[(Usage::Hit, 1)]).unwrap();
    transaction.add_to_counters(at.date_naive(), 0, &[(Counter::Executions, 1)]).unwrap();
    // This intent does not exist, so the whole transaction must be refused.
    transaction.add_usage(ConfigItem::intent("nope"), &[(Usage::Hit, 1)]).unwrap();

    let error = store.commit(transaction).await.unwrap_err();
    match &error {
        StoreError::TransactionCanceled { reasons } => {
            assert_eq!(reasons.len(), 4);
            assert!(reasons[3].is_condition_failure());
            assert!(reasons[..3].iter().all(|reason| !reason.is_condition_failure()));
        }
        other => panic!("expected a cancelled transaction, got {other}"),
    }
    assert!(error.is_condition_failure());
    assert_eq!(store.execution("e1").await.unwrap(), None);
    assert_eq!(store.intent("i1").await.unwrap().unwrap().usage.hit_count, 0);
    let counters = store.daily_counters(&[at.date_naive()]).await.unwrap();
    assert_eq!(counters[0].get(&Counter::Executions), 0);
}

#[tokio::test]
async fn concurrent_increments_end_exact() {
    let store = fresh_store().await;
    let at = fixtures::monday_9am();
    let day = at.date_naive();
    store.create(&fixtures::intent("i1", "PETS", at)).await.unwrap();

    let tasks = (0..200).map(|i| {
        let store = store.clone();
        async move {
            let shard = counters::shard_for(&format!("e{i}"), keys::COUNTER_SHARDS);
            store
                .add_to_counters(day, shard, &[(Counter::Executions, 1), (Counter::Skill("pets".into()), 2)])
                .await
                .unwrap();
            let mut transaction = Transaction::new();
            transaction.add_usage(ConfigItem::intent("i1"), &[(Usage::Hit, 1)]).unwrap();
            store.commit(transaction).await.unwrap();
        }
    });
    run_concurrently(tasks).await;

    let counters = store.daily_counters(&[day, day.succ_opt().unwrap()]).await.unwrap();
    assert_eq!(counters[0].get(&Counter::Executions), 200);
    assert_eq!(counters[0].skills().collect::<Vec<_>>(), vec![("pets", 400)]);
    assert_eq!(counters[1].get(&Counter::Executions), 0, "the next day is untouched");
    assert_eq!(store.intent("i1").await.unwrap().unwrap().usage.hit_count, 200);
}

async fn all_unanalyzed(store: &Store, page_size: i32) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.unanalyzed_feedback(cursor.as_deref(), page_size).await.unwrap();
        assert!(page.items.iter().all(|feedback| !feedback.analyzed));
        ids.extend(page.items.into_iter().map(|feedback| feedback.execution_id));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn the_unanalyzed_queue_holds_only_waiting_feedback() {
    let store = fresh_store().await;
    let at = fixtures::monday_9am();
    for i in 0..5 {
        let execution = fixtures::execution(&format!("e{i}"), "c1", at + Duration::minutes(i));
        let mut feedback = fixtures::feedback(&execution, at + Duration::minutes(i));
        feedback.analyzed = i == 4; // already analysed: never in the queue
        store.create(&feedback).await.unwrap();
    }
    assert_eq!(all_unanalyzed(&store, 10).await, vec!["e0", "e1", "e2", "e3"]);

    assert!(store.mark_feedback_analyzed("e1", "s1").await.unwrap());
    assert!(!store.mark_feedback_analyzed("e1", "s1").await.unwrap(), "a rerun marks nothing");
    assert!(!store.mark_feedback_analyzed("missing", "s1").await.unwrap());
    assert_eq!(all_unanalyzed(&store, 10).await, vec!["e0", "e2", "e3"]);

    let marked = store.feedback("e1").await.unwrap().unwrap();
    assert!(marked.analyzed);
    assert_eq!(marked.learning_session_id.as_deref(), Some("s1"));
}

#[tokio::test]
async fn pagination_returns_every_item_exactly_once() {
    let store = fresh_store().await;
    let at = fixtures::monday_9am();
    let mut expected = BTreeSet::new();
    for i in 0..23 {
        let id = format!("e{i:02}");
        let mut execution = fixtures::execution(&id, &format!("c{}", i % 4), at + Duration::minutes(i));
        if i % 3 == 0 {
            execution.draft_reply = None; // a gap
        }
        store.create(&execution).await.unwrap();
        expected.insert(id);
    }
    // Another day's execution must not appear.
    store.create(&fixtures::execution("other-day", "c1", at + Duration::days(1))).await.unwrap();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = store.executions_of_day(at.date_naive(), cursor.as_deref(), 5).await.unwrap();
        pages += 1;
        seen.extend(page.items.into_iter().map(|execution| execution.execution_id));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert!(pages >= 5, "23 items in pages of 5 take at least 5 pages, took {pages}");
    assert_eq!(seen.len(), 23, "no item twice");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(seen.windows(2).all(|pair| pair[0] < pair[1]), "oldest first");

    let gaps = store.gap_executions_of_day(at.date_naive(), None, 100).await.unwrap();
    assert_eq!(gaps.items.len(), 8);
    assert!(gaps.items.iter().all(Execution::is_gap));

    let error = store.executions_of_day(at.date_naive(), Some("not-a-cursor"), 5).await.unwrap_err();
    assert!(matches!(error, StoreError::InvalidCursor));
}

#[tokio::test]
async fn a_proposal_is_decided_once() {
    let store = fresh_store().await;
    let at = fixtures::monday_9am();
    let pending = fixtures::proposal("pr1", "s1", at);
    store.create(&pending).await.unwrap();

    let decide = |status: ProposalStatus| {
        let mut decided = pending.clone();
        decided.status = status;
        decided.decided_at = Some(at);
        let mut transaction = Transaction::new();
        transaction.decide_proposal(&decided, ProposalStatus::Pending).unwrap();
        transaction
    };
    let (applied, rejected) = tokio::join!(
        store.commit(decide(ProposalStatus::Applied)),
        store.commit(decide(ProposalStatus::Rejected))
    );
    assert!(applied.is_ok() != rejected.is_ok(), "exactly one decision wins");

    let stored = store.proposal("pr1").await.unwrap().unwrap();
    let winner = if applied.is_ok() { ProposalStatus::Applied } else { ProposalStatus::Rejected };
    assert_eq!(stored.status, winner);
    assert!(store.proposals_with_status(ProposalStatus::Pending, None, 10).await.unwrap().items.is_empty());
    assert_eq!(store.proposals_with_status(winner, None, 10).await.unwrap().items.len(), 1);
}

#[tokio::test]
async fn an_oversized_item_is_refused_before_it_is_sent() {
    let store = fresh_store().await;
    let mut execution = fixtures::execution("big", "c1", fixtures::monday_9am());
    execution.message.body = "x".repeat(store::MAX_ITEM_BYTES);
    let error = store.create(&execution).await.unwrap_err();
    assert!(matches!(error, StoreError::ItemTooLarge { kind: "execution", .. }), "{error}");
    assert_eq!(store.execution("big").await.unwrap(), None);
}
