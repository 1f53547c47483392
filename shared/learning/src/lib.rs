//! The learning engine of autolearn: pure, deterministic domain logic with no AWS
//! dependency.
//!
//! The same input always gives the same output: no clock, no randomness and no hash-map
//! iteration order reaches a result. Times are passed in as arguments.
//!
//! Modules by concern:
//! - [`text`]: normalization, tokenization, masking of personal data;
//! - [`edit`]: edit distance, send classification, diff analysis, reason codes, summary;
//! - [`themes`]: edit themes per batch (overall and per intent) and their proposals;
//! - [`features`]: hashed TF-IDF sparse vectors;
//! - [`cluster`]: gap discovery (known-intent matching, clustering, naming);
//! - [`community`]: deterministic Louvain communities (of messages, and of their profiles);
//! - [`similarity`]: cross-conversation similarity index, confidence, masked evidence;
//! - [`promotion`]: A/B promotion and demotion rules;
//! - [`proposals`]: proposal types, fingerprints, ranking, expiry;
//! - [`eval`]: quality measures against known truth (the generated corpora are test code);
//! - [`cli`]: the library side of `autolearn cluster` and `autolearn similar`.
//!
//! See `docs/learning.md` for the method and the measured quality and speed.

pub mod cli;
pub mod cluster;
pub mod community;
pub mod edit;
pub mod eval;
pub mod features;
pub mod promotion;
pub mod proposals;
pub mod similarity;
pub mod text;
pub mod themes;

// The generated corpora of the tests and benchmarks, which name the library by its name.
#[cfg(test)]
extern crate self as autolearn_learning;
#[cfg(test)]
#[path = "../benches/support/generated.rs"]
mod generated;
