//! The DynamoDB model of autolearn: entity types, every key format ([`keys`]), the table
//! definition read from the SAM template ([`table`]) and the store ([`store`]), the only code
//! that talks to DynamoDB.

pub mod counters;
pub mod entities;
pub mod error;
pub mod keys;
pub mod retention;
pub mod store;
pub mod table;

pub use counters::{Counter, DailyCounters};
pub use entities::*;
pub use error::{Cancellation, StoreError};
pub use retention::Retention;
pub use store::{Page, Store, Transaction, Usage, all_pages};
pub use table::TableDefinition;

/// The domain vocabulary the entities are made of, re-exported so that users of the store
/// name one crate.
pub use autolearn_domain::{
    AnalystKind, BatchStatus, BatchStep, Confidence, ConfigItem, ConfigUsage, Decision, EditAnalysis,
    EditPair, Evidence, EvidenceKind, ExperimentAction, ExperimentOutcome, ExperimentStats, ItemKind,
    PromotionConfig, Proposal, ProposalId, ProposalKind, ProposalStatus, ReasonCode, SendOutcome, SessionId,
    SessionStats, SessionStatus, SessionType, UsageCounts, WrittenBy,
};
