//! Notifications: outgoing webhooks, the events they carry, which activity a notification is,
//! a host's health change as one, the bodies sent (vr's JSON or a Slack-compatible text) and the
//! retry schedule.

use serde::{Deserialize, Serialize};

use crate::api::{Event, Outcome};
use crate::fleet::Health;
use crate::validate::{Invalid, simple_name};

pub mod paths {
    pub const WEBHOOKS: &str = "/api/webhooks";

    pub fn webhook(name: &str) -> String {
        format!("{WEBHOOKS}/{}", crate::fleet::path_segment(name))
    }

    pub fn webhook_test(name: &str) -> String {
        format!("{}/test", webhook(name))
    }

    pub fn webhook_deliveries(name: &str) -> String {
        format!("{}/deliveries", webhook(name))
    }
}

/// The header carrying `sha256=HEX`: HMAC-SHA256 of the body with the webhook's secret.
pub const SIGNATURE_HEADER: &str = "x-vr-signature";
/// The header naming the event (`dispatch.failed`…).
pub const EVENT_HEADER: &str = "x-vr-event";
/// The header carrying the delivery's id (the same on every retry of it).
pub const DELIVERY_HEADER: &str = "x-vr-delivery";
/// Attempts of one delivery before it is given up.
pub const MAX_ATTEMPTS: u32 = 6;

/// What a webhook can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum NotifyEvent {
    #[serde(rename = "dispatch.succeeded")]
    DispatchSucceeded,
    #[serde(rename = "dispatch.failed")]
    DispatchFailed,
    #[serde(rename = "host.unreachable")]
    HostUnreachable,
    #[serde(rename = "host.recovered")]
    HostRecovered,
    #[serde(rename = "host.key_changed")]
    HostKeyChanged,
    #[serde(rename = "uptest.failed")]
    UptestFailed,
    #[serde(rename = "build.failed")]
    BuildFailed,
    /// Sent on purpose ("Send a test"), whatever the webhook's events.
    #[serde(rename = "test")]
    Test,
}

impl NotifyEvent {
    pub const ALL: [NotifyEvent; 8] = [
        NotifyEvent::DispatchSucceeded,
        NotifyEvent::DispatchFailed,
        NotifyEvent::HostUnreachable,
        NotifyEvent::HostRecovered,
        NotifyEvent::HostKeyChanged,
        NotifyEvent::UptestFailed,
        NotifyEvent::BuildFailed,
        NotifyEvent::Test,
    ];

    /// The events a webhook may subscribe to (all but `test`).
    pub fn subscribable() -> impl Iterator<Item = NotifyEvent> {
        Self::ALL.into_iter().filter(|e| *e != NotifyEvent::Test)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NotifyEvent::DispatchSucceeded => "dispatch.succeeded",
            NotifyEvent::DispatchFailed => "dispatch.failed",
            NotifyEvent::HostUnreachable => "host.unreachable",
            NotifyEvent::HostRecovered => "host.recovered",
            NotifyEvent::HostKeyChanged => "host.key_changed",
            NotifyEvent::UptestFailed => "uptest.failed",
            NotifyEvent::BuildFailed => "build.failed",
            NotifyEvent::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<NotifyEvent> {
        Self::ALL.into_iter().find(|e| e.as_str() == s.trim())
    }

    /// The notification an activity-log event is, if any.
    pub fn of_activity(e: &Event) -> Option<NotifyEvent> {
        let failed = e.outcome == Outcome::Failed;
        Some(match e.action.as_str() {
            "dispatch.finish" if failed => NotifyEvent::DispatchFailed,
            "dispatch.finish" => NotifyEvent::DispatchSucceeded,
            "build.finish" if failed => NotifyEvent::BuildFailed,
            "uptest.fail" => NotifyEvent::UptestFailed,
            a if a == HostChange::Lost.action() => NotifyEvent::HostUnreachable,
            a if a == HostChange::Recovered.action() => NotifyEvent::HostRecovered,
            a if a == HostChange::KeyChanged.action() => NotifyEvent::HostKeyChanged,
            _ => return None,
        })
    }
}

/// A host's health change worth an activity event (and a notification).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostChange {
    Lost,
    Recovered,
    KeyChanged,
}

