//! The store: every read and write autolearn makes to DynamoDB.
//!
//! Entities map to items through serde_dynamo; the key attributes come from [`crate::keys`].
//! Request paths use GetItem, Query, BatchGetItem and writes only: there is no Scan here.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, KeysAndAttributes, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use chrono::{DateTime, NaiveDate, Utc};

use crate::counters::{Counter, DailyCounters};
use crate::entities::{
    DraftFeedback, DynamicIntent, Entity, Execution, IdempotencyRecord, LearningProposal, LearningSession,
    PlaybookEntry, ProposalStatus,
};
use crate::error::{Cancellation, StoreError};
use crate::keys::{self, ItemKeys};

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// DynamoDB's item size limit is 400 KB (409,600 bytes). The emulator enforces 405,000, and
/// our size estimate is approximate, so writers keep this margin below both.
pub const MAX_ITEM_BYTES: usize = 380_000;

/// DynamoDB accepts at most this many actions in one TransactWriteItems.
pub const MAX_TRANSACTION_ACTIONS: usize = 100;

/// One page of a query, with an opaque cursor for the next page (`None` at the end).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// The table and the client that reaches it.
#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    table: String,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The item for an entity: its serde_dynamo mapping plus its key attributes.
pub fn to_item<T: Entity>(entity: &T) -> Result<Item, StoreError> {
    let mut item: Item =
        serde_dynamo::to_item(entity).map_err(|source| StoreError::Mapping { kind: T::KIND, source })?;
    let ItemKeys { pk, sk, gsi1, queue } = entity.keys();
    item.insert(keys::PK.into(), s(pk));
    item.insert(keys::SK.into(), s(sk));
    if let Some((pk, sk)) = gsi1 {
        item.insert(keys::GSI1PK.into(), s(pk));
        item.insert(keys::GSI1SK.into(), s(sk));
    }
    if let Some((pk, sk)) = queue {
        item.insert(keys::QPK.into(), s(pk));
        item.insert(keys::QSK.into(), s(sk));
    }
    let bytes = item_size(&item);
    if bytes > MAX_ITEM_BYTES {
        return Err(StoreError::ItemTooLarge { kind: T::KIND, bytes, limit: MAX_ITEM_BYTES });
    }
    Ok(item)
}

pub(crate) fn from_item<T: Entity>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|source| StoreError::Mapping { kind: T::KIND, source })
}

/// DynamoDB's size rule: attribute names plus values, UTF-8 bytes for strings, and a little
/// per-value overhead (we round up generously; the limit has a margin anyway).
pub fn item_size(item: &Item) -> usize {
    fn value_size(value: &AttributeValue) -> usize {
        match value {
            AttributeValue::S(text) => text.len(),
            AttributeValue::N(number) => number.len().div_ceil(2) + 1,
            AttributeValue::B(blob) => blob.as_ref().len(),
            AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
            AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
            AttributeValue::M(map) => 3 + map.iter().map(|(k, v)| 1 + k.len() + value_size(v)).sum::<usize>(),
            AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
            AttributeValue::Ns(set) => set.iter().map(|n| n.len()).sum(),
            AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len()).sum(),
            _ => 0,
        }
    }
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
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

fn encode_cursor(key: &Item) -> Result<String, StoreError> {
    let strings: std::collections::BTreeMap<&str, &str> = key
        .iter()
        .map(|(name, value)| value.as_s().map(|v| (name.as_str(), v.as_str())))
        .collect::<Result<_, _>>()
        .map_err(|_| StoreError::InvalidCursor)?;
    Ok(hex::encode(serde_json::to_vec(&strings).map_err(|_| StoreError::InvalidCursor)?))
}

fn decode_cursor(cursor: &str) -> Result<Item, StoreError> {
    let bytes = hex::decode(cursor).map_err(|_| StoreError::InvalidCursor)?;
    let strings: HashMap<String, String> =
        serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
    let allowed = [keys::PK, keys::SK, keys::GSI1PK, keys::GSI1SK, keys::QPK, keys::QSK];
    if strings.is_empty() || strings.keys().any(|name| !allowed.contains(&name.as_str())) {
        return Err(StoreError::InvalidCursor);
    }
    Ok(strings.into_iter().map(|(name, value)| (name, s(value))).collect())
}

