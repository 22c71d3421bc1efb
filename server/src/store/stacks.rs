//! Stack images (issue 16): one row per stored image of a stack, the tarball kept by sha256.

use super::{Store, StoreError};
use rusqlite::{Connection, OptionalExtension, Row, params};
use vr_app::build::BuildStatus;
use vr_app::stack::{NewStackBuild, StackImage, StackRef, StackSource};

/// Releases count as users of an image through the stack in their config.
const IMAGE_COLUMNS: &str = "i.id, i.stack, i.status, i.sha256, i.size, i.created_by, i.created_at, \
     (SELECT count(*) FROM releases r WHERE json_extract(r.config, '$.stack.sha256') = i.sha256), \
     i.id IS (SELECT max(id) FROM stack_images n WHERE n.stack = i.stack AND n.status = 'succeeded'), \
     i.source, i.recipe, i.host, i.error, i.finished_at";

fn image_from_row(r: &Row<'_>) -> rusqlite::Result<StackImage> {
    let status: String = r.get(2)?;
    let source: String = r.get(9)?;
    let recipe: String = r.get(10)?;
    Ok(StackImage {
        id: r.get(0)?,
        stack: r.get(1)?,
        status: BuildStatus::parse(&status).unwrap_or(BuildStatus::Failed),
        sha256: r.get(3)?,
        size: r
            .get::<_, Option<i64>>(4)?
            .and_then(|n| u64::try_from(n).ok()),
        created_by: r.get(5)?,
        created_at: r.get(6)?,
        used_by_releases: u32::try_from(r.get::<_, i64>(7)?).unwrap_or(u32::MAX),
        current: r.get(8)?,
        source: StackSource::parse(&source).unwrap_or(StackSource::Upload),
        recipe: serde_json::from_str::<NewStackBuild>(&recipe)
            .map(|b| b.summary())
            .unwrap_or_default(),
        host: r.get(11)?,
        error: r.get(12)?,
        finished_at: r.get(13)?,
    })
}

fn image_with_id(c: &Connection, id: i64) -> Result<StackImage, StoreError> {
    c.query_row(
        &format!("SELECT {IMAGE_COLUMNS} FROM stack_images i WHERE i.id = ?1"),
        [id],
        image_from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::not_found(format!("stack image {id}")))
}

