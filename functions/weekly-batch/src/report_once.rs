//! Step 6, once: the run that holds the session claims the report's send on the session item
//! before calling SES, and records SES's message id after. A failed send gives the claim back,
//! so the next run sends it (SES failures lose nothing); a run that stopped between SES and the
//! record leaves the claim, and no later run sends a second email.

use autolearn_model::LearningSession;
use chrono::Utc;

use crate::{BatchError, Deps, report_data};

pub(crate) async fn send(deps: &Deps, session: &mut LearningSession, owner: &str) -> Result<(), BatchError> {
    if session.report_message_id.is_some() {
        return Ok(());
    }
    let store = &deps.store;
    let session_id = session.session_id.to_string();
    if session.report_claimed_at.is_some() {
        // Claimed by a run that stopped before it recorded the message id: SES may have sent
        // the email, and a second one is worse than none (the session and dashboard have it all).
        tracing::warn!(%session_id, "the report was claimed by a run that stopped before recording it; not sent again");
        return Ok(());
    }
    let now = Utc::now();
    if !store.claim_report(&session_id, owner, now).await? {
        return Err(BatchError::LeaseLost { session_id });
    }
    session.report_claimed_at = Some(now);
    match report_data::send_report(deps, session).await {
        Ok(()) => {
            if let Some(message_id) = &session.report_message_id {
                store.record_report(&session_id, message_id).await?;
            }
            Ok(())
        }
        Err(error) => {
            tracing::warn!(%session_id, %error, "the report was not sent; the claim is given back for the next run");
            store.release_report_claim(&session_id).await?;
            session.report_claimed_at = None;
            Err(error)
        }
    }
}
