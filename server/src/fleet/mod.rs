//! The fleet service: owns one [`HostLink`] per host, runs the poller that keeps the snapshot in
//! the store fresh, and carries out work on hosts for the HTTP layer (test connection, proc
//! actions, log tails). Handlers call in here and never touch a host themselves.
//!
//! Invariant: every host operation runs on the blocking pool under the link's deadline, so one
//! dead or hanging host ties up one thread for one deadline and nothing else.

mod actions;
pub mod logs;
pub mod merged;
mod poll;
pub mod select;

use crate::remote::RemoteError;
use crate::remote::link::{HostAccess, HostLink};
use crate::remote::ssh::{HostKeyCheck, Pinned, SshTarget};
use crate::remote::supervisor::Layout;
use crate::store::{HostSnapshot, Store};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use vr_app::api::LiveMessage;
use vr_app::fleet::{Health, Host, ProcMeta};

pub use actions::ActionError;

#[derive(Debug, Clone, Copy)]
pub struct FleetConfig {
    /// Time between two polls of a host.
    pub poll_interval: Duration,
    /// Deadline of each SSH step (connect, handshake, auth, each command).
    pub ssh_deadline: Duration,
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig {
            poll_interval: Duration::from_secs(1),
            ssh_deadline: Duration::from_secs(5),
        }
    }
}

/// Per-host state the service keeps in memory.
#[derive(Default)]
struct HostEntry {
    link: HostLink,
    /// A poll of this host is in flight; the poller does not start another.
    polling: AtomicBool,
    /// `proc.json` already read per program name (programs are immutable once deployed: a new
    /// release is a new name). Names without one are re-checked after a while.
    metas: Mutex<HashMap<String, (Option<ProcMeta>, Instant)>>,
    /// Each program's state and pid at the last poll: a managed proc that moved since is one
    /// whose cgroup's kills for memory are read again.
    moves: Mutex<HashMap<String, (vr_app::supervisor::ProcState, Option<u32>)>>,
}

pub struct FleetService {
    store: Store,
    live: broadcast::Sender<LiveMessage>,
    private_key: PathBuf,
    config: FleetConfig,
    hosts: Mutex<HashMap<i64, Arc<HostEntry>>>,
    /// Per host name: how long its polls took, and how many failed, since start.
    polls: Mutex<std::collections::BTreeMap<String, (vr_app::metrics::Histogram, u64)>>,
    /// Followers of procs' logs, one per followed host.
    logs: logs::LogHub,
}

impl FleetService {
    pub fn new(
        store: Store,
        live: broadcast::Sender<LiveMessage>,
        private_key: PathBuf,
        config: FleetConfig,
    ) -> Arc<FleetService> {
        Arc::new(FleetService {
            store,
            live,
            private_key,
            config,
            hosts: Mutex::default(),
            polls: Mutex::default(),
            logs: logs::LogHub::default(),
        })
    }

    /// Counts a poll of `host` that took `secs`.
    fn count_poll(&self, host: &str, secs: f64, failed: bool) {
        let mut polls = self.polls.lock().unwrap_or_else(|p| p.into_inner());
        let (h, errors) = polls.entry(host.to_string()).or_insert_with(|| {
            (
                vr_app::metrics::Histogram::new(&vr_app::metrics::POLL_BUCKETS),
                0,
            )
        });
        h.observe(secs);
        if failed {
            *errors += 1;
        }
    }

    /// `(host, durations, failures)` of every host polled since start.
    pub fn poll_stats(&self) -> Vec<(String, vr_app::metrics::Histogram, u64)> {
        let polls = self.polls.lock().unwrap_or_else(|p| p.into_inner());
        polls
            .iter()
            .map(|(name, (h, e))| (name.clone(), h.clone(), *e))
            .collect()
    }

    pub fn config(&self) -> FleetConfig {
        self.config
    }

    fn entry(&self, host_id: i64) -> Arc<HostEntry> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(hosts.entry(host_id).or_default())
    }

    /// Drops the host's session (after an edit, a re-trust, a delete) so the next use reconnects
    /// with the new settings.
    pub fn forget_session(&self, host_id: i64) {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = hosts.remove(&host_id) {
            e.link.reset();
        }
    }

    /// How to reach `host` with the server's key, for work that needs its own session (builds).
    /// Every connection made with it checks the host key against the pin in the store, and a
    /// first contact pins it there, whatever the connection then does.
    pub fn access(&self, host: &Host) -> HostAccess {
        HostAccess {
            target: SshTarget {
                address: host.settings.address.clone(),
                port: host.settings.port,
                user: host.settings.user.clone(),
            },
            layout: Layout::from(&host.settings),
            host_keys: Arc::new(StoreKeys {
                store: self.store.clone(),
                live: self.live.clone(),
                host_id: host.id,
                host_name: host.settings.name.clone(),
                pinned: host.host_key.clone(),
                runtime: tokio::runtime::Handle::try_current().ok(),
            }),
            private_key: self.private_key.clone(),
            deadline: self.config.ssh_deadline,
        }
    }

    fn push(&self, snapshot: HostSnapshot) {
        let (host, procs) = snapshot;
        // No receivers is normal (no browser open).
        let _ = self.live.send(LiveMessage::Host {
            host: Box::new(host),
            procs,
        });
    }
}

