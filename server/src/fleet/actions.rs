//! Proc actions (start, stop, restart, destroy) and log tails, on the hosts, through the links.
//! Hosts are worked in parallel, procs of one host one after the other on its session; each proc
//! is an activity-log event and a live progress message.

use super::{FleetService, blocking};
use crate::clock::now_ms;
use crate::events::record_event;
use crate::remote::RemoteError;
use crate::store::StoreError;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use vr_app::api::{LiveMessage, Outcome};
use vr_app::fleet::{
    Health, Host, LogChunk, LogQuery, Proc, ProcAction, ProcActionReport, ProcActionResult,
};
use vr_app::time::format_age;

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The host cannot be worked on now (unreachable, key changed, inactive).
    #[error("{0}")]
    HostUnavailable(String),
    #[error(transparent)]
    Remote(#[from] RemoteError),
}

/// Largest log piece one request may ask for.
pub const MAX_LOG_BYTES: u32 = 1024 * 1024;
pub const DEFAULT_LOG_BYTES: u32 = 16 * 1024;
/// Deadline of one hygiene run: it walks every proc folder and build on the host.
const HYGIENE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Why work on this host would fail now, from the snapshot, so callers fail fast instead of
/// waiting a deadline.
pub(super) fn unavailable(host: &Host, now: i64) -> Option<String> {
    let s = &host.status;
    let since = s
        .error_since
        .map(|t| format!(" (failing since {})", format_age(now, t)))
        .unwrap_or_default();
    let error = s.error.as_deref().unwrap_or("no detail");
    match s.health {
        Health::Unreachable => Some(format!(
            "host {} is unreachable{since}: {error}",
            host.settings.name
        )),
        Health::KeyChanged => Some(format!(
            "host {} presented a changed host key; an admin must trust it first: {error}",
            host.settings.name
        )),
        Health::Inactive => Some(format!("host {} is marked inactive", host.settings.name)),
        Health::Unknown | Health::Ok | Health::SupervisorDown => None,
    }
}

impl FleetService {
    /// Runs `action` on each proc and reports every result. Never fails as a whole: a host that
    /// cannot be reached fails its procs with the reason.
    pub async fn proc_action(
        self: &Arc<Self>,
        actor: &str,
        action: ProcAction,
        targets: Vec<(Host, Proc)>,
    ) -> ProcActionReport {
        let batch = crate::auth::random_secret()[..12].to_string();
        let total = targets.len();
        let done = Arc::new(AtomicUsize::new(0));
        let mut by_host: BTreeMap<i64, (Host, Vec<Proc>)> = BTreeMap::new();
        for (host, proc) in targets {
            by_host
                .entry(host.id)
                .or_insert_with(|| (host, Vec::new()))
                .1
                .push(proc);
        }
        let mut tasks = Vec::new();
        for (_, (host, procs)) in by_host {
            let this = Arc::clone(self);
            let actor = actor.to_string();
            let batch = batch.clone();
            let done = Arc::clone(&done);
            tasks.push(tokio::spawn(async move {
                let mut results = Vec::new();
                for proc in procs {
                    let result = this.act_on(&host, &proc, action).await;
                    this.report(&actor, action, &result).await;
                    let n = done.fetch_add(1, Ordering::AcqRel) + 1;
                    let _ = this.live.send(LiveMessage::ActionProgress {
                        batch: batch.clone(),
                        done: n,
                        total,
                        result: result.clone(),
                    });
                    results.push(result);
                }
                // Show the effect at once instead of at the next poll.
                if unavailable(&host, now_ms()).is_none() {
                    this.refresh(&host).await;
                }
                results
            }));
        }
        let mut results = Vec::with_capacity(total);
        for t in tasks {
            match t.await {
                Ok(r) => results.extend(r),
                Err(e) => tracing::error!(error = %e, "proc action task failed"),
            }
        }
        ProcActionReport { batch, results }
    }

