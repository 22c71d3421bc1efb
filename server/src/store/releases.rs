//! Ingredients and releases.

use super::{Store, StoreError, unique_conflict};
use rusqlite::{Connection, OptionalExtension, Row, params};
use vr_app::release::{Ingredient, Release, ReleaseConfig, ReleaseQuery};

/// An ingredient to write: the texts as given and what they parsed to.
pub struct IngredientRecord {
    pub name: String,
    pub settings_yaml: String,
    pub env_yaml: String,
    pub settings_json: String,
    pub env_json: String,
    pub secret_keys_json: String,
    pub notes: String,
    pub now: i64,
}

/// The record's columns in the order the insert and the update name them (`?1` = name or id).
fn record_params<'a>(
    key: &'a dyn rusqlite::ToSql,
    rec: &'a IngredientRecord,
) -> [&'a dyn rusqlite::ToSql; 8] {
    [
        key,
        &rec.settings_yaml,
        &rec.env_yaml,
        &rec.settings_json,
        &rec.env_json,
        &rec.secret_keys_json,
        &rec.notes,
        &rec.now,
    ]
}

fn json_err(i: usize, e: serde_json::Error) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
}

fn ingredient_from_row(r: &Row<'_>) -> rusqlite::Result<Ingredient> {
    let settings: String = r.get(4)?;
    let env: String = r.get(5)?;
    let used: String = r.get(8)?;
    let secret: String = r.get(9)?;
    Ok(Ingredient {
        id: r.get(0)?,
        name: r.get(1)?,
        settings_yaml: r.get(2)?,
        env_yaml: r.get(3)?,
        settings: serde_json::from_str(&settings).map_err(|e| json_err(4, e))?,
        env: serde_json::from_str(&env).map_err(|e| json_err(5, e))?,
        secret_keys: serde_json::from_str(&secret).map_err(|e| json_err(9, e))?,
        notes: r.get(6)?,
        updated_at: r.get(7)?,
        used_by_releases: used.split(',').filter_map(|s| s.parse().ok()).collect(),
    })
}

const INGREDIENT_SELECT: &str = "SELECT i.id, i.name, i.settings_yaml, i.env_yaml, i.settings, \
     i.env, i.notes, i.updated_at, \
     coalesce((SELECT group_concat(r.id) FROM releases r, json_each(r.ingredients) j \
               WHERE j.value = i.name), ''), i.secret_keys \
     FROM ingredients i";

fn ingredient_named(c: &Connection, name: &str) -> Result<Ingredient, StoreError> {
    c.query_row(
        &format!("{INGREDIENT_SELECT} WHERE i.name = ?1"),
        [name],
        ingredient_from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::not_found(format!("ingredient {name}")))
}

const RELEASE_COLUMNS: &str = "r.id, a.name, r.build_id, r.hash, r.config, r.ingredients, \
     r.created_by, r.created_at, \
     coalesce((SELECT b.version FROM builds b WHERE b.id = r.build_id), ''), \
     (SELECT b.commit_sha FROM builds b WHERE b.id = r.build_id)";

fn release_from_row(r: &Row<'_>) -> rusqlite::Result<Release> {
    let config: String = r.get(4)?;
    let ingredients: String = r.get(5)?;
    Ok(Release {
        id: r.get(0)?,
        app: r.get(1)?,
        build_id: r.get(2)?,
        hash: r.get(3)?,
        config: serde_json::from_str::<ReleaseConfig>(&config).map_err(|e| json_err(4, e))?,
        ingredients: serde_json::from_str(&ingredients).map_err(|e| json_err(5, e))?,
        created_by: r.get(6)?,
        created_at: r.get(7)?,
        version: r.get(8)?,
        commit: r.get(9)?,
    })
}

fn release_where(
    c: &Connection,
    clause: &str,
    p: &[&dyn rusqlite::ToSql],
) -> Result<Option<Release>, StoreError> {
    Ok(c.query_row(
        &format!(
            "SELECT {RELEASE_COLUMNS} FROM releases r JOIN apps a ON a.id = r.app_id WHERE {clause}"
        ),
        p,
        release_from_row,
    )
    .optional()?)
}

