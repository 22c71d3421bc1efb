//! Killing whole process trees and reaping what is left of them.
//!
//! Test hosts start daemons (sshd, supervisord, chromedriver) whose children outlive them when
//! only the daemon is killed: sshd forks one process per connection, supervisord runs programs,
//! chromedriver starts Chromium. PID 1 on the test machines does not reap, so anything orphaned
//! would stay in `ps` forever as `<defunct>`. The test process therefore makes itself a "child
//! subreaper": orphans of processes it started are re-parented to it, and [`destroy`] reaps them.

use nix::sys::signal::{self, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use std::collections::{BTreeSet, HashMap};
use std::process::Child;
use std::sync::Once;
use std::time::Duration;

use super::ports::wait_until;

/// How long reaping waits for killed processes to be re-parented to this process.
const REAP_TIMEOUT: Duration = Duration::from_secs(3);

/// Makes this process the reaper of orphaned descendants. Called by every harness constructor;
/// only the first call does anything.
pub(crate) fn become_subreaper() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Without it cleanup still works; only zombies would remain visible under PID 1.
        if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
            eprintln!("vr-tests: could not become a child subreaper ({e}); zombies may remain");
        }
    });
}

/// The fields of `/proc/PID/stat` the harness needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
    pub session: i32,
}

/// Reads `/proc/PID/stat`; `None` once the process is gone (reaped).
pub fn stat(pid: i32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

fn parse_stat(text: &str) -> Option<ProcStat> {
    // The command name is in parentheses and may itself contain spaces or parentheses, so the
    // fixed fields start after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    let session = fields.next()?.parse().ok()?;
    Some(ProcStat {
        state,
        ppid,
        pgrp,
        session,
    })
}

/// True while `pid` exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    stat(pid).is_some_and(|s| s.state != 'Z' && s.state != 'X')
}

fn all_pids() -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
        .collect()
}

fn all_processes() -> HashMap<i32, ProcStat> {
    all_pids()
        .into_iter()
        .filter_map(|pid| Some((pid, stat(pid)?)))
        .collect()
}

/// True if `pid`'s command line contains `marker`.
fn cmdline_contains(pid: i32, marker: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker))
}

/// What belongs to one daemon: its process tree, optionally its process group, and optionally
/// any process whose command line mentions `marker` (a temp dir path): helpers such as
/// Chromium's crash handler detach into their own session and are found only that way.
#[derive(Debug, Clone, Copy)]
pub struct Family<'a> {
    /// The daemon itself; `None` once it has been reaped (its pid may belong to anyone now).
    pub root: Option<i32>,
    pub group: Option<i32>,
    pub marker: Option<&'a str>,
}

impl Family<'_> {
    fn members(&self) -> BTreeSet<i32> {
        let procs = all_processes();
        let mut found: BTreeSet<i32> = BTreeSet::new();
        if let Some(root) = self.root.filter(|r| procs.contains_key(r)) {
            found.insert(root);
        }
        for (pid, s) in &procs {
            if self.group == Some(s.pgrp) || self.marker.is_some_and(|m| cmdline_contains(*pid, m))
            {
                found.insert(*pid);
            }
        }
        // Repeated sweeps rather than a parent→children index: trees here are a handful of
        // processes.
        loop {
            let before = found.len();
            for (pid, s) in &procs {
                if found.contains(&s.ppid) {
                    found.insert(*pid);
                }
            }
            if found.len() == before {
                return found;
            }
        }
    }
}

/// Sends `sig` to `pid`, ignoring a process that is already gone.
pub fn signal(pid: i32, sig: Signal) {
    let _ = signal::kill(Pid::from_raw(pid), sig);
}

/// Freezes (SIGSTOP) every member of `family` and returns their pids. The tree is re-read until
/// it stops changing, so a child forked while we were looking is not missed: a frozen process
/// forks nothing more.
pub fn freeze_family(family: Family<'_>) -> BTreeSet<i32> {
    let mut seen = BTreeSet::new();
    for _ in 0..10 {
        let now = family.members();
        let new: Vec<i32> = now.difference(&seen).copied().collect();
        if new.is_empty() {
            break;
        }
        for pid in new {
            signal(pid, Signal::SIGSTOP);
            seen.insert(pid);
        }
    }
    seen
}

