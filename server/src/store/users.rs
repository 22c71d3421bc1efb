//! Users: accounts with a role and an argon2 password hash (hashing happens in `auth`).

use super::{Store, StoreError, unique_conflict};
use rusqlite::{Connection, OptionalExtension, Row, params};
use vr_app::Role;
use vr_app::api::User;

pub struct NewUserRecord {
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub now: i64,
}

const COLUMNS: &str = "id, username, role, disabled, created_at, last_login_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(2)?;
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
        role: role.parse().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e))
        })?,
        disabled: r.get(3)?,
        created_at: r.get(4)?,
        last_login_at: r.get(5)?,
    })
}

fn get(c: &Connection, id: i64) -> Result<User, StoreError> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM users WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::not_found(format!("user {id}")))
}

/// Fails when the change would leave no enabled admin.
fn ensure_an_admin_remains(c: &Connection) -> Result<(), StoreError> {
    let admins: i64 = c.query_row(
        "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0",
        [],
        |r| r.get(0),
    )?;
    if admins == 0 {
        return Err(StoreError::Conflict {
            field: None,
            message: "at least one enabled admin must remain".into(),
        });
    }
    Ok(())
}

impl Store {
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        self.call(|c| Ok(c.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?))
            .await
    }

    pub async fn create_user(&self, new: NewUserRecord) -> Result<User, StoreError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO users (username, password_hash, role, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![new.username, new.password_hash, new.role.as_str(), new.now],
            )
            .map_err(|e| {
                unique_conflict(e, "username", format!("user {:?} already exists", new.username))
            })?;
            get(c, c.last_insert_rowid())
        })
        .await
    }

    /// Creates the first user only if there is none yet, atomically: two racing setup
    /// requests cannot both create an admin.
    pub async fn create_first_user(&self, new: NewUserRecord) -> Result<User, StoreError> {
        self.call(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let n: i64 = tx.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
            if n > 0 {
                return Err(StoreError::Conflict {
                    field: None,
                    message: "setup is already done".into(),
                });
            }
            tx.execute(
                "INSERT INTO users (username, password_hash, role, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![new.username, new.password_hash, new.role.as_str(), new.now],
            )?;
            let user = get(&tx, tx.last_insert_rowid())?;
            tx.commit()?;
            Ok(user)
        })
        .await
    }

    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        self.call(|c| {
            let mut st = c.prepare(&format!("SELECT {COLUMNS} FROM users ORDER BY username"))?;
            let rows = st.query_map([], from_row)?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    pub async fn get_user(&self, id: i64) -> Result<User, StoreError> {
        self.call(move |c| get(c, id)).await
    }

    /// The user and their password hash, for login.
    pub async fn user_credentials(
        &self,
        username: String,
    ) -> Result<Option<(User, String)>, StoreError> {
        self.call(move |c| {
            Ok(c.query_row(
                &format!("SELECT {COLUMNS}, password_hash FROM users WHERE username = ?1"),
                [username],
                |r| Ok((from_row(r)?, r.get(6)?)),
            )
            .optional()?)
        })
        .await
    }

    pub async fn password_hash(&self, id: i64) -> Result<String, StoreError> {
        self.call(move |c| {
            c.query_row("SELECT password_hash FROM users WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| StoreError::not_found(format!("user {id}")))
        })
        .await
    }

    pub async fn record_login(&self, id: i64, now: i64) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE users SET last_login_at = ?2 WHERE id = ?1",
                params![id, now],
            )?;
            Ok(())
        })
        .await
    }

    /// Applies an admin's change in one transaction; refuses to leave no enabled admin.
    /// A new password or a disable ends the user's sessions; a new password also revokes
    /// the user's API tokens.
    pub async fn update_user(
        &self,
        id: i64,
        role: Option<Role>,
        password_hash: Option<String>,
        disabled: Option<bool>,
    ) -> Result<User, StoreError> {
        self.call(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            get(&tx, id)?;
            if let Some(role) = role {
                tx.execute(
                    "UPDATE users SET role = ?2 WHERE id = ?1",
                    params![id, role.as_str()],
                )?;
            }
            if let Some(hash) = &password_hash {
                tx.execute(
                    "UPDATE users SET password_hash = ?2 WHERE id = ?1",
                    params![id, hash],
                )?;
            }
            if let Some(disabled) = disabled {
                tx.execute(
                    "UPDATE users SET disabled = ?2 WHERE id = ?1",
                    params![id, disabled],
                )?;
            }
            if password_hash.is_some() || disabled == Some(true) {
                tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id])?;
            }
            // A reset is what an admin does to a compromised account: its tokens go too.
            if password_hash.is_some() {
                tx.execute("DELETE FROM api_tokens WHERE user_id = ?1", [id])?;
            }
            ensure_an_admin_remains(&tx)?;
            let user = get(&tx, id)?;
            tx.commit()?;
            Ok(user)
        })
        .await
    }

    /// Sets a user's own new password and ends their other sessions.
    pub async fn set_own_password(
        &self,
        id: i64,
        password_hash: String,
        keep_session_hash: Option<String>,
        revoke_tokens: bool,
    ) -> Result<usize, StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "UPDATE users SET password_hash = ?2 WHERE id = ?1",
                params![id, password_hash],
            )?;
            tx.execute(
                "DELETE FROM sessions WHERE user_id = ?1 AND token_hash IS NOT ?2",
                params![id, keep_session_hash],
            )?;
            let revoked = if revoke_tokens {
                tx.execute("DELETE FROM api_tokens WHERE user_id = ?1", [id])?
            } else {
                0
            };
            tx.commit()?;
            Ok(revoked)
        })
        .await
    }

    pub async fn delete_user(&self, id: i64) -> Result<User, StoreError> {
        self.call(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let user = get(&tx, id)?;
            tx.execute("DELETE FROM users WHERE id = ?1", [id])?;
            ensure_an_admin_remains(&tx)?;
            tx.commit()?;
            Ok(user)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::store;

    fn rec(name: &str, role: Role) -> NewUserRecord {
        NewUserRecord {
            username: name.into(),
            password_hash: "h".into(),
            role,
            now: 1,
        }
    }

    #[tokio::test]
    async fn first_user_only_once() {
        let s = store();
        s.create_first_user(rec("a", Role::Admin))
            .await
            .expect("first");
        let err = s.create_first_user(rec("b", Role::Admin)).await.err();
        assert!(matches!(err, Some(StoreError::Conflict { .. })));
        assert_eq!(s.count_users().await.expect("count"), 1);
    }

    #[tokio::test]
    async fn duplicate_username_is_a_conflict_on_username() {
        let s = store();
        s.create_user(rec("a", Role::Admin)).await.expect("a");
        match s.create_user(rec("a", Role::Viewer)).await {
            Err(StoreError::Conflict { field, .. }) => assert_eq!(field, Some("username")),
            other => panic!("expected conflict, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn last_admin_cannot_be_removed_demoted_or_disabled() {
        let s = store();
        let admin = s
            .create_user(rec("root", Role::Admin))
            .await
            .expect("admin");
        let viewer = s.create_user(rec("v", Role::Viewer)).await.expect("viewer");
        assert!(s.delete_user(admin.id).await.is_err());
        assert!(
            s.update_user(admin.id, Some(Role::Viewer), None, None)
                .await
                .is_err()
        );
        assert!(
            s.update_user(admin.id, None, None, Some(true))
                .await
                .is_err()
        );
        // The refused changes left everything as it was.
        assert_eq!(s.get_user(admin.id).await.expect("get").role, Role::Admin);
        s.update_user(viewer.id, Some(Role::Admin), None, None)
            .await
            .expect("promote");
        s.delete_user(admin.id)
            .await
            .expect("now another admin remains");
    }
}
