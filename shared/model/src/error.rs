//! The store's typed errors. Callers map them once to their own responses.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{kind} {id} already exists")]
    AlreadyExists { kind: &'static str, id: String },

    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },

    /// A conditional write found the item in another state (e.g. a proposal already decided).
    #[error("{kind} {id} is not in the expected state")]
    ConditionFailed { kind: &'static str, id: String },

    /// A transaction was cancelled; one entry per action, in order, with DynamoDB's reason code
    /// (`None` for actions that were fine).
    #[error("transaction cancelled: {reasons:?}")]
    TransactionCanceled { reasons: Vec<String> },

    #[error("{kind} would be {bytes} bytes, over the item size limit of {limit} bytes")]
    ItemTooLarge { kind: &'static str, bytes: usize, limit: usize },

    #[error("invalid table definition in infra/template.yaml: {0}")]
    InvalidTableDefinition(String),

    #[error("cannot map {kind} to or from an item: {source}")]
    Mapping { kind: &'static str, source: serde_dynamo::Error },

    #[error("invalid pagination cursor")]
    InvalidCursor,

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

    /// True when a conditional write was refused, in whichever form the SDK reported it.
    pub fn is_condition_failure(&self) -> bool {
        match self {
            Self::ConditionFailed { .. } | Self::AlreadyExists { .. } => true,
            Self::TransactionCanceled { reasons } => {
                reasons.iter().any(|reason| reason == "ConditionalCheckFailed")
            }
            _ => false,
        }
    }
}