/// SIGKILLs every member of `family` and returns their pids.
pub fn kill_family(family: Family<'_>) -> BTreeSet<i32> {
    let seen = freeze_family(family);
    for pid in &seen {
        signal(*pid, Signal::SIGKILL);
    }
    seen
}

/// Reaps `pids` once they have died and been re-parented to this process. Pids owned by someone
/// else (a parent outside the tree, or PID 1 when this process is not a subreaper) are left alone.
pub fn reap(pids: &BTreeSet<i32>) {
    let me = std::process::id() as i32;
    let mut left: BTreeSet<i32> = pids.clone();
    wait_until(REAP_TIMEOUT, || {
        left.retain(|&pid| match stat(pid) {
            None => false,
            Some(s) if s.ppid == me => {
                let w = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
                !matches!(
                    w,
                    Ok(WaitStatus::Exited(..) | WaitStatus::Signaled(..)) | Err(_)
                )
            }
            // Its parent is still dying; it will be re-parented to us in a moment.
            Some(s) if pids.contains(&s.ppid) => true,
            // Not ours to reap.
            Some(_) => false,
        });
        left.is_empty()
    });
}

/// Kills `child` with everything it started (and its process group when `group` is set, for
/// daemons started with `process_group(0)`), then reaps all of it.
pub fn destroy(child: &mut Child, group: bool) {
    destroy_marked(child, group, None);
}

/// Like [`destroy`], also killing any process whose command line contains `marker`.
pub fn destroy_marked(child: &mut Child, group: bool, marker: Option<&str>) {
    let pid = child.id() as i32;
    // A child already reaped (by an earlier `try_wait`) no longer owns its pid; until it is
    // reaped it does, even as a zombie, so this check is not racy.
    let reaped = matches!(child.try_wait(), Ok(Some(_)));
    let family = Family {
        root: (!reaped).then_some(pid),
        group: group.then_some(pid),
        marker,
    };
    // Even if the leader already exited, members of its group or marked helpers may live on.
    let mut killed = kill_family(family);
    let _ = child.wait();
    killed.remove(&pid);
    reap(&killed);
    reap_orphans();
}

/// Reaps zombies that were re-parented to this process from another session.
///
/// Daemons leave some behind during normal work, long before the harness kills them: sshd's
/// unprivileged pre-auth child is not waited for after a failed login, Chromium's crash handler
/// detaches. They are not in any family by the time it is destroyed. The session test keeps
/// this away from the test's own children: those share its session (`process_group(0)` does not
/// change it), so a waiting `Command::output()` never loses its child's status to us.
pub fn reap_orphans() {
    let me = std::process::id() as i32;
    let Some(my_session) = stat(me).map(|s| s.session) else {
        return;
    };
    for (pid, s) in all_processes() {
        if s.ppid == me && s.state == 'Z' && s.session != my_session {
            let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
        }
    }
}

/// The live processes whose command line contains `marker`: taken while a daemon runs, so its
/// detached helpers can still be reaped after they exit (a zombie has no command line left).
pub fn marked(marker: &str) -> BTreeSet<i32> {
    all_pids()
        .into_iter()
        .filter(|&pid| alive(pid) && cmdline_contains(pid, marker))
        .collect()
}

/// Kills the processes of `pids` that still run with `marker` in their command line (a pid
/// recorded earlier may belong to someone else by now), and reaps all of them that are ours.
pub fn destroy_recorded(pids: &BTreeSet<i32>, marker: &str) {
    for &pid in pids {
        if alive(pid) && cmdline_contains(pid, marker) {
            signal(pid, Signal::SIGKILL);
        }
    }
    reap(pids);
}

/// Kills a process this test process did not start (found through a pidfile left by a test
/// process that crashed) together with its descendants. Nothing can be reaped: it is not ours.
pub fn destroy_foreign(pid: i32) {
    if alive(pid) {
        kill_family(Family {
            root: Some(pid),
            group: None,
            marker: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parses_names_with_spaces_and_parens() {
        let s = parse_stat("42 (a b) c)) S 7 42 42 0 -1").expect("parses");
        assert_eq!(
            s,
            ProcStat {
                state: 'S',
                ppid: 7,
                pgrp: 42,
                session: 42,
            }
        );
    }
}
