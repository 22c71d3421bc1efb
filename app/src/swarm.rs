//! Swarms (SPEC §1, §3.4): the desired state "N procs of app A, proc type P, config C, on squad
//! S, at version V, with this configuration", and dispatches, the durable jobs that make a
//! swarm's hosts hold it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::plan::Plan;
use crate::release::Volume;
use crate::validate::{self, Invalid};

pub mod paths {
    /// `GET` every swarm; `POST` a [`super::SwarmSpec`].
    pub const SWARMS: &str = "/api/swarms";
    /// `GET ?swarm=ID&limit=N`, newest first.
    pub const DISPATCHES: &str = "/api/dispatches";

    /// `GET`, `PUT` a [`super::SwarmSpec`], `DELETE`.
    pub fn swarm(id: i64) -> String {
        format!("{SWARMS}/{id}")
    }

    /// `POST` a [`super::DispatchRequest`].
    pub fn dispatch_swarm(id: i64) -> String {
        format!("{SWARMS}/{id}/dispatch")
    }

    pub fn dispatch(id: i64) -> String {
        format!("{DISPATCHES}/{id}")
    }

    /// `POST`: cancels a queued dispatch, or a running one between its steps.
    pub fn cancel(id: i64) -> String {
        format!("{DISPATCHES}/{id}/cancel")
    }
}

/// The most procs one swarm may ask for.
pub const MAX_SIZE: u32 = 1000;

/// How a swarm's procs are spread over its squad (SPEC §1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// Even over the squad's usable hosts.
    #[default]
    Spread,
    /// One on every active host of the squad (workers); the size follows the squad.
    OnePerHost,
}

impl Placement {
    pub const ALL: [Placement; 2] = [Placement::Spread, Placement::OnePerHost];

    pub fn as_str(self) -> &'static str {
        match self {
            Placement::Spread => "spread",
            Placement::OnePerHost => "one-per-host",
        }
    }

    pub fn parse(s: &str) -> Option<Placement> {
        Placement::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// What an operator sets on a swarm: `POST /api/swarms`, and `PUT /api/swarms/{id}` (the whole
/// swarm; fields left out take their defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwarmSpec {
    pub app: String,
    /// A tag, branch or commit of the app's repository.
    pub version: String,
    /// A process type of the app's Procfile (`web`, `worker`…).
    pub proc_type: String,
    /// Config name, e.g. `prod`.
    pub config: String,
    pub squad: String,
    /// Procs wanted (ignored by `one-per-host`, which runs one on every active host).
    #[serde(default)]
    pub size: u32,
    #[serde(default)]
    pub placement: Placement,
    /// New procs brought up (and old ones retired) per round; 0 = all at once.
    #[serde(default)]
    pub batch_size: u32,
    /// False for workers: their procs get port 0.
    #[serde(default = "yes")]
    pub uses_ports: bool,
    /// YAML mapping; wins over every ingredient.
    #[serde(default)]
    pub settings_yaml: String,
    /// YAML mapping of strings; a value given as [`crate::secret::MASK`] keeps the swarm's
    /// current value of that key.
    #[serde(default)]
    pub env_yaml: String,
    #[serde(default)]
    pub secret_keys: Vec<String>,
    /// Ingredient names, merged in this order.
    #[serde(default)]
    pub ingredients: Vec<String>,
    #[serde(default)]
    pub volumes: Vec<Volume>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_limit_mb: Option<u64>,
    /// The balancer pool its procs are routed to (the balancer issue fills these in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balancer: Option<String>,
    /// Leave new procs whose uptests failed in place, for debugging.
    #[serde(default)]
    pub keep_failed: bool,
}

fn yes() -> bool {
    true
}

impl SwarmSpec {
    /// `app-config-proc`: what `vr list-swarms` prints and CLI regexes match.
    pub fn name(&self) -> String {
        swarm_name(&self.app, &self.config, &self.proc_type)
    }

    /// The checks that need nothing but the spec; the first failure, naming its field.
    pub fn validate(&self) -> Result<(), Invalid> {
        validate::app_name("app", &self.app)?;
        validate::git_ref("version", &self.version)?;
        validate::squad_name("proc_type", &self.proc_type)?;
        validate::squad_name("config", &self.config)?;
        validate::squad_name("squad", &self.squad)?;
        if self.size > MAX_SIZE {
            return Err(Invalid::new("size", format!("must be at most {MAX_SIZE}")));
        }
        if self.batch_size > MAX_SIZE {
            return Err(Invalid::new(
                "batch_size",
                format!("must be at most {MAX_SIZE} (0 = all at once)"),
            ));
        }
        for (field, value) in [("pool", &self.pool), ("balancer", &self.balancer)] {
            if let Some(v) = value {
                validate::squad_name(field, v)?;
            }
        }
        Ok(())
    }
}

/// `app-config-proc`.
pub fn swarm_name(app: &str, config: &str, proc_type: &str) -> String {
    format!("{app}-{config}-{proc_type}")
}

/// A swarm as the API answers it; secret env values are masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Swarm {
    pub id: i64,
    /// `app-config-proc`.
    pub name: String,
    #[serde(flatten)]
    pub spec: SwarmSpec,
    /// The swarm's own settings and env, parsed (secret values masked).
    pub settings: Map<String, Value>,
    pub env: BTreeMap<String, String>,
    /// The release its last successful dispatch made it run.
    pub release_id: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// `POST /api/swarms/{id}/dispatch`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchRequest {
    /// A new version (saved on the swarm first); absent or `-` keeps the swarm's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// A new size (saved on the swarm first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
    /// Work out the plan and show it; change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

