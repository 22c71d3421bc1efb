//! The activity log.

use super::{Store, StoreError};
use rusqlite::params_from_iter;
use rusqlite::types::Value;
use vr_app::api::{Event, EventQuery, Outcome};

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

pub(super) fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Event> {
    let outcome: String = r.get(5)?;
    Ok(Event {
        id: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        object: r.get(4)?,
        outcome: if outcome == "ok" {
            Outcome::Ok
        } else {
            Outcome::Failed
        },
        detail: r.get(6)?,
    })
}

/// Escapes `%`, `_` and `\` so user text matches literally inside a LIKE pattern.
fn like_literal(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

impl Store {
    pub async fn insert_event(
        &self,
        at: i64,
        actor: String,
        action: String,
        object: String,
        outcome: Outcome,
        detail: String,
    ) -> Result<Event, StoreError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO events (at, actor, action, object, outcome, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                rusqlite::params![at, actor, action, object, outcome.as_str(), detail],
            )?;
            Ok(Event {
                id: c.last_insert_rowid(),
                at,
                actor,
                action,
                object,
                outcome,
                detail,
            })
        })
        .await
    }

    /// Newest first, filtered by `q`.
    pub async fn list_events(&self, q: EventQuery) -> Result<Vec<Event>, StoreError> {
        self.call(move |c| {
            let mut sql = String::from(
                "SELECT id, at, actor, action, object, outcome, detail FROM events WHERE 1 = 1",
            );
            let mut args: Vec<Value> = Vec::new();
            if let Some(before) = q.before {
                sql.push_str(" AND id < ?");
                args.push(before.into());
            }
            if let Some(actor) = q.actor.filter(|s| !s.is_empty()) {
                sql.push_str(" AND actor = ?");
                args.push(actor.into());
            }
            if let Some(action) = q.action.filter(|s| !s.is_empty()) {
                sql.push_str(" AND action LIKE ? ESCAPE '\\'");
                args.push(format!("{}%", like_literal(&action)).into());
            }
            if let Some(text) = q.q.filter(|s| !s.is_empty()) {
                sql.push_str(" AND (object LIKE ? ESCAPE '\\' OR detail LIKE ? ESCAPE '\\')");
                let pattern = format!("%{}%", like_literal(&text));
                args.push(pattern.clone().into());
                args.push(pattern.into());
            }
            let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
            sql.push_str(&format!(" ORDER BY id DESC LIMIT {limit}"));
            let mut st = c.prepare(&sql)?;
            let rows = st
                .query_map(params_from_iter(args), from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::store;

    async fn add(s: &Store, actor: &str, action: &str, object: &str, detail: &str) {
        s.insert_event(
            1,
            actor.into(),
            action.into(),
            object.into(),
            Outcome::Ok,
            detail.into(),
        )
        .await
        .expect("insert");
    }

    #[tokio::test]
    async fn filters_and_pages() {
        let s = store();
        add(&s, "alice", "user.login", "user:alice", "").await;
        add(&s, "bob", "user.login", "user:bob", "from 10%").await;
        add(&s, "alice", "token.create", "token:cli", "").await;
        add(&s, "alice", "userxlogin", "weird", "").await;

        let all = s.list_events(EventQuery::default()).await.expect("all");
        assert_eq!(all.len(), 4);
        assert!(all[0].id > all[1].id, "newest first");

        let q = |f: fn(&mut EventQuery)| {
            let mut q = EventQuery::default();
            f(&mut q);
            q
        };
        let by_actor = s
            .list_events(q(|q| q.actor = Some("alice".into())))
            .await
            .expect("actor");
        assert_eq!(by_actor.len(), 3);
        // `_` and `.` in the prefix match literally.
        let by_action = s
            .list_events(q(|q| q.action = Some("user.".into())))
            .await
            .expect("action");
        assert_eq!(by_action.len(), 2);
        let text = s
            .list_events(q(|q| q.q = Some("10%".into())))
            .await
            .expect("text");
        assert_eq!(text.len(), 1);
        let combined = s
            .list_events(q(|q| {
                q.actor = Some("alice".into());
                q.q = Some("token".into());
            }))
            .await
            .expect("combined");
        assert_eq!(combined.len(), 1);
        let page = s
            .list_events(EventQuery {
                before: Some(all[1].id),
                limit: Some(1),
                ..Default::default()
            })
            .await
            .expect("page");
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].id, all[2].id);
    }
}
