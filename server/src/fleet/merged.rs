//! One merged log stream for a selection of procs (`GET /api/logs`, `vr logs`): it joins the
//! followers of the hosts the selection spans, sends their history then what follows, filters
//! by text, and watches the snapshot for procs that restart, change state, appear in the
//! selection (a dispatch started them) or leave it.

use super::FleetService;
use super::logs::{Holding, LogKey, LogSpec};
use super::select::select;
use crate::clock::now_ms;
use crate::store::{Store, StoreError};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::StreamMap;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use vr_app::api::LiveMessage;
use vr_app::fleet::{Fleet, Host, LogStream, Proc};
use vr_app::logs::{LogEvent, LogSource, LogsQuery, MAX_PROCS, Mark, matches};
use vr_app::supervisor::ProcState;
use vr_app::validate::Invalid;

/// The selection is looked at again at most this often when the snapshot changes.
const RESELECT: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one selected proc looked like last, to tell restarts and state changes.
#[derive(Clone, PartialEq)]
struct Seen {
    state: ProcState,
    pid: Option<u32>,
    managed: bool,
    release_id: Option<i64>,
}

/// Selected procs by host name: the host and each proc's look.
type Selection = BTreeMap<String, (Host, BTreeMap<String, Seen>)>;

/// The procs the query selects now, by host name, with how they look.
fn selected(fleet: &Fleet, query: &LogsQuery) -> Result<Selection, Invalid> {
    let mut out: Selection = BTreeMap::new();
    let only = query.only_names();
    let picked: Vec<(Host, Proc)> = select(fleet, &query.filter())?
        .into_iter()
        .filter(|(_, p)| {
            query
                .swarm
                .is_none_or(|id| p.meta.as_ref().and_then(|m| m.swarm_id) == Some(id))
                && (only.is_empty() || only.contains(&p.name.as_str()))
        })
        .collect();
    if picked.len() > MAX_PROCS {
        return Err(Invalid::new(
            "pattern",
            format!(
                "matches {} procs; one log stream follows at most {MAX_PROCS}: narrow it",
                picked.len()
            ),
        ));
    }
    for (host, p) in picked {
        let seen = Seen {
            state: p.state,
            pid: p.pid,
            managed: p.managed(),
            release_id: p.meta.as_ref().and_then(|m| m.release_id),
        };
        out.entry(host.settings.name.clone())
            .or_insert_with(|| (host, BTreeMap::new()))
            .1
            .insert(p.name, seen);
    }
    Ok(out)
}

/// Checks the query and starts following. The events come on the receiver until it is
/// dropped or the server stops.
pub async fn follow(
    fleet: Arc<FleetService>,
    store: Store,
    query: LogsQuery,
) -> Result<mpsc::Receiver<LogEvent>, FollowError> {
    let history = query.history()? as usize;
    let snapshot = store.fleet().await?;
    let first = selected(&snapshot, &query)?;
    let (tx, rx) = mpsc::channel(1024);
    let session = Session {
        fleet,
        store,
        streams: query.streams(),
        grep: query.grep.clone().unwrap_or_default(),
        query,
        history,
        tx,
        hosts: HashMap::new(),
        secrets: HashMap::new(),
        events: StreamMap::new(),
    };
    tokio::spawn(session.run(first));
    Ok(rx)
}

struct Followed {
    host: Host,
    procs: BTreeMap<String, Seen>,
    /// Every hold taken on this host's logs (one per join), let go when the stream ends.
    holdings: Vec<Holding>,
}

struct Session {
    fleet: Arc<FleetService>,
    store: Store,
    query: LogsQuery,
    streams: Vec<LogStream>,
    grep: String,
    history: usize,
    tx: mpsc::Sender<LogEvent>,
    hosts: HashMap<String, Followed>,
    secrets: HashMap<i64, Vec<String>>,
    events: StreamMap<String, BroadcastStream<Arc<LogEvent>>>,
}

/// The receiver is gone: the stream ended.
struct Gone;

