//! Following procs' logs: one follower task per host that anyone follows, reading every followed
//! log of that host by offset in one request per tick over the host's shared link, and handing
//! the lines to every stream that follows them (ten people watching one swarm cost the same
//! reads as one). A follower ends a while after its last follower leaves.

use super::actions::unavailable;
use super::{FleetService, blocking};
use crate::clock::now_ms;
use crate::remote::tails::{TailError, TailRequest};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot};
use vr_app::api::LiveMessage;
use vr_app::fleet::{Host, LogStream};
use vr_app::logs::{Lines, LogEvent, MAX_LINES, Mark};
use vr_app::secret::redact;

/// Time between two reads of a host's followed logs: a line reaches a follower within about this.
const TICK: Duration = Duration::from_millis(250);
/// Bytes read per log per tick; more written in one tick is reported as skipped.
const READ_BYTES: u32 = 64 * 1024;
/// A line without its end is sent as it is after this long.
const PARTIAL_AFTER_MS: i64 = 1000;
/// A follower with nobody following stays this long (a page reload follows on at once).
const LINGER: Duration = Duration::from_secs(20);
/// Lines kept per log for followers who join later.
const KEEP_BYTES: usize = 256 * 1024;
/// Messages a slow stream may be behind before it misses some.
const CHANNEL: usize = 8192;

/// One followed log on a host.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogKey {
    pub program: String,
    pub stream: LogStream,
}

/// How to read and show one log.
#[derive(Debug, Clone, Default)]
pub struct LogSpec {
    /// vr deployed it: its log files are at vr's paths.
    pub managed: bool,
    /// Its release's secret values, masked in every line.
    pub secrets: Vec<String>,
}

/// Joining a host's follower: the history of the keys and the channel of what follows.
pub struct Joined {
    pub history: Vec<LogEvent>,
    pub events: broadcast::Receiver<Arc<LogEvent>>,
}

enum Command {
    Join {
        keys: Vec<(LogKey, LogSpec)>,
        history: usize,
        reply: oneshot::Sender<Joined>,
    },
    Leave {
        keys: Vec<LogKey>,
    },
}

/// A stream's hold on some logs of one host: leaving is sent when it is dropped.
pub struct Holding {
    tx: mpsc::UnboundedSender<Command>,
    keys: Vec<LogKey>,
}

impl Holding {
    /// Lets go of one proc's logs (it left the selection) and keeps the rest.
    pub fn let_go(&mut self, program: &str) {
        let (gone, kept): (Vec<LogKey>, Vec<LogKey>) = std::mem::take(&mut self.keys)
            .into_iter()
            .partition(|k| k.program == program);
        self.keys = kept;
        if !gone.is_empty() {
            let _ = self.tx.send(Command::Leave { keys: gone });
        }
    }
}

impl Drop for Holding {
    fn drop(&mut self) {
        let keys = std::mem::take(&mut self.keys);
        if !keys.is_empty() {
            let _ = self.tx.send(Command::Leave { keys });
        }
    }
}

/// The followers, one per host id.
#[derive(Default)]
pub struct LogHub {
    hosts: std::sync::Mutex<HashMap<i64, mpsc::UnboundedSender<Command>>>,
}

impl FleetService {
    /// Follows `keys` on `host`: their last `history` lines, then everything new. `None` when
    /// the server is stopping.
    pub async fn follow_logs(
        self: &Arc<Self>,
        host: &Host,
        keys: Vec<(LogKey, LogSpec)>,
        history: usize,
    ) -> Option<(Joined, Holding)> {
        let names: Vec<LogKey> = keys.iter().map(|(k, _)| k.clone()).collect();
        // A follower that just ended drops its sender: the second try starts a new one.
        for _ in 0..2 {
            let tx = self.follower(host);
            let (reply, answer) = oneshot::channel();
            let join = Command::Join {
                keys: keys.clone(),
                history,
                reply,
            };
            if tx.send(join).is_err() {
                self.drop_follower(host.id, &tx);
                continue;
            }
            if let Ok(joined) = answer.await {
                return Some((
                    joined,
                    Holding {
                        tx,
                        keys: names.clone(),
                    },
                ));
            }
        }
        None
    }

    fn follower(self: &Arc<Self>, host: &Host) -> mpsc::UnboundedSender<Command> {
        let mut hosts = self.logs.hosts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = hosts.get(&host.id).filter(|tx| !tx.is_closed()) {
            return tx.clone();
        }
        let (tx, rx) = mpsc::unbounded_channel();
        hosts.insert(host.id, tx.clone());
        let follower = Follower::new(Arc::clone(self), host.clone());
        tokio::spawn(follower.run(rx));
        tx
    }

