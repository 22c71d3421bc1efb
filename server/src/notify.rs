//! Notifications: turns activity-log events into webhook deliveries and sends them.
//!
//! Two loops. The matcher reads the activity log from its cursor (woken by each new event, and
//! every few seconds regardless), turns the events that are notifications
//! (`vr_app::notify::NotifyEvent::of_activity`) into one delivery per subscribed webhook, and
//! records them and the moved cursor in one transaction: a stop loses none and sends none
//! twice. The sender POSTs due deliveries, a few at a time, each under the receiver timeout, so a
//! receiver that hangs holds one slot for one timeout; a failure is tried again after
//! `retry_base_ms`, ×4 each time, six attempts in all. Every attempt's result is recorded.

use crate::clock::now_ms;
use crate::store::{Attempt, DueDelivery, NewDelivery, Store};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, broadcast, watch};
use vr_app::api::LiveMessage;
use vr_app::notify::{
    DELIVERY_HEADER, EVENT_HEADER, Notification, NotifyEvent, SIGNATURE_HEADER, retry_after_ms,
};

/// Deliveries in flight at once.
const SENDING: usize = 8;
/// Events read per pass.
const BATCH: u32 = 500;
/// The matcher and sender look again at least this often.
const IDLE: Duration = Duration::from_secs(2);
/// Most of a receiver's answer kept in the delivery's error.
const ANSWER_KEPT: usize = 300;

#[derive(Debug, Clone, Copy)]
pub struct NotifyConfig {
    pub timeout: Duration,
    pub retry_base_ms: u64,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            timeout: Duration::from_secs(10),
            retry_base_ms: 2000,
        }
    }
}

pub struct Notifier {
    store: Store,
    config: NotifyConfig,
    http: reqwest::Client,
    /// Wakes the sender (a delivery was queued).
    wake: Notify,
    busy: Mutex<HashSet<i64>>,
}

