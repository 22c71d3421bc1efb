//! Swarms and their dispatches.

use super::{Store, StoreError, unique_conflict};
use rusqlite::{Connection, OptionalExtension, Row, params};
use vr_app::plan::Plan;
use vr_app::swarm::{Dispatch, DispatchStatus, DispatchStep, LastDispatch, SwarmSpec};

/// A swarm as stored: its spec with secret values as they are (callers mask them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmRow {
    pub id: i64,
    pub spec: SwarmSpec,
    pub release_id: Option<i64>,
    pub release_hash: Option<String>,
    /// Its newest dispatch that is not a dry run.
    pub last: Option<LastDispatch>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const SWARM_COLUMNS: &str = "s.id, a.name, s.proc_type, s.config, q.name, s.spec, s.release_id, \
     s.created_by, s.created_at, s.updated_at, r.hash, ld.id, ld.status, ld.short";
const SWARM_FROM: &str = "swarms s JOIN apps a ON a.id = s.app_id JOIN squads q ON q.id = s.squad_id \
     LEFT JOIN releases r ON r.id = s.release_id \
     LEFT JOIN dispatches ld ON ld.id = \
       (SELECT MAX(id) FROM dispatches WHERE swarm_id = s.id AND dry_run = 0)";

pub(super) fn json_column<T: serde::de::DeserializeOwned>(
    r: &Row<'_>,
    i: usize,
) -> rusqlite::Result<T> {
    let text: String = r.get(i)?;
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

pub(super) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Io(e.to_string()))
}