impl HostChange {
    /// From the health before a poll to the health after it. A host first seen failing is lost;
    /// Supervisor not answering counts as lost (nothing on the host can be managed).
    pub fn between(was: Option<Health>, now: Health) -> Option<HostChange> {
        let down = |h: Health| matches!(h, Health::Unreachable | Health::SupervisorDown);
        match now {
            Health::KeyChanged if was != Some(Health::KeyChanged) => Some(HostChange::KeyChanged),
            h if down(h) && !was.is_some_and(down) => Some(HostChange::Lost),
            Health::Ok if was.is_some_and(|w| down(w) || w == Health::KeyChanged) => {
                Some(HostChange::Recovered)
            }
            _ => None,
        }
    }

    /// The activity-log action recording it.
    pub fn action(self) -> &'static str {
        match self {
            HostChange::Lost => "host.unreachable",
            HostChange::Recovered => "host.recovered",
            HostChange::KeyChanged => "host.key_changed",
        }
    }
}

/// How a webhook's body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// vr's JSON: [`Notification`].
    #[default]
    Json,
    /// `{"text": "…"}`, which Slack's (and Mattermost's, Rocket.Chat's…) incoming webhooks take.
    Slack,
}

impl WebhookFormat {
    pub const ALL: [WebhookFormat; 2] = [WebhookFormat::Json, WebhookFormat::Slack];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Json => "json",
            WebhookFormat::Slack => "slack",
        }
    }
}

/// `POST /api/webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    pub name: String,
    pub url: String,
    pub events: Vec<NotifyEvent>,
    #[serde(default)]
    pub format: WebhookFormat,
    /// The signing secret; vr makes one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// `PATCH /api/webhooks/{name}`: what to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<NotifyEvent>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<WebhookFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Make a new signing secret (answered once).
    #[serde(default)]
    pub new_secret: bool,
}

/// A webhook as the API shows it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Webhook {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub events: Vec<NotifyEvent>,
    pub format: WebhookFormat,
    pub enabled: bool,
    pub created_by: String,
    pub created_at: i64,
    /// Deliveries waiting (including retries), and failed for good in the last day.
    pub pending: u32,
    pub failed_recently: u32,
}

impl Webhook {
    /// The URL without its path and query, which often hold a credential (Slack's do): what
    /// the activity log, which every viewer reads, says.
    pub fn url_shown(&self) -> String {
        let (scheme, rest) = self.url.split_once("://").unwrap_or(("", &self.url));
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        if rest.len() > host.len() {
            format!("{scheme}://{host}/…")
        } else {
            format!("{scheme}://{host}")
        }
    }
}

/// A webhook and its signing secret, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WebhookSecret {
    pub webhook: Webhook,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Not sent yet, or failed and waiting for its next attempt.
    Pending,
    Delivered,
    /// Every attempt failed.
    Failed,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 3] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Delivered,
        DeliveryStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// One notification sent (or to send) to one webhook, with its last attempt's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Delivery {
    pub id: i64,
    pub webhook: String,
    pub event: NotifyEvent,
    pub object: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// The receiver's HTTP status of the last attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_status: Option<u16>,
    /// Why the last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub created_at: i64,
    /// When the next attempt is due (pending only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
}

/// `GET /api/webhooks/{name}/deliveries?limit=`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `POST /api/webhooks/{name}/test`: the delivery queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestQueued {
    pub delivery: i64,
}

/// The JSON body of a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Notification {
    pub event: NotifyEvent,
    /// The activity-log event it comes from (0 for a test).
    pub event_id: i64,
    pub at: i64,
    pub actor: String,
    /// What it is about: `swarm:shop-prod-web`, `host:web1`, `build:12`…
    pub object: String,
    pub outcome: Outcome,
    pub detail: String,
}

impl Notification {
    pub fn of(event: NotifyEvent, e: &Event) -> Notification {
        Notification {
            event,
            event_id: e.id,
            at: e.at,
            actor: e.actor.clone(),
            object: e.object.clone(),
            outcome: e.outcome,
            detail: e.detail.clone(),
        }
    }

