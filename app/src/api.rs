//! Request and response bodies of the HTTP API under `/api/`. The server serialises these and the
//! frontend and CLI deserialise them, so a change here is a change on both sides at once.
//!
//! Times are Unix milliseconds (UTC) so this crate needs no clock or date library.

use crate::role::Role;
use serde::{Deserialize, Serialize};

/// Routes, in one place so the server, the frontend and the CLI agree.
pub mod paths {
    pub const HEALTH: &str = "/api/health";
    pub const VERSION: &str = "/api/version";
    pub const SETUP: &str = "/api/setup";
    pub const LOGIN: &str = "/api/auth/login";
    pub const LOGOUT: &str = "/api/auth/logout";
    pub const ME: &str = "/api/auth/me";
    /// Open: who is signed in, if anyone (never 401), and whether setup is needed.
    pub const SESSION: &str = "/api/auth/session";
    /// Username + password → a new API token, for `vr login`.
    pub const TOKEN_LOGIN: &str = "/api/auth/token";
    pub const PASSWORD: &str = "/api/auth/password";
    pub const TOKENS: &str = "/api/tokens";
    /// `DELETE`: revoke the API token the request is made with.
    pub const TOKEN_CURRENT: &str = "/api/tokens/current";
    pub const USERS: &str = "/api/users";
    pub const EVENTS: &str = "/api/events";
    /// Server-sent events: one `message` per [`super::LiveMessage`].
    pub const STREAM: &str = "/api/stream";
    /// Merged live logs (server-sent events of [`crate::logs::LogEvent`]).
    pub const LOGS: &str = "/api/logs";
    pub const SSH_KEY: &str = "/api/settings/ssh-key";
    /// The API's OpenAPI 3.1 document.
    pub const OPENAPI: &str = "/api/openapi.json";
    /// Prometheus metrics (text format), for any signed-in role.
    pub const METRICS: &str = "/metrics";
}

/// Header that carries the session's CSRF token on state-changing requests made with a cookie.
pub const CSRF_HEADER: &str = "x-vr-csrf";
/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "vr_session";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Health {
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VersionInfo {
    pub version: String,
    /// Schema version of the database the server runs on.
    pub schema_version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SetupStatus {
    /// True while no user exists: the setup page must be used first.
    pub needed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The one-time token the server printed in its log at start-up.
    pub token: String,
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TokenLoginRequest {
    pub username: String,
    pub password: String,
    /// Label for the token, e.g. `cli on laptop`.
    pub name: String,
    /// The token stops working after this many days; absent: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
}

/// `GET /api/auth/session`: the signed-in caller, if any, and whether the server still needs
/// its first admin. Answers 200 either way, so a page load without a session logs no error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuthSession {
    pub me: Option<Me>,
    pub setup_needed: bool,
}

/// Who the caller is, and the CSRF token to send back on changes (absent for token auth).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Me {
    pub user: User,
    pub csrf_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
    /// Also revoke every API token of the user (other sessions always end).
    #[serde(default)]
    pub revoke_tokens: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: Role,
}

/// Partial update of a user by an admin; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub username: String,
    /// First characters of the secret, to tell tokens apart; the secret itself is never stored.
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// When it stops working; `None`: never.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// Longest expiry a token may be given.
pub const TOKEN_MAX_DAYS: u32 = 3650;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    /// The token stops working after this many days (1 to [`TOKEN_MAX_DAYS`]); absent: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<u32>,
}

/// A freshly created token: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CreatedToken {
    pub token: ApiToken,
    pub secret: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Failed,
}

impl Outcome {
    pub const ALL: [Outcome; 2] = [Outcome::Ok, Outcome::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
        }
    }
}

/// One line of the activity log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Event {
    pub id: i64,
    pub at: i64,
    /// Username, or `system` for the server's own actions.
    pub actor: String,
    /// Dotted verb such as `user.login` or `token.revoke`.
    pub action: String,
    /// What was acted on, e.g. `user:alice`.
    pub object: String,
    pub outcome: Outcome,
    pub detail: String,
}