/// Which key a query walks.
#[derive(Debug, Clone, Copy)]
enum Index {
    Gsi1,
    Queue,
}

impl Index {
    fn parts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Gsi1 => (keys::GSI1, keys::GSI1PK, keys::GSI1SK),
            Self::Queue => (keys::QUEUE_INDEX, keys::QPK, keys::QSK),
        }
    }
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
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
            .set_item(Some(to_item(entity)?))
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
            .set_item(Some(to_item(entity)?))
            .send()
            .await
            .map_err(StoreError::aws)?;
        Ok(())
    }

    async fn get<T: Entity>(&self, pk: String, sk: &str) -> Result<Option<T>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(primary_key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::aws)?;
        output.item.map(from_item).transpose()
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
        let record: Option<IdempotencyRecord> =
            self.get(keys::idempotency_pk(scope, key), keys::IDEMPOTENCY_SK).await?;
        Ok(record.filter(|record| !record.is_expired(now)))
    }

    async fn query<T: Entity>(
        &self,
        index: Index,
        partition: String,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<Page<T>, StoreError> {
        self.query_before(index, partition, None, cursor, limit).await
    }

    /// A query of one index partition, optionally only sort keys below `sort_below`.
    async fn query_before<T: Entity>(
        &self,
        index: Index,
        partition: String,
        sort_below: Option<String>,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<Page<T>, StoreError> {
        let (index_name, key_attribute, sort_attribute) = index.parts();
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index_name)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", key_attribute)
            .expression_attribute_values(":pk", s(partition));
        if let Some(below) = sort_below {
            request = request
                .key_condition_expression("#pk = :pk AND #sk < :below")
                .expression_attribute_names("#sk", sort_attribute)
                .expression_attribute_values(":below", s(below));
        }
        let output = request
            .set_exclusive_start_key(cursor.map(decode_cursor).transpose()?)
            .limit(limit)
            .send()
            .await
            .map_err(StoreError::aws)?;
        let items = output.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<_, _>>()?;
        let next = output.last_evaluated_key.as_ref().map(encode_cursor).transpose()?;
        Ok(Page { items, next })
    }

    /// Executions created on a day (UTC), oldest first.
    pub async fn executions_of_day(
        &self,
        day: NaiveDate,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<Page<Execution>, StoreError> {
        self.query(Index::Gsi1, keys::executions_of_day(day), cursor, limit).await
    }

    /// Gap executions of a day (successful, but no intent or no draft), oldest first.
    pub async fn gap_executions_of_day(
        &self,
        day: NaiveDate,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<Page<Execution>, StoreError> {
        self.query(Index::Queue, keys::gaps_of_day(day), cursor, limit).await
    }

    /// The queue of feedback no batch has analysed yet, oldest first.
    pub async fn unanalyzed_feedback(
        &self,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<Page<DraftFeedback>, StoreError> {
        self.query(Index::Queue, keys::UNANALYZED_FEEDBACK.to_owned(), cursor, limit).await
    }

    /// Unanalyzed feedback created before `end`, oldest first: what a batch for a period
    /// ending at `end` analyses (later feedback waits for the next batch).
    pub async fn unanalyzed_feedback_before(
        &self,
        end: DateTime<Utc>,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<Page<DraftFeedback>, StoreError> {
        let below = keys::sortable_time(end);
        self.query_before(Index::Queue, keys::UNANALYZED_FEEDBACK.to_owned(), Some(below), cursor, limit)
            .await
    }

    /// Ends the trial of an experimental intent or playbook entry: promoted (no longer
    /// experimental, `promotedAt` set) or demoted (deactivated). Refused, returning `false`,
    /// when it is no longer an active experiment (a rerun, or an admin got there first).
    pub async fn end_experiment(
        &self,
        item: ConfigItem<'_>,
        promote: bool,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let update = if promote {
            "SET experimental = :false, promotedAt = :at"
        } else {
            "SET active = :false, deactivatedAt = :at"
        };
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item.key()))
            .update_expression(update)
            .condition_expression("attribute_exists(PK) AND experimental = :true AND active = :true")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":at", s(at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)))
            .send()
            .await;
        condition_applied(result)
    }

    pub async fn intents(&self, cursor: Option<&str>, limit: i32) -> Result<Page<DynamicIntent>, StoreError> {
        self.query(Index::Gsi1, keys::INTENTS.to_owned(), cursor, limit).await
    }

    pub async fn playbook_entries(
        &self,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<Page<PlaybookEntry>, StoreError> {
        self.query(Index::Gsi1, keys::PLAYBOOK_ENTRIES.to_owned(), cursor, limit).await
    }

    pub async fn proposals_with_status(
        &self,
        status: ProposalStatus,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<Page<LearningProposal>, StoreError> {
        self.query(Index::Gsi1, keys::proposals_with_status(status.as_str()), cursor, limit).await
    }

    /// Learning sessions in period order.
    pub async fn sessions(
        &self,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<Page<LearningSession>, StoreError> {
        self.query(Index::Gsi1, keys::SESSIONS.to_owned(), cursor, limit).await
    }

    /// Takes feedback out of the unanalyzed queue, recording the session that analysed it.
    /// Returns `false` when it was already analysed (a rerun), so callers can count exactly.
    pub async fn mark_feedback_analyzed(
        &self,
        execution_id: &str,
        session_id: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(primary_key(keys::execution_pk(execution_id), keys::FEEDBACK_SK)))
            .update_expression("SET analyzed = :true, learningSessionId = :session REMOVE #qpk, #qsk")
            .condition_expression("attribute_exists(PK) AND analyzed = :false")
            .expression_attribute_names("#qpk", keys::QPK)
            .expression_attribute_names("#qsk", keys::QSK)
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":session", s(session_id))
            .send()
            .await;
        condition_applied(result)
    }

    /// Adds to counters of one day's shard.
    pub async fn add_to_counters(
        &self,
        day: NaiveDate,
        shard: u32,
        increments: &[(Counter, i64)],
    ) -> Result<(), StoreError> {
        let update = counter_update(day, shard, increments)?;
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(update.key)
            .set_update_expression(Some(update.update_expression))
            .set_expression_attribute_names(update.expression_attribute_names)
            .set_expression_attribute_values(update.expression_attribute_values)
            .send()
            .await
            .map_err(StoreError::aws)?;
        Ok(())
    }

    /// The counters of each day, summed over the day's shards, in the order of `days`.
    /// Costs one BatchGetItem per 100 shard items (plus retries of unprocessed keys), whatever
    /// the message volume.
    pub async fn daily_counters(&self, days: &[NaiveDate]) -> Result<Vec<DailyCounters>, StoreError> {
        let mut totals: Vec<DailyCounters> = days.iter().map(|day| DailyCounters::new(*day)).collect();
        let by_pk: HashMap<String, usize> = days
            .iter()
            .enumerate()
            .flat_map(|(i, day)| {
                (0..keys::COUNTER_SHARDS).map(move |shard| (keys::counters_pk(*day, shard), i))
            })
            .collect();
        let all_keys: Vec<Item> = by_pk.keys().map(|pk| primary_key(pk.clone(), keys::COUNTERS_SK)).collect();
        for chunk in all_keys.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .map_err(StoreError::build)?,
            );
            while let Some(request) = pending.take() {
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(StoreError::aws)?;
                for item in output.responses.unwrap_or_default().remove(&self.table).unwrap_or_default() {
                    let Some(day) =
                        item.get(keys::PK).and_then(|pk| pk.as_s().ok()).and_then(|pk| by_pk.get(pk))
                    else {
                        continue;
                    };
                    for (name, value) in &item {
                        if let Ok(number) = value.as_n() {
                            totals[*day].add(name, number.parse().unwrap_or(0));
                        }
                    }
                }
                pending = output
                    .unprocessed_keys
                    .and_then(|mut unprocessed| unprocessed.remove(&self.table))
                    .filter(|rest| !rest.keys.is_empty());
            }
        }
        Ok(totals)
    }

    async fn send_transaction(&self, transaction: Transaction) -> Result<(), StoreError> {
        if transaction.actions.is_empty() {
            return Ok(());
        }
        let result =
            self.client.transact_write_items().set_transact_items(Some(transaction.actions)).send().await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => match error.into_service_error() {
                TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                    Err(StoreError::TransactionCanceled {
                        reasons: cancelled
                            .cancellation_reasons()
                            .iter()
                            .map(|reason| Cancellation {
                                code: reason.code().unwrap_or("None").to_owned(),
                                old_item: reason.item().cloned(),
                            })
                            .collect(),
                    })
                }
                e => Err(StoreError::aws(e)),
            },
        }
    }
}

