//! Schema migrations: numbered SQL files from `migrations/`, embedded in the binary, applied in
//! order at start. `PRAGMA user_version` records how many have run.

use super::StoreError;
use rusqlite::Connection;
use rust_embed::RustEmbed;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

#[derive(RustEmbed)]
#[folder = "../migrations"]
struct MigrationFiles;

/// `(number, file name, sql)` in order. Numbering is checked by a unit test, so a gap or a
/// duplicate fails the build's tests rather than a user's start-up.
fn migrations() -> Vec<(i64, String, String)> {
    let mut out: Vec<(i64, String, String)> = MigrationFiles::iter()
        .filter(|name| name.ends_with(".sql"))
        .filter_map(|name| {
            let number = name.split('_').next()?.parse::<i64>().ok()?;
            let file = MigrationFiles::get(&name)?;
            let sql = String::from_utf8_lossy(&file.data).into_owned();
            Some((number, name.into_owned(), sql))
        })
        .collect();
    out.sort_by_key(|(n, _, _)| *n);
    out
}

/// The newest schema version this binary knows.
pub static KNOWN_SCHEMA_VERSION: std::sync::LazyLock<i64> =
    std::sync::LazyLock::new(|| migrations().last().map_or(0, |(n, _, _)| *n));

pub(super) fn user_version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

pub(super) fn apply(conn: &mut Connection) -> Result<(), StoreError> {
    let found = user_version(conn)?;
    let known = *KNOWN_SCHEMA_VERSION;
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known });
    }
    for (number, name, sql) in migrations().into_iter().filter(|(n, _, _)| *n > found) {
        let tx = conn.transaction()?;
        tx.execute_batch(&sql)
            .and_then(|()| tx.pragma_update(None, "user_version", number))
            .map_err(|source| StoreError::Migration {
                name: name.clone(),
                source,
            })?;
        tx.commit()?;
        tracing::info!(migration = %name, "applied migration");
    }
    Ok(())
}

/// Writes a consistent copy of the database at `db` to `dest` while it may be in use
/// (`VACUUM INTO` reads one snapshot). Refuses to overwrite an existing file.
pub fn backup(db: &Path, dest: &Path) -> Result<(), StoreError> {
    if dest.exists() {
        return Err(StoreError::Io(format!(
            "{} already exists; choose a new file name",
            dest.display()
        )));
    }
    if !db.exists() {
        return Err(StoreError::Io(format!("no database at {}", db.display())));
    }
    let dest_str = dest
        .to_str()
        .ok_or_else(|| StoreError::Io("backup path must be valid UTF-8".into()))?;
    let conn = Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // The copy holds password hashes: create it private first (VACUUM INTO accepts an empty file).
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dest)
        .map_err(|e| StoreError::Io(format!("creating {}: {e}", dest.display())))?;
    if let Err(e) = conn.execute("VACUUM INTO ?1", [dest_str]) {
        let _ = std::fs::remove_file(dest);
        return Err(e.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_from_one_without_gaps() {
        let nums: Vec<i64> = migrations().iter().map(|(n, _, _)| *n).collect();
        let expected: Vec<i64> = (1..=nums.len() as i64).collect();
        assert_eq!(nums, expected);
    }

    #[test]
    fn applies_from_empty_and_is_idempotent() {
        let mut conn = Connection::open_in_memory().expect("open");
        apply(&mut conn).expect("first apply");
        assert_eq!(user_version(&conn).expect("version"), *KNOWN_SCHEMA_VERSION);
        apply(&mut conn).expect("second apply is a no-op");
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('users','sessions','api_tokens','events')",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(tables, 4);
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("vr.db");
        {
            let conn = Connection::open(&path).expect("open");
            conn.pragma_update(None, "user_version", *KNOWN_SCHEMA_VERSION + 1)
                .expect("set version");
        }
        let err = super::super::Store::open(&path).err().expect("must refuse");
        assert!(matches!(err, StoreError::SchemaTooNew { .. }), "{err}");
        assert!(err.to_string().contains("newer than this vr"), "{err}");
    }

    #[test]
    fn backup_makes_a_readable_copy_and_will_not_overwrite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("vr.db");
        let conn = Connection::open(&db).expect("open");
        super::super::configure(&conn).expect("configure");
        let mut conn = conn;
        apply(&mut conn).expect("migrate");
        conn.execute(
            "INSERT INTO events (at, actor, action, object, outcome) VALUES (1, 'a', 'x', 'y', 'ok')",
            [],
        )
        .expect("insert");
        let dest = dir.path().join("copy.db");
        backup(&db, &dest).expect("backup while the source is open");
        let copy = Connection::open(&dest).expect("open copy");
        let n: i64 = copy
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .expect("query copy");
        assert_eq!(n, 1);
        assert_eq!(user_version(&copy).expect("version"), *KNOWN_SCHEMA_VERSION);
        assert!(backup(&db, &dest).is_err(), "must not overwrite");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dest).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the copy holds password hashes");
    }
}
