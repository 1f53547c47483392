//! What reading only the sender's own words costs (`text::own_words`: no quoted thread, no
//! mail client's signature), next to tokenizing those words: an email reply that asks one
//! question above a 60-line quoted thread and a phone's signature, and a one-line chat
//! message. Numbers: docs/learning.md, gap discovery step 1.

use std::hint::black_box;

use autolearn_learning::text;
use criterion::{Criterion, criterion_group, criterion_main};

const QUESTION: &str = "Hi, is the 2-bed at Pine Hills still available? I'd like to book a showing on \
Saturday around 10am, and is parking included in the rent?";

fn email_reply() -> String {
    let quoted: String = (0..60)
        .map(|i| {
            format!("> Thanks for reaching out to Pine Hills! Line {i} of our answer about the apartment.\n")
        })
        .collect();
    format!(
        "{QUESTION}\n\nSent from my iPhone\n\nOn Mon, Nov 30, 2026 at 9:12 AM Pine Hills Leasing \
         <leasing@example.com> wrote:\n\n{quoted}"
    )
}

fn own_words(c: &mut Criterion) {
    let reply = email_reply();
    let mut group = c.benchmark_group("own_words");
    // The baseline: the terms of the question alone, what learning reads of the reply.
    group.bench_function("terms_of_the_question", |b| b.iter(|| text::terms(black_box(QUESTION))));
    group.bench_function("terms_of_the_email_reply", |b| b.iter(|| text::terms(black_box(&reply))));
    group.bench_function("own_words_of_the_email_reply", |b| b.iter(|| text::own_words(black_box(&reply))));
    group.bench_function("own_words_of_a_chat_message", |b| b.iter(|| text::own_words(black_box(QUESTION))));
    group.finish();
}

criterion_group!(benches, own_words);
criterion_main!(benches);
