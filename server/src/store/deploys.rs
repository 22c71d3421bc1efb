//! Deploy records.

use super::{Store, StoreError};
use rusqlite::{Connection, OptionalExtension, Row, params};
use vr_app::deploy::{DeployStatus, DeployStep, Deployment};

const COLUMNS: &str = "d.id, d.release_id, a.name, d.proc_type, d.config, d.host, d.port, \
     d.program, d.status, d.error, d.steps, d.requested_by, d.created_at, d.finished_at";
const FROM: &str =
    "deploys d JOIN releases r ON r.id = d.release_id JOIN apps a ON a.id = r.app_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Deployment> {
    let status: String = r.get(8)?;
    let steps: String = r.get(10)?;
    Ok(Deployment {
        id: r.get(0)?,
        release_id: r.get(1)?,
        app: r.get(2)?,
        proc_type: r.get(3)?,
        config: r.get(4)?,
        host: r.get(5)?,
        port: r.get(6)?,
        program: r.get(7)?,
        status: DeployStatus::parse(&status).unwrap_or(DeployStatus::Failed),
        error: r.get(9)?,
        steps: serde_json::from_str(&steps).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(10, rusqlite::types::Type::Text, Box::new(e))
        })?,
        requested_by: r.get(11)?,
        created_at: r.get(12)?,
        finished_at: r.get(13)?,
    })
}

fn get(c: &Connection, id: i64) -> Result<Deployment, StoreError> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM {FROM} WHERE d.id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::not_found(format!("deploy {id}")))
}

/// A deploy to record as started.
pub struct NewDeployRecord {
    pub release_id: i64,
    pub proc_type: String,
    pub config: String,
    pub host: String,
    pub port: u16,
    pub program: String,
    pub requested_by: String,
    pub now: i64,
    /// Reserve the port for the deploy's lifetime (not when there is nothing to do).
    pub reserve_port: bool,
}

impl Store {
    /// Records a deploy as started and, for a proc with a port, reserves that port on its host
    /// in the same transaction (a port another job in flight holds is a conflict).
    pub async fn create_deploy(&self, d: NewDeployRecord) -> Result<Deployment, StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO deploys (release_id, proc_type, config, host, port, program, status, \
                   requested_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'running', ?7, ?8)",
                params![
                    d.release_id,
                    d.proc_type,
                    d.config,
                    d.host,
                    d.port,
                    d.program,
                    d.requested_by,
                    d.now
                ],
            )?;
            let id = tx.last_insert_rowid();
            if d.reserve_port && d.port != 0 {
                super::ports::reserve(&tx, &d.host, d.port, &super::PortOwner::Deploy(id), d.now)?;
            }
            let made = get(&tx, id)?;
            tx.commit()?;
            Ok(made)
        })
        .await
    }

    pub async fn deploy(&self, id: i64) -> Result<Deployment, StoreError> {
        self.call(move |c| get(c, id)).await
    }

    pub async fn list_deploys(&self, limit: u32) -> Result<Vec<Deployment>, StoreError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM {FROM} ORDER BY d.id DESC LIMIT ?1"
            ))?;
            let rows = stmt.query_map([i64::from(limit.clamp(1, 1000))], from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Program names of the deploys still running on `host`.
    pub async fn deploys_in_flight(&self, host: String) -> Result<Vec<String>, StoreError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT program FROM deploys WHERE host = ?1 AND status = 'running'",
            )?;
            let rows = stmt.query_map([host], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Records the steps so far, and the end when `status` is not running.
    pub async fn update_deploy(
        &self,
        id: i64,
        steps: Vec<DeployStep>,
        status: DeployStatus,
        error: Option<String>,
        now: i64,
    ) -> Result<Deployment, StoreError> {
        self.call(move |c| {
            let steps = serde_json::to_string(&steps).map_err(|e| StoreError::Io(e.to_string()))?;
            let finished = (status != DeployStatus::Running).then_some(now);
            c.execute(
                "UPDATE deploys SET steps = ?2, status = ?3, error = ?4, finished_at = ?5 WHERE id = ?1",
                params![id, steps, status.as_str(), error, finished],
            )?;
            get(c, id)
        })
        .await
    }

    /// Deploys a stopped server left running are failed (the program file is written last and
    /// atomically, so a half-written proc is never started by Supervisor).
    pub async fn fail_unfinished_deploys(&self, now: i64) -> Result<usize, StoreError> {
        self.call(move |c| {
            Ok(c.execute(
                "UPDATE deploys SET status = 'failed', finished_at = ?1, \
                   error = 'the server stopped during this deploy; run it again (it is idempotent)' \
                 WHERE status = 'running'",
                [now],
            )?)
        })
        .await
    }
}