/// The pieces of an ADD update of one counter shard.
struct CounterUpdate {
    key: Option<Item>,
    update_expression: String,
    expression_attribute_names: Option<HashMap<String, String>>,
    expression_attribute_values: Option<Item>,
}

fn counter_update(
    day: NaiveDate,
    shard: u32,
    increments: &[(Counter, i64)],
) -> Result<CounterUpdate, StoreError> {
    if increments.is_empty() {
        return Err(StoreError::Build("a counter update needs at least one counter".into()));
    }
    // Merge repeats (e.g. the same playbook entry injected twice) so one ADD names each once.
    let mut merged: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for (counter, value) in increments {
        *merged.entry(counter.attribute()).or_insert(0) += value;
    }
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let mut clauses = Vec::new();
    for (i, (attribute, value)) in merged.into_iter().enumerate() {
        names.insert(format!("#c{i}"), attribute);
        values.insert(format!(":c{i}"), n(value));
        clauses.push(format!("#c{i} :c{i}"));
    }
    Ok(CounterUpdate {
        key: Some(primary_key(keys::counters_pk(day, shard), keys::COUNTERS_SK)),
        update_expression: format!("ADD {}", clauses.join(", ")),
        expression_attribute_names: Some(names),
        expression_attribute_values: Some(values),
    })
}

