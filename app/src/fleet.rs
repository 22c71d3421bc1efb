//! The fleet as the API shows it: squads, hosts with their health, and every Supervisor process
//! on them (the poller's snapshot). Shared by the server, the CLI and the UI.

use crate::supervisor::ProcState;
use serde::{Deserialize, Serialize};

/// Defaults for a host's Supervisor layout (SPEC §1); each can be overridden per host.
pub mod defaults {
    pub const SSH_PORT: u16 = 22;
    pub const SSH_USER: &str = "root";
    pub const SUPERVISORCTL: &str = "supervisorctl";
    pub const SUPERVISOR_SOCKET: &str = "/var/run/supervisor.sock";
    pub const INCLUDE_DIR: &str = "/etc/supervisor/conf.d";
    pub const APPS_ROOT: &str = "/apps";
    pub const PORT_MIN: u16 = 5000;
    pub const PORT_MAX: u16 = 5999;
}

pub mod paths {
    pub const SQUADS: &str = "/api/squads";
    pub const HOSTS: &str = "/api/hosts";
    /// The whole snapshot: hosts with health and every proc.
    pub const FLEET: &str = "/api/fleet";
    /// Procs matching a filter (`pattern`, `host`, `squad`, `state` query parameters).
    pub const PROCS: &str = "/api/procs";
    /// `POST`: start, stop, restart or destroy a set of procs.
    pub const PROC_ACTIONS: &str = "/api/procs/actions";

    pub fn squad(name: &str) -> String {
        format!("{SQUADS}/{}", super::path_segment(name))
    }
    pub fn host(name: &str) -> String {
        format!("{HOSTS}/{}", super::path_segment(name))
    }
    /// `POST`: connect now and report what was found.
    pub fn host_test(name: &str) -> String {
        format!("{}/test", host(name))
    }
    /// `POST` (admin): pin the host key the host presents now.
    pub fn host_trust(name: &str) -> String {
        format!("{}/trust-key", host(name))
    }
    pub fn proc(host_name: &str, proc_name: &str) -> String {
        format!(
            "{}/procs/{}",
            host(host_name),
            super::path_segment(proc_name)
        )
    }
    /// `GET ?stream=stdout|stderr&offset=N`: the proc's log, from the host.
    pub fn proc_log(host_name: &str, proc_name: &str) -> String {
        format!("{}/log", proc(host_name, proc_name))
    }
}

