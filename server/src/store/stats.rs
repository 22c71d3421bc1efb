//! Counts and durations of builds, deploys and dispatches by status, for `/metrics`: one
//! aggregate query per table, so a scrape costs the same however many jobs there were.

use super::{Store, StoreError};

/// A table of jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobTable {
    Builds,
    Deploys,
    Dispatches,
}

impl JobTable {
    fn table(self) -> &'static str {
        match self {
            JobTable::Builds => "builds",
            JobTable::Deploys => "deploys",
            JobTable::Dispatches => "dispatches",
        }
    }

    /// When a job's own work began (deploys start when recorded).
    fn start(self) -> &'static str {
        match self {
            JobTable::Deploys => "created_at",
            JobTable::Builds | JobTable::Dispatches => "COALESCE(started_at, created_at)",
        }
    }
}

/// The jobs of one status.
#[derive(Debug, Clone, PartialEq)]
pub struct JobStats {
    pub status: String,
    pub count: u64,
    /// Of those, the ones that ended, with their durations summed and counted per bound.
    pub finished: u64,
    pub seconds: f64,
    /// Cumulative: finished jobs that took at most each bound.
    pub within: Vec<u64>,
}

impl Store {
    pub async fn job_stats(
        &self,
        table: JobTable,
        bounds: &'static [f64],
    ) -> Result<Vec<JobStats>, StoreError> {
        self.call(move |c| {
            let took = format!("(finished_at - {})", table.start());
            let buckets: String = bounds
                .iter()
                .map(|b| {
                    // Bounds are constants of vr_app::metrics, in milliseconds here.
                    let ms = (b * 1000.0) as i64;
                    format!(", SUM(CASE WHEN finished_at IS NOT NULL AND {took} <= {ms} THEN 1 ELSE 0 END)")
                })
                .collect();
            let sql = format!(
                "SELECT status, COUNT(*), COUNT(finished_at), COALESCE(SUM(CASE WHEN finished_at IS NOT NULL THEN {took} END), 0){buckets} \
                 FROM {} GROUP BY status ORDER BY status",
                table.table()
            );
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map([], |r| {
                let mut within = Vec::with_capacity(bounds.len());
                for i in 0..bounds.len() {
                    within.push(r.get::<_, i64>(4 + i)?.max(0) as u64);
                }
                Ok(JobStats {
                    status: r.get(0)?,
                    count: r.get::<_, i64>(1)?.max(0) as u64,
                    finished: r.get::<_, i64>(2)?.max(0) as u64,
                    seconds: r.get::<_, i64>(3)?.max(0) as f64 / 1000.0,
                    within,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}