impl Session {
    async fn run(mut self, first: Selection) {
        let mut live = self.fleet.live.subscribe();
        let procs = first
            .iter()
            .flat_map(|(h, (_, ps))| {
                ps.keys().map(|p| LogSource {
                    host: h.clone(),
                    proc: p.clone(),
                })
            })
            .collect();
        if self.emit(LogEvent::Following { procs }).await.is_err() {
            return;
        }
        if self.join_all(first, false).await.is_err()
            || self.emit(LogEvent::CaughtUp).await.is_err()
        {
            return;
        }
        let mut reselect_at: Option<tokio::time::Instant> = None;
        loop {
            let wake = reselect_at
                .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
            let step = tokio::select! {
                Some((host, item)) = self.events.next() => self.forward(&host, item).await,
                m = live.recv() => match m {
                    Ok(LiveMessage::Host { host, procs }) => {
                        let r = self.watch(&host, &procs).await;
                        reselect_at.get_or_insert_with(|| tokio::time::Instant::now() + RESELECT);
                        r
                    }
                    Ok(LiveMessage::Fleet | LiveMessage::HostRemoved { .. }) => {
                        reselect_at.get_or_insert_with(|| tokio::time::Instant::now() + RESELECT);
                        Ok(())
                    }
                    Err(broadcast::error::RecvError::Closed) => Err(Gone),
                    _ => Ok(()),
                },
                () = tokio::time::sleep_until(wake), if reselect_at.is_some() => {
                    reselect_at = None;
                    self.reselect().await
                }
                () = self.tx.closed() => Err(Gone),
            };
            if step.is_err() {
                return;
            }
        }
    }

    async fn emit(&self, event: LogEvent) -> Result<(), Gone> {
        if let LogEvent::Line { text, .. } = &event
            && !matches(text, &self.grep)
        {
            return Ok(());
        }
        self.tx.send(event).await.map_err(|_| Gone)
    }

    /// Joins the followers of these hosts' procs at once (a host that hangs delays only its
    /// own history) and sends each history as it comes. `announce` marks the procs as joined.
    async fn join_all(&mut self, add: Selection, announce: bool) -> Result<(), Gone> {
        let mut joins = FuturesUnordered::new();
        for (name, (host, procs)) in add {
            let mut keys: Vec<(LogKey, LogSpec)> = Vec::new();
            for (p, seen) in &procs {
                let spec = LogSpec {
                    managed: seen.managed,
                    secrets: self.secrets(seen.release_id).await,
                };
                for s in &self.streams {
                    let key = LogKey {
                        program: p.clone(),
                        stream: *s,
                    };
                    keys.push((key, spec.clone()));
                }
            }
            let fleet = Arc::clone(&self.fleet);
            let history = self.history;
            joins.push(async move {
                let joined = fleet.follow_logs(&host, keys, history).await;
                (name, host, procs, joined)
            });
        }
        while let Some((name, host, procs, joined)) = joins.next().await {
            let Some((joined, holding)) = joined else {
                return Err(Gone);
            };
            if announce {
                for p in procs.keys() {
                    self.emit(marker(&name, Some(p), Mark::Joined, "now followed".into()))
                        .await?;
                }
            }
            for e in joined.history {
                self.emit(e).await?;
            }
            // A host already followed gets a new receiver: what the old one still holds first.
            if let Some(mut old) = self.events.remove(&name) {
                while let Some(Some(item)) = futures_util::FutureExt::now_or_never(old.next()) {
                    self.forward(&name, item).await?;
                }
            }
            let (mut all, mut holdings) = self
                .hosts
                .remove(&name)
                .map(|f| (f.procs, f.holdings))
                .unwrap_or_default();
            all.extend(procs);
            holdings.push(holding);
            self.events
                .insert(name.clone(), BroadcastStream::new(joined.events));
            self.hosts.insert(
                name,
                Followed {
                    host,
                    procs: all,
                    holdings,
                },
            );
        }
        Ok(())
    }

    /// A release's secret values (read once per release and stream).
    async fn secrets(&mut self, release: Option<i64>) -> Vec<String> {
        let Some(id) = release else {
            return Vec::new();
        };
        if let Some(known) = self.secrets.get(&id) {
            return known.clone();
        }
        let values = match self.store.release(id).await {
            Ok(r) => r.config.secret_values(),
            Err(e) => {
                tracing::warn!(release = id, error = %e, "cannot read a followed proc's release");
                Vec::new()
            }
        };
        self.secrets.insert(id, values.clone());
        values
    }

