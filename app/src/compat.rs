//! Velociraptor's `/api/v1/` as vr answers it: Tastypie's list shape (`meta` + `objects`, paged by
//! `limit`/`offset`), resource URIs on every object, VR's field names, and the reading of what
//! VR's own client sends (its filters, its PATCH bodies, its deploy and build requests). Pure:
//! the server resolves names and ids and calls the native handlers.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::build::{Build, BuildStatus};
use crate::deploy::DeployRequest;
use crate::fleet::{Host, Proc};
use crate::fleet_view::{Shown, shown};
use crate::release::{Ingredient, Volume};
use crate::swarm::{Swarm, SwarmSpec};

/// Where the compatibility API lives.
pub const PREFIX: &str = "/api/v1/";

/// The resources of `/api/v1/`.
pub mod resource {
    pub const SWARMS: &str = "swarms";
    pub const BUILDS: &str = "builds";
    pub const RELEASES: &str = "releases";
    pub const APPS: &str = "apps";
    pub const SQUADS: &str = "squads";
    pub const HOSTS: &str = "hosts";
    pub const INGREDIENTS: &str = "ingredients";
    pub const TESTRUNS: &str = "testruns";
}

/// A request the compatibility API refuses, naming the field (or query parameter) at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refused {
    pub field: String,
    pub message: String,
}

impl Refused {
    fn new(field: &str, message: impl Into<String>) -> Refused {
        Refused {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// `/api/v1/{resource}/{key}/`.
pub fn uri(resource: &str, key: impl std::fmt::Display) -> String {
    format!("{PREFIX}{resource}/{key}/")
}

/// The key a reference names: a resource URI (`/api/v1/squads/3/`, also as a full URL or
/// without its last slash) or the bare key (`3`, `eu`). A URI of another resource is refused.
pub fn uri_key<'a>(field: &str, resource: &str, value: &'a str) -> Result<&'a str, Refused> {
    let v = value.trim();
    let path = match v.find(PREFIX) {
        Some(at) => &v[at + PREFIX.len()..],
        None if v.contains('/') => {
            return Err(Refused::new(
                field,
                format!("{value:?} is not a {resource} resource URI (/api/v1/{resource}/KEY/)"),
            ));
        }
        None => return non_empty(field, v),
    };
    let rest = path
        .strip_prefix(resource)
        .and_then(|r| r.strip_prefix('/'));
    match rest.map(|r| r.trim_end_matches('/')) {
        Some(key) if !key.contains('/') => non_empty(field, key),
        _ => Err(Refused::new(
            field,
            format!("{value:?} is not a {resource} resource URI (/api/v1/{resource}/KEY/)"),
        )),
    }
}

/// The item a reference's key names: the one with that id (resource URIs give ids), else the
/// one with that name.
pub fn by_key<'a, T>(
    items: &'a [T],
    key: &str,
    id: impl Fn(&T) -> i64,
    name: impl Fn(&T) -> &str,
) -> Option<&'a T> {
    let as_id = key.parse::<i64>().ok();
    items
        .iter()
        .find(|i| Some(id(i)) == as_id)
        .or_else(|| items.iter().find(|i| name(i) == key))
}

fn non_empty<'a>(field: &str, key: &'a str) -> Result<&'a str, Refused> {
    if key.is_empty() {
        Err(Refused::new(field, "names nothing"))
    } else {
        Ok(key)
    }
}

/// Tastypie's default page size.
pub const DEFAULT_LIMIT: usize = 20;
/// Largest page (VR's client asks for 9999 when it loads one document).
pub const MAX_LIMIT: usize = 10_000;
/// Query parameters every list accepts besides its filters.
const PAGING: [&str; 3] = ["limit", "offset", "format"];

/// Which part of a list one answer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: usize,
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Meta {
    pub limit: usize,
    pub next: Option<String>,
    pub offset: usize,
    pub previous: Option<String>,
    pub total_count: usize,
}

/// One page of a list, as Tastypie answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct List<T> {
    pub meta: Meta,
    pub objects: Vec<T>,
}

/// The query's page, after checking that it names only `filters` besides paging and `format`
/// (a filter vr does not know would silently match everything).
pub fn page_of(params: &BTreeMap<String, String>, filters: &[&str]) -> Result<Page, Refused> {
    if let Some(unknown) = params
        .keys()
        .find(|k| !PAGING.contains(&k.as_str()) && !filters.contains(&k.as_str()))
    {
        let known: Vec<&str> = filters.to_vec();
        return Err(Refused::new(
            unknown,
            if known.is_empty() {
                "this list takes no filters".to_string()
            } else {
                format!("not a filter of this list (filters: {})", known.join(", "))
            },
        ));
    }
    if let Some(f) = params.get("format").filter(|f| f.as_str() != "json") {
        return Err(Refused::new(
            "format",
            format!("{f:?}: only json is served"),
        ));
    }
    let number = |key: &str, default: usize| -> Result<usize, Refused> {
        match params.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .map_err(|_| Refused::new(key, format!("{v:?} is not a whole number"))),
        }
    };
    let limit = match number("limit", DEFAULT_LIMIT)? {
        // Tastypie: 0 = everything (up to the largest page).
        0 => MAX_LIMIT,
        n => n.min(MAX_LIMIT),
    };
    Ok(Page {
        limit,
        offset: number("offset", 0)?,
    })
}