/// The usage counter an update adds to.
#[derive(Debug, Clone, Copy)]
pub enum Usage {
    Hit,
    Sent,
    Unedited,
}

impl Usage {
    fn attribute(self) -> &'static str {
        match self {
            Self::Hit => "hitCount",
            Self::Sent => "sentCount",
            Self::Unedited => "uneditedCount",
        }
    }
}

/// Whose usage an update counts.
#[derive(Debug, Clone, Copy)]
pub enum ConfigItem<'a> {
    Intent(&'a str),
    PlaybookEntry(&'a str),
}

impl ConfigItem<'_> {
    fn key(self) -> Item {
        match self {
            Self::Intent(id) => primary_key(keys::intent_pk(id), keys::INTENT_SK),
            Self::PlaybookEntry(id) => primary_key(keys::playbook_entry_pk(id), keys::PLAYBOOK_ENTRY_SK),
        }
    }
}

/// A set of writes that succeed or fail together (TransactWriteItems). Every action names its
/// precondition, so a failed transaction says which one refused.
#[derive(Debug, Default)]
pub struct Transaction {
    actions: Vec<TransactWriteItem>,
}

impl Transaction {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.actions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    fn push(&mut self, action: TransactWriteItem) -> Result<usize, StoreError> {
        if self.actions.len() == MAX_TRANSACTION_ACTIONS {
            return Err(StoreError::Build(format!(
                "a transaction holds at most {MAX_TRANSACTION_ACTIONS} actions"
            )));
        }
        self.actions.push(action);
        Ok(self.actions.len() - 1)
    }