/// A release to make (hash computed by the caller from the canonical config).
pub struct ReleaseRecord {
    pub build_id: i64,
    pub hash: String,
    pub config: ReleaseConfig,
    pub ingredients: Vec<String>,
    pub created_by: String,
    pub now: i64,
}

impl Store {
    pub async fn list_ingredients(&self) -> Result<Vec<Ingredient>, StoreError> {
        self.call(|c| {
            let mut stmt = c.prepare(&format!("{INGREDIENT_SELECT} ORDER BY i.name"))?;
            let rows = stmt.query_map([], ingredient_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub async fn ingredient(&self, name: String) -> Result<Ingredient, StoreError> {
        self.call(move |c| ingredient_named(c, &name)).await
    }

    /// The named ingredients, in the order given; an unknown name is a conflict on
    /// `ingredients`.
    pub async fn ingredients_in_order(
        &self,
        names: Vec<String>,
    ) -> Result<Vec<Ingredient>, StoreError> {
        self.call(move |c| {
            names
                .iter()
                .map(|n| {
                    ingredient_named(c, n).map_err(|_| StoreError::Conflict {
                        field: Some("ingredients"),
                        message: format!("there is no ingredient named {n}"),
                    })
                })
                .collect()
        })
        .await
    }

    pub async fn create_ingredient(&self, rec: IngredientRecord) -> Result<Ingredient, StoreError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO ingredients (name, settings_yaml, env_yaml, settings, env, secret_keys, \
                   notes, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                record_params(&rec.name, &rec),
            )
            .map_err(|e| {
                unique_conflict(e, "name", format!("an ingredient named {} already exists", rec.name))
            })?;
            ingredient_named(c, &rec.name)
        })
        .await
    }

    /// Changes an ingredient in one transaction: `edit` gets the current one and returns the
    /// record to write, so parallel edits never lose each other's fields.
    pub async fn edit_ingredient<E>(&self, name: String, edit: E) -> Result<Ingredient, StoreError>
    where
        E: FnOnce(&Ingredient) -> Result<IngredientRecord, vr_app::validate::Invalid>
            + Send
            + 'static,
    {
        self.call(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let current = ingredient_named(&tx, &name)?;
            let rec = edit(&current)?;
            tx.execute(
                "UPDATE ingredients SET settings_yaml = ?2, env_yaml = ?3, settings = ?4, env = ?5, \
                   secret_keys = ?6, notes = ?7, updated_at = ?8 WHERE id = ?1",
                record_params(&current.id, &rec),
            )?;
            let updated = ingredient_named(&tx, &name)?;
            tx.commit()?;
            Ok(updated)
        })
        .await
    }

    pub async fn delete_ingredient(&self, name: String) -> Result<(), StoreError> {
        self.call(move |c| {
            if c.execute("DELETE FROM ingredients WHERE name = ?1", [&name])? == 0 {
                return Err(StoreError::not_found(format!("ingredient {name}")));
            }
            Ok(())
        })
        .await
    }

