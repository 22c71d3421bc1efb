//! The database. Architecture invariant: this is the only module that names `rusqlite`; the rest
//! of the server calls the typed async methods here, which run on tokio's blocking pool.

mod balancers;
mod builds;
mod deploys;
mod events;
mod hosts;
mod instance;
mod migrate;
mod ports;
mod prune;
mod releases;
mod sessions;
mod snapshot;
mod stacks;
mod stats;
mod swarms;
mod tokens;
mod uptests;
mod users;
mod webhooks;

pub use builds::{BuildOutcome, NewBuildRecord};
pub use deploys::NewDeployRecord;
pub use migrate::{KNOWN_SCHEMA_VERSION, backup};
pub use ports::PortOwner;
pub use prune::{Cutoffs, Pruned};
pub use releases::{IngredientRecord, ReleaseRecord};
pub use sessions::SessionPrincipal;
pub use snapshot::{HostSnapshot, PollOutcome, Polled, SeenProc};
pub use stats::{JobStats, JobTable};
pub use swarms::{DispatchProgress, NewDispatchRecord, SwarmRow};
pub use tokens::TokenPrincipal;
pub use users::NewUserRecord;
pub use webhooks::{Attempt, DueDelivery, NewDelivery, WebhookTarget};

use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("{message}")]
    Conflict {
        field: Option<&'static str>,
        message: String,
    },
    #[error(
        "the database schema is version {found}, newer than this vr understands (up to {known}); \
         run a newer vr or restore a backup"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error("migration {name} failed: {source}")]
    Migration {
        name: String,
        source: rusqlite::Error,
    },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database task failed: {0}")]
    Task(String),
    #[error("{0}")]
    Io(String),
    /// An edit made inside a transaction was refused by its own check.
    #[error(transparent)]
    Invalid(#[from] vr_app::validate::Invalid),
}

impl StoreError {
    fn not_found(what: impl Into<String>) -> Self {
        StoreError::NotFound { what: what.into() }
    }
}

/// Handle to the database; cheap to clone.
///
/// One connection behind a mutex: SQLite serialises writers anyway, our queries take
/// microseconds, and it keeps every transaction simple.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        Self::from_connection(conn)
    }

    /// A fresh private database, for tests.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Self::from_connection(Connection::open_in_memory()?)
    }

    fn from_connection(mut conn: Connection) -> Result<Store, StoreError> {
        configure(&conn)?;
        migrate::apply(&mut conn)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves the connection usable: SQLite rolls back
            // any open transaction when its guard drops.
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        self.call(|c| migrate::user_version(c)).await
    }
}

/// Per-connection settings; these are not schema, so they live in code, not in migrations.
fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // In-memory databases answer "memory" here; both are fine.
    let _mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

/// Builds a stopped server left `pending`/`running` in `table` (`builds`, `stack_images`):
/// failed with the reason, their ids returned. They are not resumed: a new request starts over.
fn fail_unfinished(c: &Connection, table: &str, now: i64) -> Result<Vec<i64>, StoreError> {
    let ids: Vec<i64> = {
        let mut stmt = c.prepare(&format!(
            "SELECT id FROM {table} WHERE status IN ('pending', 'running')"
        ))?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    c.execute(
        &format!(
            "UPDATE {table} SET status = 'failed', finished_at = ?1, \
               error = 'the server stopped during this build; start it again' \
             WHERE status IN ('pending', 'running')"
        ),
        [now],
    )?;
    Ok(ids)
}

/// Maps a UNIQUE violation to a conflict on `field`, everything else through unchanged.
fn unique_conflict(e: rusqlite::Error, field: &'static str, message: String) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            StoreError::Conflict {
                field: Some(field),
                message,
            }
        }
        other => StoreError::Sqlite(other),
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::Store;

    pub fn store() -> Store {
        Store::open_in_memory().expect("in-memory store with all migrations")
    }

    /// A store with app `shop` and squad `eu` (what a swarm needs).
    pub async fn store_with_app_and_squad() -> Store {
        let s = store();
        s.create_squad(
            vr_app::fleet::NewSquad {
                name: "eu".into(),
                description: String::new(),
            },
            1,
        )
        .await
        .expect("squad");
        s.create_app(
            vr_app::build::NewApp {
                name: "shop".into(),
                repo_url: "https://example.com/shop.git".into(),
                buildpack: None,
                notes: String::new(),
                stack: None,
            },
            1,
        )
        .await
        .expect("app");
        s
    }
}
