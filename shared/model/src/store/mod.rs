//! The store: every read and write autolearn makes to DynamoDB.
//!
//! Entities map to items through serde_dynamo; the key attributes come from [`crate::keys`].
//! Request paths use GetItem, Query, BatchGetItem and writes only: there is no Scan here.

//!
//! By concern: [`items`] (entity ⇄ item mapping and sizes), [`queries`] (index queries, pages
//! and listings), [`cursor`] (opaque pagination cursors), [`counters`] (the sharded daily
//! counters) and [`transaction`] (TransactWriteItems).

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use crate::entities::{
    DraftFeedback, DynamicIntent, Entity, Execution, FeedbackReadChunk, IdempotencyRecord, LearningProposal,
    LearningSession, PlaybookEntry,
};
use crate::error::StoreError;
use crate::keys;
use crate::retention::Retention;

pub mod contact;
pub mod counters;
pub mod cursor;
pub mod items;
pub mod queries;
pub mod retry;
pub mod session;
pub mod transaction;

pub use items::{is_live, item_size, to_item};
pub use queries::{Page, all_pages};
pub use retry::RetryPolicy;
pub use transaction::{Transaction, Usage};

pub(crate) use items::from_item;

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// DynamoDB's item size limit is 400 KB (409,600 bytes). The emulator enforces 405,000, and
/// our size estimate is approximate, so writers keep this margin below both.
pub const MAX_ITEM_BYTES: usize = 380_000;

/// DynamoDB accepts at most this many actions in one TransactWriteItems.
pub const MAX_TRANSACTION_ACTIONS: usize = 100;

/// The table and the client that reaches it.
#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    table: String,
    retry: RetryPolicy,
    retention: Retention,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Whether a conditional write applied: `Ok(false)` when its condition refused it, the error
/// for anything else.
fn condition_applied<O, E>(result: Result<O, E>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(true),
        Err(error) if error.code() == Some("ConditionalCheckFailedException") => Ok(false),
        Err(error) => Err(StoreError::aws(error)),
    }
}

fn primary_key(pk: String, sk: &str) -> Item {
    HashMap::from([(keys::PK.to_owned(), s(pk)), (keys::SK.to_owned(), s(sk))])
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into(), retry: RetryPolicy::default(), retention: Retention::default() }
    }

    /// The same store keeping customer text for `retention` (the default is
    /// [`crate::retention::DEFAULT_RETENTION_DAYS`]).
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    pub fn retention(&self) -> Retention {
        self.retention
    }

    /// The item of an entity, with the TTL attribute (now + the retention) when it holds
    /// customer text.
    fn stamped<T: Entity>(&self, entity: &T) -> Result<Item, StoreError> {
        let mut item = to_item(entity)?;
        if T::HOLDS_CUSTOMER_TEXT {
            self.stamp(&mut item);
        }
        Ok(item)
    }

    fn stamp(&self, item: &mut Item) {
        item.insert(keys::TTL_ATTRIBUTE.to_owned(), n(self.retention.expires_at(Utc::now())));
    }

    /// The same store with another policy for retrying refused transactions.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn table_name(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Creates an entity that must not exist yet.
    pub async fn create<T: Entity>(&self, entity: &T) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.stamped(entity)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        if condition_applied(result)? {
            Ok(())
        } else {
            Err(StoreError::AlreadyExists { kind: T::KIND, id: entity.id().to_owned() })
        }
    }

    /// Writes an entity whole, replacing what was there.
    pub async fn put<T: Entity>(&self, entity: &T) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.stamped(entity)?))
            .send()
            .await
            .map_err(StoreError::aws)?;
        Ok(())
    }

    /// An entity, unless it is missing or expired.
    async fn get<T: Entity>(&self, pk: String, sk: &str) -> Result<Option<T>, StoreError> {
        let now = Utc::now().timestamp();
        self.get_item(pk, sk).await?.filter(|item| is_live(item, now)).map(from_item).transpose()
    }

    /// An item as stored, expired or not (erasure reads what TTL has not deleted yet).
    async fn get_item(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(primary_key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::aws)?;
        Ok(output.item)
    }

    pub async fn execution(&self, execution_id: &str) -> Result<Option<Execution>, StoreError> {
        self.get(keys::execution_pk(execution_id), keys::EXECUTION_SK).await
    }

    pub async fn feedback(&self, execution_id: &str) -> Result<Option<DraftFeedback>, StoreError> {
        self.get(keys::execution_pk(execution_id), keys::FEEDBACK_SK).await
    }

    pub async fn intent(&self, intent_id: &str) -> Result<Option<DynamicIntent>, StoreError> {
        self.get(keys::intent_pk(intent_id), keys::INTENT_SK).await
    }

    pub async fn playbook_entry(&self, entry_id: &str) -> Result<Option<PlaybookEntry>, StoreError> {
        self.get(keys::playbook_entry_pk(entry_id), keys::PLAYBOOK_ENTRY_SK).await
    }

    pub async fn session(&self, session_id: &str) -> Result<Option<LearningSession>, StoreError> {
        self.get(keys::session_pk(session_id), keys::SESSION_SK).await
    }

    pub async fn feedback_read_chunk(
        &self,
        session_id: &str,
        chunk: u32,
    ) -> Result<Option<FeedbackReadChunk>, StoreError> {
        self.get(keys::session_pk(session_id), &keys::feedback_read_chunk_sk(chunk)).await
    }

    pub async fn proposal(&self, proposal_id: &str) -> Result<Option<LearningProposal>, StoreError> {
        self.get(keys::proposal_pk(proposal_id), keys::PROPOSAL_SK).await
    }

    /// The idempotency record of a request, ignoring one that has expired (TTL deletion is
    /// lazy, so an expired record may still be there).
    pub async fn idempotency_record(
        &self,
        scope: &str,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        // The caller's clock decides (the rule of `is_live`, at `now`).
        self.get_item(keys::idempotency_pk(scope, key), keys::IDEMPOTENCY_SK)
            .await?
            .filter(|item| is_live(item, now.timestamp()))
            .map(from_item::<IdempotencyRecord>)
            .transpose()
    }
}
