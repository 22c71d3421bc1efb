//! Uptest results.

use super::{Store, StoreError};
use rusqlite::params;
use vr_app::deploy::{UptestQuery, UptestResult};

impl Store {
    /// Replaces the results of `program` on `host` with this run's.
    pub async fn save_uptests(
        &self,
        host: String,
        program: String,
        results: Vec<UptestResult>,
    ) -> Result<(), StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "DELETE FROM uptest_results WHERE host = ?1 AND program = ?2",
                params![host, program],
            )?;
            for r in &results {
                tx.execute(
                    "INSERT INTO uptest_results (host, program, name, passed, output, ms, at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        r.host,
                        r.program,
                        r.name,
                        r.passed,
                        r.output,
                        i64::try_from(r.ms).unwrap_or(i64::MAX),
                        r.at
                    ],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub async fn uptests(&self, q: UptestQuery) -> Result<Vec<UptestResult>, StoreError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT host, program, name, passed, output, ms, at FROM uptest_results \
                 WHERE (?1 IS NULL OR host = ?1) AND (?2 IS NULL OR program = ?2) \
                 ORDER BY host, program, name",
            )?;
            let rows = stmt.query_map(params![q.host, q.program], |r| {
                Ok(UptestResult {
                    host: r.get(0)?,
                    program: r.get(1)?,
                    name: r.get(2)?,
                    passed: r.get(3)?,
                    output: r.get(4)?,
                    ms: u64::try_from(r.get::<_, i64>(5)?).unwrap_or(0),
                    at: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }
}
