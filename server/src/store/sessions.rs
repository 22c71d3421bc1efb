//! Browser sessions: a random cookie value whose SHA-256 is stored, with a CSRF token.

use super::{Store, StoreError};
use rusqlite::{OptionalExtension, params};
use vr_app::Role;

/// The user behind a live session.
#[derive(Debug, Clone)]
pub struct SessionPrincipal {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub csrf_token: String,
}

impl Store {
    pub async fn create_session(
        &self,
        token_hash: String,
        user_id: i64,
        csrf_token: String,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![token_hash, user_id, csrf_token, now, expires_at],
            )?;
            Ok(())
        })
        .await
    }

    /// The enabled user of an unexpired session, if any.
    pub async fn session_principal(
        &self,
        token_hash: String,
        now: i64,
    ) -> Result<Option<SessionPrincipal>, StoreError> {
        self.call(move |c| {
            let row = c
                .query_row(
                    "SELECT u.id, u.username, u.role, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id
                     WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0",
                    params![token_hash, now],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                        ))
                    },
                )
                .optional()?;
            Ok(row.and_then(|(user_id, username, role, csrf_token)| {
                Some(SessionPrincipal {
                    user_id,
                    username,
                    role: role.parse().ok()?,
                    csrf_token,
                })
            }))
        })
        .await
    }

    pub async fn delete_session(&self, token_hash: String) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
            Ok(())
        })
        .await
    }

    pub async fn delete_expired_sessions(&self, now: i64) -> Result<usize, StoreError> {
        self.call(move |c| Ok(c.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])?))
            .await
    }
}

#[cfg(test)]
mod tests {
    use crate::store::NewUserRecord;
    use crate::store::test_support::store;
    use vr_app::Role;

    #[tokio::test]
    async fn sessions_expire_and_end_with_disable() {
        let s = store();
        let u = s
            .create_user(NewUserRecord {
                username: "a".into(),
                password_hash: "h".into(),
                role: Role::Deployer,
                now: 0,
            })
            .await
            .expect("user");
        let _admin = s
            .create_user(NewUserRecord {
                username: "root".into(),
                password_hash: "h".into(),
                role: Role::Admin,
                now: 0,
            })
            .await
            .expect("admin");
        s.create_session("h1".into(), u.id, "csrf".into(), 0, 100)
            .await
            .expect("session");
        let p = s.session_principal("h1".into(), 50).await.expect("query");
        assert_eq!(p.map(|p| p.username), Some("a".to_string()));
        assert!(
            s.session_principal("h1".into(), 100)
                .await
                .expect("query")
                .is_none()
        );
        s.update_user(u.id, None, None, Some(true))
            .await
            .expect("disable");
        assert!(
            s.session_principal("h1".into(), 50)
                .await
                .expect("query")
                .is_none()
        );
    }
}