/// Percent-encodes everything but unreserved characters, so names with `:` (grouped programs)
/// or other odd characters survive as one path segment.
pub fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Squad {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// Names of the hosts in it.
    pub hosts: Vec<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSquad {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SquadPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// What an operator sets on a host. `None` overrides mean "use the default" (see [`defaults`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HostSettings {
    /// Unique name shown everywhere; defaults to the address.
    pub name: String,
    /// DNS name or IP address to reach it over SSH.
    pub address: String,
    pub port: u16,
    /// `root`, or a user with passwordless sudo (then commands run with `sudo -n`).
    pub user: String,
    pub squad: Option<String>,
    /// Inactive hosts are not polled and get no new procs.
    pub active: bool,
    /// May run builds.
    pub builder: bool,
    /// The supervisorctl command, e.g. `supervisorctl -c /etc/supervisord.conf`.
    pub supervisorctl: Option<String>,
    /// supervisord's unix socket, read directly (XML-RPC) through the SSH session.
    pub supervisor_socket: Option<String>,
    pub include_dir: Option<String>,
    pub apps_root: Option<String>,
    pub port_min: Option<u16>,
    pub port_max: Option<u16>,
    pub notes: String,
}

impl HostSettings {
    pub fn supervisorctl(&self) -> &str {
        self.supervisorctl
            .as_deref()
            .unwrap_or(defaults::SUPERVISORCTL)
    }
    pub fn supervisor_socket(&self) -> &str {
        self.supervisor_socket
            .as_deref()
            .unwrap_or(defaults::SUPERVISOR_SOCKET)
    }
    pub fn include_dir(&self) -> &str {
        self.include_dir.as_deref().unwrap_or(defaults::INCLUDE_DIR)
    }
    pub fn apps_root(&self) -> &str {
        self.apps_root.as_deref().unwrap_or(defaults::APPS_ROOT)
    }
    pub fn port_range(&self) -> (u16, u16) {
        (
            self.port_min.unwrap_or(defaults::PORT_MIN),
            self.port_max.unwrap_or(defaults::PORT_MAX),
        )
    }
    /// True when commands must be prefixed with `sudo -n`.
    pub fn uses_sudo(&self) -> bool {
        self.user != "root"
    }
}

/// `POST /api/hosts`. Only the address is required.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewHost {
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub squad: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisorctl: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor_socket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apps_root: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_min: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_max: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// `PATCH /api/hosts/{name}`. Absent fields stay; for the nullable ones `Some(None)` (JSON
/// `null`) clears the value: `"squad": null` removes the host from its squad, `"include_dir":
/// null` goes back to the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct HostPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub squad: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub supervisorctl: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub supervisor_socket: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub include_dir: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub apps_root: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<u16>"))]
    pub port_min: Option<Option<u16>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<u16>"))]
    pub port_max: Option<Option<u16>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

impl HostPatch {
    /// The settings with this patch applied, and a line per changed field for the activity log
    /// (`field: old → new`); fields the patch leaves out stay as they are.
    pub fn apply(self, current: &HostSettings) -> (HostSettings, Vec<String>) {
        let patch = self;
        let mut next = current.clone();
        let mut changes = Vec::new();
        fn show<T: core::fmt::Debug>(v: &Option<T>, none: &str) -> String {
            v.as_ref().map_or(none.into(), |v| format!("{v:?}"))
        }
        macro_rules! set {
            ($field:ident) => {
                if let Some(v) = patch.$field
                    && next.$field != v
                {
                    changes.push(format!(
                        "{}: {:?} → {:?}",
                        stringify!($field),
                        next.$field,
                        v
                    ));
                    next.$field = v;
                }
            };
        }
        macro_rules! set_opt {
            ($field:ident, $none:literal) => {
                if let Some(v) = patch.$field
                    && next.$field != v
                {
                    changes.push(format!(
                        "{}: {} → {}",
                        stringify!($field),
                        show(&next.$field, $none),
                        show(&v, $none)
                    ));
                    next.$field = v;
                }
            };
        }
        set!(name);
        set!(address);
        set!(port);
        set!(user);
        set!(active);
        set!(builder);
        set!(notes);
        set_opt!(squad, "none");
        set_opt!(supervisorctl, "default");
        set_opt!(supervisor_socket, "default");
        set_opt!(include_dir, "default");
        set_opt!(apps_root, "default");
        set_opt!(port_min, "default");
        set_opt!(port_max, "default");
        (next, changes)
    }
}

/// Serde for "absent / null / value" fields: absent is `None`, `null` is `Some(None)`.
pub(crate) mod nullable {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// How the last contact with a host went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Not polled yet.
    Unknown,
    Ok,
    /// SSH failed or missed its deadline.
    Unreachable,
    /// SSH works but Supervisor did not answer.
    SupervisorDown,
    /// The host presented a key other than the pinned one; nothing is sent to it until an
    /// admin trusts the new key.
    KeyChanged,
    /// Marked inactive: not polled.
    Inactive,
}

impl Health {
    pub const ALL: [Health; 6] = [
        Health::Unknown,
        Health::Ok,
        Health::Unreachable,
        Health::SupervisorDown,
        Health::KeyChanged,
        Health::Inactive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Ok => "ok",
            Health::Unreachable => "unreachable",
            Health::SupervisorDown => "supervisor_down",
            Health::KeyChanged => "key_changed",
            Health::Inactive => "inactive",
        }
    }

    pub fn parse(s: &str) -> Option<Health> {
        Health::ALL.into_iter().find(|h| h.as_str() == s)
    }
}

/// The poller's view of one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HostStatus {
    pub health: Health,
    /// The exact failure of the last poll, if it failed.
    pub error: Option<String>,
    /// Since when the host has been failing.
    pub error_since: Option<i64>,
    pub last_ok_at: Option<i64>,
    pub last_poll_at: Option<i64>,
    pub supervisor_version: Option<String>,
    /// How the status was read: `xmlrpc` (supervisord's socket through the SSH session) or
    /// `supervisorctl`.
    pub via: Option<String>,
    /// The key the host presented when it differed from the pinned one.
    pub presented_key: Option<String>,
}

