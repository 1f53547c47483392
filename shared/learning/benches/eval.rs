//! Full-size evaluation: clustering NMI / ARI / purity, retrieval precision@10 and theme
//! precision / recall on generated corpora with planted truth (`support/generated.rs`).
//!
//! Run: `cargo bench -p autolearn-learning --bench eval`.

#[path = "support/generated.rs"]
mod generated;

use generated::run_evaluation;

fn main() {
    // `cargo bench` passes "--bench"; any other argument is a filter we do not use.
    for (messages, edits) in [(5_000usize, 1_000usize), (20_000, 5_000)] {
        let start = std::time::Instant::now();
        let report = run_evaluation(messages, edits, 42);
        let c = report.clustering;
        println!(
            "{messages} messages / {edits} edits ({:.1} s): NMI {:.3}, ARI {:.3}, purity {:.3}, \
             coverage {:.3}, noise rejected {:.3}, {} clusters; precision@10 {:.3}; \
             themes precision {:.3}, recall {:.3} ({} detected)",
            start.elapsed().as_secs_f64(),
            c.nmi,
            c.ari,
            c.purity,
            c.coverage,
            c.noise_rejected,
            c.clusters,
            report.precision_at_10,
            report.themes.precision,
            report.themes.recall,
            report.themes.detected,
        );
        println!(
            "  largest clusters: {}",
            report.cluster_names.iter().take(12).cloned().collect::<Vec<_>>().join(", ")
        );
    }
}