impl DispatchRequest {
    /// The version asked for, `None` when the swarm's stays (`-` or absent).
    pub fn new_version(&self) -> Option<&str> {
        self.version
            .as_deref()
            .filter(|v| !v.is_empty() && *v != "-")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DispatchStatus {
    /// Waiting for the swarm's running dispatch to end.
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl DispatchStatus {
    pub const ALL: [DispatchStatus; 5] = [
        DispatchStatus::Queued,
        DispatchStatus::Running,
        DispatchStatus::Succeeded,
        DispatchStatus::Failed,
        DispatchStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DispatchStatus::Queued => "queued",
            DispatchStatus::Running => "running",
            DispatchStatus::Succeeded => "succeeded",
            DispatchStatus::Failed => "failed",
            DispatchStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<DispatchStatus> {
        DispatchStatus::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// Queued or running.
    pub fn in_flight(self) -> bool {
        matches!(self, DispatchStatus::Queued | DispatchStatus::Running)
    }
}

/// A step of a dispatch (SPEC §3.4). On the wire each is its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DispatchStepKind {
    /// The version to a build: an existing one of its commit, or a new build waited for.
    #[serde(rename = "build")]
    Build,
    /// The swarm's configuration over the build: the same inputs give the same release.
    #[serde(rename = "release")]
    Release,
    /// The squad's hosts and procs as the snapshot shows them, to what to keep, start, retire.
    #[serde(rename = "plan")]
    Plan,
    #[serde(rename = "reserve ports")]
    ReservePorts,
    /// New procs, in parallel across hosts, each through its uptests (a deploy each).
    #[serde(rename = "deploy")]
    Deploy,
    /// The balancer pool set to the swarm's procs (nothing while the swarm has no pool).
    #[serde(rename = "route")]
    Route,
    /// Stale and surplus procs of the swarm stopped and removed.
    #[serde(rename = "retire")]
    Retire,
}

impl DispatchStepKind {
    pub const ALL: [DispatchStepKind; 7] = [
        DispatchStepKind::Build,
        DispatchStepKind::Release,
        DispatchStepKind::Plan,
        DispatchStepKind::ReservePorts,
        DispatchStepKind::Deploy,
        DispatchStepKind::Route,
        DispatchStepKind::Retire,
    ];

    pub fn label(self) -> &'static str {
        match self {
            DispatchStepKind::Build => "build",
            DispatchStepKind::Release => "release",
            DispatchStepKind::Plan => "plan",
            DispatchStepKind::ReservePorts => "reserve ports",
            DispatchStepKind::Deploy => "deploy",
            DispatchStepKind::Route => "route",
            DispatchStepKind::Retire => "retire",
        }
    }
}

/// One finished step of a dispatch (batches repeat plan → retire).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchStep {
    pub name: DispatchStepKind,
    pub ok: bool,
    pub message: String,
    pub ms: u64,
}

/// A dispatch: its request, its plan, its steps and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispatch {
    pub id: i64,
    pub swarm_id: i64,
    pub swarm: String,
    /// The version dispatched.
    pub version: String,
    pub dry_run: bool,
    pub status: DispatchStatus,
    /// The build and release it ran (once known).
    pub build_id: Option<i64>,
    pub release_id: Option<i64>,
    /// The plan of its first round.
    pub plan: Option<Plan>,
    pub steps: Vec<DispatchStep>,
    /// The deploys it made, one per new proc.
    pub deploys: Vec<i64>,
    /// Procs wanted that found no usable host with room (reported, not a failure).
    pub short: u32,
    pub error: Option<String>,
    pub cancel_requested: bool,
    pub requested_by: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

/// `GET /api/dispatches`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swarm: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SwarmSpec {
        crate::fixtures::swarm_spec()
    }

    #[test]
    fn a_swarm_is_named_app_config_proc() {
        assert_eq!(spec().name(), "shop-prod-web");
    }

    #[test]
    fn bad_fields_are_named() {
        let mut s = spec();
        s.config = "pr od;".into();
        assert_eq!(s.validate().map_err(|e| e.field), Err("config"));
        let mut s = spec();
        s.size = MAX_SIZE + 1;
        assert_eq!(s.validate().map_err(|e| e.field), Err("size"));
        let mut s = spec();
        s.version = "--upload-pack=x".into();
        assert_eq!(s.validate().map_err(|e| e.field), Err("version"));
        assert_eq!(spec().validate(), Ok(()));
    }

    #[test]
    fn dash_keeps_the_version() {
        let keep = DispatchRequest {
            version: Some("-".into()),
            ..DispatchRequest::default()
        };
        assert_eq!(keep.new_version(), None);
        let new = DispatchRequest {
            version: Some("v2".into()),
            ..DispatchRequest::default()
        };
        assert_eq!(new.new_version(), Some("v2"));
    }

    #[test]
    fn labels_and_names_round_trip_through_serde() {
        for k in DispatchStepKind::ALL {
            assert_eq!(
                serde_json::to_value(k).ok(),
                Some(Value::String(k.label().into()))
            );
        }
        for s in DispatchStatus::ALL {
            assert_eq!(DispatchStatus::parse(s.as_str()), Some(s));
        }
        for p in Placement::ALL {
            assert_eq!(
                serde_json::to_value(p).ok(),
                Some(Value::String(p.as_str().into()))
            );
        }
    }
}
