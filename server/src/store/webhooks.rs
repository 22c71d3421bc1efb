//! Webhooks, their deliveries, and the notifier's cursor over the activity log.

use super::{Store, StoreError, unique_conflict};
use rusqlite::{Connection, OptionalExtension, params};
use vr_app::api::Event;
use vr_app::notify::{Delivery, DeliveryStatus, NotifyEvent, Webhook, WebhookFormat};

/// A delivery to make: what, to which webhook, the body.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub webhook_id: i64,
    pub event: NotifyEvent,
    pub object: String,
    pub body: String,
}

/// A delivery due now, with what sending it needs.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: i64,
    pub url: String,
    pub secret: String,
    pub event: NotifyEvent,
    pub body: String,
    pub attempts: u32,
}

/// A webhook as the notifier matches events against it.
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    pub id: i64,
    pub events: Vec<NotifyEvent>,
    pub format: WebhookFormat,
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub response_status: Option<u16>,
    pub error: Option<String>,
    /// `Some(when)`: failed, try again then; `None` with an error: failed for good.
    pub retry_at: Option<i64>,
}

const DAY_MS: i64 = 86_400_000;

fn events_column(s: &str) -> Vec<NotifyEvent> {
    s.split(',').filter_map(NotifyEvent::parse).collect()
}