    fn drop_follower(&self, host_id: i64, tx: &mpsc::UnboundedSender<Command>) {
        let mut hosts = self.logs.hosts.lock().unwrap_or_else(|p| p.into_inner());
        if hosts.get(&host_id).is_some_and(|t| t.same_channel(tx)) {
            hosts.remove(&host_id);
        }
    }

    /// Hosts whose logs are followed now.
    pub fn followed_hosts(&self) -> usize {
        let hosts = self.logs.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts.values().filter(|tx| !tx.is_closed()).count()
    }
}

/// One followed log's state.
struct Followed {
    users: usize,
    spec: LogSpec,
    /// Where the last read ended; `None` until the first read.
    offset: Option<u64>,
    lines: Lines,
    /// Since when a partial line waits.
    partial_since: Option<i64>,
    recent: VecDeque<(i64, String)>,
    recent_bytes: usize,
    /// The error the last read of this log gave, said once.
    failing: Option<TailError>,
}

impl Followed {
    fn new(spec: LogSpec) -> Followed {
        Followed {
            users: 0,
            spec,
            offset: None,
            lines: Lines::default(),
            partial_since: None,
            recent: VecDeque::new(),
            recent_bytes: 0,
            failing: None,
        }
    }

    fn keep(&mut self, at: i64, line: String) {
        self.recent_bytes += line.len();
        self.recent.push_back((at, line));
        while self.recent.len() > MAX_LINES as usize || self.recent_bytes > KEEP_BYTES {
            match self.recent.pop_front() {
                Some((_, l)) => self.recent_bytes -= l.len(),
                None => break,
            }
        }
    }
}

struct Follower {
    fleet: Arc<FleetService>,
    host: Host,
    logs: HashMap<LogKey, Followed>,
    waiting: Vec<(Vec<LogKey>, usize, oneshot::Sender<Joined>)>,
    out: broadcast::Sender<Arc<LogEvent>>,
    /// Why the host stopped answering, while it does not.
    lost: Option<String>,
}

