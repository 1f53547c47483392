//! The store's typed errors. Callers map them once to their own responses.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;

use crate::entities::Entity;
use crate::store::Item;

/// Why one action of a cancelled transaction failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Cancellation {
    /// DynamoDB's reason code: `None` for an action that was fine, `ConditionalCheckFailed`,
    /// `TransactionConflict`, ...
    pub code: String,
    /// The item as it was, for a failed condition (the store asks for it), so the caller needs
    /// no second read to learn what is there.
    pub old_item: Option<Item>,
}

impl Cancellation {
    pub fn is_condition_failure(&self) -> bool {
        self.code == "ConditionalCheckFailed"
    }

    /// The send recorded on the execution item that failed the condition, if it has one.
    pub fn old_send(&self) -> Option<Result<crate::entities::SendRecord, StoreError>> {
        let value = self.old_item.as_ref()?.get(crate::entities::SendRecord::ATTRIBUTE)?.clone();
        Some(
            serde_dynamo::from_attribute_value(value)
                .map_err(|source| StoreError::Mapping { kind: "send record", source }),
        )
    }

    /// The existing item that failed the condition, as an entity.
    pub fn old<T: Entity>(&self) -> Option<Result<T, StoreError>> {
        self.old_item.clone().map(crate::store::from_item)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{kind} {id} already exists")]
    AlreadyExists { kind: &'static str, id: String },

    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },

    /// A conditional write found the item in another state (e.g. a proposal already decided).
    #[error("{kind} {id} is not in the expected state")]
    ConditionFailed { kind: &'static str, id: String },

    /// A transaction was cancelled; one entry per action, in order.
    #[error("transaction cancelled: {:?}", reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>())]
    TransactionCanceled { reasons: Vec<Cancellation> },

    #[error("{kind} would be {bytes} bytes, over the item size limit of {limit} bytes")]
    ItemTooLarge { kind: &'static str, bytes: usize, limit: usize },

    #[error("invalid table definition in infra/template.yaml: {0}")]
    InvalidTableDefinition(String),

    #[error("cannot map {kind} to or from an item: {source}")]
    Mapping { kind: &'static str, source: serde_dynamo::Error },

    #[error("invalid pagination cursor")]
    InvalidCursor,

    /// DynamoDB kept refusing a write for conflicts or throttling, through every retry: nothing
    /// was written, and the same request may succeed later (callers answer 503).
    #[error("DynamoDB refused the write {attempts} times ({code}); nothing was written")]
    Busy { attempts: u32, code: String },

    #[error("DynamoDB request failed: {code}: {message}")]
    Aws { code: String, message: String },

    #[error("cannot build DynamoDB request: {0}")]
    Build(String),
}

impl StoreError {
    pub(crate) fn aws<E: ProvideErrorMetadata + std::fmt::Debug>(error: E) -> Self {
        Self::Aws {
            code: error.code().unwrap_or("Unknown").to_owned(),
            message: error.message().map_or_else(|| format!("{error:?}"), str::to_owned),
        }
    }

    pub(crate) fn build(error: aws_sdk_dynamodb::error::BuildError) -> Self {
        Self::Build(error.to_string())
    }

    /// True when the same request may succeed if sent again later, and sending it again is
    /// safe: retries exhausted on conflicts, a request throttled beyond the SDK's own retries, or
    /// DynamoDB unavailable (every write carries its exactly-once guard).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Busy { .. } => true,
            Self::Aws { code, .. } => crate::store::retry::is_unavailable_code(code),
            _ => false,
        }
    }

    /// True when a conditional write was refused, in whichever form the SDK reported it.
    pub fn is_condition_failure(&self) -> bool {
        match self {
            Self::ConditionFailed { .. } | Self::AlreadyExists { .. } => true,
            Self::TransactionCanceled { reasons } => reasons.iter().any(Cancellation::is_condition_failure),
            _ => false,
        }
    }
}
