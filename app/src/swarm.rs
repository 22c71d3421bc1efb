//! Swarms (SPEC §1, §3.4): the desired state "N procs of app A, proc type P, config C, on squad
//! S, at version V, with this configuration", and dispatches, the durable jobs that make a
//! swarm's hosts hold it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::fleet::{Health, Host};
use crate::plan::Plan;
use crate::release::Volume;
use crate::supervisor::ProcState;
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

    /// `POST` a [`super::SwarmSpec`] (`?id=N`: as an edit of swarm N, its secrets kept): the
    /// [`crate::release::ReleasePreview`] its dispatch would make now.
    pub const PREVIEW: &str = "/api/swarms/preview";

    /// `POST` a [`super::RollbackRequest`].
    pub fn rollback(id: i64) -> String {
        format!("{SWARMS}/{id}/rollback")
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// Its procs' CPU weight (see [`crate::release::NewRelease::cpu_weight`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_weight: Option<u32>,
    /// How its procs run: plain Supervisor programs, or each in a sandbox.
    #[serde(default, skip_serializing_if = "crate::release::Runner::is_plain")]
    pub runner: crate::release::Runner,
    /// The stack its builds compile in and its procs run on, instead of the app's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    /// The balancer pool its procs are routed to (the balancer issue fills these in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balancer: Option<String>,
    /// Leave new procs whose uptests failed in place, for debugging.
    #[serde(default)]
    pub keep_failed: bool,
    /// Self-healing: when a host holding procs of the swarm has been unreachable this long
    /// (seconds), vr dispatches the swarm by itself. 0: off.
    #[serde(default)]
    pub heal_after_secs: u32,
}

fn yes() -> bool {
    true
}