impl Follower {
    fn new(fleet: Arc<FleetService>, host: Host) -> Follower {
        Follower {
            fleet,
            host,
            logs: HashMap::new(),
            waiting: Vec::new(),
            out: broadcast::channel(CHANNEL).0,
            lost: None,
        }
    }

    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        let mut live = self.fleet.live.subscribe();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut idle_since: Option<tokio::time::Instant> = None;
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => {
                        self.command(cmd);
                        // Joiners wait for their history: read now, not at the next tick.
                        if !self.waiting.is_empty() {
                            self.read().await;
                        }
                        continue;
                    }
                    None => break,
                },
                m = live.recv() => {
                    match m {
                        Ok(LiveMessage::Host { host, .. }) if host.id == self.host.id => {
                            self.host = *host;
                        }
                        Err(broadcast::error::RecvError::Closed) => break,
                        _ => {}
                    }
                    continue;
                }
                _ = tick.tick() => {}
            }
            if self.logs.is_empty() {
                let since = *idle_since.get_or_insert_with(tokio::time::Instant::now);
                if since.elapsed() >= LINGER {
                    break;
                }
                continue;
            }
            idle_since = None;
            self.read().await;
        }
        tracing::debug!(host = %self.host.settings.name, "log follower ended");
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Join {
                keys,
                history,
                reply,
            } => {
                let names = keys.iter().map(|(k, _)| k.clone()).collect();
                for (key, spec) in keys {
                    self.logs
                        .entry(key)
                        .or_insert_with(|| Followed::new(spec))
                        .users += 1;
                }
                self.waiting.push((names, history, reply));
            }
            Command::Leave { keys } => {
                for key in keys {
                    if let Some(f) = self.logs.get_mut(&key) {
                        f.users = f.users.saturating_sub(1);
                        if f.users == 0 {
                            self.logs.remove(&key);
                        }
                    }
                }
            }
        }
    }

    fn send(&self, event: LogEvent) {
        // No receivers is normal between streams.
        let _ = self.out.send(Arc::new(event));
    }

    fn marker(&self, program: Option<&str>, what: Mark, detail: String) {
        self.send(LogEvent::Marker {
            host: self.host.settings.name.clone(),
            proc: program.map(str::to_string),
            at: now_ms(),
            what,
            detail,
        });
    }

    /// Reads every followed log once, sends what is new, then answers whoever waits to join.
    async fn read(&mut self) {
        let now = now_ms();
        if let Some(why) = unavailable(&self.host, now) {
            self.lose(why);
        } else {
            let entry = self.fleet.entry(self.host.id);
            let mut order: Vec<LogKey> = self.logs.keys().cloned().collect();
            order.sort();
            let reqs: Vec<TailRequest> = order
                .iter()
                .map(|k| {
                    let f = &self.logs[k];
                    TailRequest {
                        program: k.program.clone(),
                        stream: k.stream,
                        offset: f.offset,
                        bytes: READ_BYTES,
                        managed: f.spec.managed,
                    }
                })
                .collect();
            let access = self.fleet.access(&self.host);
            let answer =
                blocking(move || entry.link.run(&access, |sup| sup.tail_many(&reqs))).await;
            match answer {
                Ok(worked) => {
                    if self.lost.take().is_some() {
                        self.marker(
                            None,
                            Mark::HostBack,
                            format!("{} answers again", self.host.settings.name),
                        );
                    }
                    let at = now_ms();
                    for (key, result) in order.into_iter().zip(worked.value) {
                        self.take(&key, result, at);
                    }
                }
                Err(e) => self.lose(e.to_string()),
            }
        }
        self.flush_partials(now_ms());
        self.answer_joiners();
    }

    fn lose(&mut self, why: String) {
        if self.lost.is_none() {
            self.marker(
                None,
                Mark::HostLost,
                format!("{} stopped answering: {why}", self.host.settings.name),
            );
            self.lost = Some(why);
        }
    }

    /// One log's read: history on the first, new lines after.
    fn take(&mut self, key: &LogKey, result: Result<vr_app::fleet::LogChunk, TailError>, at: i64) {
        let Some(f) = self.logs.get_mut(key) else {
            return;
        };
        let chunk = match result {
            Ok(chunk) => chunk,
            Err(e) => {
                if f.failing.as_ref() != Some(&e) {
                    f.failing = Some(e.clone());
                    let detail = format!("{} log unreadable: {e}", key.stream.as_str());
                    self.marker(Some(&key.program), Mark::Unreadable, detail);
                }
                return;
            }
        };
        f.failing = None;
        let first = f.offset.is_none();
        f.offset = Some(chunk.offset);
        let mut text = chunk.text.as_str();
        if first && chunk.overflow {
            // The last bytes of a longer log start mid-line.
            text = text.split_once('\n').map_or("", |(_, rest)| rest);
        }
        // A proc may print its env: its release's secrets never reach a reader of its log.
        let lines: Vec<String> = f
            .lines
            .push(text)
            .into_iter()
            .map(|l| redact(&l, &f.spec.secrets))
            .collect();
        f.partial_since = f.lines.pending().then_some(f.partial_since.unwrap_or(at));
        if first {
            for line in lines {
                f.keep(at, line);
            }
            return;
        }
        let skipped = chunk.overflow;
        let mut events = Vec::with_capacity(lines.len());
        for line in lines {
            f.keep(at, line.clone());
            events.push(line_event(&self.host, key, at, line));
        }
        if skipped {
            self.marker(
                Some(&key.program),
                Mark::Skipped,
                format!(
                    "{} log: lines skipped (rotated, or more than {} KiB written between reads)",
                    key.stream.as_str(),
                    READ_BYTES / 1024
                ),
            );
        }
        for e in events {
            self.send(e);
        }
    }

    /// Lines whose end did not come for a while are sent as they are.
    fn flush_partials(&mut self, now: i64) {
        let due: Vec<LogKey> = self
            .logs
            .iter()
            .filter(|(_, f)| f.partial_since.is_some_and(|t| now - t >= PARTIAL_AFTER_MS))
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            let Some(f) = self.logs.get_mut(&key) else {
                continue;
            };
            f.partial_since = None;
            if let Some(text) = f.lines.flush().map(|t| redact(&t, &f.spec.secrets)) {
                f.keep(now, text.clone());
                let e = line_event(&self.host, &key, now, text);
                self.send(e);
            }
        }
    }

    /// History for each joiner, taken together with its receiver, so nothing falls between.
    fn answer_joiners(&mut self) {
        for (keys, n, reply) in std::mem::take(&mut self.waiting) {
            let mut history: Vec<LogEvent> = Vec::new();
            for key in &keys {
                if let Some(f) = self.logs.get(key) {
                    let skip = f.recent.len().saturating_sub(n);
                    for (at, text) in f.recent.iter().skip(skip) {
                        history.push(line_event(&self.host, key, *at, text.clone()));
                    }
                }
            }
            history.sort_by_key(|e| match e {
                LogEvent::Line { at, .. } => *at,
                _ => 0,
            });
            if let Some(why) = &self.lost {
                history.push(LogEvent::Marker {
                    host: self.host.settings.name.clone(),
                    proc: None,
                    at: now_ms(),
                    what: Mark::HostLost,
                    detail: format!("{} is not answering: {why}", self.host.settings.name),
                });
            }
            let _ = reply.send(Joined {
                history,
                events: self.out.subscribe(),
            });
        }
    }
}

fn line_event(host: &Host, key: &LogKey, at: i64, text: String) -> LogEvent {
    LogEvent::Line {
        host: host.settings.name.clone(),
        proc: key.program.clone(),
        stream: key.stream,
        at,
        text,
    }
}
