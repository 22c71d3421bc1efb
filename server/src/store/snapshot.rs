//! The poller's snapshot: per host its last poll, per proc its last seen state, and a short
//! state history. Pages and the API read only this, never a host.

use super::hosts::{all_hosts, all_squads, host_named, host_with_id};
use super::{Store, StoreError};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use std::collections::HashMap;
use vr_app::fleet::{Fleet, Health, Host, Proc, ProcDetail, ProcMeta, StateChange};
use vr_app::supervisor::ProcState;

/// How many state changes are kept per proc.
const HISTORY_PER_PROC: i64 = 50;

/// Start times read through supervisorctl are "now minus uptime", so they jitter by a second
/// between polls; within this they are the same start.
const START_JITTER_MS: i64 = 2_000;

/// One program as a poll saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenProc {
    pub name: String,
    pub state: ProcState,
    pub description: String,
    pub pid: Option<u32>,
    pub started_at: Option<i64>,
    pub meta: Option<ProcMeta>,
    /// Its cgroup's count of kills for memory, when this poll read it.
    pub oom_kills: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutcome {
    Ok {
        procs: Vec<SeenProc>,
        version: Option<String>,
        via: String,
    },
    Failed {
        health: Health,
        error: String,
        presented_key: Option<String>,
    },
}

/// A host and all its procs, as pushed to browsers when either changed.
pub type HostSnapshot = (Host, Vec<Proc>);

const PROC_COLUMNS: &str = "h.name, p.name, p.state, p.description, p.pid, p.started_at, p.meta, \
     p.expected, p.state_since, \
     CASE WHEN p.state = 'MISSING' OR st.last_ok_at IS NULL THEN p.last_seen_at \
          ELSE max(p.last_seen_at, st.last_ok_at) END, p.oom_kills";

const PROC_FROM: &str = "procs p JOIN hosts h ON h.id = p.host_id \
     LEFT JOIN host_status st ON st.host_id = p.host_id";

fn proc_from_row(r: &Row<'_>) -> rusqlite::Result<Proc> {
    let state: String = r.get(2)?;
    let meta: Option<String> = r.get(6)?;
    Ok(Proc {
        host: r.get(0)?,
        name: r.get(1)?,
        state: ProcState::parse_any(&state).unwrap_or(ProcState::Unknown),
        description: r.get(3)?,
        pid: r.get(4)?,
        started_at: r.get(5)?,
        meta: meta.and_then(|m| serde_json::from_str(&m).ok()),
        expected: r.get(7)?,
        state_since: r.get(8)?,
        last_seen_at: r.get(9)?,
        oom_kills: r.get(10)?,
    })
}