    /// One line for people: what, about what, and the detail.
    pub fn text(&self) -> String {
        let what = match self.event {
            NotifyEvent::DispatchSucceeded => "dispatch succeeded",
            NotifyEvent::DispatchFailed => "dispatch FAILED",
            NotifyEvent::HostUnreachable => "host unreachable",
            NotifyEvent::HostRecovered => "host recovered",
            NotifyEvent::HostKeyChanged => "host key CHANGED",
            NotifyEvent::UptestFailed => "uptest FAILED",
            NotifyEvent::BuildFailed => "build FAILED",
            NotifyEvent::Test => "test notification",
        };
        let mut line = format!("vr: {what}: {}", self.object);
        if !self.detail.is_empty() {
            line.push_str(" — ");
            line.push_str(&self.detail);
        }
        line
    }

    /// The body sent in `format`.
    pub fn body(&self, format: WebhookFormat) -> String {
        let value = match format {
            WebhookFormat::Json => serde_json::to_value(self),
            WebhookFormat::Slack => Ok(serde_json::json!({ "text": self.text() })),
        };
        value.map(|v| v.to_string()).unwrap_or_default()
    }
}

/// When attempt `attempts + 1` is due after `attempts` failed ones: `base`, then ×4 each time
/// (2 s, 8 s, 32 s, 128 s, 512 s with the default base); `None` once all are spent.
pub fn retry_after_ms(attempts: u32, base_ms: u64) -> Option<u64> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    Some(base_ms.saturating_mul(4u64.saturating_pow(attempts.saturating_sub(1))))
}

/// Checks a webhook's name, URL and events.
pub fn validate(name: &str, url: &str, events: &[NotifyEvent]) -> Result<(), Invalid> {
    simple_name("name", name, 64)?;
    check_url(url)?;
    if events.is_empty() {
        return Err(Invalid::new("events", "name at least one event"));
    }
    if events.contains(&NotifyEvent::Test) {
        return Err(Invalid::new(
            "events",
            "`test` is sent on purpose, not subscribed to",
        ));
    }
    Ok(())
}

pub fn check_url(url: &str) -> Result<(), Invalid> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Err(Invalid::new("url", "must start with https:// or http://"));
    };
    if url.len() > 2000 {
        return Err(Invalid::new("url", "must be at most 2000 characters"));
    }
    if rest.is_empty() || rest.starts_with('/') {
        return Err(Invalid::new("url", "must name a host"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Invalid::new(
            "url",
            "must not contain spaces or control characters",
        ));
    }
    Ok(())
}