/// `sha256=HEX` of the body under the secret.
pub fn signature(secret: &str, body: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC takes a key of any length; this cannot happen.
        Err(_) => return String::new(),
    };
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl Notifier {
    /// Starts the matcher and the sender; they end when the server stops.
    pub fn start(
        store: Store,
        live: broadcast::Sender<LiveMessage>,
        config: NotifyConfig,
        shutdown: watch::Receiver<bool>,
    ) -> Arc<Notifier> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // A receiver's redirect is not followed: the signed body goes where it was told.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("vr/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        let n = Arc::new(Notifier {
            store,
            config,
            http,
            wake: Notify::new(),
            busy: Mutex::default(),
        });
        tokio::spawn(Arc::clone(&n).match_events(live.subscribe(), shutdown.clone()));
        tokio::spawn(Arc::clone(&n).send_due(shutdown));
        n
    }

    /// Queues a test notification to one webhook now; its delivery id.
    pub async fn send_test(
        &self,
        webhook: &vr_app::notify::Webhook,
        by: &str,
    ) -> Result<i64, crate::store::StoreError> {
        let now = now_ms();
        let n = Notification {
            event: NotifyEvent::Test,
            event_id: 0,
            at: now,
            actor: by.to_string(),
            object: format!("webhook:{}", webhook.name),
            outcome: vr_app::api::Outcome::Ok,
            detail: "a test notification from vr".into(),
        };
        let id = self
            .store
            .enqueue_delivery(
                NewDelivery {
                    webhook_id: webhook.id,
                    event: NotifyEvent::Test,
                    object: n.object.clone(),
                    body: n.body(webhook.format),
                },
                now,
            )
            .await?;
        self.wake.notify_one();
        Ok(id)
    }

    async fn match_events(
        self: Arc<Self>,
        mut live: broadcast::Receiver<LiveMessage>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            match self.match_once().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(error = %e, "notifications: cannot read the activity log")
                }
            }
            tokio::select! {
                _ = shutdown.wait_for(|s| *s) => return,
                m = live.recv() => {
                    if matches!(m, Err(broadcast::error::RecvError::Closed)) {
                        return;
                    }
                }
                () = tokio::time::sleep(IDLE) => {}
            }
        }
    }

    /// One pass over the new events; true when there may be more.
    async fn match_once(&self) -> Result<bool, crate::store::StoreError> {
        let cursor = self.store.notify_cursor().await?;
        let events = self.store.events_after(cursor, BATCH).await?;
        let Some(last) = events.last().map(|e| e.id) else {
            return Ok(false);
        };
        let targets = self.store.webhook_targets().await?;
        let mut deliveries = Vec::new();
        for e in &events {
            let Some(kind) = NotifyEvent::of_activity(e) else {
                continue;
            };
            let n = Notification::of(kind, e);
            for t in targets.iter().filter(|t| t.events.contains(&kind)) {
                deliveries.push(NewDelivery {
                    webhook_id: t.id,
                    event: kind,
                    object: e.object.clone(),
                    body: n.body(t.format),
                });
            }
        }
        let queued = !deliveries.is_empty();
        self.store
            .enqueue_deliveries(last, deliveries, now_ms())
            .await?;
        if queued {
            self.wake.notify_one();
        }
        Ok(events.len() == BATCH as usize)
    }

    async fn send_due(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            let busy: Vec<i64> = self.busy_ids();
            let free = SENDING.saturating_sub(busy.len()) as u32;
            if free > 0 {
                match self.store.due_deliveries(now_ms(), free, busy).await {
                    Ok(due) => {
                        for d in due {
                            self.lock_busy().insert(d.id);
                            tokio::spawn(Arc::clone(&self).send_one(d));
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "notifications: cannot read deliveries"),
                }
            }
            // Sleep until the next retry is due (a queued delivery or an ended attempt wakes
            // it sooner), not on a fixed tick; with every slot taken, until one frees.
            let busy = self.busy_ids();
            let next = if busy.len() >= SENDING {
                Ok(None)
            } else {
                self.store.next_delivery_at(busy).await
            };
            let soonest = match next {
                Ok(Some(at)) => {
                    Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0)).min(IDLE)
                }
                _ => IDLE,
            };
            tokio::select! {
                _ = shutdown.wait_for(|s| *s) => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(soonest) => {}
            }
        }
    }

    fn lock_busy(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        self.busy.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn busy_ids(&self) -> Vec<i64> {
        self.lock_busy().iter().copied().collect()
    }

    async fn send_one(self: Arc<Self>, d: DueDelivery) {
        let answer = self
            .http
            .post(&d.url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, signature(&d.secret, &d.body))
            .header(EVENT_HEADER, d.event.as_str())
            .header(DELIVERY_HEADER, d.id.to_string())
            .body(d.body.clone())
            .send()
            .await;
        let (status, error) = match answer {
            Ok(resp) if resp.status().is_success() => (Some(resp.status().as_u16()), None),
            Ok(resp) => {
                let code = resp.status();
                let text = resp.text().await.unwrap_or_default();
                let text: String = text.trim().chars().take(ANSWER_KEPT).collect();
                (Some(code.as_u16()), Some(format!("HTTP {code}: {text}")))
            }
            Err(e) if e.is_timeout() => (
                None,
                Some(format!(
                    "no answer within {} ms",
                    self.config.timeout.as_millis()
                )),
            ),
            Err(e) => (None, Some(format!("cannot send: {}", error_chain(&e)))),
        };
        let done = d.attempts + 1;
        let now = now_ms();
        let retry_at = error.as_ref().and_then(|_| {
            retry_after_ms(done, self.config.retry_base_ms)
                .map(|ms| now + i64::try_from(ms).unwrap_or(i64::MAX / 2))
        });
        if let Some(why) = &error {
            tracing::warn!(delivery = d.id, url = %d.url, attempt = done, error = %why, retry = retry_at.is_some(), "webhook delivery failed");
        }
        let attempt = Attempt {
            response_status: status,
            error,
            retry_at,
        };
        if let Err(e) = self.store.finish_attempt(d.id, attempt, now).await {
            tracing::error!(delivery = d.id, error = %e, "cannot record a webhook attempt");
        }
        self.lock_busy().remove(&d.id);
        self.wake.notify_one();
    }
}

/// An error with its causes, for people: reqwest's own message names only the outer step.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_the_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
