//! The outbox drain: events stored with the change they announce (today `DraftFeedbackRecorded`)
//! whose put on the bus failed are put again, then deleted. A put that fails again leaves the
//! entry for the next drain; an entry put but not deleted is put again, so consumers deduplicate
//! by the ids in the detail.

use autolearn_bus::EventBus;
use autolearn_model::{Store, StoreError, all_pages};

/// Puts every waiting event on the bus; returns how many were put. Stops at the first refused
/// put (the bus is failing: the rest wait for the next drain).
pub async fn drain(store: &Store, bus: &EventBus) -> Result<usize, StoreError> {
    let entries = all_pages(|cursor| async move { store.outbox(cursor.as_deref(), 100).await }).await?;
    let mut put = 0;
    for entry in entries {
        if let Err(error) = bus.publish_json(&entry.detail_type, &entry.detail).await {
            tracing::warn!(execution_id = %entry.execution_id, %error, "outbox event not put; left for the next drain");
            break;
        }
        store.clear_outbox_entry(entry.subject, &entry.execution_id, &entry.detail_type).await?;
        put += 1;
    }
    Ok(put)
}
