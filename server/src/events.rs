//! The activity log's one writer: an event is stored and pushed to live clients. It sits below
//! the jobs, the fleet service and the HTTP handlers, which all record through it.

use crate::clock::now_ms;
use crate::store::Store;
use tokio::sync::broadcast;
use vr_app::api::{Event, LiveMessage, Outcome};

/// Writes an activity-log line and pushes it to live clients; shared by handlers, jobs and the
/// fleet service. A failure to record is logged, never fatal to the action it describes.
pub async fn record_event(
    store: &Store,
    live: &broadcast::Sender<LiveMessage>,
    actor: &str,
    action: &str,
    object: &str,
    outcome: Outcome,
    detail: &str,
) -> Option<Event> {
    let result = store
        .insert_event(
            now_ms(),
            actor.to_string(),
            action.to_string(),
            object.to_string(),
            outcome,
            detail.to_string(),
        )
        .await;
    match result {
        Ok(event) => {
            tracing::info!(actor, action, object, ?outcome, detail, "event");
            // No receivers is normal (no browser open).
            let _ = live.send(LiveMessage::Event {
                event: event.clone(),
            });
            Some(event)
        }
        Err(e) => {
            tracing::error!(actor, action, object, error = %e, "could not record event");
            None
        }
    }
}