fn procs_where(
    c: &Connection,
    clause: &str,
    key: &dyn rusqlite::ToSql,
) -> Result<Vec<Proc>, StoreError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {PROC_COLUMNS} FROM {PROC_FROM} WHERE {clause} ORDER BY h.name, p.name"
    ))?;
    let rows = stmt.query_map([key], proc_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn host_snapshot(c: &Connection, host_id: i64) -> Result<HostSnapshot, StoreError> {
    Ok((
        host_with_id(c, host_id)?,
        procs_where(c, "p.host_id = ?1", &host_id)?,
    ))
}

struct Known {
    state: String,
    oom_kills: u32,
    pid: Option<u32>,
    started_at: Option<i64>,
    meta: Option<String>,
    expected: bool,
}

fn known_procs(tx: &Transaction<'_>, host_id: i64) -> Result<HashMap<String, Known>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT name, state, pid, started_at, meta, expected, oom_kills FROM procs WHERE host_id = ?1",
    )?;
    let rows = stmt.query_map([host_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            Known {
                state: r.get(1)?,
                pid: r.get(2)?,
                started_at: r.get(3)?,
                meta: r.get(4)?,
                expected: r.get(5)?,
                oom_kills: r.get(6)?,
            },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn add_history(
    tx: &Transaction<'_>,
    host_id: i64,
    name: &str,
    state: &str,
    description: &str,
    now: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO proc_history (host_id, name, state, description, at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![host_id, name, state, description, now])?;
    tx.prepare_cached(
        "DELETE FROM proc_history WHERE host_id = ?1 AND name = ?2 AND id <= \
           (SELECT id FROM proc_history WHERE host_id = ?1 AND name = ?2 \
            ORDER BY id DESC LIMIT 1 OFFSET ?3)",
    )?
    .execute(params![host_id, name, HISTORY_PER_PROC])?;
    Ok(())
}

/// Forgets a proc and its history.
fn delete_proc(c: &Connection, host_id: i64, name: &str) -> Result<(), StoreError> {
    c.execute(
        "DELETE FROM procs WHERE host_id = ?1 AND name = ?2",
        params![host_id, name],
    )?;
    c.execute(
        "DELETE FROM proc_history WHERE host_id = ?1 AND name = ?2",
        params![host_id, name],
    )?;
    Ok(())
}

fn same_start(a: Option<i64>, b: Option<i64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= START_JITTER_MS,
        (None, None) => true,
        _ => false,
    }
}

/// Applies the procs of a successful poll; true when anything visible changed.
fn apply_procs(
    tx: &Transaction<'_>,
    host_id: i64,
    seen: &[SeenProc],
    now: i64,
) -> Result<bool, StoreError> {
    let mut known = known_procs(tx, host_id)?;
    let mut changed = false;
    for p in seen {
        let meta = p.meta.as_ref().and_then(|m| serde_json::to_string(m).ok());
        let state = p.state.as_str();
        match known.remove(&p.name) {
            None => {
                tx.prepare_cached(
                    "INSERT INTO procs (host_id, name, state, description, pid, started_at, meta, \
                       expected, state_since, last_seen_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
                )?
                .execute(params![
                    host_id,
                    p.name,
                    state,
                    p.description,
                    p.pid,
                    p.started_at,
                    meta,
                    p.meta.is_some(),
                    now
                ])?;
                add_history(tx, host_id, &p.name, state, &p.description, now)?;
                changed = true;
            }
            Some(k) => {
                let state_changed = k.state != state;
                let expected = k.expected || p.meta.is_some();
                if state_changed
                    || k.pid != p.pid
                    || !same_start(k.started_at, p.started_at)
                    || k.meta != meta
                    || k.expected != expected
                {
                    tx.prepare_cached(
                        "UPDATE procs SET state = ?3, description = ?4, pid = ?5, started_at = ?6, \
                           meta = ?7, expected = ?8, last_seen_at = ?9, \
                           state_since = CASE WHEN state = ?3 THEN state_since ELSE ?9 END \
                         WHERE host_id = ?1 AND name = ?2",
                    )?
                    .execute(params![
                        host_id,
                        p.name,
                        state,
                        p.description,
                        p.pid,
                        p.started_at,
                        meta,
                        expected,
                        now
                    ])?;
                    if state_changed {
                        add_history(tx, host_id, &p.name, state, &p.description, now)?;
                    }
                    changed = true;
                }
                if let Some(n) = p.oom_kills.filter(|n| *n != k.oom_kills) {
                    tx.prepare_cached(
                        "UPDATE procs SET oom_kills = ?3 WHERE host_id = ?1 AND name = ?2",
                    )?
                    .execute(params![host_id, p.name, n])?;
                    if n > k.oom_kills {
                        let why = format!(
                            "killed for memory: past its limit ({} time(s) since deployed)",
                            n
                        );
                        add_history(tx, host_id, &p.name, state, &why, now)?;
                    }
                    changed = true;
                }
            }
        }
    }
    // What Supervisor no longer lists: expected procs become MISSING, others are forgotten.
    for (name, k) in known {
        if k.expected {
            if k.state != ProcState::Missing.as_str() {
                let why = "Supervisor no longer knows this program";
                tx.execute(
                    "UPDATE procs SET state = 'MISSING', description = ?3, pid = NULL, \
                       started_at = NULL, state_since = ?4, last_seen_at = ?4 \
                     WHERE host_id = ?1 AND name = ?2",
                    params![host_id, name, why, now],
                )?;
                add_history(tx, host_id, &name, "MISSING", why, now)?;
                changed = true;
            }
        } else {
            delete_proc(tx, host_id, &name)?;
            changed = true;
        }
    }
    Ok(changed)
}

struct PrevStatus {
    health: String,
    error: Option<String>,
    error_since: Option<i64>,
    version: Option<String>,
    via: Option<String>,
    presented_key: Option<String>,
}

fn prev_status(tx: &Transaction<'_>, host_id: i64) -> Result<Option<PrevStatus>, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT health, error, error_since, supervisor_version, via, presented_key \
             FROM host_status WHERE host_id = ?1",
        )?
        .query_row([host_id], |r| {
            Ok(PrevStatus {
                health: r.get(0)?,
                error: r.get(1)?,
                error_since: r.get(2)?,
                version: r.get(3)?,
                via: r.get(4)?,
                presented_key: r.get(5)?,
            })
        })
        .optional()?)
}

