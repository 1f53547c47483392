//! The feedback a session analyses, recorded before the analysis first reads it, so that the
//! step that takes feedback out of the queue (step 2) takes exactly what the analysis read
//! (step 1), however long apart the two run (a continuation can be hours later). Feedback queued
//! in between stays in the queue for the next run, which reads the whole queue before its
//! period's end.

use autolearn_model::{FeedbackReadChunk, LearningSession, Store, StoreError};

use crate::BatchError;

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
        store.queued_feedback_of(session).await?.into_iter().map(|feedback| feedback.execution_id).collect();
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

/// Step 2: exactly the feedback step 1 read leaves the queue, marked with this session.
pub(crate) async fn mark(store: &Store, session: &LearningSession) -> Result<(), BatchError> {
    for execution_id in store.feedback_read_by(session).await? {
        store.mark_feedback_analyzed(&execution_id, &session.session_id).await?;
    }
    Ok(())
}