/// Page `page` of `all`, whose list lives at `path`; `next`/`previous` repeat the filters of
/// `params`.
pub fn list<T>(all: Vec<T>, page: Page, path: &str, params: &BTreeMap<String, String>) -> List<T> {
    let total_count = all.len();
    let link = |offset: usize| {
        let mut q: Vec<String> = params
            .iter()
            .filter(|(k, _)| !PAGING.contains(&k.as_str()))
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    crate::fleet::path_segment(k),
                    crate::fleet::path_segment(v)
                )
            })
            .collect();
        q.push(format!("limit={}", page.limit));
        q.push(format!("offset={offset}"));
        format!("{path}?{}", q.join("&"))
    };
    let next = (page.offset + page.limit < total_count).then(|| link(page.offset + page.limit));
    let previous = (page.offset > 0).then(|| link(page.offset.saturating_sub(page.limit)));
    let objects = all.into_iter().skip(page.offset).take(page.limit).collect();
    List {
        meta: Meta {
            limit: page.limit,
            next,
            offset: page.offset,
            previous,
            total_count,
        },
        objects,
    }
}

/// The filters of `GET /api/v1/swarms/`.
pub const SWARM_FILTERS: [&str; 7] = [
    "app__name",
    "app",
    "config_name",
    "proc_name",
    "pool",
    "squad__name",
    "squad",
];

/// What a swarm list is narrowed by. Empty values narrow nothing (VR's client sends
/// `app__name=` for an empty pattern).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SwarmFilter {
    pub app: Option<String>,
    pub config: Option<String>,
    pub proc_type: Option<String>,
    pub pool: Option<String>,
    /// A squad's name, or its id when given as a URI or number.
    pub squad: Option<String>,
}

/// Characters that make a value a regular expression rather than a name.
fn has_regex_syntax(s: &str) -> bool {
    s.chars().any(|c| "\\.+*?()|[]{}^$".contains(c))
}

impl SwarmFilter {
    /// Reads the query. VR's client builds `app__name`, `config_name` and `proc_name` by
    /// splitting its regex on `-`, which is lossy: `a-b-c|d-e-f` gives `proc_name=c|d`. So when
    /// any of the three holds regex syntax, none of them narrows, and the client's own regex,
    /// which it always applies to what comes back, decides.
    pub fn from_params(params: &BTreeMap<String, String>) -> Result<SwarmFilter, Refused> {
        let get = |k: &str| params.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let app = match get("app__name") {
            Some(v) => Some(v.to_string()),
            None => get("app")
                .map(|v| uri_key("app", resource::APPS, v).map(str::to_string))
                .transpose()?,
        };
        let mut f = SwarmFilter {
            app,
            config: get("config_name").map(str::to_string),
            proc_type: get("proc_name").map(str::to_string),
            pool: get("pool").map(str::to_string),
            squad: match get("squad__name") {
                Some(v) => Some(v.to_string()),
                None => get("squad")
                    .map(|v| uri_key("squad", resource::SQUADS, v).map(str::to_string))
                    .transpose()?,
            },
        };
        let names = [&f.app, &f.config, &f.proc_type];
        if names
            .iter()
            .any(|v| v.as_deref().is_some_and(has_regex_syntax))
        {
            f.app = None;
            f.config = None;
            f.proc_type = None;
        }
        Ok(f)
    }

    /// Whether the swarm passes; `squad_id` is the id of the swarm's squad.
    pub fn keeps(&self, spec: &SwarmSpec, squad_id: Option<i64>) -> bool {
        let is = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        let squad_ok = self.squad.as_deref().is_none_or(|s| {
            s == spec.squad || squad_id.is_some_and(|id| s.parse::<i64>() == Ok(id))
        });
        is(&self.app, &spec.app)
            && is(&self.config, &spec.config)
            && is(&self.proc_type, &spec.proc_type)
            && self
                .pool
                .as_deref()
                .is_none_or(|p| spec.pool.as_deref() == Some(p))
            && squad_ok
    }
}

/// A proc as VR showed it in a swarm or host (the fields of its `Proc.as_dict`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VrProc {
    /// `{host}-{name}`.
    pub id: String,
    pub host: String,
    pub name: String,
    pub group: String,
    pub app_name: String,
    pub version: String,
    pub config_name: String,
    pub hash: String,
    pub proc_name: String,
    pub port: u16,
    /// Supervisor's state, or `UNKNOWN` while its host does not answer (never a stale RUNNING).
    pub statename: String,
    pub description: String,
    pub pid: Option<u32>,
    /// When it started (ms since the epoch), while it runs.
    pub started_at: Option<i64>,
    pub swarm_id: Option<i64>,
}