fn events_text(events: &[NotifyEvent]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn format_of(s: &str) -> WebhookFormat {
    if s == "slack" {
        WebhookFormat::Slack
    } else {
        WebhookFormat::Json
    }
}

fn webhook_row(c: &Connection, id: i64, now: i64) -> Result<Webhook, StoreError> {
    let mut w = c
        .query_row(
            "SELECT name, url, events, format, enabled, created_by, created_at \
             FROM webhooks WHERE id = ?1",
            [id],
            |r| {
                Ok(Webhook {
                    id,
                    name: r.get(0)?,
                    url: r.get(1)?,
                    events: events_column(&r.get::<_, String>(2)?),
                    format: format_of(&r.get::<_, String>(3)?),
                    enabled: r.get(4)?,
                    created_by: r.get(5)?,
                    created_at: r.get(6)?,
                    pending: 0,
                    failed_recently: 0,
                })
            },
        )
        .optional()?
        .ok_or_else(|| StoreError::not_found(format!("webhook {id}")))?;
    let (pending, failed): (u32, u32) = c.query_row(
        "SELECT COALESCE(SUM(status = 'pending'), 0), \
                COALESCE(SUM(status = 'failed' AND finished_at >= ?2), 0) \
         FROM deliveries WHERE webhook_id = ?1",
        params![id, now - DAY_MS],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    w.pending = pending;
    w.failed_recently = failed;
    Ok(w)
}

fn id_named(c: &Connection, name: &str) -> Result<i64, StoreError> {
    c.query_row("SELECT id FROM webhooks WHERE name = ?1", [name], |r| {
        r.get(0)
    })
    .optional()?
    .ok_or_else(|| StoreError::not_found(format!("webhook {name}")))
}

impl Store {
    pub async fn list_webhooks(&self, now: i64) -> Result<Vec<Webhook>, StoreError> {
        self.call(move |c| {
            let ids: Vec<i64> = c
                .prepare("SELECT id FROM webhooks ORDER BY name")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            ids.into_iter().map(|id| webhook_row(c, id, now)).collect()
        })
        .await
    }

    pub async fn webhook(&self, name: String, now: i64) -> Result<Webhook, StoreError> {
        self.call(move |c| webhook_row(c, id_named(c, &name)?, now))
            .await
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn create_webhook(
        &self,
        name: String,
        url: String,
        events: Vec<NotifyEvent>,
        format: WebhookFormat,
        secret: String,
        by: String,
        now: i64,
    ) -> Result<Webhook, StoreError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO webhooks (name, url, events, format, secret, created_by, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    name,
                    url,
                    events_text(&events),
                    format.as_str(),
                    secret,
                    by,
                    now
                ],
            )
            .map_err(|e| {
                unique_conflict(e, "name", format!("a webhook named {name} already exists"))
            })?;
            webhook_row(c, c.last_insert_rowid(), now)
        })
        .await
    }

    /// Changes what is given; `secret` replaces the signing key.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_webhook(
        &self,
        name: String,
        url: Option<String>,
        events: Option<Vec<NotifyEvent>>,
        format: Option<WebhookFormat>,
        enabled: Option<bool>,
        secret: Option<String>,
        now: i64,
    ) -> Result<Webhook, StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let id = id_named(&tx, &name)?;
            if let Some(url) = url {
                tx.execute(
                    "UPDATE webhooks SET url = ?2 WHERE id = ?1",
                    params![id, url],
                )?;
            }
            if let Some(events) = events {
                tx.execute(
                    "UPDATE webhooks SET events = ?2 WHERE id = ?1",
                    params![id, events_text(&events)],
                )?;
            }
            if let Some(format) = format {
                tx.execute(
                    "UPDATE webhooks SET format = ?2 WHERE id = ?1",
                    params![id, format.as_str()],
                )?;
            }
            if let Some(enabled) = enabled {
                tx.execute(
                    "UPDATE webhooks SET enabled = ?2 WHERE id = ?1",
                    params![id, enabled],
                )?;
            }
            if let Some(secret) = secret {
                tx.execute(
                    "UPDATE webhooks SET secret = ?2 WHERE id = ?1",
                    params![id, secret],
                )?;
            }
            let w = webhook_row(&tx, id, now)?;
            tx.commit()?;
            Ok(w)
        })
        .await
    }

    /// Deletes the webhook and its deliveries.
    pub async fn delete_webhook(&self, name: String) -> Result<(), StoreError> {
        self.call(move |c| {
            let id = id_named(c, &name)?;
            c.execute("DELETE FROM webhooks WHERE id = ?1", [id])?;
            Ok(())
        })
        .await
    }

    /// The enabled webhooks, as the notifier matches events against them.
    pub async fn webhook_targets(&self) -> Result<Vec<WebhookTarget>, StoreError> {
        self.call(|c| {
            let rows = c
                .prepare("SELECT id, events, format FROM webhooks WHERE enabled = 1")?
                .query_map([], |r| {
                    Ok(WebhookTarget {
                        id: r.get(0)?,
                        events: events_column(&r.get::<_, String>(1)?),
                        format: format_of(&r.get::<_, String>(2)?),
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    /// Where the notifier stands in the activity log: set to the newest event on its first
    /// start (what happened before webhooks existed is not sent).
    pub async fn notify_cursor(&self) -> Result<i64, StoreError> {
        self.call(|c| {
            let tx = c.transaction()?;
            let cursor: Option<i64> = tx
                .query_row(
                    "SELECT last_event_id FROM notify_cursor WHERE id = 1",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            let cursor = match cursor {
                Some(c) => c,
                None => {
                    let newest: i64 =
                        tx.query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| r.get(0))?;
                    tx.execute(
                        "INSERT INTO notify_cursor (id, last_event_id) VALUES (1, ?1)",
                        [newest],
                    )?;
                    newest
                }
            };
            tx.commit()?;
            Ok(cursor)
        })
        .await
    }

    /// Events after `cursor`, oldest first.
    pub async fn events_after(&self, cursor: i64, limit: u32) -> Result<Vec<Event>, StoreError> {
        self.call(move |c| {
            let rows = c
                .prepare(
                    "SELECT id, at, actor, action, object, outcome, detail FROM events \
                     WHERE id > ?1 ORDER BY id LIMIT ?2",
                )?
                .query_map(params![cursor, limit], super::events::from_row)?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    /// Records the deliveries and moves the cursor to `cursor`, in one transaction.
    pub async fn enqueue_deliveries(
        &self,
        cursor: i64,
        deliveries: Vec<NewDelivery>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            for d in &deliveries {
                insert_delivery(&tx, d, now)?;
            }
            tx.execute(
                "UPDATE notify_cursor SET last_event_id = MAX(last_event_id, ?1) WHERE id = 1",
                [cursor],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// One delivery outside the activity log (a test).
    pub async fn enqueue_delivery(&self, d: NewDelivery, now: i64) -> Result<i64, StoreError> {
        self.call(move |c| insert_delivery(c, &d, now)).await
    }

    /// Pending deliveries whose time has come, oldest first, leaving out `busy` ones.
    pub async fn due_deliveries(
        &self,
        now: i64,
        limit: u32,
        busy: Vec<i64>,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        self.call(move |c| {
            let rows = c
                .prepare(
                    "SELECT d.id, w.url, w.secret, d.event, d.body, d.attempts \
                     FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id \
                     WHERE d.status = 'pending' AND d.next_at <= ?1 ORDER BY d.next_at, d.id LIMIT ?2",
                )?
                .query_map(params![now, limit + busy.len() as u32], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, u32>(5)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows
                .into_iter()
                .filter(|(id, ..)| !busy.contains(id))
                .filter_map(|(id, url, secret, event, body, attempts)| {
                    Some(DueDelivery {
                        id,
                        url,
                        secret,
                        event: NotifyEvent::parse(&event)?,
                        body,
                        attempts,
                    })
                })
                .take(limit as usize)
                .collect())
        })
        .await
    }

    /// When the soonest pending delivery not in `busy` is due (none: nothing waits).
    pub async fn next_delivery_at(&self, busy: Vec<i64>) -> Result<Option<i64>, StoreError> {
        self.call(move |c| {
            let ids: Vec<String> = busy.iter().map(i64::to_string).collect();
            let sql = format!(
                "SELECT MIN(next_at) FROM deliveries WHERE status = 'pending' AND id NOT IN ({})",
                ids.join(",")
            );
            Ok(c.query_row(&sql, [], |r| r.get(0))?)
        })
        .await
    }

    /// Records an attempt's end: delivered, failed for now, or failed for good.
    pub async fn finish_attempt(
        &self,
        id: i64,
        attempt: Attempt,
        now: i64,
    ) -> Result<(), StoreError> {
        self.call(move |c| {
            let status = match (&attempt.error, attempt.retry_at) {
                (None, _) => DeliveryStatus::Delivered,
                (Some(_), Some(_)) => DeliveryStatus::Pending,
                (Some(_), None) => DeliveryStatus::Failed,
            };
            let finished = (status != DeliveryStatus::Pending).then_some(now);
            c.execute(
                "UPDATE deliveries SET attempts = attempts + 1, status = ?2, response_status = ?3, \
                   error = ?4, next_at = ?5, finished_at = ?6 WHERE id = ?1",
                params![
                    id,
                    status.as_str(),
                    attempt.response_status,
                    attempt.error,
                    attempt.retry_at,
                    finished
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// A webhook's newest deliveries first.
    pub async fn list_deliveries(
        &self,
        name: String,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.call(move |c| {
            let id = id_named(c, &name)?;
            let rows = c
                .prepare(
                    "SELECT id, event, object, status, attempts, response_status, error, created_at, \
                       next_at, finished_at FROM deliveries WHERE webhook_id = ?1 \
                     ORDER BY id DESC LIMIT ?2",
                )?
                .query_map(params![id, limit], |r| {
                    let event: String = r.get(1)?;
                    let status: String = r.get(3)?;
                    Ok(Delivery {
                        id: r.get(0)?,
                        webhook: name.clone(),
                        event: NotifyEvent::parse(&event).unwrap_or(NotifyEvent::Test),
                        object: r.get(2)?,
                        status: DeliveryStatus::parse(&status).unwrap_or(DeliveryStatus::Failed),
                        attempts: r.get(4)?,
                        response_status: r.get(5)?,
                        error: r.get(6)?,
                        created_at: r.get(7)?,
                        next_at: r.get(8)?,
                        finished_at: r.get(9)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }
}

fn insert_delivery(c: &Connection, d: &NewDelivery, now: i64) -> Result<i64, StoreError> {
    c.execute(
        "INSERT INTO deliveries (webhook_id, event, object, body, status, created_at, next_at) \
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)",
        params![d.webhook_id, d.event.as_str(), d.object, d.body, now],
    )?;
    Ok(c.last_insert_rowid())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::store;

    #[tokio::test]
    async fn deliveries_wait_retry_and_end_and_the_cursor_moves_with_them() {
        let s = store();
        let w = s
            .create_webhook(
                "ops".into(),
                "http://127.0.0.1:9/hook".into(),
                vec![NotifyEvent::DispatchFailed],
                WebhookFormat::Json,
                "a-long-enough-secret".into(),
                "admin".into(),
                1,
            )
            .await
            .expect("create");
        let again = s
            .create_webhook(
                "ops".into(),
                "http://x/".into(),
                vec![NotifyEvent::BuildFailed],
                WebhookFormat::Slack,
                "a-long-enough-secret".into(),
                "admin".into(),
                1,
            )
            .await;
        assert!(matches!(
            again,
            Err(StoreError::Conflict {
                field: Some("name"),
                ..
            })
        ));
        assert_eq!(s.notify_cursor().await.expect("cursor"), 0);
        let d = NewDelivery {
            webhook_id: w.id,
            event: NotifyEvent::DispatchFailed,
            object: "swarm:x".into(),
            body: "{}".into(),
        };
        s.enqueue_deliveries(7, vec![d], 100)
            .await
            .expect("enqueue");
        assert_eq!(s.notify_cursor().await.expect("cursor"), 7);
        let due = s.due_deliveries(100, 10, vec![]).await.expect("due");
        assert_eq!(due.len(), 1);
        assert!(
            s.due_deliveries(100, 10, vec![due[0].id])
                .await
                .expect("due")
                .is_empty()
        );
        let retry = Attempt {
            response_status: Some(500),
            error: Some("HTTP 500".into()),
            retry_at: Some(200),
        };
        s.finish_attempt(due[0].id, retry, 100)
            .await
            .expect("attempt");
        assert!(
            s.due_deliveries(150, 10, vec![])
                .await
                .expect("due")
                .is_empty()
        );
        assert_eq!(
            s.due_deliveries(200, 10, vec![]).await.expect("due").len(),
            1
        );
        let given_up = Attempt {
            response_status: None,
            error: Some("timed out".into()),
            retry_at: None,
        };
        s.finish_attempt(due[0].id, given_up, 300)
            .await
            .expect("attempt");
        let list = s.list_deliveries("ops".into(), 10).await.expect("list");
        assert_eq!(list[0].status, DeliveryStatus::Failed);
        assert_eq!(list[0].attempts, 2);
        assert_eq!(list[0].error.as_deref(), Some("timed out"));
        let w = s.webhook("ops".into(), 400).await.expect("webhook");
        assert_eq!((w.pending, w.failed_recently), (0, 1));
        s.delete_webhook("ops".into()).await.expect("delete");
        assert!(
            s.due_deliveries(1000, 10, vec![])
                .await
                .expect("due")
                .is_empty()
        );
    }
}