fn swarm_row(r: &Row<'_>) -> rusqlite::Result<SwarmRow> {
    let mut spec: SwarmSpec = json_column(r, 5)?;
    // The identity columns are the truth (an app or squad renamed keeps its swarms).
    spec.app = r.get(1)?;
    spec.proc_type = r.get(2)?;
    spec.config = r.get(3)?;
    spec.squad = r.get(4)?;
    let last_id: Option<i64> = r.get(11)?;
    let last_status: Option<String> = r.get(12)?;
    let last = match (last_id, last_status) {
        (Some(id), Some(status)) => Some(LastDispatch {
            id,
            status: DispatchStatus::parse(&status).unwrap_or(DispatchStatus::Failed),
            short: r.get(13)?,
        }),
        _ => None,
    };
    Ok(SwarmRow {
        id: r.get(0)?,
        spec,
        release_id: r.get(6)?,
        release_hash: r.get(10)?,
        last,
        created_by: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

fn get_swarm(c: &Connection, id: i64) -> Result<SwarmRow, StoreError> {
    c.query_row(
        &format!("SELECT {SWARM_COLUMNS} FROM {SWARM_FROM} WHERE s.id = ?1"),
        [id],
        swarm_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::not_found(format!("swarm {id}")))
}

/// The ids of the swarm's app and squad, or which one does not exist.
fn identity(c: &Connection, spec: &SwarmSpec) -> Result<(i64, i64), StoreError> {
    let app: Option<i64> = c
        .query_row("SELECT id FROM apps WHERE name = ?1", [&spec.app], |r| {
            r.get(0)
        })
        .optional()?;
    let app = app.ok_or_else(|| StoreError::Conflict {
        field: Some("app"),
        message: format!("there is no app {}", spec.app),
    })?;
    let squad: Option<i64> = c
        .query_row(
            "SELECT id FROM squads WHERE name = ?1",
            [&spec.squad],
            |r| r.get(0),
        )
        .optional()?;
    let squad = squad.ok_or_else(|| StoreError::Conflict {
        field: Some("squad"),
        message: format!("there is no squad {}", spec.squad),
    })?;
    Ok((app, squad))
}

/// The swarm with the same identity (app, proc type, config, squad), if another one has it.
fn same_identity(
    c: &Connection,
    app: i64,
    squad: i64,
    spec: &SwarmSpec,
    except: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(c.query_row(
        "SELECT id FROM swarms WHERE app_id = ?1 AND squad_id = ?2 AND proc_type = ?3 \
               AND config = ?4 AND id != ?5",
        params![app, squad, spec.proc_type, spec.config, except],
        |r| r.get(0),
    )
    .optional()?)
}

fn taken(spec: &SwarmSpec, other: i64) -> StoreError {
    StoreError::Conflict {
        field: Some("config"),
        message: format!(
            "swarm #{other} ({} on squad {}) already runs {} {} with config {}: edit that one, \
             or pick another config name",
            spec.name(),
            spec.squad,
            spec.app,
            spec.proc_type,
            spec.config
        ),
    }
}

const DISPATCH_COLUMNS: &str = "d.id, d.swarm_id, d.version, d.dry_run, d.status, d.build_id, \
     d.release_id, d.plan, d.steps, d.deploys, d.short, d.error, d.cancel_requested, \
     d.requested_by, d.created_at, d.started_at, d.finished_at, a.name, s.config, s.proc_type, \
     d.changes, d.rollback_of";
const DISPATCH_FROM: &str =
    "dispatches d JOIN swarms s ON s.id = d.swarm_id JOIN apps a ON a.id = s.app_id";

fn dispatch_row(r: &Row<'_>) -> rusqlite::Result<Dispatch> {
    let status: String = r.get(4)?;
    let plan: Option<String> = r.get(7)?;
    let plan: Option<Plan> = match plan {
        Some(text) => Some(serde_json::from_str(&text).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(7, rusqlite::types::Type::Text, Box::new(e))
        })?),
        None => None,
    };
    let app: String = r.get(17)?;
    let config: String = r.get(18)?;
    let proc_type: String = r.get(19)?;
    Ok(Dispatch {
        id: r.get(0)?,
        swarm_id: r.get(1)?,
        swarm: vr_app::swarm::swarm_name(&app, &config, &proc_type),
        version: r.get(2)?,
        dry_run: r.get(3)?,
        status: DispatchStatus::parse(&status).unwrap_or(DispatchStatus::Failed),
        build_id: r.get(5)?,
        release_id: r.get(6)?,
        plan,
        steps: json_column(r, 8)?,
        deploys: json_column(r, 9)?,
        short: r.get(10)?,
        changes: json_column(r, 20)?,
        rollback_of: r.get(21)?,
        error: r.get(11)?,
        cancel_requested: r.get(12)?,
        requested_by: r.get(13)?,
        created_at: r.get(14)?,
        started_at: r.get(15)?,
        finished_at: r.get(16)?,
    })
}

fn get_dispatch(c: &Connection, id: i64) -> Result<Dispatch, StoreError> {
    c.query_row(
        &format!("SELECT {DISPATCH_COLUMNS} FROM {DISPATCH_FROM} WHERE d.id = ?1"),
        [id],
        dispatch_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::not_found(format!("dispatch {id}")))
}

/// A dispatch to record as queued.
pub struct NewDispatchRecord {
    pub swarm_id: i64,
    /// The swarm's spec it runs with (a dry run's may differ from the saved one).
    pub spec: SwarmSpec,
    pub dry_run: bool,
    pub changes: Vec<vr_app::swarm::SpecChange>,
    pub rollback_of: Option<i64>,
    pub pinned_build: Option<i64>,
    pub actor: String,
    pub now: i64,
}

/// What a dispatch has done so far, written after every step.
#[derive(Debug, Clone, Default)]
pub struct DispatchProgress {
    pub build_id: Option<i64>,
    pub release_id: Option<i64>,
    pub plan: Option<Plan>,
    pub steps: Vec<DispatchStep>,
    pub deploys: Vec<i64>,
    pub short: u32,
}

impl Store {
    /// Records a new swarm; its identity must be free (the error names the swarm holding it).
    pub async fn create_swarm(
        &self,
        spec: SwarmSpec,
        actor: String,
        now: i64,
    ) -> Result<SwarmRow, StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let (app, squad) = identity(&tx, &spec)?;
            if let Some(other) = same_identity(&tx, app, squad, &spec, 0)? {
                return Err(taken(&spec, other));
            }
            tx.execute(
                "INSERT INTO swarms (app_id, proc_type, config, squad_id, spec, created_by, \
                   created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                params![
                    app,
                    spec.proc_type,
                    spec.config,
                    squad,
                    to_json(&spec)?,
                    actor,
                    now
                ],
            )
            .map_err(|e| unique_conflict(e, "config", format!("swarm {} exists", spec.name())))?;
            let made = get_swarm(&tx, tx.last_insert_rowid())?;
            tx.commit()?;
            Ok(made)
        })
        .await
    }

    /// Replaces a swarm's settings (identity included, if the new one is free).
    pub async fn update_swarm(
        &self,
        id: i64,
        spec: SwarmSpec,
        now: i64,
    ) -> Result<SwarmRow, StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            get_swarm(&tx, id)?;
            let (app, squad) = identity(&tx, &spec)?;
            if let Some(other) = same_identity(&tx, app, squad, &spec, id)? {
                return Err(taken(&spec, other));
            }
            tx.execute(
                "UPDATE swarms SET app_id = ?2, proc_type = ?3, config = ?4, squad_id = ?5, \
                   spec = ?6, updated_at = ?7 WHERE id = ?1",
                params![
                    id,
                    app,
                    spec.proc_type,
                    spec.config,
                    squad,
                    to_json(&spec)?,
                    now
                ],
            )?;
            let row = get_swarm(&tx, id)?;
            tx.commit()?;
            Ok(row)
        })
        .await
    }

    pub async fn swarm(&self, id: i64) -> Result<SwarmRow, StoreError> {
        self.call(move |c| get_swarm(c, id)).await
    }

    /// Every swarm, by name then squad.
    pub async fn list_swarms(&self) -> Result<Vec<SwarmRow>, StoreError> {
        self.call(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {SWARM_COLUMNS} FROM {SWARM_FROM} \
                 ORDER BY a.name, s.config, s.proc_type, q.name"
            ))?;
            let rows = stmt.query_map([], swarm_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Deletes a swarm and its history; refused while a dispatch of it is in flight.
    pub async fn delete_swarm(&self, id: i64) -> Result<(), StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            get_swarm(&tx, id)?;
            let busy: i64 = tx.query_row(
                "SELECT COUNT(*) FROM dispatches WHERE swarm_id = ?1 \
                   AND status IN ('queued', 'running')",
                [id],
                |r| r.get(0),
            )?;
            if busy > 0 {
                return Err(StoreError::Conflict {
                    field: None,
                    message: format!(
                        "swarm {id} has a dispatch in flight: cancel it or wait for it to end"
                    ),
                });
            }
            tx.execute("DELETE FROM swarms WHERE id = ?1", [id])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// The release the swarm now runs (after a successful dispatch).
    pub async fn set_swarm_release(&self, id: i64, release_id: i64) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE swarms SET release_id = ?2 WHERE id = ?1",
                params![id, release_id],
            )?;
            Ok(())
        })
        .await
    }

    /// Records a dispatch as queued.
    pub async fn create_dispatch(&self, d: NewDispatchRecord) -> Result<Dispatch, StoreError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO dispatches (swarm_id, version, dry_run, status, requested_by, \
                   created_at, spec, changes, rollback_of, pinned_build) \
                 VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    d.swarm_id,
                    d.spec.version,
                    d.dry_run,
                    d.actor,
                    d.now,
                    to_json(&d.spec)?,
                    to_json(&d.changes)?,
                    d.rollback_of,
                    d.pinned_build
                ],
            )?;
            get_dispatch(c, c.last_insert_rowid())
        })
        .await
    }

    /// The spec a dispatch ran with (secrets as stored) and the build it pins, if any.
    pub async fn dispatch_spec(&self, id: i64) -> Result<(SwarmSpec, Option<i64>), StoreError> {
        self.call(move |c| {
            c.query_row(
                "SELECT spec, pinned_build FROM dispatches WHERE id = ?1",
                [id],
                |r| Ok((json_column(r, 0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| StoreError::not_found(format!("dispatch {id}")))
        })
        .await
    }

    pub async fn dispatch(&self, id: i64) -> Result<Dispatch, StoreError> {
        self.call(move |c| get_dispatch(c, id)).await
    }

    /// Newest first, of one swarm or of all.
    pub async fn list_dispatches(
        &self,
        swarm: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Dispatch>, StoreError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {DISPATCH_COLUMNS} FROM {DISPATCH_FROM} \
                 WHERE ?1 IS NULL OR d.swarm_id = ?1 ORDER BY d.id DESC LIMIT ?2"
            ))?;
            let rows = stmt.query_map(
                params![swarm, i64::from(limit.clamp(1, 1000))],
                dispatch_row,
            )?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Whether a dispatch of `swarm_id` older than `id` is still queued.
    pub async fn older_queued_dispatch(&self, swarm_id: i64, id: i64) -> Result<bool, StoreError> {
        self.call(move |c| {
            let n: i64 = c.query_row(
                "SELECT COUNT(*) FROM dispatches WHERE swarm_id = ?1 AND id < ?2 \
                   AND status = 'queued'",
                params![swarm_id, id],
                |r| r.get(0),
            )?;
            Ok(n > 0)
        })
        .await
    }

    /// Marks a queued dispatch running; `None` when it is no longer queued (cancelled).
    pub async fn start_dispatch(&self, id: i64, now: i64) -> Result<Option<Dispatch>, StoreError> {
        self.call(move |c| {
            let n = c.execute(
                "UPDATE dispatches SET status = 'running', started_at = ?2 \
                 WHERE id = ?1 AND status = 'queued'",
                params![id, now],
            )?;
            if n == 0 {
                return Ok(None);
            }
            get_dispatch(c, id).map(Some)
        })
        .await
    }

    /// Records what a running dispatch has done so far.
    pub async fn save_dispatch(
        &self,
        id: i64,
        p: DispatchProgress,
    ) -> Result<Dispatch, StoreError> {
        self.call(move |c| {
            let plan = p.plan.as_ref().map(to_json).transpose()?;
            c.execute(
                "UPDATE dispatches SET build_id = ?2, release_id = ?3, plan = ?4, steps = ?5, \
                   deploys = ?6, short = ?7 WHERE id = ?1",
                params![
                    id,
                    p.build_id,
                    p.release_id,
                    plan,
                    to_json(&p.steps)?,
                    to_json(&p.deploys)?,
                    p.short
                ],
            )?;
            get_dispatch(c, id)
        })
        .await
    }

    /// Ends a dispatch (`status` is not in flight).
    pub async fn finish_dispatch(
        &self,
        id: i64,
        status: DispatchStatus,
        error: Option<String>,
        now: i64,
    ) -> Result<Dispatch, StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE dispatches SET status = ?2, error = ?3, finished_at = ?4 WHERE id = ?1",
                params![id, status.as_str(), error, now],
            )?;
            get_dispatch(c, id)
        })
        .await
    }

    /// Asks a dispatch to stop: a queued one is cancelled at once, a running one stops before
    /// its next step. Refused once it ended.
    pub async fn cancel_dispatch(&self, id: i64, now: i64) -> Result<Dispatch, StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let d = get_dispatch(&tx, id)?;
            match d.status {
                DispatchStatus::Queued => {
                    tx.execute(
                        "UPDATE dispatches SET status = 'cancelled', cancel_requested = 1, \
                           error = 'cancelled before it started', finished_at = ?2 WHERE id = ?1",
                        params![id, now],
                    )?;
                }
                DispatchStatus::Running => {
                    tx.execute(
                        "UPDATE dispatches SET cancel_requested = 1 WHERE id = ?1",
                        [id],
                    )?;
                }
                ended => {
                    return Err(StoreError::Conflict {
                        field: None,
                        message: format!("dispatch {id} already ended ({})", ended.as_str()),
                    });
                }
            }
            let d = get_dispatch(&tx, id)?;
            tx.commit()?;
            Ok(d)
        })
        .await
    }

    /// Dispatches a stopped server left queued or running are failed, with the reason.
    pub async fn fail_unfinished_dispatches(&self, now: i64) -> Result<usize, StoreError> {
        self.call(move |c| {
            Ok(c.execute(
                "UPDATE dispatches SET status = 'failed', finished_at = ?1, \
                   error = 'the server stopped during this dispatch; procs it finished are whole \
                            and kept, the rest were not started: dispatch again to finish' \
                 WHERE status IN ('queued', 'running')",
                [now],
            )?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SwarmSpec {
        vr_app::fixtures::swarm_spec()
    }

    fn record(swarm_id: i64, now: i64) -> NewDispatchRecord {
        NewDispatchRecord {
            swarm_id,
            spec: spec(),
            dry_run: false,
            changes: Vec::new(),
            rollback_of: None,
            pinned_build: None,
            actor: "ann".into(),
            now,
        }
    }

    #[tokio::test]
    async fn a_second_swarm_with_the_same_identity_is_refused_naming_the_first() {
        let s = crate::store::test_support::store_with_app_and_squad().await;
        let first = s
            .create_swarm(spec(), "ann".into(), 1)
            .await
            .expect("first");
        let err = s
            .create_swarm(spec(), "bob".into(), 2)
            .await
            .expect_err("same identity");
        assert!(
            err.to_string()
                .contains(&format!("swarm #{} (shop-prod-web on squad eu)", first.id)),
            "{err}"
        );
        let mut other = spec();
        other.config = "staging".into();
        let second = s
            .create_swarm(other.clone(), "bob".into(), 2)
            .await
            .expect("other");
        // Renaming the second into the first's identity is refused too.
        let err = s
            .update_swarm(second.id, spec(), 3)
            .await
            .expect_err("taken");
        assert!(matches!(
            err,
            StoreError::Conflict {
                field: Some("config"),
                ..
            }
        ));
        let mut bad = spec();
        bad.squad = "nowhere".into();
        let err = s
            .create_swarm(bad, "ann".into(), 1)
            .await
            .expect_err("no squad");
        assert!(matches!(
            err,
            StoreError::Conflict {
                field: Some("squad"),
                ..
            }
        ));
    }

    #[tokio::test]
    async fn a_queued_dispatch_cancels_at_once_and_a_finished_one_cannot() {
        let s = crate::store::test_support::store_with_app_and_squad().await;
        let sw = s
            .create_swarm(spec(), "ann".into(), 1)
            .await
            .expect("swarm");
        let d = s.create_dispatch(record(sw.id, 2)).await.expect("dispatch");
        assert_eq!(d.status, DispatchStatus::Queued);
        let c = s.cancel_dispatch(d.id, 3).await.expect("cancel");
        assert_eq!(c.status, DispatchStatus::Cancelled);
        assert_eq!(s.start_dispatch(d.id, 4).await.expect("start"), None);
        assert!(s.cancel_dispatch(d.id, 5).await.is_err());
        // A swarm with a dispatch in flight cannot be deleted.
        let d2 = s.create_dispatch(record(sw.id, 6)).await.expect("dispatch");
        assert!(s.delete_swarm(sw.id).await.is_err());
        assert_eq!(s.fail_unfinished_dispatches(7).await.expect("fail"), 1);
        assert_eq!(
            s.dispatch(d2.id).await.expect("read").status,
            DispatchStatus::Failed
        );
        s.delete_swarm(sw.id).await.expect("delete");
        assert!(s.list_dispatches(None, 10).await.expect("list").is_empty());
    }
}