/// `proc` as VR's client reads it; `host` is the host record it runs on.
pub fn vr_proc(proc: &Proc, host: Option<&Host>) -> VrProc {
    let (statename, description) = match shown(proc, host) {
        Shown::Live(state) => (state.as_str().to_string(), proc.description.clone()),
        Shown::Stale { last, health, .. } => (
            "UNKNOWN".to_string(),
            format!(
                "host {}; last seen {}",
                health.as_str(),
                last.as_str().to_ascii_lowercase()
            ),
        ),
    };
    let meta = proc.meta.as_ref();
    let text = |f: fn(&crate::fleet::ProcMeta) -> &str| meta.map_or("UNKNOWN", f).to_string();
    VrProc {
        id: format!("{}-{}", proc.host, proc.name),
        host: proc.host.clone(),
        name: proc.name.clone(),
        group: proc.name.clone(),
        app_name: meta.map_or_else(|| proc.name.clone(), |m| m.app.clone()),
        version: text(|m| &m.version),
        config_name: text(|m| &m.config),
        hash: text(|m| &m.release_hash),
        proc_name: meta.map_or_else(|| proc.name.clone(), |m| m.proc_type.clone()),
        port: meta.map_or(0, |m| m.port),
        statename,
        description,
        pid: proc.pid,
        started_at: proc.started_at,
        swarm_id: meta.and_then(|m| m.swarm_id),
    }
}

/// A swarm with VR's field names, plus what vr knows more (`status`, `dispatches_uri`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VrSwarm {
    pub id: i64,
    pub resource_uri: String,
    pub app: String,
    pub app_name: String,
    pub config_name: String,
    pub proc_name: String,
    pub squad: String,
    pub squad_name: String,
    /// `app-config-proc`: the name VR's client matches its regex against.
    pub shortname: String,
    pub version: String,
    pub size: u32,
    pub pool: Option<String>,
    pub balancer: Option<String>,
    /// The swarm's own settings (YAML), secrets never included.
    pub config_yaml: String,
    /// The swarm's own env (YAML), secret values masked.
    pub env_yaml: String,
    /// Its ingredients in order, as resource URIs (VR's client reads and PATCHes this one).
    pub config_ingredients: Vec<String>,
    pub ingredients: Vec<String>,
    pub run_as: Option<String>,
    /// `512M`-style, as VR wrote it.
    pub mem_limit: Option<String>,
    /// `[host_dir, mount_dir]` pairs.
    pub volumes: Vec<[String; 2]>,
    pub release: Option<String>,
    pub procs: Vec<VrProc>,
    /// vr's own judgement: `matches`, `degraded`, `dispatching`… (see `/api/swarms/{id}`).
    pub status: String,
    pub dispatches_uri: String,
}

/// `swarm` as VR's `/api/v1/swarms/` shows it. `squad_id` is its squad's id, `ingredient_ids`
/// the ids of ingredients by name, `procs` its procs with their hosts.
pub fn vr_swarm(
    swarm: &Swarm,
    squad_id: Option<i64>,
    ingredient_ids: &BTreeMap<String, i64>,
    procs: Vec<VrProc>,
) -> VrSwarm {
    let spec = &swarm.spec;
    let ingredients: Vec<String> = spec
        .ingredients
        .iter()
        .map(|name| {
            ingredient_ids.get(name).map_or_else(
                || uri(resource::INGREDIENTS, name),
                |id| uri(resource::INGREDIENTS, id),
            )
        })
        .collect();
    VrSwarm {
        id: swarm.id,
        resource_uri: uri(resource::SWARMS, swarm.id),
        app: uri(resource::APPS, &spec.app),
        app_name: spec.app.clone(),
        config_name: spec.config.clone(),
        proc_name: spec.proc_type.clone(),
        squad: squad_id.map_or_else(
            || uri(resource::SQUADS, &spec.squad),
            |id| uri(resource::SQUADS, id),
        ),
        squad_name: spec.squad.clone(),
        shortname: swarm.name.clone(),
        version: spec.version.clone(),
        size: spec.size,
        pool: spec.pool.clone(),
        balancer: spec.balancer.clone(),
        config_yaml: spec.settings_yaml.clone(),
        env_yaml: spec.env_yaml.clone(),
        config_ingredients: ingredients.clone(),
        ingredients,
        run_as: spec.run_as.clone(),
        mem_limit: spec.mem_limit_mb.map(|m| format!("{m}M")),
        volumes: spec
            .volumes
            .iter()
            .map(|v| [v.host_dir.clone(), v.mount_dir.clone()])
            .collect(),
        release: swarm.release_id.map(|id| uri(resource::RELEASES, id)),
        procs,
        status: swarm.status.state.as_str().to_string(),
        dispatches_uri: format!("{}?swarm={}", crate::swarm::paths::DISPATCHES, swarm.id),
    }
}

/// What a swarm POST or PATCH sets, references still as the keys the client gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SwarmChanges {
    pub app: Option<String>,
    pub proc_type: Option<String>,
    pub config: Option<String>,
    /// A squad's name or id.
    pub squad: Option<String>,
    pub size: Option<u32>,
    pub version: Option<String>,
    pub pool: Option<Option<String>>,
    pub balancer: Option<Option<String>>,
    pub settings_yaml: Option<String>,
    pub env_yaml: Option<String>,
    /// Ingredients' names or ids, in order.
    pub ingredients: Option<Vec<String>>,
    pub run_as: Option<Option<String>>,
    pub mem_limit_mb: Option<Option<u64>>,
    pub volumes: Option<Vec<Volume>>,
}