impl Default for HostStatus {
    fn default() -> Self {
        HostStatus {
            health: Health::Unknown,
            error: None,
            error_since: None,
            last_ok_at: None,
            last_poll_at: None,
            supervisor_version: None,
            via: None,
            presented_key: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Host {
    pub id: i64,
    #[serde(flatten)]
    pub settings: HostSettings,
    /// Pinned host key (`SHA256:…`), set on first contact.
    pub host_key: Option<String>,
    pub host_key_pinned_at: Option<i64>,
    pub status: HostStatus,
    pub created_at: i64,
}

/// `proc.json` in a proc's folder: what `vr` knows about a proc it deployed. The true values,
/// never parsed back from the program name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProcMeta {
    pub app: String,
    pub version: String,
    pub config: String,
    pub proc_type: String,
    pub port: u16,
    #[serde(default)]
    pub release_id: Option<i64>,
    #[serde(default)]
    pub release_hash: String,
    #[serde(default)]
    pub swarm_id: Option<i64>,
    #[serde(default)]
    pub deployed_by: String,
    #[serde(default)]
    pub deployed_at: i64,
}

impl ProcMeta {
    /// What CLI regexes match a managed proc against (SPEC §4).
    pub fn match_key(&self) -> String {
        format!("{}-{}-{}", self.app, self.config, self.proc_type)
    }

    /// Made as this app, proc type and config name: the identity of a swarm's procs (a proc
    /// made before the swarm changed one of them belongs to its previous incarnation).
    pub fn made_as(&self, app: &str, proc_type: &str, config: &str) -> bool {
        self.app == app && self.proc_type == proc_type && self.config == config
    }
}

/// One Supervisor program on one host, as last seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Proc {
    pub host: String,
    /// Supervisor's name (`group:program` for grouped programs).
    pub name: String,
    pub state: ProcState,
    pub description: String,
    pub pid: Option<u32>,
    /// When the process started (ms), while it runs.
    pub started_at: Option<i64>,
    /// `None` = unmanaged: `vr` did not deploy it.
    pub meta: Option<ProcMeta>,
    /// `vr` expects it on this host: when Supervisor forgets it, it shows as MISSING.
    pub expected: bool,
    /// Since when it has been in this state (ms).
    pub state_since: i64,
    pub last_seen_at: i64,
    /// How many times the kernel killed it for going past its memory limit (its cgroup's
    /// count, read when the proc stops or restarts; sandboxed procs with a limit).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub oom_kills: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Proc {
    pub fn managed(&self) -> bool {
        self.meta.is_some()
    }

    /// `app-config-proc` for managed procs, the program name otherwise.
    pub fn match_key(&self) -> String {
        self.meta
            .as_ref()
            .map(ProcMeta::match_key)
            .unwrap_or_else(|| self.name.clone())
    }
}

/// `GET /api/fleet`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Fleet {
    pub hosts: Vec<Host>,
    pub procs: Vec<Proc>,
    pub squads: Vec<Squad>,
}

/// Query of `GET /api/procs` and the target of proc actions; all parts optional, all must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ProcFilter {
    /// Regex matched against `app-config-proc` (managed) or the program name (unmanaged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Regex matched against the host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub squad: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<ProcState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StateChange {
    pub state: ProcState,
    pub description: String,
    pub at: i64,
}

/// `GET /api/hosts/{host}/procs/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProcDetail {
    pub proc: Proc,
    /// Newest first.
    pub history: Vec<StateChange>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    Stdout,
    Stderr,
}

impl LogStream {
    pub const ALL: [LogStream; 2] = [LogStream::Stdout, LogStream::Stderr];