impl SwarmSpec {
    /// The release this swarm's configuration makes over build `build_id`.
    pub fn release_request(&self, build_id: i64) -> crate::release::NewRelease {
        crate::release::NewRelease {
            build_id,
            settings_yaml: self.settings_yaml.clone(),
            env_yaml: self.env_yaml.clone(),
            secret_keys: self.secret_keys.clone(),
            secrets_from: None,
            ingredients: self.ingredients.clone(),
            volumes: self.volumes.clone(),
            run_as: self.run_as.clone(),
            mem_limit_mb: self.mem_limit_mb,
            cpu_weight: self.cpu_weight,
            runner: self.runner,
        }
    }

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
        if self.heal_after_secs > MAX_HEAL_AFTER {
            return Err(Invalid::new(
                "heal_after_secs",
                format!("must be at most {MAX_HEAL_AFTER} (0 = off)"),
            ));
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
        match (&self.pool, &self.balancer) {
            (Some(_), None) => {
                return Err(Invalid::new(
                    "balancer",
                    "a pool needs the balancer it lives on",
                ));
            }
            (None, Some(_)) => {
                return Err(Invalid::new("pool", "name the pool on the balancer"));
            }
            (Some(_), Some(_)) if !self.uses_ports => {
                return Err(Invalid::new(
                    "pool",
                    "procs without a port (workers) cannot be routed by a balancer",
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

/// Longest self-healing delay accepted (a day).
pub const MAX_HEAL_AFTER: u32 = 86_400;

/// Why the swarm should dispatch itself now (self-healing), or `None`: it has healing on, a
/// host holding its procs has been unreachable for at least `heal_after_secs`, fewer of its
/// procs run on healthy hosts of its squad than it wants, and the squad has a healthy host.
pub fn needs_healing(
    swarm_id: i64,
    spec: &SwarmSpec,
    hosts: &[Host],
    procs: &[crate::fleet::Proc],
    now: i64,
) -> Option<String> {
    if spec.heal_after_secs == 0 {
        return None;
    }
    let ours = |p: &&crate::fleet::Proc| p.meta.as_ref().and_then(|m| m.swarm_id) == Some(swarm_id);
    let healthy = |h: &Host| {
        h.settings.active
            && h.status.health == Health::Ok
            && h.settings.squad.as_deref() == Some(spec.squad.as_str())
    };
    let limit = i64::from(spec.heal_after_secs) * 1000;
    let lost = hosts.iter().find(|h| {
        h.status.health == Health::Unreachable
            && h.status.error_since.is_some_and(|t| now - t >= limit)
            && procs.iter().filter(ours).any(|p| p.host == h.settings.name)
    })?;
    let usable = hosts.iter().filter(|h| healthy(h)).count();
    if usable == 0 {
        return None;
    }
    let wanted = match spec.placement {
        Placement::OnePerHost => usable,
        Placement::Spread => usize::try_from(spec.size).unwrap_or(usize::MAX),
    };
    let running = procs
        .iter()
        .filter(ours)
        .filter(|p| p.state == ProcState::Running)
        .filter(|p| {
            hosts
                .iter()
                .any(|h| h.settings.name == p.host && healthy(h))
        })
        .count();
    (running < wanted).then(|| {
        format!(
            "host {} has been unreachable for {} s or more; {running} of {wanted} proc(s) run on healthy hosts",
            lost.settings.name, spec.heal_after_secs
        )
    })
}

/// `app-config-proc`.
pub fn swarm_name(app: &str, config: &str, proc_type: &str) -> String {
    format!("{app}-{config}-{proc_type}")
}

/// A swarm as the API answers it; secret env values are masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    pub release_hash: Option<String>,
    pub last_dispatch: Option<LastDispatch>,
    pub status: SwarmStatus,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// How a swarm stands against the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum SwarmState {
    /// Never dispatched.
    New,
    /// Every wanted proc runs the swarm's release, nothing stale or extra.
    Matches,
    Dispatching,
    /// Procs missing or not RUNNING, stale or extra ones around.
    Degraded,
    /// The last dispatch found no room for some procs.
    UnderCapacity,
    /// The last dispatch failed.
    Failed,
}

impl SwarmState {
    pub const ALL: [SwarmState; 6] = [
        SwarmState::New,
        SwarmState::Matches,
        SwarmState::Dispatching,
        SwarmState::Degraded,
        SwarmState::UnderCapacity,
        SwarmState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SwarmState::New => "new",
            SwarmState::Matches => "matches",
            SwarmState::Dispatching => "dispatching",
            SwarmState::Degraded => "degraded",
            SwarmState::UnderCapacity => "under-capacity",
            SwarmState::Failed => "failed",
        }
    }
}

/// A swarm's standing, read from the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SwarmStatus {
    pub state: SwarmState,
    /// Procs wanted (the squad's usable hosts for one-per-host).
    pub wanted: u32,
    /// Of the swarm's release and RUNNING.
    pub running: u32,
    /// Wanted but not running.
    pub missing: u32,
    /// Running beyond the size.
    pub extra: u32,
    /// Of the swarm but another release, or of its release and not RUNNING.
    pub stale: u32,
    /// On hosts that do not answer: what runs there is not known.
    pub unknown: u32,
    /// Made for the swarm as it was (another app, proc type or config name, or on a host
    /// outside its squad now): its next dispatch retires them.
    #[serde(default)]
    pub orphaned: u32,
}

/// What the last (not dry-run) dispatch of a swarm said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LastDispatch {
    pub id: i64,
    pub status: DispatchStatus,
    pub short: u32,
}

/// The swarm's standing: `release_hash` is what it should run (none before its first
/// dispatch), `hosts` the fleet's hosts and `procs` the snapshot's procs.
pub fn assess(
    swarm_id: i64,
    spec: &SwarmSpec,
    release_hash: Option<&str>,
    last: Option<LastDispatch>,
    hosts: &[crate::fleet::Host],
    procs: &[crate::fleet::Proc],
) -> SwarmStatus {
    use crate::fleet::Health;
    use crate::supervisor::ProcState;
    let squad: Vec<&crate::fleet::Host> = hosts
        .iter()
        .filter(|h| h.settings.squad.as_deref() == Some(spec.squad.as_str()))
        .collect();
    let answering = |host: &str| {
        squad
            .iter()
            .any(|h| h.settings.name == host && h.status.health == Health::Ok)
    };
    let wanted = match spec.placement {
        Placement::Spread => spec.size,
        Placement::OnePerHost => u32::try_from(
            squad
                .iter()
                .filter(|h| h.settings.active && h.status.health == Health::Ok)
                .count(),
        )
        .unwrap_or(u32::MAX),
    };
    let (mut running, mut stale, mut unknown, mut orphaned) = (0u32, 0u32, 0u32, 0u32);
    for p in procs {
        let Some(m) = p.meta.as_ref().filter(|m| m.swarm_id == Some(swarm_id)) else {
            continue;
        };
        let in_squad = squad.iter().any(|h| h.settings.name == p.host);
        if !in_squad || !m.made_as(&spec.app, &spec.proc_type, &spec.config) {
            orphaned += 1;
        } else if !answering(&p.host) {
            unknown += 1;
        } else if Some(m.release_hash.as_str()) == release_hash && p.state == ProcState::Running {
            running += 1;
        } else {
            stale += 1;
        }
    }
    let missing = wanted.saturating_sub(running);
    let extra = running.saturating_sub(wanted);
    let state = match last {
        Some(l) if l.status.in_flight() => SwarmState::Dispatching,
        Some(l) if l.status == DispatchStatus::Failed => SwarmState::Failed,
        _ if release_hash.is_none() => SwarmState::New,
        _ if missing == 0 && extra == 0 && stale == 0 && unknown == 0 && orphaned == 0 => {
            SwarmState::Matches
        }
        Some(l)
            if l.short > 0 && missing <= l.short && extra == 0 && stale == 0 && orphaned == 0 =>
        {
            SwarmState::UnderCapacity
        }
        _ => SwarmState::Degraded,
    };
    SwarmStatus {
        state,
        wanted,
        running,
        missing,
        extra,
        stale,
        unknown,
        orphaned,
    }
}

/// One field of a swarm that changed between two dispatches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SpecChange {
    /// `version`, `size`, `env.KEY`…
    pub field: String,
    pub before: String,
    pub after: String,
}

/// What changed from `old` to `new` (their env values parsed, `secret` naming the keys whose
/// values are never shown).
pub fn spec_changes(
    old: &SwarmSpec,
    new: &SwarmSpec,
    old_env: &BTreeMap<String, String>,
    new_env: &BTreeMap<String, String>,
    secret: &[String],
) -> Vec<SpecChange> {
    let mut out = Vec::new();
    let mut field = |name: &str, before: String, after: String| {
        if before != after {
            out.push(SpecChange {
                field: name.to_string(),
                before,
                after,
            });
        }
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let list = |v: &[String]| v.join(", ");
    field("version", old.version.clone(), new.version.clone());
    field("proc_type", old.proc_type.clone(), new.proc_type.clone());
    field("config", old.config.clone(), new.config.clone());
    field("squad", old.squad.clone(), new.squad.clone());
    field("size", old.size.to_string(), new.size.to_string());
    field(
        "placement",
        old.placement.as_str().into(),
        new.placement.as_str().into(),
    );
    field(
        "batch_size",
        old.batch_size.to_string(),
        new.batch_size.to_string(),
    );
    field(
        "uses_ports",
        old.uses_ports.to_string(),
        new.uses_ports.to_string(),
    );
    field(
        "settings_yaml",
        old.settings_yaml.clone(),
        new.settings_yaml.clone(),
    );
    field(
        "secret_keys",
        list(&old.secret_keys),
        list(&new.secret_keys),
    );
    field(
        "ingredients",
        list(&old.ingredients),
        list(&new.ingredients),
    );
    let volumes = |v: &[Volume]| {
        v.iter()
            .map(|v| format!("{}:{}", v.host_dir, v.mount_dir))
            .collect::<Vec<_>>()
            .join(", ")
    };
    field("volumes", volumes(&old.volumes), volumes(&new.volumes));
    field("run_as", opt(&old.run_as), opt(&new.run_as));
    let mem = |m: Option<u64>| m.map(|m| m.to_string()).unwrap_or_default();
    field("mem_limit_mb", mem(old.mem_limit_mb), mem(new.mem_limit_mb));
    let cpu = |w: Option<u32>| w.map(|w| w.to_string()).unwrap_or_default();
    field("cpu_weight", cpu(old.cpu_weight), cpu(new.cpu_weight));
    field(
        "runner",
        old.runner.as_str().to_string(),
        new.runner.as_str().to_string(),
    );
    field("stack", opt(&old.stack), opt(&new.stack));
    field("pool", opt(&old.pool), opt(&new.pool));
    field("balancer", opt(&old.balancer), opt(&new.balancer));
    field(
        "keep_failed",
        old.keep_failed.to_string(),
        new.keep_failed.to_string(),
    );
    field(
        "heal_after_secs",
        old.heal_after_secs.to_string(),
        new.heal_after_secs.to_string(),
    );
    let keys: std::collections::BTreeSet<&String> = old_env.keys().chain(new_env.keys()).collect();
    for key in keys {
        let (a, b) = (old_env.get(key), new_env.get(key));
        if a == b {
            continue;
        }
        let show = |v: Option<&String>| match v {
            None => "(unset)".to_string(),
            Some(_) if secret.contains(key) => crate::secret::MASK.to_string(),
            Some(v) => v.clone(),
        };
        let (before, mut after) = (show(a), show(b));
        if before == after {
            after = format!("{after} (changed)");
        }
        field(&format!("env.{key}"), before, after);
    }
    out
}

/// `POST /api/swarms/{id}/rollback`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// The dispatch to go back to; absent = the newest successful one before the current
    /// release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch: Option<i64>,
}

/// `POST /api/swarms/{id}/dispatch`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DispatchStep {
    pub name: DispatchStepKind,
    pub ok: bool,
    pub message: String,
    pub ms: u64,
}

