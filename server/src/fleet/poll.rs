//! The poller: every interval, each active host that is not busy or backing off is read
//! concurrently (Supervisor status plus `proc.json` of programs not seen before) and the result
//! goes into the store's snapshot; changes are pushed to browsers.

use super::{FleetService, HostEntry, blocking, health_of};
use crate::clock::now_ms;
use crate::remote::RemoteError;
use crate::remote::supervisor::Status;
use crate::store::{PollOutcome, Polled, SeenProc, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use vr_app::api::Outcome;
use vr_app::fleet::{ConnectionReport, Host, ProcMeta};
use vr_app::notify::HostChange;

/// How far past its deadline a poll may run before its host is flagged unreachable.
const MISSED_MARGIN: Duration = Duration::from_millis(100);

/// How long "this program has no proc.json" is believed before looking again.
const NO_META_RECHECK: Duration = Duration::from_secs(60);

struct PollRead {
    status: Status,
    /// Raw `proc.json` per program read this time.
    metas: HashMap<String, Option<String>>,
    /// Kills for memory of the managed procs that stopped, started or restarted since the last
    /// poll (only those: a steady fleet costs no extra command).
    oom: HashMap<String, u32>,
}

impl FleetService {
    /// Runs until `shutdown` flips.
    pub async fn run_poller(self: Arc<Self>, shutdown: watch::Receiver<bool>) {
        let mut ticker = crate::clock::Ticker::new(self.config.poll_interval, shutdown);
        while ticker.next().await {
            let hosts = match self.store.list_hosts().await {
                Ok(h) => h,
                Err(e) => {
                    tracing::error!(error = %e, "poller cannot read hosts");
                    continue;
                }
            };
            self.prune(&hosts);
            for host in hosts.into_iter().filter(|h| h.settings.active) {
                let entry = self.entry(host.id);
                if !entry.link.due() || !entry.try_start_poll() {
                    continue;
                }
                let this = Arc::clone(&self);
                tokio::spawn(async move {
                    let _ = this.poll_host(&host, &entry).await;
                    entry.end_poll();
                });
            }
        }
        tracing::debug!("poller stopped");
    }

    /// Forgets sessions of deleted and inactive hosts.
    fn prune(&self, hosts: &[Host]) {
        let mut entries = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|id, e| {
            let keep = hosts.iter().any(|h| h.id == *id && h.settings.active);
            if !keep {
                e.link.reset();
            }
            keep
        });
    }

    /// Polls one host now and records the result; returns the raw outcome for callers that
    /// report it (test connection).
    pub(super) async fn poll_host(
        &self,
        host: &Host,
        entry: &Arc<HostEntry>,
    ) -> Result<(Status, bool), RemoteError> {
        let started = std::time::Instant::now();
        let access = self.access(host);
        let known: Vec<String> = {
            let metas = entry.metas.lock().unwrap_or_else(|p| p.into_inner());
            metas
                .iter()
                .filter(|(_, (m, at))| m.is_some() || at.elapsed() < NO_META_RECHECK)
                .map(|(n, _)| n.clone())
                .collect()
        };
        let link_entry = Arc::clone(entry);
        let (deadline, target) = (access.deadline, access.target.to_string());
        let read = blocking(move || {
            link_entry.link.run(&access, |sup| {
                let status = sup.status()?;
                let unknown: Vec<String> = status
                    .procs
                    .iter()
                    .filter(|p| !known.contains(&p.name))
                    .map(|p| p.name.clone())
                    .collect();
                let metas = if unknown.is_empty() {
                    HashMap::new()
                } else {
                    sup.read_proc_json(&unknown)?
                };
                let moved = link_entry.moved(&status);
                let oom = if moved.is_empty() {
                    HashMap::new()
                } else {
                    sup.oom_kills(&moved)?
                };
                Ok(PollRead { status, metas, oom })
            })
        });
        tokio::pin!(read);
        // A host that misses its deadline is flagged then, not when the session gives up (a
        // broken session can take a second deadline to fail); the read goes on behind it and
        // records what it finds.
        let result = tokio::select! {
            r = &mut read => r,
            () = tokio::time::sleep(deadline + MISSED_MARGIN) => {
                self.record_missed(host, &target, deadline).await;
                read.await
            }
        };
        let now = now_ms();
        self.count_poll(
            &host.settings.name,
            started.elapsed().as_secs_f64(),
            result.is_err(),
        );
        let (outcome, reply) = match result {
            Ok(worked) => {
                let pinned_now = worked.pinned_now;
                let seen = self.merge_metas(host, entry, &worked.value);
                let status = worked.value.status;
                (
                    PollOutcome::Ok {
                        procs: seen,
                        version: status.version.clone(),
                        via: status.via.as_str().to_string(),
                    },
                    Ok((status, pinned_now)),
                )
            }
            Err(e) => {
                let (health, presented_key) = health_of(&e);
                (
                    PollOutcome::Failed {
                        health,
                        error: e.to_string(),
                        presented_key,
                    },
                    Err(e),
                )
            }
        };
        let polled = self.store.apply_poll(host.id, outcome, now).await;
        self.recorded(host, polled).await;
        reply
    }

    /// Records `host` unreachable while its poll is still waiting past the deadline.
    async fn record_missed(&self, host: &Host, target: &str, deadline: Duration) {
        let outcome = PollOutcome::Failed {
            health: vr_app::fleet::Health::Unreachable,
            error: format!(
                "{target} did not answer within {}s (still trying)",
                deadline.as_secs_f32()
            ),
            presented_key: None,
        };
        let polled = self.store.apply_poll(host.id, outcome, now_ms()).await;
        self.recorded(host, polled).await;
    }

    /// After a poll is recorded: push what changed, and put a host's loss, return or changed
    /// key in the activity log (whence notifications).
    async fn recorded(&self, host: &Host, polled: Result<Polled, StoreError>) {
        let polled = match polled {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(host = %host.settings.name, error = %e, "could not record poll");
                return;
            }
        };
        let Some(snapshot) = polled.snapshot else {
            return;
        };
        let status = snapshot.0.status.clone();
        self.push(snapshot);
        let Some(change) = HostChange::between(polled.was, status.health) else {
            return;
        };
        let (outcome, detail) = match change {
            HostChange::Recovered => (Outcome::Ok, "answers again".to_string()),
            HostChange::Lost | HostChange::KeyChanged => (
                Outcome::Failed,
                status
                    .error
                    .clone()
                    .unwrap_or_else(|| status.health.as_str().to_string()),
            ),
        };
        crate::events::record_event(
            &self.store,
            &self.live,
            "system",
            change.action(),
            &format!("host:{}", host.settings.name),
            outcome,
            &detail,
        )
        .await;
    }

    /// Folds newly read `proc.json` files into the cache and builds the rows to record.
    fn merge_metas(&self, host: &Host, entry: &HostEntry, read: &PollRead) -> Vec<SeenProc> {
        let mut metas = entry.metas.lock().unwrap_or_else(|p| p.into_inner());
        for (name, raw) in &read.metas {
            let meta = raw.as_deref().and_then(|json| {
                serde_json::from_str::<ProcMeta>(json)
                    .map_err(|e| {
                        tracing::warn!(host = %host.settings.name, program = name, error = %e, "unreadable proc.json; showing the program as unmanaged");
                    })
                    .ok()
            });
            metas.insert(name.clone(), (meta, Instant::now()));
        }
        metas.retain(|name, _| read.status.procs.iter().any(|p| &p.name == name));
        read.status
            .procs
            .iter()
            .map(|p| SeenProc {
                name: p.name.clone(),
                state: p.state,
                description: vr_app::supervisor::lasting_description(&p.description).to_string(),
                pid: p.pid,
                started_at: p.started_at.map(|s| s * 1000),
                meta: metas.get(&p.name).and_then(|(m, _)| m.clone()),
                oom_kills: read.oom.get(&p.name).copied(),
            })
            .collect()
    }

    /// Connects now (ignoring any backoff), reads Supervisor, records it like a poll, and says
    /// what it found or exactly how it failed.
    pub async fn test_connection(&self, host: &Host) -> ConnectionReport {
        let started = Instant::now();
        let entry = self.entry(host.id);
        let result = self.poll_host(host, &entry).await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let fresh = self.store.host_by_id(host.id).await.ok();
        let host_key = fresh
            .as_ref()
            .and_then(|h| h.status.presented_key.clone().or(h.host_key.clone()));
        let capabilities = match &result {
            Ok(_) => {
                let access = self.access(host);
                let probe = blocking(move || {
                    entry
                        .link
                        .run(&access, |sup| crate::remote::capabilities::probe(sup.conn))
                })
                .await;
                probe
                    .ok()
                    .map(|w| vr_app::isolation::HostCapabilities::parse(&w.value))
            }
            Err(_) => None,
        };
        match result {
            Ok((status, pinned_now)) => ConnectionReport {
                ok: true,
                host_key,
                key_pinned_now: pinned_now,
                supervisor_version: status.version,
                proc_count: Some(status.procs.len()),
                via: Some(status.via.as_str().to_string()),
                elapsed_ms,
                error: None,
                capabilities,
            },
            Err(e) => ConnectionReport {
                ok: false,
                host_key,
                key_pinned_now: false,
                supervisor_version: None,
                proc_count: None,
                via: None,
                elapsed_ms,
                error: Some(e.to_string()),
                capabilities: None,
            },
        }
    }

    /// Polls one host right away (after an action), unless a poll is already running.
    pub async fn refresh(&self, host: &Host) {
        let entry = self.entry(host.id);
        if entry.try_start_poll() {
            let _ = self.poll_host(host, &entry).await;
            entry.end_poll();
        }
    }
}
