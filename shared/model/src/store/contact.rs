//! A contact's data: found through the sparse contact index and the references in each
//! execution's item collection, never by a scan; read for an export, redacted or deleted for
//! an erasure. Erasure reads items whether or not they have expired (TTL deletes them lazily:
//! until then they still hold the text).

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};

use super::cursor::{decode_cursor, encode_cursor};
use super::{Item, Store, condition_applied, from_item, primary_key, s};
use crate::entities::{ErasureRecord, Execution, LearningProposal, ProposalReference, SendRecord};
use crate::error::StoreError;
use crate::keys;
use crate::store::Page;

fn execution_id_of(item: &Item) -> Option<String> {
    item.get(keys::PK)?.as_s().ok()?.strip_prefix("EXEC#").map(str::to_owned)
}

impl Store {
    /// One page of the ids of the executions holding the contact's id (and text), oldest
    /// first. A redacted execution has left the index.
    pub async fn contact_execution_ids(
        &self,
        contact_id: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<Page<String>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::CONTACT_INDEX)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", keys::CPK)
            .expression_attribute_values(":pk", s(keys::contact_partition(contact_id)))
            .set_exclusive_start_key(cursor.map(decode_cursor).transpose()?)
            .limit(limit)
            .send()
            .await
            .map_err(StoreError::aws)?;
        let items = output.items.unwrap_or_default().iter().filter_map(execution_id_of).collect();
        let next = output.last_evaluated_key.as_ref().map(encode_cursor).transpose()?;
        Ok(Page { items, next })
    }

    /// An execution with its send, as stored, expired or not.
    pub async fn stored_execution(
        &self,
        execution_id: &str,
    ) -> Result<Option<(Execution, Option<SendRecord>)>, StoreError> {
        let Some(mut item) = self.get_item(keys::execution_pk(execution_id), keys::EXECUTION_SK).await?
        else {
            return Ok(None);
        };
        let send = item
            .remove(SendRecord::ATTRIBUTE)
            .map(serde_dynamo::from_attribute_value)
            .transpose()
            .map_err(|source| StoreError::Mapping { kind: "send record", source })?;
        Ok(Some((from_item(item)?, send)))
    }

    /// A proposal as stored, expired or not.
    pub async fn stored_proposal(&self, proposal_id: &str) -> Result<Option<LearningProposal>, StoreError> {
        self.get_item(keys::proposal_pk(proposal_id), keys::PROPOSAL_SK).await?.map(from_item).transpose()
    }

    /// The references of the proposals quoting an execution, expired or not.
    pub async fn proposal_references(
        &self,
        execution_id: &str,
    ) -> Result<Vec<ProposalReference>, StoreError> {
        let mut references = Vec::new();
        let mut cursor = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_names("#sk", keys::SK)
                .expression_attribute_values(":pk", s(keys::execution_pk(execution_id)))
                .expression_attribute_values(":prefix", s(keys::PROPOSAL_REFERENCE_PREFIX))
                .set_exclusive_start_key(cursor.take())
                .consistent_read(true)
                .send()
                .await
                .map_err(StoreError::aws)?;
            for item in output.items.unwrap_or_default() {
                references.push(from_item(item)?);
            }
            match output.last_evaluated_key {
                Some(key) => cursor = Some(key),
                None => return Ok(references),
            }
        }
    }

    async fn delete(&self, pk: String, sk: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(primary_key(pk, sk)))
            .condition_expression("attribute_exists(PK)")
            .send()
            .await;
        condition_applied(result)
    }

    /// Deletes an execution's feedback (`false` when there was none).
    pub async fn delete_feedback(&self, execution_id: &str) -> Result<bool, StoreError> {
        self.delete(keys::execution_pk(execution_id), keys::FEEDBACK_SK).await
    }

    /// Deletes an idempotency record (`false` when there was none).
    pub async fn delete_idempotency_record(&self, scope: &str, key: &str) -> Result<bool, StoreError> {
        self.delete(keys::idempotency_pk(scope, key), keys::IDEMPOTENCY_SK).await
    }

    /// Deletes the reference of a proposal quoting an execution.
    pub async fn delete_proposal_reference(&self, reference: &ProposalReference) -> Result<bool, StoreError> {
        let keys = keys::proposal_reference(&reference.execution_id, &reference.proposal_id);
        self.delete(keys.pk, &keys.sk).await
    }

    /// Redacts an execution: its message body and draft are emptied, its contact id removed
    /// (and with it the contact index keys), it leaves the gap queue, and its send's stored
    /// answer is replaced by `send_body` (the answer without quoted text). What was counted (the
    /// ids, the intent, the status, the send's request hash) stays, so a replay is still
    /// recognised and nothing is counted twice. `false` when the execution is gone.
    pub async fn redact_execution(
        &self,
        execution_id: &str,
        send_body: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut update = String::from("SET #message.#body = :empty, erasedAt = :at");
        let mut request = self.client.update_item();
        if let Some(body) = send_body {
            update.push_str(", #send.responseBody = :send");
            request = request
                .expression_attribute_names("#send", SendRecord::ATTRIBUTE)
                .expression_attribute_values(":send", s(body));
        }
        update.push_str(" REMOVE draftReply, contactId, #message.#quoted, #cpk, #csk, #qpk, #qsk");
        let result = request
            .table_name(&self.table)
            .set_key(Some(primary_key(keys::execution_pk(execution_id), keys::EXECUTION_SK)))
            .update_expression(update)
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#message", "message")
            .expression_attribute_names("#body", "body")
            .expression_attribute_names("#quoted", "quoted")
            .expression_attribute_names("#cpk", keys::CPK)
            .expression_attribute_names("#csk", keys::CSK)
            .expression_attribute_names("#qpk", keys::QPK)
            .expression_attribute_names("#qsk", keys::QSK)
            .expression_attribute_values(":empty", s(""))
            .expression_attribute_values(":at", s(at.to_rfc3339_opts(SecondsFormat::AutoSi, true)))
            .send()
            .await;
        condition_applied(result)
    }

    /// Replaces a dynamic intent's examples and description (an erasure removed quoted text).
    /// `false` when the intent is gone.
    pub async fn replace_intent_text(
        &self,
        intent_id: &str,
        examples: &[String],
        description: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(primary_key(keys::intent_pk(intent_id), keys::INTENT_SK)))
            .update_expression("SET examples = :examples, description = :description")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(
                ":examples",
                AttributeValue::L(examples.iter().map(|example| s(example.as_str())).collect()),
            )
            .expression_attribute_values(":description", s(description))
            .send()
            .await;
        condition_applied(result)
    }

    pub async fn erasure(&self, erasure_id: &str) -> Result<Option<ErasureRecord>, StoreError> {
        self.get(keys::erasure_pk(erasure_id), keys::ERASURE_SK).await
    }
}