    /// One event from a host's follower: sent when it concerns this stream's procs.
    async fn forward(
        &self,
        host: &str,
        item: Result<Arc<LogEvent>, BroadcastStreamRecvError>,
    ) -> Result<(), Gone> {
        let Some(f) = self.hosts.get(host) else {
            return Ok(());
        };
        match item {
            Ok(event) => {
                let ours = match event.as_ref() {
                    LogEvent::Line { proc, stream, .. } => {
                        f.procs.contains_key(proc) && self.streams.contains(stream)
                    }
                    LogEvent::Marker { proc, .. } => {
                        proc.as_ref().is_none_or(|p| f.procs.contains_key(p))
                    }
                    _ => false,
                };
                if ours {
                    self.emit(event.as_ref().clone()).await?;
                }
                Ok(())
            }
            Err(BroadcastStreamRecvError::Lagged(n)) => {
                self.emit(marker(
                    host,
                    None,
                    Mark::Lagged,
                    format!("this stream read too slowly: {n} lines of {host} missed"),
                ))
                .await
            }
        }
    }

    /// A host's procs as the poller saw them now: restarts and state changes of ours.
    async fn watch(&mut self, host: &Host, procs: &[Proc]) -> Result<(), Gone> {
        let name = host.settings.name.clone();
        let mut said = Vec::new();
        if let Some(f) = self.hosts.get_mut(&name) {
            f.host = host.clone();
            for p in procs {
                let Some(seen) = f.procs.get_mut(&p.name) else {
                    continue;
                };
                let was = seen.clone();
                seen.state = p.state;
                seen.pid = p.pid.or(seen.pid);
                if let Some(detail) = change(&was, p) {
                    said.push(marker(&name, Some(&p.name), detail.0, detail.1));
                }
            }
        }
        for m in said {
            self.emit(m).await?;
        }
        Ok(())
    }

    /// The selection as the snapshot shows it now: new procs joined, gone ones left.
    async fn reselect(&mut self) -> Result<(), Gone> {
        let Ok(snapshot) = self.store.fleet().await else {
            return Ok(());
        };
        let Ok(now) = selected(&snapshot, &self.query) else {
            return Ok(());
        };
        let mut add: Selection = BTreeMap::new();
        let mut left: Vec<(String, String)> = Vec::new();
        for (name, f) in &self.hosts {
            let current: BTreeSet<&String> = now
                .get(name)
                .map(|(_, p)| p.keys().collect())
                .unwrap_or_default();
            for p in f.procs.keys() {
                if !current.contains(p) {
                    left.push((name.clone(), p.clone()));
                }
            }
        }
        for (name, (host, procs)) in now {
            let known = self.hosts.get(&name).map(|f| &f.procs);
            let new: BTreeMap<String, Seen> = procs
                .into_iter()
                .filter(|(p, _)| known.is_none_or(|k| !k.contains_key(p)))
                .collect();
            if !new.is_empty() {
                add.insert(name, (host, new));
            }
        }
        for (host, p) in left {
            // Its lines stop with it, and so do the follower's reads of its logs.
            if let Some(f) = self.hosts.get_mut(&host) {
                f.procs.remove(&p);
                for h in &mut f.holdings {
                    h.let_go(&p);
                }
                if f.procs.is_empty() {
                    self.hosts.remove(&host);
                    self.events.remove(&host);
                }
            }
            self.emit(marker(
                &host,
                Some(&p),
                Mark::Left,
                "no longer followed (gone, or no longer selected)".into(),
            ))
            .await?;
        }
        self.join_all(add, true).await
    }
}

fn marker(host: &str, proc: Option<&str>, what: Mark, detail: String) -> LogEvent {
    LogEvent::Marker {
        host: host.to_string(),
        proc: proc.map(str::to_string),
        at: now_ms(),
        what,
        detail,
    }
}

/// What a proc's new look says: a new process, or a state left or reached.
fn change(was: &Seen, now: &Proc) -> Option<(Mark, String)> {
    let running = |s: ProcState| matches!(s, ProcState::Running);
    // `was.pid` is the last pid seen running: a restart seen as STOPPED then RUNNING is one.
    if running(now.state) && was.pid.is_some() && now.pid.is_some() && was.pid != now.pid {
        return Some((
            Mark::Restarted,
            format!(
                "restarted: pid {} → {}",
                was.pid.map_or("?".into(), |p| p.to_string()),
                now.pid.map_or("?".into(), |p| p.to_string())
            ),
        ));
    }
    if was.state != now.state && (running(was.state) || running(now.state)) {
        let why = if now.description.is_empty() {
            String::new()
        } else {
            format!(" ({})", now.description)
        };
        return Some((Mark::State, format!("now {}{why}", now.state.as_str())));
    }
    None
}
