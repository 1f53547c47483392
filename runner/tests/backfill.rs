//! `autolearn backfill-masked` on moto: items stored before the functions masked text where it
//! comes in get the forms the batch reads, computed as the functions compute them; what has its
//! form, or was erased, is left alone; a rerun changes nothing.

use autolearn_learning::text::{mask_personal_data, masked_own_words};
use autolearn_testkit::{fixtures, fresh_store};
use chrono::{Duration, Utc};

const BODY: &str = "Can I bring my dog? Call 555-123-4567\nSent from my iPhone";

#[tokio::test]
async fn older_items_get_their_masked_forms_once() {
    let store = fresh_store().await;
    let now = Utc::now();
    let mut old = fixtures::execution("old-1", "conv-1", now - Duration::days(10));
    fixtures::set_body(&mut old, BODY);
    old.message.quoted = None;
    store.create(&old).await.unwrap();
    let mut erased = fixtures::execution("old-erased", "conv-2", now - Duration::days(3));
    erased.message.quoted = None;
    store.create(&erased).await.unwrap();
    store.redact_execution("old-erased", None, now).await.unwrap();
    let recent = fixtures::execution("new-1", "conv-3", now - Duration::days(1));
    store.create(&recent).await.unwrap();
    let beyond = {
        let mut beyond = fixtures::execution("old-beyond", "conv-4", now - Duration::days(200));
        beyond.message.quoted = None;
        beyond
    };
    store.create(&beyond).await.unwrap();
    let mut feedback = fixtures::feedback(&old, now - Duration::days(10));
    fixtures::set_texts(&mut feedback, "Write to jane@example.com", "Call 555-123-4567 instead");
    (feedback.masked_draft, feedback.masked_sent) = (None, None);
    store.create(&feedback).await.unwrap();

    let done = autolearn_runner::backfill_masked(&store, now.date_naive(), 97).await.unwrap();
    assert_eq!((done.executions_quoted, done.feedback_masked), (1, 1), "{done:?}");
    assert_eq!(done.executions_read, 3, "the three executions of the last 97 days: {done:?}");
    let stored = store.execution("old-1").await.unwrap().unwrap();
    assert_eq!(stored.message.quoted, Some(masked_own_words(BODY)));
    assert_eq!(stored.message.quoted.as_deref(), Some("Can I bring my dog? Call [phone]"));
    assert!(store.execution("old-erased").await.unwrap().unwrap().message.quoted.is_none());
    assert!(store.execution("old-beyond").await.unwrap().unwrap().message.quoted.is_none());
    assert_eq!(store.execution("new-1").await.unwrap().unwrap(), recent, "what had its form is unchanged");
    let masked = store.feedback("old-1").await.unwrap().unwrap();
    assert_eq!(masked.masked_draft, Some(mask_personal_data("Write to jane@example.com")));
    assert_eq!(masked.masked_sent.as_deref(), Some("Call [phone] instead"));

    let again = autolearn_runner::backfill_masked(&store, now.date_naive(), 97).await.unwrap();
    assert_eq!((again.executions_quoted, again.feedback_masked), (0, 0), "{again:?}");
}