/// What recording a poll changed.
#[derive(Debug, Default)]
pub struct Polled {
    /// The host and its procs, when anything a viewer would see changed.
    pub snapshot: Option<HostSnapshot>,
    /// The host's health before this poll (none before its first).
    pub was: Option<Health>,
}

impl Store {
    /// Records one poll of a host. Returns the host and its procs when anything a viewer would
    /// see changed (so only then is it pushed to browsers); `None` for a deleted host.
    pub async fn apply_poll(
        &self,
        host_id: i64,
        outcome: PollOutcome,
        now: i64,
    ) -> Result<Polled, StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let exists: Option<i64> = tx
                .query_row("SELECT id FROM hosts WHERE id = ?1", [host_id], |r| r.get(0))
                .optional()?;
            if exists.is_none() {
                return Ok(Polled::default());
            }
            let prev = prev_status(&tx, host_id)?;
            let was = prev.as_ref().and_then(|p| Health::parse(&p.health));
            let changed = match outcome {
                PollOutcome::Ok {
                    procs,
                    version,
                    via,
                } => {
                    let procs_changed = apply_procs(&tx, host_id, &procs, now)?;
                    tx.prepare_cached(
                        "INSERT INTO host_status (host_id, health, error, error_since, last_ok_at, \
                           last_poll_at, supervisor_version, via, presented_key) \
                         VALUES (?1, 'ok', NULL, NULL, ?2, ?2, ?3, ?4, NULL) \
                         ON CONFLICT (host_id) DO UPDATE SET health = 'ok', error = NULL, \
                           error_since = NULL, last_ok_at = ?2, last_poll_at = ?2, \
                           supervisor_version = ?3, via = ?4, presented_key = NULL",
                    )?
                    .execute(params![host_id, now, version, via])?;
                    procs_changed
                        || prev.is_none_or(|p| {
                            p.health != "ok" || p.version != version || p.via.as_deref() != Some(&via)
                        })
                }
                PollOutcome::Failed {
                    health,
                    error,
                    presented_key,
                } => {
                    let since = prev
                        .as_ref()
                        .filter(|p| p.health != "ok")
                        .and_then(|p| p.error_since)
                        .unwrap_or(now);
                    tx.prepare_cached(
                        "INSERT INTO host_status (host_id, health, error, error_since, last_poll_at, \
                           presented_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                         ON CONFLICT (host_id) DO UPDATE SET health = ?2, error = ?3, \
                           error_since = ?4, last_poll_at = ?5, presented_key = ?6",
                    )?
                    .execute(params![host_id, health.as_str(), error, since, now, presented_key])?;
                    prev.is_none_or(|p| {
                        p.health != health.as_str()
                            || p.error.as_deref() != Some(&error)
                            || p.presented_key != presented_key
                    })
                }
            };
            let snapshot = if changed {
                Some(host_snapshot(&tx, host_id)?)
            } else {
                None
            };
            tx.commit()?;
            Ok(Polled { snapshot, was })
        })
        .await
    }

    /// Drops a proc from the snapshot (it was destroyed on purpose: not expected any more).
    pub async fn forget_proc(
        &self,
        host_id: i64,
        name: String,
    ) -> Result<HostSnapshot, StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            delete_proc(&tx, host_id, &name)?;
            let snap = host_snapshot(&tx, host_id)?;
            tx.commit()?;
            Ok(snap)
        })
        .await
    }

    pub async fn fleet(&self) -> Result<Fleet, StoreError> {
        self.call(|c| {
            let tx = c.transaction()?;
            let fleet = Fleet {
                hosts: all_hosts(&tx)?,
                procs: procs_where(&tx, "1 = ?1", &1)?,
                squads: all_squads(&tx)?,
            };
            tx.commit()?;
            Ok(fleet)
        })
        .await
    }

    pub async fn host_snapshot(&self, host_id: i64) -> Result<HostSnapshot, StoreError> {
        self.call(move |c| host_snapshot(c, host_id)).await
    }

    pub async fn proc_detail(&self, host: String, name: String) -> Result<ProcDetail, StoreError> {
        self.call(move |c| {
            let h = host_named(c, &host)?;
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {PROC_COLUMNS} FROM {PROC_FROM} WHERE p.host_id = ?1 AND p.name = ?2"
            ))?;
            let proc = stmt
                .query_row(params![h.id, name], proc_from_row)
                .optional()?
                .ok_or_else(|| StoreError::not_found(format!("proc {name} on {host}")))?;
            let mut stmt = c.prepare_cached(
                "SELECT state, description, at FROM proc_history WHERE host_id = ?1 AND name = ?2 \
                 ORDER BY id DESC",
            )?;
            let history = stmt
                .query_map(params![h.id, name], |r| {
                    let state: String = r.get(0)?;
                    Ok(StateChange {
                        state: ProcState::parse_any(&state).unwrap_or(ProcState::Unknown),
                        description: r.get(1)?,
                        at: r.get(2)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(ProcDetail { proc, history })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::hosts::tests::settings;
    use crate::store::test_support::store;

    fn seen(name: &str, state: ProcState, managed: bool) -> SeenProc {
        SeenProc {
            name: name.into(),
            state,
            description: String::new(),
            pid: None,
            started_at: None,
            meta: managed.then(|| vr_app::fixtures::meta("shop", "prod", "web", 5001)),
            oom_kills: None,
        }
    }

    fn ok(procs: Vec<SeenProc>) -> PollOutcome {
        PollOutcome::Ok {
            procs,
            version: Some("4.2.5".into()),
            via: "xmlrpc".into(),
        }
    }

    #[tokio::test]
    async fn polls_track_changes_missing_and_unmanaged() {
        let s = store();
        let h = s.create_host(settings("h1", None), 1).await.expect("host");
        let snap = s
            .apply_poll(
                h.id,
                ok(vec![
                    seen("app", ProcState::Running, true),
                    seen("legacy", ProcState::Running, false),
                ]),
                10,
            )
            .await
            .expect("poll")
            .snapshot
            .expect("first poll changes");
        assert_eq!(snap.0.status.health, Health::Ok);
        assert_eq!(snap.1.len(), 2);
        assert!(
            snap.1
                .iter()
                .any(|p| p.name == "app" && p.expected && p.managed())
        );
        // Same again: nothing to push.
        let again = s
            .apply_poll(
                h.id,
                ok(vec![
                    seen("app", ProcState::Running, true),
                    seen("legacy", ProcState::Running, false),
                ]),
                20,
            )
            .await
            .expect("poll");
        assert!(again.snapshot.is_none());
        assert_eq!(again.was, Some(Health::Ok));
        // Both vanish: the managed one stays as MISSING, the unmanaged one is forgotten.
        let (_, procs) = s
            .apply_poll(h.id, ok(vec![]), 30)
            .await
            .expect("poll")
            .snapshot
            .expect("changed");
        assert_eq!(procs.len(), 1);
        assert_eq!(procs[0].state, ProcState::Missing);
        assert_eq!(procs[0].last_seen_at, 30);
        let detail = s
            .proc_detail("h1".into(), "app".into())
            .await
            .expect("detail");
        let states: Vec<_> = detail.history.iter().map(|c| c.state).collect();
        assert_eq!(states, [ProcState::Missing, ProcState::Running]);
        // Host lost: status flips, procs keep their last known state.
        let failed = PollOutcome::Failed {
            health: Health::Unreachable,
            error: "timeout".into(),
            presented_key: None,
        };
        let (host, procs) = s
            .apply_poll(h.id, failed.clone(), 40)
            .await
            .expect("poll")
            .snapshot
            .expect("changed");
        assert_eq!(host.status.health, Health::Unreachable);
        assert_eq!(host.status.error_since, Some(40));
        assert_eq!(host.status.last_ok_at, Some(30));
        assert_eq!(procs.len(), 1);
        assert!(
            s.apply_poll(h.id, failed, 50)
                .await
                .expect("poll")
                .snapshot
                .is_none()
        );
        assert_eq!(
            s.host("h1".into()).await.expect("h").status.error_since,
            Some(40)
        );
        // Destroyed on purpose: gone for good.
        let (_, procs) = s.forget_proc(h.id, "app".into()).await.expect("forget");
        assert!(procs.is_empty());
    }

    #[tokio::test]
    async fn kills_for_memory_are_kept_until_read_again_and_told_in_the_history() {
        let s = store();
        let h = s.create_host(settings("h1", None), 1).await.expect("host");
        let poll = |state, oom| SeenProc {
            oom_kills: oom,
            ..seen("hog", state, true)
        };
        s.apply_poll(h.id, ok(vec![poll(ProcState::Running, None)]), 1)
            .await
            .expect("poll");
        let snap = s
            .apply_poll(h.id, ok(vec![poll(ProcState::Backoff, Some(1))]), 2)
            .await
            .expect("poll")
            .snapshot
            .expect("changed");
        assert_eq!(snap.1[0].oom_kills, 1);
        // A poll that did not read the count keeps it; reading the same count changes nothing.
        for oom in [None, Some(1)] {
            let again = s
                .apply_poll(h.id, ok(vec![poll(ProcState::Backoff, oom)]), 3)
                .await
                .expect("poll");
            assert!(again.snapshot.is_none());
        }
        let d = s
            .proc_detail("h1".into(), "hog".into())
            .await
            .expect("detail");
        assert_eq!(d.proc.oom_kills, 1);
        assert!(
            d.history
                .iter()
                .any(|c| c.description.starts_with("killed for memory")),
            "{:?}",
            d.history
        );
    }

    #[tokio::test]
    async fn history_is_trimmed_per_proc() {
        let s = store();
        let h = s.create_host(settings("h1", None), 1).await.expect("host");
        for i in 0..(HISTORY_PER_PROC + 20) {
            let state = if i % 2 == 0 {
                ProcState::Running
            } else {
                ProcState::Stopped
            };
            s.apply_poll(h.id, ok(vec![seen("w", state, false)]), i)
                .await
                .expect("poll");
        }
        let d = s
            .proc_detail("h1".into(), "w".into())
            .await
            .expect("detail");
        assert_eq!(d.history.len() as i64, HISTORY_PER_PROC);
        assert_eq!(d.history[0].at, HISTORY_PER_PROC + 19);
    }

    #[tokio::test]
    async fn polls_of_a_deleted_host_are_dropped() {
        let s = store();
        let h = s.create_host(settings("h1", None), 1).await.expect("host");
        s.delete_host(h.id).await.expect("delete");
        assert!(
            s.apply_poll(h.id, ok(vec![]), 5)
                .await
                .expect("poll")
                .snapshot
                .is_none()
        );
    }
}