/// Fields of a swarm that are shown but not set; a body that carries them back (as one read
/// from the API would) is accepted and they are left alone.
const SWARM_READ_ONLY: [&str; 11] = [
    "id",
    "resource_uri",
    "app_name",
    "squad_name",
    "shortname",
    "release",
    "procs",
    "status",
    "dispatches_uri",
    "compiled_config",
    "compiled_env",
];

fn text(field: &str, v: &Value) -> Result<String, Refused> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(Refused::new(field, "must be a string")),
    }
}

fn opt_text(field: &str, v: &Value) -> Result<Option<String>, Refused> {
    match v {
        Value::Null => Ok(None),
        other => Ok(Some(text(field, other)?).filter(|s| !s.trim().is_empty())),
    }
}

/// Reads a swarm's POST or PATCH body.
pub fn swarm_changes(body: &Map<String, Value>) -> Result<SwarmChanges, Refused> {
    let mut c = SwarmChanges::default();
    let mut ingredients_from: Option<&str> = None;
    for (key, v) in body {
        match key.as_str() {
            "app" => c.app = Some(uri_key(key, resource::APPS, &text(key, v)?)?.to_string()),
            "proc_name" => c.proc_type = Some(text(key, v)?),
            "config_name" => c.config = Some(text(key, v)?),
            "squad" => c.squad = Some(uri_key(key, resource::SQUADS, &text(key, v)?)?.to_string()),
            "size" => {
                let n = v
                    .as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| Refused::new(key, "must be a whole number"))?;
                c.size = Some(n);
            }
            "version" => c.version = Some(text(key, v)?),
            "pool" => c.pool = Some(opt_text(key, v)?),
            "balancer" => c.balancer = Some(opt_text(key, v)?),
            "config_yaml" => c.settings_yaml = Some(opt_text(key, v)?.unwrap_or_default()),
            "env_yaml" => c.env_yaml = Some(opt_text(key, v)?.unwrap_or_default()),
            "ingredients" | "config_ingredients" => {
                if let Some(other) = ingredients_from {
                    return Err(Refused::new(
                        key,
                        format!("give the ingredients once (both {other} and {key} are set)"),
                    ));
                }
                ingredients_from = Some(key);
                let list = match v {
                    Value::Null => Vec::new(),
                    Value::Array(items) => items
                        .iter()
                        .map(|i| {
                            Ok(uri_key(key, resource::INGREDIENTS, &text(key, i)?)?.to_string())
                        })
                        .collect::<Result<_, Refused>>()?,
                    _ => return Err(Refused::new(key, "must be a list of ingredient URIs")),
                };
                c.ingredients = Some(list);
            }
            "run_as" => c.run_as = Some(opt_text(key, v)?),
            "mem_limit" => c.mem_limit_mb = Some(mem_limit_mb(v)?),
            "volumes" => c.volumes = Some(volumes(v)?),
            k if SWARM_READ_ONLY.contains(&k) => {}
            _ => return Err(Refused::new(key, "not a field of a swarm")),
        }
    }
    Ok(c)
}

impl SwarmChanges {
    /// `spec` with these changes; references must already be resolved to names.
    pub fn apply(self, spec: &mut SwarmSpec) {
        fn set<T>(slot: &mut T, v: Option<T>) {
            if let Some(v) = v {
                *slot = v;
            }
        }
        set(&mut spec.app, self.app);
        set(&mut spec.proc_type, self.proc_type);
        set(&mut spec.config, self.config);
        set(&mut spec.squad, self.squad);
        set(&mut spec.size, self.size);
        set(&mut spec.version, self.version);
        set(&mut spec.pool, self.pool);
        set(&mut spec.balancer, self.balancer);
        set(&mut spec.settings_yaml, self.settings_yaml);
        set(&mut spec.env_yaml, self.env_yaml);
        set(&mut spec.ingredients, self.ingredients);
        set(&mut spec.run_as, self.run_as);
        set(&mut spec.mem_limit_mb, self.mem_limit_mb);
        set(&mut spec.volumes, self.volumes);
    }

    /// The fields a new swarm must have, first missing one named.
    pub fn check_complete(&self) -> Result<(), Refused> {
        let required = [
            ("app", self.app.is_some()),
            ("proc_name", self.proc_type.is_some()),
            ("config_name", self.config.is_some()),
            ("squad", self.squad.is_some()),
            ("version", self.version.is_some()),
        ];
        match required.iter().find(|(_, set)| !set) {
            Some((field, _)) => Err(Refused::new(field, "a new swarm needs it")),
            None => Ok(()),
        }
    }
}

