//! Queries of the two indexes, one page at a time, and the listings built on them.

use std::future::Future;

use autolearn_domain::{ConfigItem, ProposalStatus};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, Utc};

use super::cursor::{decode_cursor, encode_cursor};
use super::transaction::item_key;
use super::{Store, condition_applied, from_item, primary_key, s};
use crate::entities::{
    DraftFeedback, DynamicIntent, Entity, Execution, LearningProposal, LearningSession, OutboxEntry,
    OutboxSubject, PlaybookEntry,
};
use crate::error::StoreError;
use crate::keys;

/// One page of a query, with an opaque cursor for the next page (`None` at the end).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// Every item of a paged listing: calls `page` with each cursor until the last page.
pub async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, StoreError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, StoreError>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let Page { items: more, next } = page(cursor.take()).await?;
        items.extend(more);
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

/// Page size of the `all_*` listings.
const LISTING_PAGE: i32 = 100;

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
        // Expired items are skipped like missing ones (TTL deletes them lazily).
        let now = Utc::now().timestamp();
        let items = output
            .items
            .unwrap_or_default()
            .into_iter()
            .filter(|item| super::is_live(item, now))
            .map(from_item)
            .collect::<Result<_, _>>()?;
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
            .set_key(Some(item_key(item)))
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

    /// Events waiting for the bus, oldest first.
    pub async fn outbox(&self, cursor: Option<&str>, limit: i32) -> Result<Page<OutboxEntry>, StoreError> {
        self.query(Index::Queue, keys::OUTBOX.to_owned(), cursor, limit).await
    }

    /// Deletes an outbox entry once its event is on the bus (`false` when already gone).
    pub async fn clear_outbox_entry(
        &self,
        subject: OutboxSubject,
        execution_id: &str,
        detail_type: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(match subject {
                OutboxSubject::Execution => {
                    primary_key(keys::execution_pk(execution_id), &keys::outbox_entry_sk(detail_type))
                }
                OutboxSubject::Erasure => {
                    primary_key(keys::erasure_pk(execution_id), &keys::outbox_entry_sk(detail_type))
                }
            }))
            .condition_expression("attribute_exists(PK)")
            .send()
            .await;
        condition_applied(result)
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

    /// Every dynamic intent (all pages).
    pub async fn all_intents(&self) -> Result<Vec<DynamicIntent>, StoreError> {
        all_pages(|cursor| async move { self.intents(cursor.as_deref(), LISTING_PAGE).await }).await
    }

    /// Every playbook entry (all pages).
    pub async fn all_playbook_entries(&self) -> Result<Vec<PlaybookEntry>, StoreError> {
        all_pages(|cursor| async move { self.playbook_entries(cursor.as_deref(), LISTING_PAGE).await }).await
    }

    /// Stores a model's one-line summary of an edit on its feedback (beside the rules' summary).
    /// Returns `false` when the feedback is gone.
    pub async fn set_feedback_ai_summary(
        &self,
        execution_id: &str,
        summary: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(primary_key(keys::execution_pk(execution_id), keys::FEEDBACK_SK)))
            .update_expression("SET aiSummary = :summary")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":summary", s(summary))
            .send()
            .await;
        condition_applied(result)
    }

    /// Stores a message's quoted form on an execution stored without one (the backfill of
    /// `autolearn backfill-masked`): `false` when it has one already, was erased, or is gone.
    pub async fn set_message_quoted(&self, execution_id: &str, quoted: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(primary_key(keys::execution_pk(execution_id), keys::EXECUTION_SK)))
            .update_expression("SET #message.#quoted = :quoted")
            .condition_expression(
                "attribute_exists(PK) AND attribute_not_exists(#message.#quoted) AND attribute_not_exists(erasedAt)",
            )
            .expression_attribute_names("#message", "message")
            .expression_attribute_names("#quoted", "quoted")
            .expression_attribute_values(":quoted", s(quoted))
            .send()
            .await;
        condition_applied(result)
    }

    /// Stores the masked draft and reply on feedback stored without them (the same backfill):
    /// `false` when it has them already or is gone.
    pub async fn set_feedback_masked(
        &self,
        execution_id: &str,
        masked_draft: &str,
        masked_sent: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(primary_key(keys::execution_pk(execution_id), keys::FEEDBACK_SK)))
            .update_expression("SET maskedDraft = :draft, maskedSent = :sent")
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(maskedDraft)")
            .expression_attribute_values(":draft", s(masked_draft))
            .expression_attribute_values(":sent", s(masked_sent))
            .send()
            .await;
        condition_applied(result)
    }

    /// Every proposal with a status (all pages).
    pub async fn all_proposals_with_status(
        &self,
        status: ProposalStatus,
    ) -> Result<Vec<LearningProposal>, StoreError> {
        all_pages(|cursor| async move {
            self.proposals_with_status(status, cursor.as_deref(), LISTING_PAGE).await
        })
        .await
    }
}
