//! autolearn's vocabulary: every domain type that more than one crate uses, defined once.
//!
//! The learning engine computes with these types, the model crate stores them, the functions
//! answer with them and the bus carries them, so each concept has one Rust type and one JSON
//! spelling: camelCase everywhere (`newIntent`, `lightlyEdited`, `playbookEntry`), in items,
//! API answers, events and the OpenAPI document. Values written by earlier releases in
//! snake_case (`new_intent`) are still read (serde aliases); see `docs/migrations.md`.
//!
//! This crate holds data and the rules that are pure facts about the data (an approval rate is
//! unedited / sent). Decisions (promotion, ranking, fingerprints) live in `autolearn-learning`;
//! storage in `autolearn-model`.

pub mod batch;
pub mod edit;
pub mod experiment;
pub mod ids;
pub mod item;
pub mod proposal;

pub use batch::{BatchStatus, BatchStep, SessionStats, SessionStatus, SessionType};
pub use edit::{EditAnalysis, ReasonCode, ReasonKind, SendOutcome};
pub use experiment::{
    ConfigUsage, Decision, ExperimentAction, ExperimentOutcome, ExperimentStats, PromotionConfig,
};
pub use ids::{ProposalId, SessionId};
pub use item::{ConfigItem, ItemKind, UsageCounts};
pub use proposal::{
    AnalystKind, Confidence, EditPair, Evidence, EvidenceKind, Proposal, ProposalKind, ProposalStatus,
    WrittenBy,
};