/// The secret, checked: long enough to sign with.
pub fn check_secret(secret: &str) -> Result<(), Invalid> {
    if secret.len() < 16 || secret.len() > 200 {
        return Err(Invalid::new("secret", "must be 16 to 200 characters"));
    }
    if secret.chars().any(char::is_control) {
        return Err(Invalid::new(
            "secret",
            "must not contain control characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(action: &str, outcome: Outcome) -> Event {
        Event {
            id: 9,
            at: 5,
            actor: "system".into(),
            action: action.into(),
            object: "swarm:shop-prod-web".into(),
            outcome,
            detail: "uptest failed: 500".into(),
        }
    }

    #[test]
    fn activity_maps_to_notifications() {
        let of = |a, o| NotifyEvent::of_activity(&event(a, o));
        assert_eq!(
            of("dispatch.finish", Outcome::Failed),
            Some(NotifyEvent::DispatchFailed)
        );
        assert_eq!(
            of("dispatch.finish", Outcome::Ok),
            Some(NotifyEvent::DispatchSucceeded)
        );
        assert_eq!(
            of("build.finish", Outcome::Failed),
            Some(NotifyEvent::BuildFailed)
        );
        assert_eq!(of("build.finish", Outcome::Ok), None);
        assert_eq!(
            of("uptest.fail", Outcome::Failed),
            Some(NotifyEvent::UptestFailed)
        );
        assert_eq!(
            of("host.unreachable", Outcome::Failed),
            Some(NotifyEvent::HostUnreachable)
        );
        assert_eq!(
            of("host.recovered", Outcome::Ok),
            Some(NotifyEvent::HostRecovered)
        );
        assert_eq!(
            of("host.key_changed", Outcome::Failed),
            Some(NotifyEvent::HostKeyChanged)
        );
        assert_eq!(of("user.login", Outcome::Ok), None);
        for e in NotifyEvent::ALL {
            assert_eq!(NotifyEvent::parse(e.as_str()), Some(e));
            let json = serde_json::to_string(&e).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", e.as_str()));
        }
    }

    #[test]
    fn host_changes_are_the_edges_only() {
        use Health::*;
        let c = HostChange::between;
        assert_eq!(c(Some(Ok), Unreachable), Some(HostChange::Lost));
        assert_eq!(c(None, Unreachable), Some(HostChange::Lost));
        assert_eq!(c(Some(Unreachable), Unreachable), None);
        assert_eq!(c(Some(Unreachable), SupervisorDown), None);
        assert_eq!(c(Some(Ok), SupervisorDown), Some(HostChange::Lost));
        assert_eq!(c(Some(Unreachable), Ok), Some(HostChange::Recovered));
        assert_eq!(c(Some(KeyChanged), Ok), Some(HostChange::Recovered));
        assert_eq!(c(Some(Ok), KeyChanged), Some(HostChange::KeyChanged));
        assert_eq!(c(Some(KeyChanged), KeyChanged), None);
        assert_eq!(c(None, Ok), None);
        assert_eq!(c(Some(Unknown), Ok), None);
    }

    #[test]
    fn bodies_are_vr_json_or_slack_text() {
        let n = Notification::of(
            NotifyEvent::DispatchFailed,
            &event("dispatch.finish", Outcome::Failed),
        );
        let json: serde_json::Value =
            serde_json::from_str(&n.body(WebhookFormat::Json)).unwrap_or_default();
        assert_eq!(json["event"], "dispatch.failed");
        assert_eq!(json["event_id"], 9);
        assert_eq!(json["object"], "swarm:shop-prod-web");
        let slack: serde_json::Value =
            serde_json::from_str(&n.body(WebhookFormat::Slack)).unwrap_or_default();
        assert_eq!(
            slack,
            serde_json::json!({"text": "vr: dispatch FAILED: swarm:shop-prod-web — uptest failed: 500"})
        );
    }

    #[test]
    fn retries_back_off_and_end() {
        let waits: Vec<Option<u64>> = (1..=MAX_ATTEMPTS)
            .map(|a| retry_after_ms(a, 2000))
            .collect();
        assert_eq!(
            waits,
            [
                Some(2000),
                Some(8000),
                Some(32000),
                Some(128_000),
                Some(512_000),
                None
            ]
        );
    }

    #[test]
    fn the_url_shown_keeps_only_the_host() {
        let w = |url: &str| Webhook {
            id: 1,
            name: "n".into(),
            url: url.into(),
            events: vec![],
            format: WebhookFormat::Slack,
            enabled: true,
            created_by: "a".into(),
            created_at: 0,
            pending: 0,
            failed_recently: 0,
        };
        assert_eq!(
            w("https://hooks.slack.com/services/T0/B0/XXXX").url_shown(),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            w("http://user:pw@h:8080?x=1").url_shown(),
            "http://h:8080/…"
        );
        assert_eq!(w("http://h").url_shown(), "http://h");
    }

    #[test]
    fn webhooks_are_checked_by_field() {
        let field = |r: Result<(), Invalid>| r.err().map(|e| e.field);
        let ev = [NotifyEvent::BuildFailed];
        assert_eq!(field(validate("ops", "https://hooks.example/x", &ev)), None);
        assert_eq!(field(validate("ops", "http://127.0.0.1:9/x", &ev)), None);
        assert_eq!(field(validate("o p", "https://h/x", &ev)), Some("name"));
        assert_eq!(field(validate("ops", "ftp://h/x", &ev)), Some("url"));
        assert_eq!(field(validate("ops", "https:///x", &ev)), Some("url"));
        assert_eq!(field(validate("ops", "https://h/x y", &ev)), Some("url"));
        assert_eq!(field(validate("ops", "https://h/x", &[])), Some("events"));
        assert_eq!(
            field(validate("ops", "https://h/x", &[NotifyEvent::Test])),
            Some("events")
        );
        assert_eq!(field(check_secret("short")), Some("secret"));
        assert_eq!(field(check_secret("a-long-enough-secret")), None);
    }
}