/// VR's memory limit (`512M`, `1g`, `1048576k`, a number of MB, or null) in MB.
pub fn mem_limit_mb(v: &Value) -> Result<Option<u64>, Refused> {
    let bad = || Refused::new("mem_limit", "must be like 512M, 2G or 1048576K, or null");
    let s = match v {
        Value::Null => return Ok(None),
        Value::Number(n) => {
            return n
                .as_u64()
                .map(|n| Some(n).filter(|n| *n > 0))
                .ok_or_else(bad);
        }
        Value::String(s) => s.trim(),
        _ => return Err(bad()),
    };
    if s.is_empty() {
        return Ok(None);
    }
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let mb = match unit.to_ascii_lowercase().as_str() {
        "" | "m" | "mb" => Some(n),
        "g" | "gb" => n.checked_mul(1024),
        // Rounded up: a limit is never made smaller than asked.
        "k" | "kb" => Some(n.div_ceil(1024)),
        _ => None,
    };
    mb.map(|m| Some(m).filter(|m| *m > 0)).ok_or_else(bad)
}

fn volumes(v: &Value) -> Result<Vec<Volume>, Refused> {
    let bad = || Refused::new("volumes", "must be a list of [host_dir, mount_dir] pairs");
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|pair| match pair.as_array().map(Vec::as_slice) {
                Some([Value::String(host), Value::String(mount)]) => Ok(Volume {
                    host_dir: host.clone(),
                    mount_dir: mount.clone(),
                }),
                _ => Err(bad()),
            })
            .collect(),
        _ => Err(bad()),
    }
}

/// `POST /api/v1/releases/{id}/deploy/` as VR's client sends it: `host`, `port`, `proc`,
/// `config_name`.
pub fn deploy_request(
    release_id: i64,
    body: &Map<String, Value>,
) -> Result<DeployRequest, Refused> {
    let known = ["host", "port", "proc", "config_name"];
    if let Some(k) = body.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(Refused::new(
            k,
            "not a field of a deploy (host, port, proc, config_name)",
        ));
    }
    let need = |k: &str| {
        body.get(k)
            .ok_or_else(|| Refused::new(k, "a deploy needs it"))
    };
    let port = need("port")?;
    let port = port
        .as_u64()
        .or_else(|| port.as_str().and_then(|s| s.trim().parse().ok()))
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(|| Refused::new("port", "must be a port number (0 for a worker)"))?;
    Ok(DeployRequest {
        release_id,
        proc_type: text("proc", need("proc")?)?,
        config: text("config_name", need("config_name")?)?,
        host: uri_key("host", resource::HOSTS, &text("host", need("host")?)?)?.to_string(),
        port,
    })
}