/// The host-key check of every connection the server makes: compares with the pin read from
/// the store, or, on first contact, pins the presented key there by compare-and-set (two first
/// contacts cannot pin two keys: the loser is compared with the winner's).
struct StoreKeys {
    store: Store,
    live: broadcast::Sender<LiveMessage>,
    host_id: i64,
    host_name: String,
    pinned: Option<String>,
    /// Connections are made on blocking threads; the store is reached through the runtime.
    runtime: Option<tokio::runtime::Handle>,
}

impl HostKeyCheck for StoreKeys {
    fn check(&self, target: &SshTarget, presented: &str) -> Result<bool, RemoteError> {
        let refuse = |message: String| RemoteError::Handshake {
            target: target.to_string(),
            message,
        };
        let Some(runtime) = self.runtime.as_ref() else {
            return match &self.pinned {
                Some(p) => Pinned(p.clone()).check(target, presented),
                None => Err(refuse("cannot pin the host key: no runtime".into())),
            };
        };
        // The pin as it is now, not as it was when the work began: an admin may have trusted
        // a new key since, and the old one must stop working at once.
        let current = runtime
            .block_on(self.store.host_by_id(self.host_id))
            .map_err(|e| refuse(format!("cannot read the pinned host key: {e}")))?;
        if let Some(p) = current.host_key {
            return Pinned(p).check(target, presented);
        }
        let pinned = runtime.block_on(self.store.pin_host_key(
            self.host_id,
            None,
            presented.to_string(),
            crate::clock::now_ms(),
        ));
        match pinned {
            Ok(true) => {
                tracing::info!(host = %self.host_name, key = presented, "pinned host key on first contact");
                runtime.block_on(crate::events::record_event(
                    &self.store,
                    &self.live,
                    "system",
                    "host.key_pin",
                    &format!("host:{}", self.host_name),
                    vr_app::api::Outcome::Ok,
                    &format!("first contact: pinned {presented}"),
                ));
                Ok(true)
            }
            // Someone pinned first: the key must be theirs.
            Ok(false) => match runtime.block_on(self.store.host_by_id(self.host_id)) {
                Ok(h) => match h.host_key {
                    Some(p) => Pinned(p).check(target, presented),
                    None => Err(refuse("the host key could not be pinned; try again".into())),
                },
                Err(e) => Err(refuse(format!("cannot read the pinned host key: {e}"))),
            },
            Err(e) => Err(refuse(format!("cannot pin the host key: {e}"))),
        }
    }

    fn pinned(&self) -> Option<String> {
        self.pinned.clone()
    }
}

/// Which health a failed contact means.
fn health_of(e: &RemoteError) -> (Health, Option<String>) {
    match e {
        RemoteError::HostKeyChanged { presented, .. } => {
            (Health::KeyChanged, Some(presented.clone()))
        }
        RemoteError::Supervisor { .. } | RemoteError::Socket { .. } => {
            (Health::SupervisorDown, None)
        }
        _ => (Health::Unreachable, None),
    }
}

/// Runs blocking host work on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RemoteError> + Send + 'static,
) -> Result<T, RemoteError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(RemoteError::Exec {
            target: "host".into(),
            message: format!("task failed: {e}"),
        })
    })
}

impl HostEntry {
    fn try_start_poll(&self) -> bool {
        !self.polling.swap(true, Ordering::AcqRel)
    }
    fn end_poll(&self) {
        self.polling.store(false, Ordering::Release);
    }

    /// The managed programs whose state or pid changed since the last poll (remembering this
    /// one's). A program seen for the first time has not moved: its count is read when it does.
    fn moved(&self, status: &crate::remote::supervisor::Status) -> Vec<String> {
        let managed = self.metas.lock().unwrap_or_else(|p| p.into_inner());
        let mut last = self.moves.lock().unwrap_or_else(|p| p.into_inner());
        let mut moved = Vec::new();
        for p in &status.procs {
            let now = (p.state, p.pid);
            let before = last.insert(p.name.clone(), now);
            let is_managed = managed.get(&p.name).is_some_and(|(m, _)| m.is_some());
            if is_managed && before.is_some_and(|b| b != now) {
                moved.push(p.name.clone());
            }
        }
        last.retain(|name, _| status.procs.iter().any(|p| &p.name == name));
        moved
    }
}
