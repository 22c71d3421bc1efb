//! Apps, buildpacks and builds.

use super::{Store, StoreError, unique_conflict};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::BTreeMap;
use vr_app::build::{
    App, AppPatch, Build, BuildQuery, BuildStatus, Buildpack, BuildpackPatch, NewApp, NewBuildpack,
};
use vr_app::secret::unmask_url;
use vr_app::stack::StackRef;

fn app_from_row(r: &Row<'_>) -> rusqlite::Result<App> {
    Ok(App {
        id: r.get(0)?,
        name: r.get(1)?,
        repo_url: r.get(2)?,
        buildpack: r.get(3)?,
        notes: r.get(4)?,
        created_at: r.get(5)?,
        build_uid: r.get(6)?,
        stack: r.get(7)?,
    })
}

const APP_COLUMNS: &str = "id, name, repo_url, buildpack, notes, created_at, build_uid, stack";

fn app_named(c: &Connection, name: &str) -> Result<App, StoreError> {
    c.query_row(
        &format!("SELECT {APP_COLUMNS} FROM apps WHERE name = ?1"),
        [name],
        app_from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::not_found(format!("app {name}")))
}

fn buildpack_from_row(r: &Row<'_>) -> rusqlite::Result<Buildpack> {
    Ok(Buildpack {
        id: r.get(0)?,
        url: r.get(1)?,
        order: r.get(2)?,
        description: r.get(3)?,
    })
}

fn buildpack_with_id(c: &Connection, id: i64) -> Result<Buildpack, StoreError> {
    c.query_row(
        "SELECT id, url, ord, description FROM buildpacks WHERE id = ?1",
        [id],
        buildpack_from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::not_found(format!("buildpack {id}")))
}

const BUILD_COLUMNS: &str = "b.id, a.name, b.version, b.commit_sha, b.status, b.error, \
     b.buildpack, b.buildpack_commit, b.host, b.sha256, b.size, b.procfile, b.env, b.prebuilt, \
     b.reused_from, b.requested_by, b.created_at, b.started_at, b.finished_at, b.stack, \
     b.stack_sha256";

fn map_of(r: &Row<'_>, i: usize) -> rusqlite::Result<BTreeMap<String, String>> {
    let text: String = r.get(i)?;
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn build_from_row(r: &Row<'_>) -> rusqlite::Result<Build> {
    let status: String = r.get(4)?;
    Ok(Build {
        id: r.get(0)?,
        app: r.get(1)?,
        version: r.get(2)?,
        commit: r.get(3)?,
        status: BuildStatus::parse(&status).unwrap_or(BuildStatus::Failed),
        error: r.get(5)?,
        buildpack: r.get(6)?,
        buildpack_commit: r.get(7)?,
        host: r.get(8)?,
        sha256: r.get(9)?,
        size: r
            .get::<_, Option<i64>>(10)?
            .and_then(|s| u64::try_from(s).ok()),
        procfile: map_of(r, 11)?,
        env: map_of(r, 12)?,
        prebuilt: r.get(13)?,
        reused_from: r.get(14)?,
        requested_by: r.get(15)?,
        created_at: r.get(16)?,
        started_at: r.get(17)?,
        finished_at: r.get(18)?,
        stack: match (
            r.get::<_, Option<String>>(19)?,
            r.get::<_, Option<String>>(20)?,
        ) {
            (Some(name), Some(sha256)) => Some(StackRef { name, sha256 }),
            _ => None,
        },
    })
}

fn build_with_id(c: &Connection, id: i64) -> Result<Build, StoreError> {
    c.query_row(
        &format!(
            "SELECT {BUILD_COLUMNS} FROM builds b JOIN apps a ON a.id = b.app_id WHERE b.id = ?1"
        ),
        [id],
        build_from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::not_found(format!("build {id}")))
}

/// What a finished build produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOutcome {
    pub buildpack: Option<String>,
    pub buildpack_commit: Option<String>,
    pub sha256: String,
    pub size: u64,
    pub procfile: BTreeMap<String, String>,
    pub env: BTreeMap<String, String>,
    pub reused_from: Option<i64>,
}