/// `POST /api/v1/builds/` as VR's client sends it: `{"app": "/api/v1/apps/NAME/", "tag": V}`.
pub fn build_request(body: &Map<String, Value>) -> Result<crate::build::BuildRequest, Refused> {
    if let Some(k) = body
        .keys()
        .find(|k| !["app", "tag", "resource_uri", "id"].contains(&k.as_str()))
    {
        return Err(Refused::new(k, "not a field of a build (app, tag)"));
    }
    let need = |k: &str| {
        body.get(k)
            .ok_or_else(|| Refused::new(k, "a build needs it"))
    };
    Ok(crate::build::BuildRequest {
        app: uri_key("app", resource::APPS, &text("app", need("app")?)?)?.to_string(),
        version: text("tag", need("tag")?)?,
        force: false,
        stack: None,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VrApp {
    pub id: i64,
    pub resource_uri: String,
    pub name: String,
    pub repo_url: String,
    pub repo_type: String,
    pub buildpack: Option<String>,
}

pub fn vr_app(app: &crate::build::App) -> VrApp {
    VrApp {
        id: app.id,
        resource_uri: uri(resource::APPS, &app.name),
        name: app.name.clone(),
        repo_url: app.repo_url.clone(),
        repo_type: "git".into(),
        buildpack: app.buildpack.clone(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VrSquad {
    pub id: i64,
    pub resource_uri: String,
    pub name: String,
    pub description: String,
    pub hosts: Vec<String>,
}

pub fn vr_squad(squad: &crate::fleet::Squad) -> VrSquad {
    VrSquad {
        id: squad.id,
        resource_uri: uri(resource::SQUADS, squad.id),
        name: squad.name.clone(),
        description: squad.description.clone(),
        hosts: squad
            .hosts
            .iter()
            .map(|h| uri(resource::HOSTS, h))
            .collect(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VrHost {
    pub id: i64,
    pub resource_uri: String,
    pub name: String,
    pub address: String,
    pub active: bool,
    pub squad: Option<String>,
    pub squad_name: Option<String>,
    /// `ok`, `unreachable`, … as the poller last saw it.
    pub health: String,
    pub procs: Vec<VrProc>,
}

/// `host` with its procs; `squad_id` is the id of its squad.
pub fn vr_host(host: &Host, squad_id: Option<i64>, procs: &[Proc]) -> VrHost {
    VrHost {
        id: host.id,
        resource_uri: uri(resource::HOSTS, &host.settings.name),
        name: host.settings.name.clone(),
        address: host.settings.address.clone(),
        active: host.settings.active,
        squad: squad_id.map(|id| uri(resource::SQUADS, id)),
        squad_name: host.settings.squad.clone(),
        health: host.status.health.as_str().to_string(),
        procs: procs
            .iter()
            .filter(|p| p.host == host.settings.name)
            .map(|p| vr_proc(p, Some(host)))
            .collect(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VrIngredient {
    pub id: i64,
    pub resource_uri: String,
    pub name: String,
    /// Settings YAML as written.
    pub config_yaml: String,
    /// Env YAML, secret values masked.
    pub env_yaml: String,
    /// Swarms that use it, as resource URIs (VR's `--by-ingredients` reads them).
    pub swarms: Vec<String>,
}

/// `ingredient` (already masked) and the ids of the swarms using it.
pub fn vr_ingredient(ingredient: &Ingredient, swarm_ids: &[i64]) -> VrIngredient {
    VrIngredient {
        id: ingredient.id,
        resource_uri: uri(resource::INGREDIENTS, ingredient.id),
        name: ingredient.name.clone(),
        config_yaml: ingredient.settings_yaml.clone(),
        env_yaml: ingredient.env_yaml.clone(),
        swarms: swarm_ids
            .iter()
            .map(|id| uri(resource::SWARMS, id))
            .collect(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VrBuild {
    pub id: i64,
    pub resource_uri: String,
    pub app: String,
    pub app_name: String,
    pub tag: String,
    pub commit: Option<String>,
    /// VR's words: `pending`, `started`, `success`, `failed`, `expired`.
    pub status: String,
    pub hash: Option<String>,
    pub buildpack_url: Option<String>,
    /// Where vr shows it (its log is at `/api/builds/{id}/log`).
    pub vr_uri: String,
}

/// VR's name for a build status.
pub fn vr_build_status(s: BuildStatus) -> &'static str {
    match s {
        BuildStatus::Pending => "pending",
        BuildStatus::Running => "started",
        BuildStatus::Succeeded => "success",
        BuildStatus::Failed => "failed",
        BuildStatus::Expired => "expired",
    }
}

pub fn vr_build(build: &Build) -> VrBuild {
    VrBuild {
        id: build.id,
        resource_uri: uri(resource::BUILDS, build.id),
        app: uri(resource::APPS, &build.app),
        app_name: build.app.clone(),
        tag: build.version.clone(),
        commit: build.commit.clone(),
        status: vr_build_status(build.status).to_string(),
        hash: build.sha256.clone(),
        buildpack_url: build.buildpack.clone(),
        vr_uri: format!("/api/builds/{}", build.id),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VrRelease {
    pub id: i64,
    pub resource_uri: String,
    pub build: String,
    pub app_name: String,
    pub version: String,
    pub hash: String,
    /// Its settings as YAML (VR's `compare-releases` diffs this).
    pub config_yaml: String,
    /// Its env as YAML, secret values masked.
    pub env_yaml: String,
    pub volumes: Vec<[String; 2]>,
    pub run_as: Option<String>,
    pub mem_limit: Option<String>,
    pub ingredients: Vec<String>,
}

/// `release` (already masked) with its settings and env rendered as YAML by the caller.
pub fn vr_release(
    release: &crate::release::Release,
    config_yaml: String,
    env_yaml: String,
) -> VrRelease {
    let c = &release.config;
    VrRelease {
        id: release.id,
        resource_uri: uri(resource::RELEASES, release.id),
        build: uri(resource::BUILDS, release.build_id),
        app_name: release.app.clone(),
        version: release.version.clone(),
        hash: release.hash.clone(),
        config_yaml,
        env_yaml,
        volumes: c
            .volumes
            .iter()
            .map(|v| [v.host_dir.clone(), v.mount_dir.clone()])
            .collect(),
        run_as: c.run_as.clone(),
        mem_limit: c.mem_limit_mb.map(|m| format!("{m}M")),
        ingredients: release.ingredients.clone(),
    }
}

/// One uptest's latest result as VR's `testruns/latest` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VrTestResult {
    pub procname: String,
    pub hostname: String,
    pub testname: String,
    pub passed: bool,
    /// Its output (redacted), cut to the last 4 KiB.
    pub results: String,
    pub time_ms: u64,
}

/// `GET /api/v1/testruns/latest/`: every proc's newest uptest results (vr runs them on
/// schedule and at every deploy; there is no separate "run").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VrTestRun {
    pub resource_uri: String,
    pub testresults: Vec<VrTestResult>,
    pub passed: usize,
    pub failed: usize,
}

pub fn vr_testrun(results: &[crate::deploy::UptestResult]) -> VrTestRun {
    let testresults: Vec<VrTestResult> = results
        .iter()
        .map(|r| VrTestResult {
            procname: r.program.clone(),
            hostname: r.host.clone(),
            testname: r.name.clone(),
            passed: r.passed,
            results: r.output.clone(),
            time_ms: r.ms,
        })
        .collect();
    let passed = testresults.iter().filter(|r| r.passed).count();
    VrTestRun {
        resource_uri: uri(resource::TESTRUNS, "latest"),
        failed: testresults.len() - passed,
        passed,
        testresults,
    }
}

/// The answer to `POST /api/v1/swarms/{id}/swarm/` (202).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DispatchAccepted {
    /// vr's dispatch id (VR answered a Celery task id here).
    pub swarm_id: i64,
    pub dispatch_uri: String,
}

/// Ids of swarms that use each ingredient, by ingredient name.
pub fn swarms_by_ingredient(swarms: &[(i64, &SwarmSpec)]) -> BTreeMap<String, BTreeSet<i64>> {
    let mut out: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for (id, spec) in swarms {
        for name in &spec.ingredients {
            out.entry(name.clone()).or_default().insert(*id);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn uri_keys_come_from_uris_urls_and_bare_keys() {
        assert_eq!(uri_key("squad", "squads", "/api/v1/squads/3/"), Ok("3"));
        assert_eq!(uri_key("squad", "squads", "/api/v1/squads/eu"), Ok("eu"));
        assert_eq!(
            uri_key("squad", "squads", "http://vr.example:8000/api/v1/squads/3/"),
            Ok("3")
        );
        assert_eq!(uri_key("squad", "squads", "eu"), Ok("eu"));
        let wrong = uri_key("squad", "squads", "/api/v1/apps/3/").expect_err("other resource");
        assert_eq!(wrong.field, "squad");
        assert!(uri_key("squad", "squads", "/api/v1/squads/").is_err());
        assert!(uri_key("squad", "squads", "/etc/passwd").is_err());
        assert!(uri_key("squad", "squads", "/api/v1/squads/3/extra/").is_err());
    }

    #[test]
    fn a_key_names_an_id_first_then_a_name() {
        let items = [(1, "eu"), (2, "7"), (7, "us")];
        let find = |k: &str| by_key(&items, k, |i| i.0, |i| i.1).map(|i| i.0);
        assert_eq!(find("eu"), Some(1));
        assert_eq!(find("7"), Some(7));
        assert_eq!(find("2"), Some(2));
        assert_eq!(find("nope"), None);
    }

    #[test]
    fn the_seeds_alternation_narrows_nothing_and_plain_names_narrow_exactly() {
        // What VR's client sends for `swarm1-config1-runner|swarm2-config2-runner`.
        let f = SwarmFilter::from_params(&params(&[
            ("app__name", "swarm1"),
            ("config_name", "config1"),
            ("proc_name", "runner|swarm2"),
        ]))
        .expect("filter");
        assert_eq!(f, SwarmFilter::default());
        let f = SwarmFilter::from_params(&params(&[
            ("app__name", "shop"),
            ("config_name", "prod"),
            ("proc_name", ""),
        ]))
        .expect("filter");
        let mut spec = crate::fixtures::swarm_spec();
        spec.app = "shop".into();
        spec.config = "prod".into();
        assert!(f.keeps(&spec, Some(1)));
        spec.config = "production".into();
        assert!(!f.keeps(&spec, Some(1)));
        // Squads by name, URI or id.
        for q in [
            ("squad__name", "eu"),
            ("squad", "/api/v1/squads/7/"),
            ("squad", "7"),
        ] {
            let f = SwarmFilter::from_params(&params(&[q])).expect("filter");
            spec.squad = "eu".into();
            assert!(f.keeps(&spec, Some(7)), "{q:?}");
            spec.squad = "us".into();
            assert!(!f.keeps(&spec, Some(8)), "{q:?}");
        }
    }

    #[test]
    fn pages_link_onwards_with_their_filters_and_unknown_parameters_are_refused() {
        let q = params(&[("app__name", "shop"), ("limit", "2"), ("format", "json")]);
        let page = page_of(&q, &SWARM_FILTERS).expect("page");
        let first = list((1..=5).collect(), page, "/api/v1/swarms/", &q);
        assert_eq!(first.objects, vec![1, 2]);
        assert_eq!(first.meta.total_count, 5);
        assert_eq!(
            first.meta.next.as_deref(),
            Some("/api/v1/swarms/?app__name=shop&limit=2&offset=2")
        );
        assert_eq!(first.meta.previous, None);
        let q = params(&[("limit", "2"), ("offset", "4")]);
        let last = list(
            (1..=5).collect(),
            page_of(&q, &[]).expect("page"),
            "/x/",
            &q,
        );
        assert_eq!(last.objects, vec![5]);
        assert_eq!(last.meta.next, None);
        assert_eq!(last.meta.previous.as_deref(), Some("/x/?limit=2&offset=2"));
        let all = page_of(&params(&[("limit", "0")]), &[]).expect("page");
        assert_eq!(all.limit, MAX_LIMIT);
        let err = page_of(&params(&[("apps__name", "x")]), &SWARM_FILTERS).expect_err("typo");
        assert_eq!(err.field, "apps__name");
        let err = page_of(&params(&[("limit", "-1")]), &[]).expect_err("negative");
        assert_eq!(err.field, "limit");
        let err = page_of(&params(&[("format", "xml")]), &[]).expect_err("xml");
        assert_eq!(err.field, "format");
    }

    #[test]
    fn swarm_bodies_are_read_with_references_and_read_only_fields() {
        let body: Map<String, Value> = serde_json::from_str(
            r#"{"app": "/api/v1/apps/shop/", "proc_name": "web", "config_name": "prod",
                "squad": "/api/v1/squads/2/", "size": 3, "version": "v2", "pool": "shop",
                "balancer": "edge", "config_ingredients": ["/api/v1/ingredients/4/", "pg"],
                "mem_limit": "1G", "volumes": [["/data", "/srv/data"]], "run_as": null,
                "id": 9, "procs": [], "shortname": "ignored"}"#,
        )
        .expect("json");
        let c = swarm_changes(&body).expect("changes");
        assert!(c.check_complete().is_ok());
        assert_eq!(c.app.as_deref(), Some("shop"));
        assert_eq!(c.squad.as_deref(), Some("2"));
        assert_eq!(c.ingredients, Some(vec!["4".to_string(), "pg".to_string()]));
        assert_eq!(c.mem_limit_mb, Some(Some(1024)));
        assert_eq!(c.run_as, Some(None));
        let mut spec = SwarmSpec::default();
        let mut resolved = c.clone();
        resolved.squad = Some("eu".into());
        resolved.apply(&mut spec);
        assert_eq!(spec.squad, "eu");
        assert_eq!(spec.size, 3);
        assert_eq!(spec.volumes[0].mount_dir, "/srv/data");

        let patch: Map<String, Value> = serde_json::from_str(r#"{"version": "v3"}"#).expect("json");
        let c = swarm_changes(&patch).expect("changes");
        assert_eq!(c.check_complete().expect_err("incomplete").field, "app");
        let before = spec.clone();
        c.apply(&mut spec);
        assert_eq!(spec.version, "v3");
        assert_eq!(spec.size, before.size);

        for (bad, field) in [
            (r#"{"sise": 3}"#, "sise"),
            (r#"{"size": -1}"#, "size"),
            (r#"{"squad": "/api/v1/apps/x/"}"#, "squad"),
            (
                r#"{"ingredients": [], "config_ingredients": []}"#,
                "ingredients",
            ),
            (r#"{"mem_limit": "lots"}"#, "mem_limit"),
            (r#"{"volumes": [["/only-one"]]}"#, "volumes"),
        ] {
            let body: Map<String, Value> = serde_json::from_str(bad).expect("json");
            assert_eq!(swarm_changes(&body).expect_err(bad).field, field, "{bad}");
        }
    }

    #[test]
    fn memory_limits_in_vrs_words() {
        let mb = |v: Value| mem_limit_mb(&v);
        assert_eq!(mb(Value::from("512M")), Ok(Some(512)));
        assert_eq!(mb(Value::from("512m")), Ok(Some(512)));
        assert_eq!(mb(Value::from("2g")), Ok(Some(2048)));
        assert_eq!(mb(Value::from("1025k")), Ok(Some(2)));
        assert_eq!(mb(Value::from(256)), Ok(Some(256)));
        assert_eq!(mb(Value::from("")), Ok(None));
        assert_eq!(mb(Value::Null), Ok(None));
        assert!(mb(Value::from("12t")).is_err());
        assert!(mb(Value::from("-5M")).is_err());
    }

    #[test]
    fn deploy_and_build_requests_as_vrs_client_sends_them() {
        let body: Map<String, Value> = serde_json::from_str(
            r#"{"host": "web1", "port": 0, "proc": "worker", "config_name": "prod"}"#,
        )
        .expect("json");
        let d = deploy_request(5, &body).expect("deploy");
        assert_eq!((d.release_id, d.port, d.host.as_str()), (5, 0, "web1"));
        assert_eq!(d.proc_type, "worker");
        let body: Map<String, Value> = serde_json::from_str(
            r#"{"host": "web1", "port": 70000, "proc": "w", "config_name": "p"}"#,
        )
        .expect("json");
        assert_eq!(deploy_request(5, &body).expect_err("port").field, "port");
        let body: Map<String, Value> =
            serde_json::from_str(r#"{"host": "web1", "proc": "w", "config_name": "p"}"#)
                .expect("json");
        assert_eq!(deploy_request(5, &body).expect_err("no port").field, "port");

        let body: Map<String, Value> =
            serde_json::from_str(r#"{"app": "/api/v1/apps/shop/", "tag": "v1"}"#).expect("json");
        let b = build_request(&body).expect("build");
        assert_eq!((b.app.as_str(), b.version.as_str()), ("shop", "v1"));
    }

    #[test]
    fn a_proc_on_a_host_that_does_not_answer_is_unknown_not_running() {
        let mut host = crate::fixtures::host("web1", None);
        let proc = crate::fixtures::proc(
            "web1",
            "shop-v1-prod-abc-web-5000",
            Some(("shop", "prod", "web")),
            crate::supervisor::ProcState::Running,
        );
        host.status.health = crate::fleet::Health::Ok;
        assert_eq!(vr_proc(&proc, Some(&host)).statename, "RUNNING");
        host.status.health = crate::fleet::Health::Unreachable;
        let p = vr_proc(&proc, Some(&host));
        assert_eq!(p.statename, "UNKNOWN");
        assert!(p.description.contains("unreachable"), "{}", p.description);
    }
}
