//! Edit distance of the webhook (`normalized_edit_distance`: normalization and the
//! bit-parallel distance) at 200, 1k, 5k and 20k characters, next to two baselines in the same
//! run: `strsim::normalized_levenshtein` (the textbook Rust crate) and the distance core alone
//! (`rapidfuzz::distance::levenshtein` on the bytes, no normalization).
//!
//! The pairs are a reply and the same reply edited the way people edit drafts (a sentence
//! dropped, words changed, a line added), written to `target/bench/edit-pairs.json` so that
//! `scripts/bench-edit-distance.sh` times the C++ rapidfuzz library on exactly these pairs and
//! prints the ratios. Run: `scripts/bench-edit-distance.sh` (or this bench alone with
//! `cargo bench -p autolearn-learning --bench edit_distance`).

use std::hint::black_box;
use std::path::PathBuf;

use autolearn_learning::edit::normalized_edit_distance;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rapidfuzz::distance::levenshtein;

/// Characters per text.
const LENGTHS: [usize; 4] = [200, 1_000, 5_000, 20_000];

const WORDS: &[&str] = &[
    "the",
    "charge",
    "on",
    "your",
    "statement",
    "is",
    "for",
    "plan",
    "we",
    "can",
    "refund",
    "it",
    "within",
    "five",
    "business",
    "days",
    "please",
    "reply",
    "with",
    "order",
    "number",
    "and",
    "we",
    "will",
    "check",
    "availability",
    "tomorrow",
    "morning",
    "thanks",
    "for",
    "waiting",
];

/// A deterministic stream (SplitMix64): the same pairs in every run and in the reference.
struct Stream(u64);

impl Stream {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A reply of `chars` characters: sentences of 8–16 words.
fn reply(stream: &mut Stream, chars: usize) -> String {
    let mut text = String::with_capacity(chars + 16);
    let mut in_sentence = 0;
    while text.len() < chars {
        let word = WORDS[stream.below(WORDS.len())];
        if in_sentence == 0 {
            let mut capital = word.to_owned();
            capital[..1].make_ascii_uppercase();
            text.push_str(&capital);
        } else {
            text.push(' ');
            text.push_str(word);
        }
        in_sentence += 1;
        if in_sentence >= 8 + stream.below(9) {
            text.push_str(". ");
            in_sentence = 0;
        }
    }
    text.truncate(chars);
    // Replies end with a word, not a space (which the normalization would trim).
    if text.ends_with(' ') {
        text.pop();
        text.push('.');
    }
    text
}

/// The reply as a person sends it: about one word in eight changed, dropped or added.
fn edited(stream: &mut Stream, original: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for word in original.split(' ') {
        match stream.below(24) {
            0 | 1 => out.push(WORDS[stream.below(WORDS.len())]),
            2 => {}
            3 => {
                out.push(word);
                out.push(WORDS[stream.below(WORDS.len())]);
            }
            _ => out.push(word),
        }
    }
    out.join(" ")
}

fn pairs() -> Vec<(usize, String, String)> {
    let mut stream = Stream(7);
    LENGTHS
        .iter()
        .map(|&chars| {
            let draft = reply(&mut stream, chars);
            let sent = edited(&mut stream, &draft);
            (chars, draft, sent)
        })
        .collect()
}

/// `target/bench/edit-pairs.json`, for the C++ reference.
fn write_pairs(pairs: &[(usize, String, String)]) {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    let json: Vec<serde_json::Value> = pairs
        .iter()
        .map(|(chars, a, b)| serde_json::json!({"chars": chars, "a": a, "b": b, "distance": normalized_edit_distance(a, b)}))
        .collect();
    std::fs::write(dir.join("edit-pairs.json"), serde_json::to_vec(&json).expect("json"))
        .expect("write pairs");
}

fn benches(c: &mut Criterion) {
    let pairs = pairs();
    write_pairs(&pairs);
    let mut group = c.benchmark_group("edit_distance");
    for (chars, a, b) in &pairs {
        // The same value as the textbook definition, or the comparison means nothing.
        let expected = 1.0 - strsim::normalized_levenshtein(a, b);
        assert!((normalized_edit_distance(a, b) - expected).abs() < 1e-12);
        group.bench_with_input(BenchmarkId::new("autolearn", chars), &(a, b), |bench, (a, b)| {
            bench.iter(|| normalized_edit_distance(black_box(a), black_box(b)))
        });
        group.bench_with_input(BenchmarkId::new("rapidfuzz_core", chars), &(a, b), |bench, (a, b)| {
            bench.iter(|| levenshtein::distance(black_box(a).bytes(), black_box(b).bytes()))
        });
        if *chars <= 5_000 {
            group.bench_with_input(BenchmarkId::new("strsim", chars), &(a, b), |bench, (a, b)| {
                bench.iter(|| strsim::normalized_levenshtein(black_box(a), black_box(b)))
            });
        }
    }
    group.finish();
}

criterion_group!(edit_distance, benches);
criterion_main!(edit_distance);
