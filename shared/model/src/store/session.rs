//! One batch run at a time per learning session: a lease on the session item, conditional
//! saves by the lease holder, and the report's send claimed once.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::{Store, all_pages, condition_applied, primary_key, s, to_item};
use crate::entities::{DraftFeedback, Entity, LearningProposal, LearningSession};
use crate::error::StoreError;
use crate::keys;

fn millis(at: DateTime<Utc>) -> AttributeValue {
    AttributeValue::N(at.timestamp_millis().to_string())
}

impl Store {
    /// Takes the session's lease for `owner` until `until`: granted when nobody holds it, when
    /// its holder's time is up (a run that crashed), or to its holder again. `false` when
    /// another run holds it (or the session does not exist).
    pub async fn lease_session(
        &self,
        session_id: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(primary_key(keys::session_pk(session_id), keys::SESSION_SK)))
            .update_expression("SET leaseOwner = :owner, leaseUntil = :until")
            .condition_expression(
                "attribute_exists(PK) AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :owner)",
            )
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":until", millis(until))
            .expression_attribute_values(":now", millis(now))
            .send()
            .await;
        condition_applied(result)
    }

    /// Gives the session's lease back (when `owner` still holds it), so that the next trigger
    /// or continuation may take it at once.
    pub async fn release_session(&self, session_id: &str, owner: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(primary_key(keys::session_pk(session_id), keys::SESSION_SK)))
            .update_expression("REMOVE leaseUntil")
            .condition_expression("leaseOwner = :owner")
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        condition_applied(result)
    }

    /// Saves the session's progress, refused ([`StoreError::ConditionFailed`]) unless `owner`
    /// still holds its lease: a run whose lease was taken over writes nothing.
    pub async fn save_session(&self, session: &LearningSession, owner: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(session)?))
            .condition_expression("leaseOwner = :owner")
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        if condition_applied(result)? {
            Ok(())
        } else {
            Err(StoreError::ConditionFailed {
                kind: LearningSession::KIND,
                id: session.session_id.to_string(),
            })
        }
    }

    /// Claims the sending of the session's report for `owner`, the lease holder: refused when
    /// another run claimed it or it is sent.
    pub async fn claim_report(
        &self,
        session_id: &str,
        owner: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(primary_key(keys::session_pk(session_id), keys::SESSION_SK)))
            .update_expression("SET reportClaimedAt = :at")
            .condition_expression(
                "leaseOwner = :owner AND attribute_not_exists(reportClaimedAt) AND attribute_not_exists(reportMessageId)",
            )
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":at", s(at.to_rfc3339()))
            .send()
            .await;
        condition_applied(result)
    }

    /// Records the message id of the sent report, once.
    pub async fn record_report(&self, session_id: &str, message_id: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(primary_key(keys::session_pk(session_id), keys::SESSION_SK)))
            .update_expression("SET reportMessageId = :id")
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(reportMessageId)")
            .expression_attribute_values(":id", s(message_id))
            .send()
            .await;
        condition_applied(result)
    }

    /// Gives the report's claim back after SES refused the send, so the next run sends it.
    pub async fn release_report_claim(&self, session_id: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(primary_key(keys::session_pk(session_id), keys::SESSION_SK)))
            .update_expression("REMOVE reportClaimedAt")
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(reportMessageId)")
            .send()
            .await;
        condition_applied(result)
    }

    /// The queued feedback sent before the session's period ends, as the queue holds it now.
    pub async fn queued_feedback_of(
        &self,
        session: &LearningSession,
    ) -> Result<Vec<DraftFeedback>, StoreError> {
        let end = session.period_end;
        all_pages(|cursor| async move {
            self.unanalyzed_feedback_before(end, cursor.as_deref(), FEEDBACK_PAGE).await
        })
        .await
    }

    /// The execution ids of the feedback the session recorded it analyses (its read chunks).
    pub async fn feedback_read_by(&self, session: &LearningSession) -> Result<BTreeSet<String>, StoreError> {
        let mut ids = BTreeSet::new();
        for chunk in 0..session.feedback_read_chunks.unwrap_or(0) {
            let stored = self.feedback_read_chunk(&session.session_id, chunk).await?.ok_or_else(|| {
                StoreError::NotFound {
                    kind: "feedback read chunk",
                    id: format!("{}#{chunk}", session.session_id),
                }
            })?;
            ids.extend(stored.execution_ids);
        }
        Ok(ids)
    }

    /// The proposals a session stored (its `proposalIds`), as they are now; one gone (expired)
    /// is left out. Read by the batch's summary after the wording and by the analyst.
    pub async fn session_proposals(
        &self,
        session: &LearningSession,
    ) -> Result<Vec<LearningProposal>, StoreError> {
        let mut proposals = Vec::with_capacity(session.proposal_ids.len());
        for id in &session.proposal_ids {
            proposals.extend(self.proposal(id.as_str()).await?);
        }
        Ok(proposals)
    }

    /// The feedback a session analyses: what it recorded, as the queue holds it (none of it
    /// leaves the queue before the batch's feedback step). Read by the batch's analysis and by
    /// the analyst that words the session's proposals.
    pub async fn session_feedback(
        &self,
        session: &LearningSession,
    ) -> Result<Vec<DraftFeedback>, StoreError> {
        let (ids, queued) =
            tokio::try_join!(self.feedback_read_by(session), self.queued_feedback_of(session))?;
        Ok(queued.into_iter().filter(|feedback| ids.contains(&feedback.execution_id)).collect())
    }
}

/// Page size of the feedback queue's reads.
const FEEDBACK_PAGE: i32 = 500;
