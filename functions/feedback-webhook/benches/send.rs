//! Edit distance: rapidfuzz's bit-parallel Levenshtein (what the webhook uses) against strsim's
//! classic dynamic programme on 1k, 5k and 20k-character drafts, reported side by side so the
//! ratio reads off one run. Then the webhook's CPU time per send without the network: parse,
//! compare, analyse and build the transaction, against a parse-only baseline.

use std::hint::black_box;

use autolearn_model::{Execution, ExecutionStatus, InboundMessage, MatchedIntent};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// A draft of about `chars` characters and a human-like edit of it (a sentence dropped, one
/// reworded, a question added), deterministic.
fn draft_and_edit(chars: usize) -> (String, String) {
    let sentences = [
        "I'd be happy to help with that!",
        "The two-bedroom on Elm Street is available from the first of next month.",
        "Rent is $1,850 per month and includes water and trash.",
        "We can schedule a showing on Saturday morning or Sunday afternoon.",
        "Please let me know which time works best for you.",
    ];
    let mut draft = String::new();
    let mut sent = String::new();
    let mut i = 0;
    while draft.len() < chars {
        let sentence = sentences[i % sentences.len()];
        draft.push_str(sentence);
        draft.push(' ');
        match i % 7 {
            0 => {}
            3 => sent.push_str("Let me check availability and get back to you. "),
            5 => sent.push_str("Does Saturday at 10am work? "),
            _ => {
                sent.push_str(sentence);
                sent.push(' ');
            }
        }
        i += 1;
    }
    (draft, sent)
}

fn edit_distance(c: &mut Criterion) {
    let mut group = c.benchmark_group("edit_distance");
    for chars in [1_000, 5_000, 20_000] {
        let (draft, sent) = draft_and_edit(chars);
        group.bench_with_input(BenchmarkId::new("strsim (baseline)", chars), &chars, |b, _| {
            b.iter(|| 1.0 - strsim::normalized_levenshtein(black_box(&draft), black_box(&sent)))
        });
        group.bench_with_input(BenchmarkId::new("rapidfuzz", chars), &chars, |b, _| {
            b.iter(|| autolearn_learning::edit::normalized_edit_distance(black_box(&draft), black_box(&sent)))
        });
    }
    group.finish();
}

fn handler_cpu(c: &mut Criterion) {
    let event: serde_json::Value =
        serde_json::from_str(include_str!("../../../events/post-feedback.json")).unwrap();
    let body = event["body"].as_str().unwrap().as_bytes().to_vec();
    let now = chrono::Utc::now();
    let execution = Execution {
        execution_id: "exec-01JD7S3K9Q".into(),
        conversation_id: "conv-1001".into(),
        contact_id: None,
        message: InboundMessage {
            message_id: "m".into(),
            body: "Is the 2-bed available?".into(),
            quoted: Some("Is the 2-bed available?".into()),
            received_at: now,
        },
        intent: Some(MatchedIntent { name: "SHOWING_REQUEST".into(), dynamic_intent_id: Some("intent-showing".into()) }),
        skill: Some("schedule_showing".into()),
        playbook_entry_ids: vec!["pb-offer-times".into(), "pb-confirm-address".into()],
        draft_reply: Some("I'd be happy to help with that! The 2-bed on Elm Street is available. Would Saturday at 10am or 11am work for you?".into()),
        status: ExecutionStatus::Success,
        created_at: now,
        erased_at: None,
    };
    let mut group = c.benchmark_group("feedback_webhook_request");
    group.bench_function("baseline: serde_json parse only", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&body)).unwrap())
    });
    group.bench_function("parse + compare + analyse + build transaction", |b| {
        b.iter(|| {
            let (request, hash) = feedback_webhook::send::parse(black_box(&body)).unwrap();
            feedback_webhook::send::prepare(&request, hash, &execution, 0.2, now).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, edit_distance, handler_cpu);
criterion_main!(benches);