    /// Makes the release, or returns the identical one that exists (same app and hash); the
    /// bool says whether it was made now.
    pub async fn create_release(&self, rec: ReleaseRecord) -> Result<(Release, bool), StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let app_id: i64 = tx
                .query_row("SELECT app_id FROM builds WHERE id = ?1", [rec.build_id], |r| r.get(0))
                .optional()?
                .ok_or_else(|| StoreError::not_found(format!("build {}", rec.build_id)))?;
            if let Some(existing) = release_where(&tx, "r.app_id = ?1 AND r.hash = ?2", &[&app_id, &rec.hash])? {
                return Ok((existing, false));
            }
            let config = serde_json::to_string(&rec.config).map_err(|e| StoreError::Io(e.to_string()))?;
            let ingredients = serde_json::to_string(&rec.ingredients).map_err(|e| StoreError::Io(e.to_string()))?;
            tx.execute(
                "INSERT INTO releases (app_id, build_id, hash, config, ingredients, created_by, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![app_id, rec.build_id, rec.hash, config, ingredients, rec.created_by, rec.now],
            )?;
            let id = tx.last_insert_rowid();
            let release = release_where(&tx, "r.id = ?1", &[&id])?
                .ok_or_else(|| StoreError::not_found(format!("release {id}")))?;
            tx.commit()?;
            Ok((release, true))
        })
        .await
    }

    pub async fn release(&self, id: i64) -> Result<Release, StoreError> {
        self.call(move |c| {
            release_where(c, "r.id = ?1", &[&id])?
                .ok_or_else(|| StoreError::not_found(format!("release {id}")))
        })
        .await
    }

    pub async fn list_releases(&self, q: ReleaseQuery) -> Result<Vec<Release>, StoreError> {
        self.call(move |c| {
            let limit = i64::from(q.limit.unwrap_or(100).clamp(1, 1000));
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {RELEASE_COLUMNS} FROM releases r JOIN apps a ON a.id = r.app_id \
                 WHERE (?1 IS NULL OR a.name = ?1) ORDER BY r.id DESC LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![q.app, limit], release_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::store;
    use crate::store::{BuildOutcome, NewBuildRecord};
    use std::collections::BTreeMap;

    #[tokio::test]
    async fn identical_releases_are_one_and_ingredients_know_their_users() {
        let s = store();
        s.create_app(
            vr_app::build::NewApp {
                name: "shop".into(),
                repo_url: "file:///x".into(),
                ..Default::default()
            },
            1,
        )
        .await
        .expect("app");
        let b = s
            .create_prebuilt(
                NewBuildRecord {
                    app: "shop".into(),
                    version: "v1".into(),
                    stack: None,
                    forced: false,
                    requested_by: "a".into(),
                    now: 1,
                },
                BuildOutcome {
                    buildpack: None,
                    buildpack_commit: None,
                    sha256: "sha".into(),
                    size: 1,
                    procfile: BTreeMap::new(),
                    env: BTreeMap::new(),
                    reused_from: None,
                },
            )
            .await
            .expect("build");
        s.create_ingredient(IngredientRecord {
            name: "db".into(),
            settings_yaml: "a: 1".into(),
            env_yaml: String::new(),
            settings_json: r#"{"a":1}"#.into(),
            env_json: "{}".into(),
            secret_keys_json: "[]".into(),
            notes: String::new(),
            now: 1,
        })
        .await
        .expect("ingredient");
        let rec = || ReleaseRecord {
            build_id: b.id,
            hash: "abc".into(),
            config: ReleaseConfig::default(),
            ingredients: vec!["db".into()],
            created_by: "alice".into(),
            now: 2,
        };
        let (r1, made) = s.create_release(rec()).await.expect("release");
        assert!(made);
        let (r2, made) = s.create_release(rec()).await.expect("again");
        assert!(!made);
        assert_eq!(r1.id, r2.id);
        assert_eq!(
            s.ingredient("db".into())
                .await
                .expect("db")
                .used_by_releases,
            [r1.id]
        );
        assert!(matches!(
            s.ingredients_in_order(vec!["db".into(), "nope".into()])
                .await,
            Err(StoreError::Conflict {
                field: Some("ingredients"),
                ..
            })
        ));
        // Parallel edits of different fields of one ingredient all land.
        let mut tasks = Vec::new();
        for i in 0..10 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                s.edit_ingredient("db".into(), move |cur| {
                    Ok(IngredientRecord {
                        name: cur.name.clone(),
                        settings_yaml: cur.settings_yaml.clone(),
                        env_yaml: cur.env_yaml.clone(),
                        settings_json: serde_json::Value::Object(cur.settings.clone()).to_string(),
                        env_json: serde_json::to_string(&cur.env).unwrap_or_default(),
                        secret_keys_json: "[]".into(),
                        notes: format!("{}{i},", cur.notes),
                        now: 3,
                    })
                })
                .await
            }));
        }
        for t in tasks {
            t.await.expect("join").expect("edit");
        }
        let db = s.ingredient("db".into()).await.expect("db");
        assert_eq!(db.notes.matches(',').count(), 10, "{}", db.notes);
        assert_eq!(db.settings_yaml, "a: 1", "untouched fields stay");
        // A build with a release never expires.
        assert!(
            s.expire_builds("shop".into(), 0)
                .await
                .expect("expire")
                .is_empty()
        );
        assert_eq!(
            s.build(b.id).await.expect("b").status,
            vr_app::build::BuildStatus::Succeeded
        );
    }
}