/// Filters for `GET /api/events`; all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EventQuery {
    /// Only events with an id below this (paging backwards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Prefix of the action, e.g. `user.` for every user event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Free text matched against object and detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SshKey {
    /// OpenSSH one-line public key, to append to `authorized_keys` on hosts.
    pub public_key: String,
    /// `SHA256:…` fingerprint.
    pub fingerprint: String,
}

/// A message on the live channel. Pages subscribe and refresh what a message concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveMessage {
    /// A new activity-log line.
    Event { event: Event },
    /// The set of users changed.
    Users,
    /// Squads or host settings changed: refetch `/api/fleet`.
    Fleet,
    /// A poll changed what is known about one host: its status and all its procs, whole.
    Host {
        host: Box<crate::fleet::Host>,
        procs: Vec<crate::fleet::Proc>,
    },
    /// A host was deleted.
    HostRemoved { name: String },
    /// A build was created or changed status.
    Build { build: Box<crate::build::Build> },
    /// More of a build's log: `text` starts at byte `offset`.
    BuildLog { id: i64, offset: u64, text: String },
    /// Apps or buildpacks changed: refetch them.
    Apps,
    /// A release was made or an ingredient changed: refetch them.
    Releases,
    /// A deploy started, made progress or ended.
    Deploy {
        deploy: Box<crate::deploy::Deployment>,
    },
    /// A dispatch was queued, made progress or ended.
    Dispatch {
        dispatch: Box<crate::swarm::Dispatch>,
    },
    /// Swarms were created, changed or deleted: refetch them.
    Swarms,
    /// A balancer or one of its pools changed: refetch them.
    Balancers,
    /// One proc of a running proc action finished.
    ActionProgress {
        batch: String,
        done: usize,
        total: usize,
        result: crate::fleet::ProcActionResult,
    },
    /// Sent every few seconds so clients can tell a live channel from a dead one.
    Heartbeat { at: i64 },
    /// A kind this client does not know (a newer server); ignore it.
    #[serde(other)]
    Unknown,
}

impl LiveMessage {
    /// Decodes one message of the live channel; same result as the derived `Deserialize`
    /// (tested). One pass into one flat record: serde's internally tagged enums buffer the whole
    /// message first, which in the wasm UI doubles the decoding code of every type a message
    /// carries.
    pub fn from_json(text: &str) -> Result<LiveMessage, crate::json::DecodeError> {
        let w: LiveWire = crate::json::decode(text)?;
        use crate::json::need;
        Ok(match w.kind.as_str() {
            "event" => LiveMessage::Event {
                event: need(w.event, "event")?,
            },
            "users" => LiveMessage::Users,
            "fleet" => LiveMessage::Fleet,
            "host" => LiveMessage::Host {
                host: need(w.host, "host")?,
                procs: need(w.procs, "procs")?,
            },
            "host_removed" => LiveMessage::HostRemoved {
                name: need(w.name, "name")?,
            },
            "build" => LiveMessage::Build {
                build: need(w.build, "build")?,
            },
            "build_log" => LiveMessage::BuildLog {
                id: need(w.id, "id")?,
                offset: need(w.offset, "offset")?,
                text: need(w.text, "text")?,
            },
            "apps" => LiveMessage::Apps,
            "releases" => LiveMessage::Releases,
            "deploy" => LiveMessage::Deploy {
                deploy: need(w.deploy, "deploy")?,
            },
            "action_progress" => LiveMessage::ActionProgress {
                batch: need(w.batch, "batch")?,
                done: need(w.done, "done")?,
                total: need(w.total, "total")?,
                result: need(w.result, "result")?,
            },
            "heartbeat" => LiveMessage::Heartbeat {
                at: need(w.at, "at")?,
            },
            "swarms" => LiveMessage::Swarms,
            "balancers" => LiveMessage::Balancers,
            "dispatch" => LiveMessage::Dispatch {
                dispatch: need(w.dispatch, "dispatch")?,
            },
            _ => LiveMessage::Unknown,
        })
    }
}

