//! The feedback a session analyses, recorded before the analysis first reads it, so that the
//! step that takes feedback out of the queue (step 2) takes exactly what the analysis read
//! (step 1), however long apart the two run (a continuation can be hours later). Feedback queued
//! in between stays in the queue for the next run, which reads the whole queue before its
//! period's end.

use std::collections::BTreeSet;

use autolearn_model::{DraftFeedback, FeedbackReadChunk, LearningSession, Store, StoreError, all_pages};

use crate::BatchError;
use crate::run::PAGE;

/// The queued feedback sent before the period's end, as the queue holds it now.
async fn queued(store: &Store, session: &LearningSession) -> Result<Vec<DraftFeedback>, StoreError> {
    let end = session.period_end;
    all_pages(|cursor| async move { store.unanalyzed_feedback_before(end, cursor.as_deref(), PAGE).await })
        .await
}

/// Records which feedback the session analyses (once: a rerun keeps the first record). The
/// chunks are written before the session names their number, so a crash in between only
/// leaves chunks the rerun overwrites.
pub(crate) async fn record(
    store: &Store,
    session: &mut LearningSession,
    owner: &str,
) -> Result<(), BatchError> {
    if session.feedback_read_chunks.is_some() {
        return Ok(());
    }
    let ids: Vec<String> =
        queued(store, session).await?.into_iter().map(|feedback| feedback.execution_id).collect();
    let mut chunks = 0;
    for (chunk, execution_ids) in ids.chunks(FeedbackReadChunk::IDS).enumerate() {
        let chunk = u32::try_from(chunk).map_err(|_| StoreError::Build("too many feedback chunks".into()))?;
        store
            .put(&FeedbackReadChunk {
                session_id: session.session_id.clone(),
                chunk,
                execution_ids: execution_ids.to_vec(),
            })
            .await?;
        chunks = chunk + 1;
    }
    session.feedback_read_chunks = Some(chunks);
    crate::run::save(store, session, owner).await
}

/// The execution ids of the feedback the session analyses.
pub(crate) async fn recorded(
    store: &Store,
    session: &LearningSession,
) -> Result<BTreeSet<String>, StoreError> {
    let mut ids = BTreeSet::new();
    for chunk in 0..session.feedback_read_chunks.unwrap_or(0) {
        let stored = store.feedback_read_chunk(&session.session_id, chunk).await?.ok_or_else(|| {
            StoreError::NotFound {
                kind: "feedback read chunk",
                id: format!("{}#{chunk}", session.session_id),
            }
        })?;
        ids.extend(stored.execution_ids);
    }
    Ok(ids)
}

/// What step 1 analyses: the recorded feedback, as the queue holds it (none of it has left the
/// queue before step 2).
pub(crate) async fn read(store: &Store, session: &LearningSession) -> Result<Vec<DraftFeedback>, StoreError> {
    let (ids, queued) = tokio::try_join!(recorded(store, session), queued(store, session))?;
    Ok(queued.into_iter().filter(|feedback| ids.contains(&feedback.execution_id)).collect())
}

/// Step 2: exactly the feedback step 1 read leaves the queue, marked with this session.
pub(crate) async fn mark(store: &Store, session: &LearningSession) -> Result<(), BatchError> {
    for execution_id in recorded(store, session).await? {
        store.mark_feedback_analyzed(&execution_id, &session.session_id).await?;
    }
    Ok(())
}
