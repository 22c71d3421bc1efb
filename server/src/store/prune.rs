//! Retention: rows older than the operator's limits are deleted in small batches, each its own
//! short transaction, so the poller and the jobs write in between and never wait long.

use super::{Store, StoreError};
use rusqlite::params;

/// Rows older than these times (ms since the epoch) go; `None` keeps that kind for ever.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cutoffs {
    pub events: Option<i64>,
    pub history: Option<i64>,
    /// Finished deploys and dispatches.
    pub jobs: Option<i64>,
}

/// How many rows of each kind one pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub events: u64,
    pub history: u64,
    pub deploys: u64,
    pub dispatches: u64,
}

impl Pruned {
    pub fn total(&self) -> u64 {
        self.events + self.history + self.deploys + self.dispatches
    }

    fn add(&mut self, o: Pruned) {
        self.events += o.events;
        self.history += o.history;
        self.deploys += o.deploys;
        self.dispatches += o.dispatches;
    }
}

/// Deletes up to `limit` rows of `table` matching `filter` (bound to `?1`, the cutoff).
fn delete_some(
    c: &rusqlite::Connection,
    table: &str,
    filter: &str,
    cutoff: i64,
    limit: u32,
) -> Result<u64, StoreError> {
    let sql =
        format!("DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {filter} LIMIT ?2)");
    Ok(c.execute(&sql, params![cutoff, limit])? as u64)
}

impl Store {
    /// One batch: at most `limit` rows of each kind older than `cut`, in one short transaction.
    /// A dispatch or deploy in flight is never touched, nor a swarm's newest successful
    /// dispatch (what a rollback goes back to).
    pub async fn prune_batch(&self, cut: Cutoffs, limit: u32) -> Result<Pruned, StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let mut p = Pruned::default();
            if let Some(t) = cut.events {
                p.events = delete_some(&tx, "events", "at < ?1", t, limit)?;
            }
            if let Some(t) = cut.history {
                p.history = delete_some(&tx, "proc_history", "at < ?1", t, limit)?;
            }
            if let Some(t) = cut.jobs {
                p.deploys = delete_some(
                    &tx,
                    "deploys",
                    "status <> 'running' AND finished_at IS NOT NULL AND finished_at < ?1",
                    t,
                    limit,
                )?;
                p.dispatches = delete_some(
                    &tx,
                    "dispatches",
                    "status IN ('succeeded', 'failed', 'cancelled') AND finished_at IS NOT NULL \
                     AND finished_at < ?1 AND id NOT IN (SELECT MAX(id) FROM dispatches \
                     WHERE status = 'succeeded' AND dry_run = 0 GROUP BY swarm_id)",
                    t,
                    limit,
                )?;
            }
            tx.commit()?;
            Ok(p)
        })
        .await
    }

    /// Batches until nothing older is left, pausing between them so writers get their turn.
    pub async fn prune(&self, cut: Cutoffs, limit: u32) -> Result<Pruned, StoreError> {
        let mut all = Pruned::default();
        loop {
            let p = self.prune_batch(cut, limit).await?;
            all.add(p);
            let full = [p.events, p.history, p.deploys, p.dispatches]
                .iter()
                .any(|n| *n >= u64::from(limit));
            if !full {
                return Ok(all);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// The status of build `id`, if it exists.
    pub async fn build_status(&self, id: i64) -> Result<Option<String>, StoreError> {
        self.call(move |c| {
            use rusqlite::OptionalExtension;
            Ok(
                c.query_row("SELECT status FROM builds WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()?,
            )
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of each kind at `at`; dispatches for swarm 1 with `status`.
    async fn seed(s: &Store, at: i64, dispatch_status: &'static str) {
        s.call(move |c| {
            c.execute_batch("PRAGMA foreign_keys = OFF")?;
            c.execute(
                "INSERT INTO events (at, actor, action, object, outcome) VALUES (?1, 'a', 'x', 'o', 'ok')",
                [at],
            )?;
            c.execute(
                "INSERT INTO proc_history (host_id, name, state, at) VALUES (1, 'p', 'RUNNING', ?1)",
                [at],
            )?;
            c.execute(
                "INSERT INTO deploys (release_id, proc_type, config, host, port, program, status, \
                 requested_by, created_at, finished_at) VALUES (1, 'web', 'prod', 'h', 0, 'p', \
                 'succeeded', 'a', ?1, ?1)",
                [at],
            )?;
            c.execute(
                "INSERT INTO dispatches (swarm_id, version, dry_run, status, spec, requested_by, \
                 created_at, finished_at) VALUES (1, 'v', 0, ?2, '{}', 'a', ?1, ?1)",
                params![at, dispatch_status],
            )?;
            Ok(())
        })
        .await
        .expect("seed");
    }

    async fn count(s: &Store, table: &'static str) -> i64 {
        s.call(
            move |c| Ok(c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?),
        )
        .await
        .expect("count")
    }

    #[tokio::test]
    async fn old_rows_go_in_batches_and_what_a_rollback_needs_stays() {
        let s = super::super::test_support::store();
        // Old: 5 of each, the newest old dispatch succeeded (the swarm's rollback target).
        for i in 0..4 {
            seed(&s, 1_000 + i, "failed").await;
        }
        seed(&s, 1_010, "succeeded").await;
        // New: 2 of each.
        for i in 0..2 {
            seed(&s, 10_000 + i, "failed").await;
        }
        let cut = Cutoffs {
            events: Some(5_000),
            history: Some(5_000),
            jobs: Some(5_000),
        };
        let first = s.prune_batch(cut, 2).await.expect("batch");
        assert_eq!(first.events, 2);
        let rest = s.prune(cut, 2).await.expect("prune");
        assert_eq!(first.events + rest.events, 5);
        assert_eq!(first.history + rest.history, 5);
        assert_eq!(first.deploys + rest.deploys, 5);
        // The old successful dispatch stays: it is the newest successful one of its swarm.
        assert_eq!(first.dispatches + rest.dispatches, 4);
        assert_eq!(count(&s, "events").await, 2);
        assert_eq!(count(&s, "proc_history").await, 2);
        assert_eq!(count(&s, "deploys").await, 2);
        assert_eq!(count(&s, "dispatches").await, 3);
        // Nothing to do: nothing goes; a kind without a limit is kept.
        let again = s
            .prune(
                Cutoffs {
                    events: None,
                    ..cut
                },
                2,
            )
            .await
            .expect("prune");
        assert_eq!(again.total(), 0);
        // A later success of the same swarm frees the old one.
        seed(&s, 20_000, "succeeded").await;
        let later = s.prune(cut, 100).await.expect("prune");
        assert_eq!(later.dispatches, 1);
    }
}
