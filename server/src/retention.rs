//! Keeps the database and the build logs from growing without end: every hour (and at start)
//! rows older than the operator's limits are pruned in small batches (`Store::prune`), and the
//! logs of failed and expired builds past the jobs limit are deleted.

use crate::clock::{Ticker, now_ms};
use crate::store::{Cutoffs, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use vr_app::api::{LiveMessage, Outcome};

/// Days each kind is kept; 0 keeps it for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub events_days: u32,
    pub history_days: u32,
    pub jobs_days: u32,
}

impl Default for Retention {
    /// A busy year of a 50-host fleet's activity stays a few hundred MB (BENCHMARKS.md).
    fn default() -> Self {
        Retention {
            events_days: 365,
            history_days: 30,
            jobs_days: 180,
        }
    }
}

const DAY_MS: i64 = 86_400_000;
/// Rows per kind deleted in one transaction.
const BATCH: u32 = 1000;
const EVERY: Duration = Duration::from_secs(3600);

impl Retention {
    /// What is older than these limits at `now`.
    pub fn cutoffs(&self, now: i64) -> Cutoffs {
        let before = |days: u32| (days > 0).then(|| now - i64::from(days) * DAY_MS);
        Cutoffs {
            events: before(self.events_days),
            history: before(self.history_days),
            jobs: before(self.jobs_days),
        }
    }
}

/// One pass: the rows, then the logs; recorded in the activity log when anything went.
pub async fn prune_once(
    store: &Store,
    live: &broadcast::Sender<LiveMessage>,
    builds: &crate::jobs::Builds,
    keep: Retention,
) {
    let cut = keep.cutoffs(now_ms());
    let rows = match store.prune(cut, BATCH).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "pruning old rows failed");
            return;
        }
    };
    let logs = match cut.jobs {
        Some(before) => builds.prune_logs(before).await,
        None => 0,
    };
    if rows.total() == 0 && logs == 0 {
        return;
    }
    let detail = format!(
        "{} event(s), {} state change(s), {} deploy(s), {} dispatch(es), {} build log(s)",
        rows.events, rows.history, rows.deploys, rows.dispatches, logs
    );
    tracing::info!(%detail, "retention pruned");
    crate::events::record_event(
        store,
        live,
        "system",
        "retention.prune",
        "vr",
        Outcome::Ok,
        &detail,
    )
    .await;
}

/// Prunes at start and every hour until shutdown.
pub async fn run(
    store: Store,
    live: broadcast::Sender<LiveMessage>,
    builds: Arc<crate::jobs::Builds>,
    keep: Retention,
    shutdown: watch::Receiver<bool>,
) {
    let mut ticker = Ticker::new(EVERY, shutdown);
    while ticker.next().await {
        prune_once(&store, &live, &builds, keep).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoffs_count_whole_days_back_and_zero_keeps_for_ever() {
        let keep = Retention {
            events_days: 2,
            history_days: 0,
            jobs_days: 1,
        };
        let c = keep.cutoffs(10 * DAY_MS);
        assert_eq!(c.events, Some(8 * DAY_MS));
        assert_eq!(c.history, None);
        assert_eq!(c.jobs, Some(9 * DAY_MS));
    }
}