/// A dispatch: its request, its plan, its steps and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// What changed on the swarm since its previous dispatch (secret values masked).
    pub changes: Vec<SpecChange>,
    /// The dispatch this one rolls back to.
    pub rollback_of: Option<i64>,
    pub error: Option<String>,
    pub cancel_requested: bool,
    pub requested_by: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

/// `POST /api/swarms`, `PUT /api/swarms/{id}`: `take_pool` confirms taking the pool over from
/// the swarm that routes it now (that swarm loses its pool).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SaveQuery {
    #[serde(default)]
    pub take_pool: bool,
}

/// `POST /api/swarms/preview`: `id` names the swarm being edited (its secret values fill
/// masked ones, its build is preferred).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PreviewQuery {
    #[serde(default)]
    pub id: Option<i64>,
}

/// `DELETE /api/swarms/{id}`: `take_down` drains and destroys the swarm's procs first (without
/// it they keep running and are listed as orphans).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DeleteQuery {
    #[serde(default)]
    pub take_down: bool,
}

/// The query string of a delete that takes the swarm's procs down.
pub const TAKE_DOWN: &str = "?take_down=true";

/// The query string of a save that takes the pool over.
pub const TAKE_POOL: &str = "?take_pool=true";

/// `GET /api/dispatches`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DispatchQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swarm: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// The release dispatch `d` replaced: the one of the swarm's newest earlier dispatch that
/// succeeded (not a dry run), when it differs from `d`'s. `history` is the swarm's dispatches.
pub fn replaced_release(history: &[Dispatch], d: &Dispatch) -> Option<i64> {
    let before = history
        .iter()
        .filter(|e| e.id < d.id && !e.dry_run && e.status == DispatchStatus::Succeeded)
        .filter_map(|e| e.release_id.map(|r| (e.id, r)))
        .max_by_key(|(id, _)| *id)
        .map(|(_, r)| r)?;
    (Some(before) != d.release_id).then_some(before)
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
    fn procs_made_for_the_swarm_as_it_was_count_as_orphaned() {
        let hosts = squad_hosts();
        let done = Some(LastDispatch {
            id: 1,
            status: DispatchStatus::Succeeded,
            short: 0,
        });
        let mut renamed = ours("a", "h1", ProcState::Running);
        if let Some(m) = renamed.meta.as_mut() {
            m.config = "staging".into();
        }
        let elsewhere = ours("c", "h1", ProcState::Running);
        let mut s = spec();
        s.size = 1;
        s.squad = "eu".into();
        let st = assess(
            7,
            &s,
            Some("h1"),
            done,
            &hosts,
            &[ours("b", "h1", ProcState::Running), renamed, elsewhere],
        );
        assert_eq!((st.running, st.orphaned), (1, 2), "{st:?}");
        assert_eq!(st.state, SwarmState::Degraded);
    }

    #[test]
    fn a_swarm_heals_itself_only_when_on_and_short_on_healthy_hosts() {
        let mut hosts = squad_hosts();
        let procs = vec![
            ours("a", "h1", ProcState::Running),
            ours("b", "h1", ProcState::Running),
        ];
        let mut s = spec();
        s.size = 2;
        s.squad = "eu".into();
        s.heal_after_secs = 30;
        assert_eq!(needs_healing(7, &s, &hosts, &procs, 100_000), None);
        hosts[1].status.health = Health::Unreachable;
        hosts[1].status.error_since = Some(100_000);
        // Not yet unreachable long enough.
        assert_eq!(needs_healing(7, &s, &hosts, &procs, 110_000), None);
        let why = needs_healing(7, &s, &hosts, &procs, 130_000).expect("heals");
        assert!(why.starts_with("host b has been unreachable"), "{why}");
        // Off; or once the healthy host holds the size again.
        assert_eq!(
            needs_healing(
                7,
                &SwarmSpec {
                    heal_after_secs: 0,
                    ..s.clone()
                },
                &hosts,
                &procs,
                130_000
            ),
            None
        );
        let mut healed = procs.clone();
        healed.push(ours("a", "h1", ProcState::Running));
        healed[2].name.push_str("-2");
        assert_eq!(needs_healing(7, &s, &hosts, &healed, 130_000), None);
        // Never while the squad has no healthy host.
        hosts[0].status.health = Health::Unreachable;
        assert_eq!(needs_healing(7, &s, &hosts, &procs, 130_000), None);
    }

    #[test]
    fn a_pool_needs_its_balancer_and_procs_with_ports() {
        let routed = |pool: Option<&str>, balancer: Option<&str>, uses_ports: bool| {
            let mut s = spec();
            s.pool = pool.map(str::to_string);
            s.balancer = balancer.map(str::to_string);
            s.uses_ports = uses_ports;
            s.validate().map_err(|e| e.field)
        };
        assert_eq!(routed(Some("web"), Some("edge"), true), Ok(()));
        assert_eq!(routed(Some("web"), None, true), Err("balancer"));
        assert_eq!(routed(None, Some("edge"), true), Err("pool"));
        assert_eq!(routed(Some("web"), Some("edge"), false), Err("pool"));
        assert_eq!(routed(Some("web;rm"), Some("edge"), true), Err("pool"));
    }

    fn ours(host: &str, hash: &str, state: crate::supervisor::ProcState) -> crate::fleet::Proc {
        let mut p = crate::fixtures::proc(
            host,
            &format!("shop-{hash}-web"),
            Some(("shop", "prod", "web")),
            state,
        );
        if let Some(m) = p.meta.as_mut() {
            m.swarm_id = Some(7);
            m.release_hash = hash.into();
        }
        p
    }

    fn squad_hosts() -> Vec<crate::fleet::Host> {
        ["a", "b"]
            .into_iter()
            .map(|n| {
                let mut h = crate::fixtures::host(n, Some("eu"));
                h.status.health = crate::fleet::Health::Ok;
                h
            })
            .collect()
    }

    #[test]
    fn a_swarm_is_assessed_from_the_snapshot() {
        use crate::supervisor::ProcState::{Fatal, Running};
        let hosts = squad_hosts();
        let done = |short| {
            Some(LastDispatch {
                id: 1,
                status: DispatchStatus::Succeeded,
                short,
            })
        };
        let s = spec();
        let st = assess(7, &s, None, None, &hosts, &[]);
        assert_eq!(st.state, SwarmState::New);
        // A first dispatch that failed is a failure, not "new".
        let failed = Some(LastDispatch {
            id: 1,
            status: DispatchStatus::Failed,
            short: 0,
        });
        assert_eq!(
            assess(7, &s, None, failed, &hosts, &[]).state,
            SwarmState::Failed
        );
        let both = [ours("a", "h1", Running), ours("b", "h1", Running)];
        let st = assess(7, &s, Some("h1"), done(0), &hosts, &both);
        assert_eq!(
            (st.state, st.running, st.missing),
            (SwarmState::Matches, 2, 0)
        );
        // A stale proc of an older release, a crashed one: degraded, counted apart.
        let mixed = [
            ours("a", "h0", Running),
            ours("b", "h1", Fatal),
            ours("b", "h1", Running),
        ];
        let st = assess(7, &s, Some("h1"), done(0), &hosts, &mixed);
        assert_eq!(
            (st.state, st.running, st.missing, st.stale),
            (SwarmState::Degraded, 1, 1, 2)
        );
        // Short of room at the last dispatch: under capacity, not degraded.
        let one = [ours("a", "h1", Running)];
        let st = assess(7, &s, Some("h1"), done(1), &hosts, &one);
        assert_eq!(st.state, SwarmState::UnderCapacity);
        // Procs on a host that does not answer are unknown, not running.
        let mut dark = squad_hosts();
        dark[1].status.health = crate::fleet::Health::Unreachable;
        let st = assess(7, &s, Some("h1"), done(0), &dark, &both);
        assert_eq!(
            (st.state, st.running, st.unknown),
            (SwarmState::Degraded, 1, 1)
        );
        // Another swarm's procs never count.
        let mut other = ours("a", "h1", Running);
        if let Some(m) = other.meta.as_mut() {
            m.swarm_id = Some(8);
        }
        let st = assess(7, &s, Some("h1"), done(0), &hosts, &[other]);
        assert_eq!(st.running, 0);
        let busy = Some(LastDispatch {
            id: 2,
            status: DispatchStatus::Running,
            short: 0,
        });
        assert_eq!(
            assess(7, &s, Some("h1"), busy, &hosts, &both).state,
            SwarmState::Dispatching
        );
    }

    #[test]
    fn changes_name_fields_and_hide_secret_values() {
        let old = spec();
        let mut new = spec();
        new.version = "v2".into();
        new.size = 3;
        let env = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        let c = spec_changes(
            &old,
            &new,
            &env(&[("A", "1"), ("TOKEN", "old-secret")]),
            &env(&[("A", "2"), ("TOKEN", "new-secret"), ("B", "x")]),
            &["TOKEN".into()],
        );
        let fields: Vec<&str> = c.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["version", "size", "env.A", "env.B", "env.TOKEN"]);
        let token = &c[4];
        assert!(!format!("{token:?}").contains("secret"), "{token:?}");
        assert!(token.after.contains("(changed)"));
        assert_eq!(c[3].before, "(unset)");
        assert!(spec_changes(&old, &old, &env(&[]), &env(&[]), &[]).is_empty());
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

    #[test]
    fn a_dispatch_names_the_release_it_replaced() {
        let d = |id: i64, release: Option<i64>, status: DispatchStatus, dry_run: bool| Dispatch {
            id,
            swarm_id: 1,
            swarm: "shop-prod-web".into(),
            version: "main".into(),
            dry_run,
            status,
            build_id: None,
            release_id: release,
            plan: None,
            steps: Vec::new(),
            deploys: Vec::new(),
            short: 0,
            changes: Vec::new(),
            rollback_of: None,
            error: None,
            cancel_requested: false,
            requested_by: "ann".into(),
            created_at: 0,
            started_at: None,
            finished_at: None,
        };
        let history = [
            d(5, Some(3), DispatchStatus::Succeeded, false),
            d(4, Some(9), DispatchStatus::Succeeded, true),
            d(3, Some(8), DispatchStatus::Failed, false),
            d(2, Some(2), DispatchStatus::Succeeded, false),
            d(1, Some(1), DispatchStatus::Succeeded, false),
        ];
        // A dry run and a failed dispatch never ran their releases.
        assert_eq!(replaced_release(&history, &history[0]), Some(2));
        assert_eq!(replaced_release(&history, &history[3]), Some(1));
        assert_eq!(replaced_release(&history, &history[4]), None);
        // The same release again replaced nothing.
        let again = d(6, Some(3), DispatchStatus::Succeeded, false);
        assert_eq!(replaced_release(&history, &again), None);
    }
}