    pub fn as_str(self) -> &'static str {
        match self {
            LogStream::Stdout => "stdout",
            LogStream::Stderr => "stderr",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LogQuery {
    pub stream: LogStream,
    /// Byte offset to read from, as returned by the previous read; absent = the last `bytes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u32>,
}

/// A piece of a proc's log and where to continue from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LogChunk {
    pub text: String,
    /// Pass back as `offset` to get what comes next.
    pub offset: u64,
    /// More was written than fits; earlier text was skipped.
    pub overflow: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ProcAction {
    Start,
    Stop,
    Restart,
    /// Stop, remove from Supervisor, delete its config file and folder.
    Destroy,
}

impl ProcAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ProcAction::Start => "start",
            ProcAction::Stop => "stop",
            ProcAction::Restart => "restart",
            ProcAction::Destroy => "destroy",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ProcRef {
    pub host: String,
    pub name: String,
}

/// `POST /api/procs/actions`: either explicit procs or a filter (not both).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ProcActionRequest {
    pub action: ProcAction,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub procs: Vec<ProcRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<ProcFilter>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProcActionResult {
    pub host: String,
    pub name: String,
    pub ok: bool,
    /// What Supervisor said, or the exact failure.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProcActionReport {
    /// Identifies the live progress messages of this action.
    pub batch: String,
    pub results: Vec<ProcActionResult>,
}

/// `POST /api/hosts/{name}/test`: what one connection attempt found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ConnectionReport {
    pub ok: bool,
    /// The key the host presented, if the handshake got that far.
    pub host_key: Option<String>,
    /// True when this contact pinned the key (first contact).
    pub key_pinned_now: bool,
    pub supervisor_version: Option<String>,
    pub proc_count: Option<usize>,
    pub via: Option<String>,
    pub elapsed_ms: u64,
    pub error: Option<String>,
    /// What the host offers for isolation (sandbox, cgroups), when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<crate::isolation::HostCapabilities>,
}

/// `POST /api/hosts/{name}/trust-key`: the fingerprint the admin read and accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TrustKey {
    pub fingerprint: String,
}

/// Counts per state, for the dashboard's summary.
pub fn count_states<'a>(procs: impl IntoIterator<Item = &'a Proc>) -> Vec<(ProcState, usize)> {
    let mut counts: Vec<(ProcState, usize)> = Vec::new();
    for p in procs {
        match counts.iter_mut().find(|(s, _)| *s == p.state) {
            Some((_, n)) => *n += 1,
            None => counts.push((p.state, 1)),
        }
    }
    crate::order::sort_by_key(&mut counts, |(s, _)| s.rank());
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_log_what_changed() {
        let mut current = crate::fixtures::host_settings("10.0.0.5", None);
        current.squad = Some("web".into());
        let (next, changes) = HostPatch {
            squad: Some(None),
            active: Some(false),
            port: Some(22),
            include_dir: Some(Some("/srv/conf.d".into())),
            ..Default::default()
        }
        .apply(&current);
        assert_eq!(next.squad, None);
        assert!(!next.active);
        assert_eq!(
            changes,
            [
                "active: true → false",
                "squad: \"web\" → none",
                "include_dir: default → \"/srv/conf.d\""
            ]
        );
        let (same, none) = HostPatch::default().apply(&current);
        assert_eq!(same, current);
        assert!(none.is_empty());
    }

    #[test]
    fn patch_tells_null_from_absent() {
        let p: HostPatch =
            serde_json::from_str(r#"{"squad":null,"port":2222}"#).unwrap_or_default();
        assert_eq!(p.squad, Some(None));
        assert_eq!(p.port, Some(2222));
        assert_eq!(p.include_dir, None);
        let p: HostPatch = serde_json::from_str(r#"{"squad":"web"}"#).unwrap_or_default();
        assert_eq!(p.squad, Some(Some("web".into())));
        let back = serde_json::to_string(&HostPatch {
            squad: Some(None),
            ..Default::default()
        })
        .unwrap_or_default();
        assert_eq!(back, r#"{"squad":null}"#);
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(path_segment("grp:web_1"), "grp%3Aweb_1");
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
        assert_eq!(paths::proc("h.1", "x:y"), "/api/hosts/h.1/procs/x%3Ay");
    }

    #[test]
    fn match_key_of_managed_and_unmanaged() {
        let mut p = Proc {
            host: "h".into(),
            name: "legacy".into(),
            state: ProcState::Running,
            description: String::new(),
            pid: None,
            started_at: None,
            meta: None,
            expected: false,
            state_since: 0,
            last_seen_at: 0,
            oom_kills: 0,
        };
        assert_eq!(p.match_key(), "legacy");
        p.meta = Some(ProcMeta {
            app: "shop".into(),
            version: "1.0".into(),
            config: "prod".into(),
            proc_type: "web".into(),
            port: 5001,
            release_id: None,
            release_hash: String::new(),
            swarm_id: None,
            deployed_by: String::new(),
            deployed_at: 0,
        });
        assert_eq!(p.match_key(), "shop-prod-web");
    }
}