    /// Creates an entity that must not exist yet. Returns the action's index.
    pub fn create<T: Entity>(&mut self, entity: &T) -> Result<usize, StoreError> {
        let put = Put::builder()
            .table_name(String::new())
            .set_item(Some(to_item(entity)?))
            .condition_expression("attribute_not_exists(PK)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(StoreError::build)?;
        self.push(TransactWriteItem::builder().put(put).build())
    }

    /// Writes an entity whole, replacing what was there.
    pub fn put<T: Entity>(&mut self, entity: &T) -> Result<usize, StoreError> {
        let put = Put::builder()
            .table_name(String::new())
            .set_item(Some(to_item(entity)?))
            .build()
            .map_err(StoreError::build)?;
        self.push(TransactWriteItem::builder().put(put).build())
    }

    /// Adds to usage counters of an intent or playbook entry, which must exist.
    pub fn add_usage(&mut self, item: ConfigItem<'_>, usage: &[(Usage, i64)]) -> Result<usize, StoreError> {
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let mut clauses = Vec::new();
        for (i, (counter, value)) in usage.iter().enumerate() {
            names.insert(format!("#u{i}"), counter.attribute().to_owned());
            values.insert(format!(":u{i}"), n(*value));
            clauses.push(format!("#u{i} :u{i}"));
        }
        let update = Update::builder()
            .table_name(String::new())
            .set_key(Some(item.key()))
            .update_expression(format!("ADD {}", clauses.join(", ")))
            .condition_expression("attribute_exists(PK)")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(StoreError::build)?;
        self.push(TransactWriteItem::builder().update(update).build())
    }

    /// Adds to counters of one day's shard.
    pub fn add_to_counters(
        &mut self,
        day: NaiveDate,
        shard: u32,
        increments: &[(Counter, i64)],
    ) -> Result<usize, StoreError> {
        let parts = counter_update(day, shard, increments)?;
        let update = Update::builder()
            .table_name(String::new())
            .set_key(parts.key)
            .update_expression(parts.update_expression)
            .set_expression_attribute_names(parts.expression_attribute_names)
            .set_expression_attribute_values(parts.expression_attribute_values)
            .build()
            .map_err(StoreError::build)?;
        self.push(TransactWriteItem::builder().update(update).build())
    }

    /// Requires an intent to exist (e.g. the intent a proposal amends) without writing it.
    pub fn require_exists(&mut self, item: ConfigItem<'_>) -> Result<usize, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(String::new())
            .set_key(Some(item.key()))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(StoreError::build)?;
        self.push(TransactWriteItem::builder().condition_check(check).build())
    }

    /// Moves a proposal from one status to another; refused when it is no longer in `from`,
    /// so two reviewers cannot both decide it.
    pub fn decide_proposal(
        &mut self,
        proposal: &LearningProposal,
        from: ProposalStatus,
    ) -> Result<usize, StoreError> {
        let put = Put::builder()
            .table_name(String::new())
            .set_item(Some(to_item(proposal)?))
            .condition_expression("#status = :from")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":from", s(from.as_str()))
            .build()
            .map_err(StoreError::build)?;
        self.push(TransactWriteItem::builder().put(put).build())
    }

    /// Fills in the table name of every action (kept out of the builders above so they need no
    /// store at hand).
    fn for_table(mut self, table: &str) -> Self {
        for action in &mut self.actions {
            if let Some(put) = action.put.as_mut() {
                put.table_name = table.to_owned();
            }
            if let Some(update) = action.update.as_mut() {
                update.table_name = table.to_owned();
            }
            if let Some(check) = action.condition_check.as_mut() {
                check.table_name = table.to_owned();
            }
            if let Some(delete) = action.delete.as_mut() {
                delete.table_name = table.to_owned();
            }
        }
        self
    }
}

impl Store {
    /// Runs a transaction: all of its writes happen, or none.
    pub async fn commit(&self, transaction: Transaction) -> Result<(), StoreError> {
        self.send_transaction(transaction.for_table(&self.table)).await
    }
}

impl Transaction {
    /// Appends examples to a dynamic intent's `examples`; refused when the intent does not
    /// exist (e.g. an example proposal applied to an intent deleted since).
    pub fn append_intent_examples(
        &mut self,
        intent_id: &str,
        examples: &[String],
    ) -> Result<usize, StoreError> {
        if examples.is_empty() {
            return Err(StoreError::Build("appending intent examples needs at least one example".into()));
        }
        let update = Update::builder()
            .table_name(String::new())
            .set_key(Some(ConfigItem::Intent(intent_id).key()))
            .update_expression("SET #examples = list_append(if_not_exists(#examples, :empty), :examples)")
            .condition_expression("attribute_exists(PK)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .expression_attribute_names("#examples", "examples")
            .expression_attribute_values(":empty", AttributeValue::L(Vec::new()))
            .expression_attribute_values(
                ":examples",
                AttributeValue::L(examples.iter().map(|example| s(example.as_str())).collect()),
            )
            .build()
            .map_err(StoreError::build)?;
        self.push(TransactWriteItem::builder().update(update).build())
    }
}