    async fn act_on(&self, host: &Host, proc: &Proc, action: ProcAction) -> ProcActionResult {
        let result = |ok: bool, message: String| ProcActionResult {
            host: host.settings.name.clone(),
            name: proc.name.clone(),
            ok,
            message,
        };
        if let Some(why) = unavailable(host, now_ms()) {
            return result(false, why);
        }
        if action == ProcAction::Destroy && !proc.managed() {
            return result(
                false,
                format!(
                    "{} was not deployed by vr (unmanaged); vr does not delete its files — remove it by hand",
                    proc.name
                ),
            );
        }
        let access = self.access(host);
        let entry = self.entry(host.id);
        let name = proc.name.clone();
        let outcome = blocking(move || {
            entry.link.run(&access, |sup| match action {
                ProcAction::Start => sup.start(&name),
                ProcAction::Stop => sup.stop(&name),
                ProcAction::Restart => sup.restart(&name),
                ProcAction::Destroy => sup.destroy(&name),
            })
        })
        .await;
        match outcome {
            Ok(worked) => {
                let verdict = worked.value;
                if verdict.ok && action == ProcAction::Destroy {
                    match self.store.forget_proc(host.id, proc.name.clone()).await {
                        Ok(snapshot) => self.push(snapshot),
                        Err(e) => tracing::error!(error = %e, "could not forget destroyed proc"),
                    }
                }
                result(verdict.ok, verdict.message)
            }
            Err(e) => result(false, e.to_string()),
        }
    }

    async fn report(&self, actor: &str, action: ProcAction, r: &ProcActionResult) {
        record_event(
            &self.store,
            &self.live,
            actor,
            &format!("proc.{}", action.as_str()),
            &format!("proc:{}/{}", r.host, r.name),
            if r.ok { Outcome::Ok } else { Outcome::Failed },
            &r.message,
        )
        .await;
    }

    /// Host hygiene: proc folders neither Supervisor nor a deploy in flight (`in_flight`) knows,
    /// and unpacked builds unused for `days`, are deleted; returns what was removed. It walks
    /// whole directory trees, so it runs on a session of its own with a long deadline, never on
    /// the link the poller shares.
    pub async fn hygiene(
        &self,
        host: &Host,
        days: u32,
        in_flight: Vec<String>,
    ) -> Result<Vec<String>, ActionError> {
        if let Some(why) = unavailable(host, now_ms()) {
            return Err(ActionError::HostUnavailable(why));
        }
        let access = self.access(host);
        let link = crate::remote::link::HostLink::default();
        let worked = blocking(move || {
            link.run(&access, |sup| {
                // The status is read now, not from the snapshot, so a proc deployed a moment ago
                // is never taken for a stray.
                let mut keep: Vec<String> =
                    sup.status()?.procs.into_iter().map(|p| p.name).collect();
                keep.extend(in_flight.iter().cloned());
                crate::remote::deploy::hygiene(sup.conn, sup.layout, &keep, days, HYGIENE_DEADLINE)
            })
        })
        .await?;
        Ok(worked.value)
    }

    /// A piece of a proc's log, read from its host now.
    pub async fn tail(
        &self,
        host: &Host,
        proc_name: &str,
        query: &LogQuery,
    ) -> Result<LogChunk, ActionError> {
        if let Some(why) = unavailable(host, now_ms()) {
            return Err(ActionError::HostUnavailable(why));
        }
        let access = self.access(host);
        let entry = self.entry(host.id);
        let name = proc_name.to_string();
        let stream = query.stream;
        let offset = query.offset;
        let bytes = query
            .bytes
            .unwrap_or(DEFAULT_LOG_BYTES)
            .clamp(1, MAX_LOG_BYTES);
        let worked = blocking(move || {
            entry
                .link
                .run(&access, |sup| sup.tail(&name, stream, offset, bytes))
        })
        .await?;
        Ok(worked.value)
    }
}