/// Every field any [`LiveMessage`] kind has, each optional (a name means the same in every kind).
struct LiveWire {
    kind: String,
    event: Option<Event>,
    host: Option<Box<crate::fleet::Host>>,
    procs: Option<Vec<crate::fleet::Proc>>,
    name: Option<String>,
    build: Option<Box<crate::build::Build>>,
    id: Option<i64>,
    offset: Option<u64>,
    text: Option<String>,
    deploy: Option<Box<crate::deploy::Deployment>>,
    dispatch: Option<Box<crate::swarm::Dispatch>>,
    batch: Option<String>,
    done: Option<usize>,
    total: Option<usize>,
    result: Option<crate::fleet::ProcActionResult>,
    at: Option<i64>,
}

crate::from_json_struct!(LiveWire {
    kind,
    event,
    host,
    procs,
    name,
    build,
    id,
    offset,
    text,
    deploy,
    dispatch,
    batch,
    done,
    total,
    result,
    at,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_message_is_tagged() {
        let m = LiveMessage::Heartbeat { at: 5 };
        let s = serde_json::to_string(&m).unwrap_or_default();
        assert_eq!(s, r#"{"kind":"heartbeat","at":5}"#);
        assert_eq!(serde_json::from_str::<LiveMessage>(&s).ok(), Some(m));
        assert_eq!(
            serde_json::from_str::<LiveMessage>(r#"{"kind":"from_the_future","x":1}"#).ok(),
            Some(LiveMessage::Unknown)
        );
    }

    #[test]
    fn live_message_from_json_agrees_with_serde() {
        use crate::fixtures;
        let messages = vec![
            LiveMessage::Users,
            LiveMessage::Fleet,
            LiveMessage::Apps,
            LiveMessage::Releases,
            LiveMessage::Balancers,
            LiveMessage::Heartbeat { at: 7 },
            LiveMessage::HostRemoved { name: "h1".into() },
            LiveMessage::BuildLog {
                id: 3,
                offset: 10,
                text: "line\n".into(),
            },
            LiveMessage::ActionProgress {
                batch: "b".into(),
                done: 1,
                total: 2,
                result: crate::fleet::ProcActionResult {
                    host: "h".into(),
                    name: "p".into(),
                    ok: true,
                    message: "started".into(),
                },
            },
            LiveMessage::Host {
                host: Box::new(fixtures::host("h1", None)),
                procs: vec![fixtures::proc(
                    "h1",
                    "web",
                    None,
                    crate::supervisor::ProcState::Running,
                )],
            },
            LiveMessage::Build {
                build: Box::new(fixtures::build(1, "shop")),
            },
            LiveMessage::Deploy {
                deploy: Box::new(fixtures::deployment(1, "shop", "h1")),
            },
            LiveMessage::Event {
                event: Event {
                    id: 1,
                    at: 2,
                    actor: "alice".into(),
                    action: "user.login".into(),
                    object: "user:alice".into(),
                    outcome: Outcome::Ok,
                    detail: String::new(),
                },
            },
        ];
        for m in messages {
            let s = serde_json::to_string(&m).unwrap_or_default();
            assert_eq!(LiveMessage::from_json(&s).ok(), Some(m), "{s}");
        }
        assert_eq!(
            LiveMessage::from_json(r#"{"kind":"from_the_future","x":1}"#).ok(),
            Some(LiveMessage::Unknown)
        );
        // A known kind without its fields is an error, as with the derived decoder.
        let e = LiveMessage::from_json(r#"{"kind":"host_removed"}"#);
        assert_eq!(
            e.map_err(|e| e.to_string()),
            Err("expected a value at name".to_string())
        );
        assert!(LiveMessage::from_json("{").is_err());
    }

    #[test]
    fn user_patch_omits_absent_fields() {
        let p = UserPatch {
            role: Some(Role::Viewer),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&p).unwrap_or_default(),
            r#"{"role":"viewer"}"#
        );
    }
}
