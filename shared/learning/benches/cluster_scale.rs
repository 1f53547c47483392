//! Scale benchmark: clusters 10k, 100k and 1M generated gap messages (the path of
//! `autolearn cluster`: fit IDF, vectorize, cluster, name) and reports time and peak
//! memory; also times the edit distance of a 5,000-character pair. Each clustering time
//! comes with a baseline measured in the same run on the same messages (fitting the IDF
//! and vectorizing), so a loaded machine shows in both.
//!
//! Peak memory is the process's peak resident set size (`VmHWM` in `/proc/self/status`),
//! reset before each size through `/proc/self/clear_refs`, so each figure is that size's
//! own peak (the generated corpus included). Linux only; elsewhere it prints "n/a".
//! (A counting global allocator would need `unsafe`, which the workspace forbids.)
//!
//! Run: `cargo bench -p autolearn-learning --bench cluster_scale`.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::{Duration, Instant};

use autolearn_learning::cluster::{ClusterInput, Clustering, GapConfig, cluster_texts};
use autolearn_learning::edit::normalized_edit_distance;
use autolearn_learning::eval::LabeledMessage;
use autolearn_learning::features::Vectorizer;
use criterion::{Criterion, criterion_group, criterion_main};
use generated::generate_messages;

#[path = "support/generated.rs"]
mod generated;

fn cluster_corpus(corpus: &[LabeledMessage]) -> Clustering {
    cluster_corpus_timed(corpus, &mut |_| {})
}

/// Clusters with the phase callback of `cluster_texts` (for the per-phase cost curve).
fn cluster_corpus_timed(corpus: &[LabeledMessage], progress: &mut dyn FnMut(&str)) -> Clustering {
    let cfg = GapConfig::default();
    let vectorizer = Vectorizer::fit(corpus.iter().map(|m| m.message.text.as_str()), cfg.features.clone());
    let inputs: Vec<ClusterInput<'_>> = corpus
        .iter()
        .map(|m| ClusterInput {
            id: &m.message.id,
            conversation_id: &m.message.conversation_id,
            text: &m.message.text,
            quoted: None,
            embedding: m.message.embedding.as_ref(),
        })
        .collect();
    progress("idf fitted");
    cluster_texts(&inputs, &vectorizer, &BTreeSet::new(), &cfg, progress)
}

/// The baseline measured in the same run: fitting the IDF and vectorizing the same
/// messages (what any TF-IDF method pays), so the clustering's cost reads as a multiple of
/// it whatever else loads the machine.
fn vectorize_only(corpus: &[LabeledMessage]) -> usize {
    let cfg = GapConfig::default();
    let vectorizer = Vectorizer::fit(corpus.iter().map(|m| m.message.text.as_str()), cfg.features.clone());
    corpus.iter().map(|m| vectorizer.transform(&m.message.text).entries.len()).sum()
}

/// This process's CPU time (user + system) in seconds, from `/proc/self/stat`: on a
/// machine other work loads, the time the clustering itself computed.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse().ok()
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
}

/// One timed run per size with its peak memory, and the growth ratio per doubling.
fn report_scale() {
    let mut previous: Option<(usize, Duration)> = None;
    let sizes: Vec<usize> = match std::env::var("SCALE_SIZES") {
        Ok(list) => list.split(',').filter_map(|s| s.trim().parse().ok()).collect(),
        Err(_) => vec![10_000, 100_000, 1_000_000],
    };
    for n in sizes {
        let corpus = generate_messages(n, 42, 0.15);
        let baseline_start = Instant::now();
        black_box(vectorize_only(&corpus));
        let baseline = baseline_start.elapsed();
        reset_peak();
        let before = status_kib("VmRSS:");
        let cpu_before = cpu_seconds();
        let start = Instant::now();
        // Each phase with its time and the peak RSS so far: the phase where the peak
        // rises is the one that sets it.
        let mut phases: Vec<(String, Duration, Option<u64>)> = Vec::new();
        let mut last = start;
        let clustering = black_box(cluster_corpus_timed(&corpus, &mut |phase| {
            let now = Instant::now();
            phases.push((phase.to_string(), now - last, status_kib("VmHWM:")));
            last = now;
        }));
        let elapsed = start.elapsed();
        let cpu = cpu_seconds().zip(cpu_before).map_or("n/a".to_string(), |(a, b)| format!("{:.1} s", a - b));
        let peak = status_kib("VmHWM:");
        let growth = previous.map_or(String::new(), |(pn, pt)| {
            let size_ratio = n as f64 / pn as f64;
            let time_ratio = elapsed.as_secs_f64() / pt.as_secs_f64();
            format!(
                ", time x{time_ratio:.2} for size x{size_ratio:.1} (exponent {:.2})",
                time_ratio.ln() / size_ratio.ln()
            )
        });
        println!(
            "cluster {n:>6} messages: {:>7.2} s (CPU {cpu}), {} clusters, peak RSS {} (RSS before {}){growth}",
            elapsed.as_secs_f64(),
            clustering.clusters.len(),
            mib(peak),
            mib(before),
        );
        println!(
            "  baseline (fit IDF + vectorize, same run): {:.2} s; clustering = {:.1} x baseline",
            baseline.as_secs_f64(),
            elapsed.as_secs_f64() / baseline.as_secs_f64()
        );
        println!(
            "  phases: {}",
            phases
                .iter()
                .map(|(p, d, peak)| format!("{p} {:.2} s (peak {})", d.as_secs_f64(), mib(*peak)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        previous = Some((n, elapsed));
    }
}

fn benches(c: &mut Criterion) {
    report_scale();

    let a: String = "The quick brown fox jumps over the lazy dog. ".repeat(112).chars().take(5000).collect();
    let b = a.replace("lazy", "sleepy").replace("quick", "fast");
    c.bench_function("edit_distance_5000_chars", |bench| {
        bench.iter(|| normalized_edit_distance(black_box(&a), black_box(&b)))
    });

    let mut group = c.benchmark_group("cluster");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for n in [10_000usize, 100_000] {
        let corpus = generate_messages(n, 42, 0.15);
        group.bench_function(format!("{n}"), |bench| bench.iter(|| black_box(cluster_corpus(&corpus))));
        group.bench_function(format!("{n}_baseline_vectorize"), |bench| {
            bench.iter(|| black_box(vectorize_only(&corpus)))
        });
    }
    group.finish();
}

criterion_group!(scale, benches);
criterion_main!(scale);
