//! API tokens: long random secrets for the CLI and scripts, stored as SHA-256 hashes.

use super::{Store, StoreError};
use rusqlite::{OptionalExtension, params};
use vr_app::Role;
use vr_app::api::ApiToken;

#[derive(Debug, Clone)]
pub struct TokenPrincipal {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
}

const COLUMNS: &str = "t.id, t.name, u.username, t.prefix, t.created_at, t.last_used_at, t.expires_at FROM api_tokens t JOIN users u ON u.id = t.user_id";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: r.get(0)?,
        name: r.get(1)?,
        username: r.get(2)?,
        prefix: r.get(3)?,
        created_at: r.get(4)?,
        last_used_at: r.get(5)?,
        expires_at: r.get(6)?,
    })
}

impl Store {
    pub async fn create_token(
        &self,
        user_id: i64,
        name: String,
        prefix: String,
        token_hash: String,
        now: i64,
        expires_at: Option<i64>,
    ) -> Result<ApiToken, StoreError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO api_tokens (user_id, name, prefix, token_hash, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![user_id, name, prefix, token_hash, now, expires_at],
            )?;
            let id = c.last_insert_rowid();
            Ok(c.query_row(&format!("SELECT {COLUMNS} WHERE t.id = ?1"), [id], from_row)?)
        })
        .await
    }

    pub async fn list_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>, StoreError> {
        self.call(move |c| {
            let mut st = c.prepare(&format!(
                "SELECT {COLUMNS} WHERE t.user_id = ?1 ORDER BY t.id DESC"
            ))?;
            let rows = st
                .query_map([user_id], from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    /// Deletes one of `user_id`'s tokens; another user's token is "not found", not "forbidden",
    /// so ids of other users' tokens are not revealed.
    pub async fn delete_token(&self, user_id: i64, id: i64) -> Result<ApiToken, StoreError> {
        self.call(move |c| {
            let token = c
                .query_row(
                    &format!("SELECT {COLUMNS} WHERE t.id = ?1 AND t.user_id = ?2"),
                    params![id, user_id],
                    from_row,
                )
                .optional()?
                .ok_or_else(|| StoreError::not_found(format!("token {id}")))?;
            c.execute("DELETE FROM api_tokens WHERE id = ?1", [id])?;
            Ok(token)
        })
        .await
    }

    pub async fn delete_token_by_hash(
        &self,
        user_id: i64,
        token_hash: String,
    ) -> Result<ApiToken, StoreError> {
        self.call(move |c| {
            let token = c
                .query_row(
                    &format!("SELECT {COLUMNS} WHERE t.token_hash = ?1 AND t.user_id = ?2"),
                    params![token_hash, user_id],
                    from_row,
                )
                .optional()?
                .ok_or_else(|| StoreError::not_found("token"))?;
            c.execute("DELETE FROM api_tokens WHERE id = ?1", [token.id])?;
            Ok(token)
        })
        .await
    }

    /// The enabled user owning a token, recording its use.
    pub async fn token_principal(
        &self,
        token_hash: String,
        now: i64,
    ) -> Result<Option<TokenPrincipal>, StoreError> {
        self.call(move |c| {
            let row = c
                .query_row(
                    "SELECT t.id, u.id, u.username, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id
                     WHERE t.token_hash = ?1 AND u.disabled = 0 \
                       AND (t.expires_at IS NULL OR t.expires_at > ?2)",
                    params![token_hash, now],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                        ))
                    },
                )
                .optional()?;
            let Some((token_id, user_id, username, role)) = row else {
                return Ok(None);
            };
            // Coarse (one write a minute at most) so busy scripts don't write on every call.
            c.execute(
                "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2 - 60000)",
                params![token_id, now],
            )?;
            Ok(role.parse().ok().map(|role| TokenPrincipal {
                user_id,
                username,
                role,
            }))
        })
        .await
    }
}