impl Store {
    /// Every image, newest first.
    pub async fn list_stack_images(&self) -> Result<Vec<StackImage>, StoreError> {
        self.call(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {IMAGE_COLUMNS} FROM stack_images i ORDER BY i.id DESC"
            ))?;
            let rows = stmt.query_map([], image_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// A stored image of `stack`.
    pub async fn create_stack_image(
        &self,
        stack: String,
        sha256: String,
        size: u64,
        actor: String,
        now: i64,
    ) -> Result<StackImage, StoreError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO stack_images (stack, status, source, sha256, size, created_by, \
                   created_at, finished_at) VALUES (?1, 'succeeded', 'upload', ?2, ?3, ?4, ?5, ?5)",
                params![
                    stack,
                    sha256,
                    i64::try_from(size).unwrap_or(i64::MAX),
                    actor,
                    now
                ],
            )?;
            image_with_id(c, c.last_insert_rowid())
        })
        .await
    }

    pub async fn stack_image(&self, id: i64) -> Result<StackImage, StoreError> {
        self.call(move |c| image_with_id(c, id)).await
    }

    /// An image mmdebstrap is to build: `pending`, its recipe kept.
    pub async fn create_stack_build(
        &self,
        stack: String,
        recipe: NewStackBuild,
        actor: String,
        now: i64,
    ) -> Result<StackImage, StoreError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO stack_images (stack, status, source, recipe, created_by, created_at) \
                 VALUES (?1, 'pending', 'mmdebstrap', ?2, ?3, ?4)",
                params![
                    stack,
                    serde_json::to_string(&recipe).unwrap_or_default(),
                    actor,
                    now
                ],
            )?;
            image_with_id(c, c.last_insert_rowid())
        })
        .await
    }

    pub async fn start_stack_build(&self, id: i64, host: String) -> Result<StackImage, StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE stack_images SET status = 'running', host = ?2 WHERE id = ?1",
                params![id, host],
            )?;
            image_with_id(c, id)
        })
        .await
    }

    pub async fn finish_stack_build(
        &self,
        id: i64,
        sha256: String,
        size: u64,
        now: i64,
    ) -> Result<StackImage, StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE stack_images SET status = 'succeeded', sha256 = ?2, size = ?3, \
                   finished_at = ?4 WHERE id = ?1",
                params![id, sha256, i64::try_from(size).unwrap_or(i64::MAX), now],
            )?;
            image_with_id(c, id)
        })
        .await
    }

    pub async fn fail_stack_build(
        &self,
        id: i64,
        error: String,
        now: i64,
    ) -> Result<StackImage, StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE stack_images SET status = 'failed', error = ?2, finished_at = ?3 WHERE id = ?1",
                params![id, error, now],
            )?;
            image_with_id(c, id)
        })
        .await
    }

    /// Image builds a stopped server left unfinished: failed with the reason.
    pub async fn fail_unfinished_stack_builds(&self, now: i64) -> Result<Vec<i64>, StoreError> {
        self.call(move |c| super::fail_unfinished(c, "stack_images", now))
            .await
    }

    /// The image new builds of `stack` compile in: its newest stored one.
    pub async fn current_stack_image(&self, stack: String) -> Result<StackRef, StoreError> {
        self.call(move |c| {
            c.query_row(
                "SELECT sha256 FROM stack_images WHERE stack = ?1 AND status = 'succeeded' \
                   AND sha256 IS NOT NULL ORDER BY id DESC LIMIT 1",
                [&stack],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(|sha256| StackRef {
                name: stack.clone(),
                sha256,
            })
            .ok_or_else(|| {
                StoreError::not_found(format!("stack {stack} (upload an image of it first)"))
            })
        })
        .await
    }

    /// Whether the image is stored (not expired) under any stack name.
    pub async fn stack_image_stored(&self, sha256: String) -> Result<bool, StoreError> {
        self.call(move |c| {
            Ok(c.query_row(
                "SELECT EXISTS (SELECT 1 FROM stack_images WHERE sha256 = ?1 AND status = 'succeeded')",
                [sha256],
                |r| r.get(0),
            )?)
        })
        .await
    }

    /// Expires the images nothing needs any more: not the newest of their stack, used by no
    /// release and by no unexpired build. Returns the sha256 of tarballs no stored image
    /// shares (for the caller to delete).
    pub async fn expire_stack_images(&self) -> Result<Vec<String>, StoreError> {
        self.call(|c| {
            let tx = c.transaction()?;
            let old: Vec<(i64, Option<String>)> = {
                let mut stmt = tx.prepare(
                    "SELECT i.id, i.sha256 FROM stack_images i WHERE i.status = 'succeeded' \
                       AND i.id != (SELECT max(id) FROM stack_images n \
                                    WHERE n.stack = i.stack AND n.status = 'succeeded') \
                       AND NOT EXISTS (SELECT 1 FROM releases r \
                                       WHERE json_extract(r.config, '$.stack.sha256') = i.sha256) \
                       AND NOT EXISTS (SELECT 1 FROM builds b WHERE b.stack_sha256 = i.sha256 \
                                       AND b.status IN ('pending', 'running', 'succeeded'))",
                )?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<Result<_, _>>()?
            };
            let mut gone = Vec::new();
            for (id, sha) in old {
                let Some(sha) = sha else { continue };
                tx.execute(
                    "UPDATE stack_images SET status = 'expired' WHERE id = ?1",
                    [id],
                )?;
                let left: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM stack_images WHERE sha256 = ?1 AND status = 'succeeded')",
                    [&sha],
                    |r| r.get(0),
                )?;
                if !left && !gone.contains(&sha) {
                    gone.push(sha);
                }
            }
            tx.commit()?;
            Ok(gone)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use crate::store::test_support::store;

    #[tokio::test]
    async fn the_newest_image_is_current_and_old_unused_ones_expire() {
        let s = store();
        assert!(s.current_stack_image("tiny".into()).await.is_err());
        let a = s
            .create_stack_image("tiny".into(), "aa".into(), 10, "ann".into(), 1)
            .await
            .expect("a");
        assert!(a.current);
        s.create_stack_image("tiny".into(), "bb".into(), 11, "ann".into(), 2)
            .await
            .expect("b");
        // Another stack holding the same bytes keeps the tarball.
        s.create_stack_image("twin".into(), "aa".into(), 10, "ann".into(), 3)
            .await
            .expect("twin");
        let cur = s.current_stack_image("tiny".into()).await.expect("current");
        assert_eq!(cur.sha256, "bb");
        assert_eq!(
            s.expire_stack_images().await.expect("expire"),
            Vec::<String>::new()
        );
        let images = s.list_stack_images().await.expect("list");
        let old = images.iter().find(|i| i.id == a.id).expect("old");
        assert_eq!(old.status, vr_app::build::BuildStatus::Expired);
        assert!(!old.current);
        assert!(s.stack_image_stored("aa".into()).await.expect("stored"));
        // Nothing else is old enough to go: each stack's newest stays.
        s.create_stack_image("twin".into(), "cc".into(), 1, "ann".into(), 4)
            .await
            .expect("c");
        assert_eq!(
            s.expire_stack_images().await.expect("expire"),
            vec!["aa".to_string()]
        );
        assert!(!s.stack_image_stored("aa".into()).await.expect("stored"));
    }

    #[tokio::test]
    async fn an_image_build_a_restart_interrupted_is_failed_and_never_current() {
        let s = store();
        let recipe = vr_app::stack::NewStackBuild {
            suite: "bookworm".into(),
            ..Default::default()
        };
        let b = s
            .create_stack_build("deb".into(), recipe, "ann".into(), 1)
            .await
            .expect("build");
        assert_eq!(b.status, vr_app::build::BuildStatus::Pending);
        assert_eq!(b.recipe, "bookworm (minbase)");
        assert!(!b.current && b.sha256.is_none());
        assert!(s.current_stack_image("deb".into()).await.is_err());
        s.start_stack_build(b.id, "builder1".into())
            .await
            .expect("start");
        assert_eq!(
            s.fail_unfinished_stack_builds(5).await.expect("recover"),
            vec![b.id]
        );
        let failed = s.stack_image(b.id).await.expect("image");
        assert_eq!(failed.status, vr_app::build::BuildStatus::Failed);
        assert!(failed.error.is_some_and(|e| e.contains("server stopped")));
    }
}
