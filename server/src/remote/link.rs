//! One persistent SSH session per host, shared by the poller and proc actions: reused while it
//! works, dropped on a transport failure and made again after a backoff.

use super::RemoteError;
use super::ssh::{Connection, HostKeyCheck, SshTarget};
use super::supervisor::{Layout, Supervisor};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Everything needed to reach one host, from its settings.
#[derive(Clone)]
pub struct HostAccess {
    pub target: SshTarget,
    pub layout: Layout,
    /// Checks (and on first contact pins) the host's key on every connection.
    pub host_keys: Arc<dyn HostKeyCheck>,
    pub private_key: PathBuf,
    /// Bounds connect, handshake, auth and every command.
    pub deadline: Duration,
}

impl PartialEq for HostAccess {
    /// Same host, same settings, same pin: a session made with one serves the other.
    fn eq(&self, other: &Self) -> bool {
        self.target == other.target
            && self.layout == other.layout
            && self.host_keys.pinned() == other.host_keys.pinned()
            && self.private_key == other.private_key
            && self.deadline == other.deadline
    }
}

impl std::fmt::Debug for HostAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostAccess")
            .field("target", &self.target)
            .field("pinned", &self.host_keys.pinned())
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct LinkState {
    conn: Option<Connection>,
    /// The access the open connection was made with; a change of settings reconnects.
    made_with: Option<HostAccess>,
    xmlrpc_refused: bool,
    version: Option<String>,
    /// The layout as used on this connection: without `sudo` when the login turned out to be
    /// uid 0 under another name.
    layout: Option<Layout>,
    failures: u32,
    retry_at: Option<Instant>,
}

/// The result of work on a host, and whether its key was pinned by this contact.
pub struct Worked<T> {
    pub value: T,
    pub pinned_now: bool,
}

#[derive(Default)]
pub struct HostLink {
    state: Mutex<LinkState>,
}

/// Longest wait between attempts on a failing host, so it is seen again soon after it returns.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

fn backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(10);
    (Duration::from_millis(500) * 2u32.pow(exp)).min(MAX_BACKOFF)
}

impl HostLink {
    /// False while the link is busy (a poll or action is using it) or backing off after a
    /// failure: the poller skips the host this round instead of queueing behind it.
    pub fn due(&self) -> bool {
        match self.state.try_lock() {
            Ok(s) => s.retry_at.is_none_or(|t| Instant::now() >= t),
            Err(_) => false,
        }
    }

    /// Runs `f` on the host's Supervisor, connecting first when needed, waiting for the link if
    /// another user holds it. A reused session that broke is made again once (unless it timed
    /// out: a hanging host costs one deadline, never more).
    pub fn run<T>(
        &self,
        access: &HostAccess,
        mut f: impl FnMut(&mut Supervisor<'_>) -> Result<T, RemoteError>,
    ) -> Result<Worked<T>, RemoteError> {
        let mut s = self.lock();
        if s.made_with.as_ref() != Some(access) {
            s.conn = None;
        }
        let reused = s.conn.is_some();
        let first = Self::attempt(&mut s, access, &mut f);
        let result = match first {
            Err(e) if reused && e.is_transport() && !matches!(e, RemoteError::Timeout { .. }) => {
                tracing::debug!(host = %access.target, error = %e, "reused session broke; reconnecting once");
                Self::attempt(&mut s, access, &mut f)
            }
            other => other,
        };
        match &result {
            Ok(_) => {
                s.failures = 0;
                s.retry_at = None;
            }
            Err(e) if e.is_transport() => {
                s.conn = None;
                s.failures += 1;
                s.retry_at = Some(Instant::now() + backoff(s.failures));
            }
            Err(_) => {}
        }
        result
    }

    fn attempt<T>(
        s: &mut LinkState,
        access: &HostAccess,
        f: &mut impl FnMut(&mut Supervisor<'_>) -> Result<T, RemoteError>,
    ) -> Result<Worked<T>, RemoteError> {
        let mut pinned_now = false;
        if s.conn.is_none() {
            let conn = Connection::connect(
                &access.target,
                &access.private_key,
                access.host_keys.as_ref(),
                access.deadline,
            )?;
            pinned_now = conn.pinned_now();
            let mut layout = access.layout.clone();
            if layout.sudo {
                // A login that is uid 0 under another name needs no sudo (and may not have it).
                let mut conn = conn;
                let id = conn.exec("id -u")?;
                if id.status == 0 && id.stdout.trim() == "0" {
                    layout.sudo = false;
                }
                s.conn = Some(conn);
            } else {
                s.conn = Some(conn);
            }
            s.layout = Some(layout);
            s.made_with = Some(access.clone());
            s.xmlrpc_refused = false;
            s.version = None;
        }
        let LinkState {
            conn,
            xmlrpc_refused,
            version,
            layout,
            ..
        } = s;
        let layout = layout.as_ref().unwrap_or(&access.layout);
        let Some(conn) = conn.as_mut() else {
            return Err(RemoteError::Connect {
                target: access.target.to_string(),
                message: "no session".into(),
            });
        };
        let mut sup = Supervisor {
            conn,
            layout,
            xmlrpc_refused,
            version,
        };
        let result = f(&mut sup);
        if let Err(e) = &result
            && e.is_transport()
        {
            s.conn = None;
        }
        result.map(|value| Worked { value, pinned_now })
    }

    /// Forgets the session (the host was edited or re-trusted) so the next use connects anew.
    pub fn reset(&self) {
        let mut s = self.lock();
        *s = LinkState::default();
    }

    fn lock(&self) -> MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let waits: Vec<u64> = (1..=6).map(|n| backoff(n).as_millis() as u64).collect();
        assert_eq!(waits, [500, 1000, 2000, 4000, 5000, 5000]);
        assert_eq!(backoff(1000), MAX_BACKOFF);
    }
}
