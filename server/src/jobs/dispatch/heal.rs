//! Self-healing (off by default, per swarm): a swarm with `heal_after_secs` set is dispatched
//! by vr itself when a host holding its procs has been unreachable that long and fewer of its
//! procs run on healthy hosts than it wants (`vr_app::swarm::needs_healing`). One such dispatch
//! per swarm at a time; never while its squad has no healthy host; after one that could not
//! restore the size, the next waits the swarm's period again. Each says why in the activity log.

use std::sync::Arc;
use std::time::Duration;

use super::Dispatches;
use crate::clock::now_ms;
use crate::events::record_event;
use crate::jobs::JobError;
use vr_app::api::Outcome;
use vr_app::swarm::{DispatchRequest, needs_healing};

/// Who the activity log and the dispatch history name for these dispatches.
pub const HEALER: &str = "self-heal";

impl Dispatches {
    /// Looks every `every` until shutdown.
    pub async fn run_self_healing(
        self: Arc<Self>,
        every: Duration,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut ticker = crate::clock::Ticker::new(every, shutdown);
        while ticker.next().await {
            if let Err(e) = self.heal_once().await {
                tracing::error!(error = %e, "self-healing could not look at the swarms");
            }
        }
    }

    async fn heal_once(self: &Arc<Self>) -> Result<(), JobError> {
        let rows = self.store.list_swarms().await?;
        if rows.iter().all(|r| r.spec.heal_after_secs == 0) {
            return Ok(());
        }
        let fleet = self.store.fleet().await?;
        let now = now_ms();
        for row in rows {
            let Some(why) = needs_healing(row.id, &row.spec, &fleet.hosts, &fleet.procs, now)
            else {
                continue;
            };
            let recent = self.store.list_dispatches(Some(row.id), 5).await?;
            if recent.iter().any(|d| d.status.in_flight()) {
                continue;
            }
            let period = i64::from(row.spec.heal_after_secs) * 1000;
            if recent
                .first()
                .is_some_and(|d| d.requested_by == HEALER && now - d.created_at < period)
            {
                continue;
            }
            let req = DispatchRequest {
                version: Some("-".into()),
                ..DispatchRequest::default()
            };
            let name = row.spec.name();
            match self.request(HEALER, row.id, req).await {
                Ok(d) => {
                    tracing::info!(swarm = %name, dispatch = d.id, reason = %why, "self-healing");
                    record_event(
                        &self.store,
                        &self.live,
                        HEALER,
                        "swarm.heal",
                        &format!("swarm:{name}"),
                        Outcome::Ok,
                        &format!("dispatch #{}: {why}", d.id),
                    )
                    .await;
                }
                Err(e) => {
                    tracing::warn!(swarm = %name, error = %e, "self-healing dispatch refused")
                }
            }
        }
        Ok(())
    }
}