/// A build row to create.
pub struct NewBuildRecord {
    pub app: String,
    pub version: String,
    /// The stack image it compiles in.
    pub stack: Option<StackRef>,
    pub forced: bool,
    pub requested_by: String,
    pub now: i64,
}

impl Store {
    pub async fn list_apps(&self) -> Result<Vec<App>, StoreError> {
        self.call(|c| {
            let mut stmt =
                c.prepare_cached(&format!("SELECT {APP_COLUMNS} FROM apps ORDER BY name"))?;
            let rows = stmt.query_map([], app_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub async fn app(&self, name: String) -> Result<App, StoreError> {
        self.call(move |c| app_named(c, &name)).await
    }

    pub async fn create_app(&self, new: NewApp, now: i64) -> Result<App, StoreError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO apps (name, repo_url, buildpack, notes, created_at, stack) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![new.name, new.repo_url, new.buildpack, new.notes, now, new.stack],
            )
            .map_err(|e| unique_conflict(e, "name", format!("an app named {} already exists", new.name)))?;
            app_named(c, &new.name)
        })
        .await
    }

    pub async fn update_app(&self, name: String, patch: AppPatch) -> Result<App, StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let cur = app_named(&tx, &name)?;
            tx.execute(
                "UPDATE apps SET repo_url = ?1, buildpack = ?2, notes = ?3, stack = ?5 WHERE id = ?4",
                params![
                    // A URL sent back masked, as shown, means "unchanged".
                    patch
                        .repo_url
                        .map_or(cur.repo_url.clone(), |u| unmask_url(&u, &cur.repo_url)),
                    patch
                        .buildpack
                        .map_or(cur.buildpack.clone(), |b| match (b, &cur.buildpack) {
                            (Some(b), Some(c)) => Some(unmask_url(&b, c)),
                            (b, _) => b,
                        }),
                    patch.notes.unwrap_or(cur.notes),
                    cur.id,
                    patch.stack.unwrap_or(cur.stack),
                ],
            )?;
            let app = app_named(&tx, &name)?;
            tx.commit()?;
            Ok(app)
        })
        .await
    }

    /// The uid the app builds as, given now if it has none: the first candidate drawn from
    /// `key` that no other app of this installation has.
    pub async fn app_build_uid(&self, app_id: i64, key: Vec<u8>) -> Result<u32, StoreError> {
        self.call(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let current: Option<u32> =
                tx.query_row("SELECT build_uid FROM apps WHERE id = ?1", [app_id], |r| {
                    r.get(0)
                })?;
            if let Some(uid) = current {
                return Ok(uid);
            }
            for attempt in 0..1000 {
                let uid = vr_app::build::build_uid_candidate(&key, app_id, attempt);
                let taken: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM apps WHERE build_uid = ?1)",
                    [uid],
                    |r| r.get(0),
                )?;
                if !taken {
                    tx.execute(
                        "UPDATE apps SET build_uid = ?1 WHERE id = ?2",
                        params![uid, app_id],
                    )?;
                    tx.commit()?;
                    return Ok(uid);
                }
            }
            Err(StoreError::Conflict {
                field: None,
                message: "no free build uid for this app".into(),
            })
        })
        .await
    }

    /// Refuses while the app has builds (they hold its artifacts and history).
    pub async fn delete_app(&self, name: String) -> Result<(), StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let app = app_named(&tx, &name)?;
            let builds: i64 = tx.query_row(
                "SELECT count(*) FROM builds WHERE app_id = ?1",
                [app.id],
                |r| r.get(0),
            )?;
            if builds > 0 {
                return Err(StoreError::Conflict {
                    field: None,
                    message: format!("app {name} has {builds} build(s); it cannot be deleted"),
                });
            }
            tx.execute("DELETE FROM apps WHERE id = ?1", [app.id])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub async fn list_buildpacks(&self) -> Result<Vec<Buildpack>, StoreError> {
        self.call(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, url, ord, description FROM buildpacks ORDER BY ord, id",
            )?;
            let rows = stmt.query_map([], buildpack_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub async fn create_buildpack(
        &self,
        new: NewBuildpack,
        now: i64,
    ) -> Result<Buildpack, StoreError> {
        self.call(move |c| {
            let order = match new.order {
                Some(o) => o,
                None => c.query_row("SELECT coalesce(max(ord), 0) + 10 FROM buildpacks", [], |r| r.get(0))?,
            };
            c.execute(
                "INSERT INTO buildpacks (url, ord, description, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![new.url, order, new.description, now],
            )
            .map_err(|e| unique_conflict(e, "url", format!("buildpack {} is already listed", new.url)))?;
            buildpack_with_id(c, c.last_insert_rowid())
        })
        .await
    }

    pub async fn update_buildpack(
        &self,
        id: i64,
        patch: BuildpackPatch,
    ) -> Result<Buildpack, StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let cur = buildpack_with_id(&tx, id)?;
            let url = patch
                .url
                .map_or(cur.url.clone(), |u| unmask_url(&u, &cur.url));
            tx.execute(
                "UPDATE buildpacks SET url = ?1, ord = ?2, description = ?3 WHERE id = ?4",
                params![
                    url,
                    patch.order.unwrap_or(cur.order),
                    patch.description.unwrap_or(cur.description),
                    id
                ],
            )
            .map_err(|e| unique_conflict(e, "url", format!("buildpack {url} is already listed")))?;
            // Apps pinned to the old URL follow it.
            tx.execute(
                "UPDATE apps SET buildpack = ?1 WHERE buildpack = ?2",
                params![url, cur.url],
            )?;
            let bp = buildpack_with_id(&tx, id)?;
            tx.commit()?;
            Ok(bp)
        })
        .await
    }

    /// Refuses while an app pins it, naming the apps.
    pub async fn delete_buildpack(&self, id: i64) -> Result<(), StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let bp = buildpack_with_id(&tx, id)?;
            let mut stmt =
                tx.prepare("SELECT name FROM apps WHERE buildpack = ?1 ORDER BY name")?;
            let apps: Vec<String> = stmt
                .query_map([&bp.url], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            drop(stmt);
            if !apps.is_empty() {
                return Err(StoreError::Conflict {
                    field: None,
                    message: format!(
                        "buildpack {} is pinned by app(s) {}",
                        bp.url,
                        apps.join(", ")
                    ),
                });
            }
            tx.execute("DELETE FROM buildpacks WHERE id = ?1", [id])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub async fn create_build(&self, b: NewBuildRecord) -> Result<Build, StoreError> {
        self.call(move |c| {
            let app = app_named(c, &b.app)?;
            c.execute(
                "INSERT INTO builds (app_id, version, status, forced, requested_by, created_at, \
                   stack, stack_sha256) VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6, ?7)",
                params![
                    app.id,
                    b.version,
                    b.forced,
                    b.requested_by,
                    b.now,
                    b.stack.as_ref().map(|s| &s.name),
                    b.stack.as_ref().map(|s| &s.sha256)
                ],
            )?;
            build_with_id(c, c.last_insert_rowid())
        })
        .await
    }

    pub async fn build(&self, id: i64) -> Result<Build, StoreError> {
        self.call(move |c| build_with_id(c, id)).await
    }

    pub async fn list_builds(&self, q: BuildQuery) -> Result<Vec<Build>, StoreError> {
        self.call(move |c| {
            let limit = i64::from(q.limit.unwrap_or(100).clamp(1, 1000));
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {BUILD_COLUMNS} FROM builds b JOIN apps a ON a.id = b.app_id \
                 WHERE (?1 IS NULL OR a.name = ?1) ORDER BY b.id DESC LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![q.app, limit], build_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// A pending or running build of the same app and version, to share instead of starting
    /// another.
    pub async fn build_in_flight(
        &self,
        app: String,
        version: String,
    ) -> Result<Option<Build>, StoreError> {
        self.call(move |c| {
            let id: Option<i64> = c
                .query_row(
                    "SELECT b.id FROM builds b JOIN apps a ON a.id = b.app_id \
                     WHERE a.name = ?1 AND b.version = ?2 AND b.status IN ('pending', 'running') \
                     ORDER BY b.id LIMIT 1",
                    params![app, version],
                    |r| r.get(0),
                )
                .optional()?;
            id.map(|id| build_with_id(c, id)).transpose()
        })
        .await
    }

    /// The newest successful, unexpired build of `commit` of the app (with `buildpack` when the
    /// app pins one) in the same stack image (or none), other than `except`.
    pub async fn reusable_build(
        &self,
        app: String,
        commit: String,
        buildpack: Option<String>,
        stack_sha256: Option<String>,
        except: i64,
    ) -> Result<Option<Build>, StoreError> {
        self.call(move |c| {
            let id: Option<i64> = c
                .query_row(
                    "SELECT b.id FROM builds b JOIN apps a ON a.id = b.app_id \
                     WHERE a.name = ?1 AND b.commit_sha = ?2 AND b.status = 'succeeded' \
                       AND b.prebuilt = 0 AND b.id != ?4 AND (?3 IS NULL OR b.buildpack = ?3) \
                       AND b.stack_sha256 IS ?5 \
                     ORDER BY b.id DESC LIMIT 1",
                    params![app, commit, buildpack, except, stack_sha256],
                    |r| r.get(0),
                )
                .optional()?;
            id.map(|id| build_with_id(c, id)).transpose()
        })
        .await
    }

    pub async fn start_build(&self, id: i64, host: String, now: i64) -> Result<Build, StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE builds SET status = 'running', host = ?2, started_at = ?3 WHERE id = ?1",
                params![id, host, now],
            )?;
            build_with_id(c, id)
        })
        .await
    }

    pub async fn set_build_commit(&self, id: i64, commit: String) -> Result<Build, StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE builds SET commit_sha = ?2 WHERE id = ?1",
                params![id, commit],
            )?;
            build_with_id(c, id)
        })
        .await
    }

    pub async fn finish_build(
        &self,
        id: i64,
        out: BuildOutcome,
        now: i64,
    ) -> Result<Build, StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE builds SET status = 'succeeded', error = NULL, buildpack = ?2, \
                   buildpack_commit = ?3, sha256 = ?4, size = ?5, procfile = ?6, env = ?7, \
                   reused_from = ?8, finished_at = ?9 WHERE id = ?1",
                params![
                    id,
                    out.buildpack,
                    out.buildpack_commit,
                    out.sha256,
                    i64::try_from(out.size).unwrap_or(i64::MAX),
                    serde_json::to_string(&out.procfile).unwrap_or_else(|_| "{}".into()),
                    serde_json::to_string(&out.env).unwrap_or_else(|_| "{}".into()),
                    out.reused_from,
                    now
                ],
            )?;
            build_with_id(c, id)
        })
        .await
    }

    pub async fn fail_build(&self, id: i64, error: String, now: i64) -> Result<Build, StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE builds SET status = 'failed', error = ?2, finished_at = ?3 WHERE id = ?1",
                params![id, error, now],
            )?;
            build_with_id(c, id)
        })
        .await
    }

    /// A prebuilt (uploaded) build, already succeeded.
    pub async fn create_prebuilt(
        &self,
        b: NewBuildRecord,
        out: BuildOutcome,
    ) -> Result<Build, StoreError> {
        let now = b.now;
        let created = self.create_build(b).await?;
        self.call(move |c| {
            c.execute(
                "UPDATE builds SET prebuilt = 1, started_at = ?2 WHERE id = ?1",
                params![created.id, now],
            )?;
            Ok(())
        })
        .await?;
        self.finish_build(created.id, out, now).await
    }

    /// Builds a server restart interrupted: marked failed with the reason (they are not
    /// resumed: the work dir on the builder is rebuilt from scratch by a new request).
    pub async fn fail_unfinished_builds(&self, now: i64) -> Result<Vec<i64>, StoreError> {
        self.call(move |c| super::fail_unfinished(c, "builds", now))
            .await
    }

    /// Expires successful builds of `app` beyond the newest `keep`; returns the sha256 of
    /// artifacts no unexpired build uses any more (for the caller to delete).
    pub async fn expire_builds(&self, app: String, keep: u32) -> Result<Vec<String>, StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let app = app_named(&tx, &app)?;
            let mut stmt = tx.prepare(
                // Builds a release uses are kept: a release must stay deployable.
                "SELECT id, sha256 FROM builds b WHERE app_id = ?1 AND status = 'succeeded' \
                   AND NOT EXISTS (SELECT 1 FROM releases r WHERE r.build_id = b.id) \
                 ORDER BY id DESC LIMIT -1 OFFSET ?2",
            )?;
            let old: Vec<(i64, Option<String>)> = stmt
                .query_map(params![app.id, keep], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            drop(stmt);
            let mut orphaned = Vec::new();
            for (id, sha) in old {
                tx.execute("UPDATE builds SET status = 'expired' WHERE id = ?1", [id])?;
                if let Some(sha) = sha {
                    let users: i64 = tx.query_row(
                        "SELECT count(*) FROM builds WHERE sha256 = ?1 AND status = 'succeeded'",
                        [&sha],
                        |r| r.get(0),
                    )?;
                    if users == 0 && !orphaned.contains(&sha) {
                        orphaned.push(sha);
                    }
                }
            }
            tx.commit()?;
            Ok(orphaned)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::store;

    fn new_app(name: &str) -> NewApp {
        NewApp {
            name: name.into(),
            repo_url: "file:///srv/git/x.git".into(),
            buildpack: None,
            notes: String::new(),
            stack: None,
        }
    }

    fn req(app: &str, version: &str) -> NewBuildRecord {
        NewBuildRecord {
            app: app.into(),
            version: version.into(),
            stack: None,
            forced: false,
            requested_by: "alice".into(),
            now: 1,
        }
    }

    fn outcome(sha: &str) -> BuildOutcome {
        BuildOutcome {
            buildpack: Some("file:///bp.git".into()),
            buildpack_commit: Some("c0ffee".into()),
            sha256: sha.into(),
            size: 10,
            procfile: BTreeMap::from([("web".into(), "./run".into())]),
            env: BTreeMap::new(),
            reused_from: None,
        }
    }

    #[tokio::test]
    async fn apps_get_one_build_uid_each_kept_for_good() {
        let s = store();
        let a = s
            .create_app(
                vr_app::build::NewApp {
                    name: "a".into(),
                    repo_url: "file:///x".into(),
                    ..Default::default()
                },
                1,
            )
            .await
            .expect("a");
        let b = s
            .create_app(
                vr_app::build::NewApp {
                    name: "b".into(),
                    repo_url: "file:///y".into(),
                    ..Default::default()
                },
                1,
            )
            .await
            .expect("b");
        let ua = s.app_build_uid(a.id, vec![7; 32]).await.expect("uid");
        let ub = s.app_build_uid(b.id, vec![7; 32]).await.expect("uid");
        assert_ne!(ua, ub);
        assert!(ua >= vr_app::build::BUILD_UID_BASE);
        // Kept: another key later does not change it.
        assert_eq!(s.app_build_uid(a.id, vec![9; 32]).await.expect("uid"), ua);
        assert_eq!(s.app("a".into()).await.expect("a").build_uid, Some(ua));
    }

    #[tokio::test]
    async fn builds_flow_reuse_share_and_expire() {
        let s = store();
        s.create_app(new_app("shop"), 1).await.expect("app");
        assert!(matches!(
            s.create_app(new_app("shop"), 1).await,
            Err(StoreError::Conflict {
                field: Some("name"),
                ..
            })
        ));
        let b1 = s.create_build(req("shop", "v1")).await.expect("build");
        assert_eq!(b1.status, BuildStatus::Pending);
        // The same app+version while in flight is shared.
        assert_eq!(
            s.build_in_flight("shop".into(), "v1".into())
                .await
                .expect("q")
                .map(|b| b.id),
            Some(b1.id)
        );
        s.start_build(b1.id, "builder1".into(), 2)
            .await
            .expect("start");
        s.set_build_commit(b1.id, "abc".into())
            .await
            .expect("commit");
        let done = s
            .finish_build(b1.id, outcome("sha1"), 3)
            .await
            .expect("finish");
        assert_eq!(done.status, BuildStatus::Succeeded);
        assert_eq!(done.procfile.get("web").map(String::as_str), Some("./run"));
        assert!(
            s.build_in_flight("shop".into(), "v1".into())
                .await
                .expect("q")
                .is_none()
        );
        // A later build of the same commit can reuse it.
        let b2 = s.create_build(req("shop", "main")).await.expect("build");
        let reuse = s
            .reusable_build("shop".into(), "abc".into(), None, None, b2.id)
            .await
            .expect("q");
        assert_eq!(reuse.map(|b| b.id), Some(b1.id));
        assert!(
            s.reusable_build(
                "shop".into(),
                "abc".into(),
                Some("other".into()),
                None,
                b2.id
            )
            .await
            .expect("q")
            .is_none()
        );
        let mut shared = outcome("sha1");
        shared.reused_from = Some(b1.id);
        s.finish_build(b2.id, shared, 4).await.expect("finish");
        // Keep 1: b1 expires, but its artifact is still used by b2.
        assert!(
            s.expire_builds("shop".into(), 1)
                .await
                .expect("expire")
                .is_empty()
        );
        assert_eq!(
            s.build(b1.id).await.expect("b1").status,
            BuildStatus::Expired
        );
        let b3 = s.create_build(req("shop", "v3")).await.expect("build");
        s.finish_build(b3.id, outcome("sha3"), 5)
            .await
            .expect("finish");
        assert_eq!(
            s.expire_builds("shop".into(), 1).await.expect("expire"),
            ["sha1"]
        );
        // Apps with builds are not deleted.
        assert!(matches!(
            s.delete_app("shop".into()).await,
            Err(StoreError::Conflict { .. })
        ));
    }

    #[tokio::test]
    async fn a_restart_fails_unfinished_builds() {
        let s = store();
        s.create_app(new_app("shop"), 1).await.expect("app");
        let b = s.create_build(req("shop", "v1")).await.expect("build");
        s.start_build(b.id, "h".into(), 2).await.expect("start");
        assert_eq!(s.fail_unfinished_builds(9).await.expect("fail"), [b.id]);
        let b = s.build(b.id).await.expect("b");
        assert_eq!(b.status, BuildStatus::Failed);
        assert!(b.error.unwrap_or_default().contains("server stopped"));
    }

    #[tokio::test]
    async fn buildpacks_are_ordered_and_guarded() {
        let s = store();
        let a = s
            .create_buildpack(
                NewBuildpack {
                    url: "file:///a.git".into(),
                    order: None,
                    description: String::new(),
                },
                1,
            )
            .await
            .expect("a");
        let b = s
            .create_buildpack(
                NewBuildpack {
                    url: "file:///b.git".into(),
                    order: Some(5),
                    description: String::new(),
                },
                1,
            )
            .await
            .expect("b");
        let urls: Vec<String> = s
            .list_buildpacks()
            .await
            .expect("list")
            .into_iter()
            .map(|b| b.url)
            .collect();
        assert_eq!(urls, ["file:///b.git", "file:///a.git"]);
        let mut pinned = new_app("shop");
        pinned.buildpack = Some(a.url.clone());
        s.create_app(pinned, 1).await.expect("app");
        let err = s.delete_buildpack(a.id).await.expect_err("pinned");
        assert!(err.to_string().contains("shop"), "{err}");
        // Renaming follows into the pin.
        s.update_buildpack(
            a.id,
            BuildpackPatch {
                url: Some("file:///a2.git".into()),
                ..Default::default()
            },
        )
        .await
        .expect("update");
        assert_eq!(
            s.app("shop".into())
                .await
                .expect("app")
                .buildpack
                .as_deref(),
            Some("file:///a2.git")
        );
        s.delete_buildpack(b.id).await.expect("delete");
    }
}
