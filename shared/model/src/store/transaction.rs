//! Writes that succeed or fail together (TransactWriteItems), each naming its precondition.

use std::collections::HashMap;

use autolearn_domain::{ConfigItem, ProposalStatus};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use chrono::NaiveDate;

use super::counters::counter_update;
use super::retry::{exhausted, is_transient_cancellation, is_transient_code};
use super::{Item, MAX_TRANSACTION_ACTIONS, Store, n, primary_key, s, to_item};
use crate::counters::Counter;
use crate::entities::{Entity, LearningProposal, SendRecord};
use crate::error::{Cancellation, StoreError};
use crate::keys;

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

pub(super) fn item_key(item: ConfigItem<'_>) -> Item {
    let (pk, sk) = keys::config_item(item);
    primary_key(pk, sk)
}

/// A set of writes that succeed or fail together (TransactWriteItems). Every action names its
/// precondition, so a failed transaction says which one refused.
#[derive(Debug, Default)]
pub struct Transaction {
    actions: Vec<TransactWriteItem>,
    /// The puts of items holding customer text: the store gives them their TTL at commit.
    retained: Vec<usize>,
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
        self.push_put::<T>(put)
    }

    fn push_put<T: Entity>(&mut self, put: Put) -> Result<usize, StoreError> {
        let index = self.push(TransactWriteItem::builder().put(put).build())?;
        if T::HOLDS_CUSTOMER_TEXT {
            self.retained.push(index);
        }
        Ok(index)
    }

    /// Writes an entity whole, replacing what was there.
    pub fn put<T: Entity>(&mut self, entity: &T) -> Result<usize, StoreError> {
        let put = Put::builder()
            .table_name(String::new())
            .set_item(Some(to_item(entity)?))
            .build()
            .map_err(StoreError::build)?;
        self.push_put::<T>(put)
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
            .set_key(Some(item_key(item)))
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

    /// Records the send of an execution on the execution item, once: refused when the
    /// execution does not exist or already has a send (the refusal hands back the item, with
    /// the send recorded first).
    pub fn record_send(&mut self, execution_id: &str, send: &SendRecord) -> Result<usize, StoreError> {
        let value = serde_dynamo::to_attribute_value(send)
            .map_err(|source| StoreError::Mapping { kind: "send record", source })?;
        let update = Update::builder()
            .table_name(String::new())
            .set_key(Some(primary_key(keys::execution_pk(execution_id), keys::EXECUTION_SK)))
            .update_expression("SET #send = :send")
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(#send)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .expression_attribute_names("#send", SendRecord::ATTRIBUTE)
            .expression_attribute_values(":send", value)
            .build()
            .map_err(StoreError::build)?;
        self.push(TransactWriteItem::builder().update(update).build())
    }

    /// Requires an intent to exist (e.g. the intent a proposal amends) without writing it.
    pub fn require_exists(&mut self, item: ConfigItem<'_>) -> Result<usize, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(String::new())
            .set_key(Some(item_key(item)))
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
        self.push_put::<LearningProposal>(put)
    }

    /// Fills in the table name of every action, and the TTL of the items holding customer text
    /// (kept out of the builders above so they need no store at hand).
    fn for_store(mut self, table: &str, expires_at: i64) -> Self {
        for index in std::mem::take(&mut self.retained) {
            if let Some(put) = self.actions[index].put.as_mut() {
                put.item.insert(keys::TTL_ATTRIBUTE.to_owned(), n(expires_at));
            }
        }
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
        let expires_at = self.retention.expires_at(chrono::Utc::now());
        self.send_transaction(transaction.for_store(&self.table, expires_at)).await
    }

    /// Sends the transaction, again after a jittered wait while DynamoDB cancels it only for
    /// conflicts or throttling (see [`super::retry`]); [`StoreError::Busy`] once the attempts
    /// are used up.
    async fn send_transaction(&self, transaction: Transaction) -> Result<(), StoreError> {
        if transaction.actions.is_empty() {
            return Ok(());
        }
        let mut attempt = 1;
        loop {
            let transient = match self.try_transaction(&transaction.actions).await {
                Err(StoreError::TransactionCanceled { reasons }) if is_transient_cancellation(&reasons) => {
                    reasons
                        .iter()
                        .map(|reason| reason.code.as_str())
                        .find(|code| *code != "None")
                        .map(str::to_owned)
                }
                Err(StoreError::Aws { code, .. }) if is_transient_code(&code) => Some(code),
                other => return other,
            };
            let code = transient.unwrap_or_default();
            if attempt >= self.retry.max_attempts {
                tracing::warn!(attempts = attempt, %code, "transaction still refused after every retry");
                return Err(exhausted(attempt, code));
            }
            tokio::time::sleep(self.retry.delay(attempt)).await;
            attempt += 1;
        }
    }

    async fn try_transaction(&self, actions: &[TransactWriteItem]) -> Result<(), StoreError> {
        let result =
            self.client.transact_write_items().set_transact_items(Some(actions.to_vec())).send().await;
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
            .set_key(Some(item_key(ConfigItem::intent(intent_id))))
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
