//! Releases and ingredients (SPEC §1, §3.2): the merge of configuration layers, the canonical
//! form and hash that make identical inputs one release, and the diff of two releases. Pure:
//! YAML is parsed by the server; this works on JSON values.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

pub mod paths {
    pub const RELEASES: &str = "/api/releases";
    /// `POST` a [`super::NewRelease`]: the merged config and hash, nothing stored.
    pub const RELEASE_PREVIEW: &str = "/api/releases/preview";
    /// `GET ?a=ID&b=ID`.
    pub const RELEASE_COMPARE: &str = "/api/releases/compare";
    pub const INGREDIENTS: &str = "/api/ingredients";

    pub fn release(id: i64) -> String {
        format!("{RELEASES}/{id}")
    }
    pub fn ingredient(name: &str) -> String {
        format!("{INGREDIENTS}/{}", crate::fleet::path_segment(name))
    }
}

/// A directory of the host mounted into the proc's view.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Volume {
    pub host_dir: String,
    pub mount_dir: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Ingredient {
    pub id: i64,
    pub name: String,
    /// As written (kept for editing).
    pub settings_yaml: String,
    pub env_yaml: String,
    /// Parsed: a mapping.
    pub settings: Map<String, Value>,
    pub env: BTreeMap<String, String>,
    /// Env keys whose values are secret: shown masked, revealed on purpose.
    #[serde(default)]
    pub secret_keys: BTreeSet<String>,
    pub notes: String,
    pub updated_at: i64,
    /// Releases that include it (swarms will be listed here when they exist).
    pub used_by_releases: Vec<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewIngredient {
    pub name: String,
    #[serde(default)]
    pub settings_yaml: String,
    #[serde(default)]
    pub env_yaml: String,
    /// Keys of `env_yaml` whose values are secret.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_keys: Vec<String>,
    #[serde(default)]
    pub notes: String,
}

/// `PATCH /api/ingredients/{name}`: absent fields stay. In `env_yaml`, a secret key whose value
/// is [`crate::secret::MASK`] keeps its value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct IngredientPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings_yaml: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_yaml: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_keys: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// `POST /api/releases` (and the preview): a build plus configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewRelease {
    pub build_id: i64,
    /// YAML mapping; empty = none.
    #[serde(default)]
    pub settings_yaml: String,
    /// YAML mapping of strings; empty = none.
    #[serde(default)]
    pub env_yaml: String,
    /// Keys of `env_yaml` whose values are secret (keys an ingredient marks stay secret too).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_keys: Vec<String>,
    /// A release of the same app whose secret values fill the ones given as
    /// [`crate::secret::MASK`] ("unchanged"), so a release can be made from a masked one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets_from: Option<i64>,
    /// Ingredient names, merged in this order.
    #[serde(default)]
    pub ingredients: Vec<String>,
    #[serde(default)]
    pub volumes: Vec<Volume>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_limit_mb: Option<u64>,
    /// Its procs' share of CPU time against other procs', as cgroup v2's `cpu.weight`
    /// (1–10000, 100 is the kernel's default); none: the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_weight: Option<u32>,
    /// How its procs run: as plain Supervisor programs, or each in a sandbox.
    #[serde(default, skip_serializing_if = "Runner::is_plain")]
    pub runner: Runner,
}

/// The kernel's CPU weight when none is set: a weight of 100 is no weight at all.
pub const CPU_WEIGHT_DEFAULT: u32 = 100;
/// cgroup v2's range of `cpu.weight`.
pub const CPU_WEIGHT_MAX: u32 = 10_000;

/// cgroup v1's `cpu.shares` for a v2 weight (1024 is v1's default, as 100 is v2's).
pub fn cpu_shares(weight: u32) -> u64 {
    (u64::from(weight) * 1024 / u64::from(CPU_WEIGHT_DEFAULT)).max(2)
}

/// How a release's procs run on their hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Runner {
    /// A Supervisor program running the command as the run-as user.
    #[default]
    Plain,
    /// The same, inside a bubblewrap sandbox: its own mount and pid namespaces, the build
    /// read-only at `/app`, only its home and volumes writable, nothing else of the host's.
    Sandbox,
}

impl Runner {
    pub const ALL: [Runner; 2] = [Runner::Plain, Runner::Sandbox];

    pub fn as_str(self) -> &'static str {
        match self {
            Runner::Plain => "plain",
            Runner::Sandbox => "sandbox",
        }
    }

    pub fn parse(s: &str) -> Option<Runner> {
        Self::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    pub fn is_plain(&self) -> bool {
        *self == Runner::Plain
    }
}

/// Everything a proc needs at run time besides the build; its hash identifies a release.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReleaseConfig {
    pub settings: Map<String, Value>,
    pub env: BTreeMap<String, String>,
    /// Env keys whose values are secret. Left out of the JSON when empty, so releases without
    /// secrets hash as they always did.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub secret_keys: BTreeSet<String>,
    pub volumes: Vec<Volume>,
    pub run_as: Option<String>,
    pub mem_limit_mb: Option<u64>,
    /// Left out of the JSON when none, so releases made before it hash as they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_weight: Option<u32>,
    /// Left out of the JSON when plain, so releases made before runners hash as they did.
    #[serde(default, skip_serializing_if = "Runner::is_plain")]
    pub runner: Runner,
    /// The stack image its build compiled in, which its procs run on. Taken from the build;
    /// left out of the JSON when none, so releases made before stacks hash as they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<crate::stack::StackRef>,
}

impl ReleaseConfig {
    /// The values of the secret env keys: what is masked in whatever the proc or host prints.
    pub fn secret_values(&self) -> Vec<String> {
        self.secret_keys
            .iter()
            .filter_map(|k| self.env.get(k).cloned())
            .collect()
    }

    /// One form for equal meanings: no run-as and `""`, no limit and 0, volumes in any order
    /// and repeated, are each the same.
    pub fn canonical(mut self) -> ReleaseConfig {
        self.run_as = self.run_as.filter(|r| !r.trim().is_empty());
        self.mem_limit_mb = self.mem_limit_mb.filter(|m| *m > 0);
        self.cpu_weight = self.cpu_weight.filter(|w| *w != CPU_WEIGHT_DEFAULT);
        crate::order::sort(&mut self.volumes);
        self.volumes.dedup();
        let env = &self.env;
        self.secret_keys.retain(|k| env.contains_key(k));
        self
    }

    /// The release hash: 12 hex digits of SHA-256 over the build's sha256 and the canonical
    /// config as JSON (objects are sorted maps, so key order cannot matter).
    pub fn hash(&self, build_sha256: &str) -> String {
        self.hash_keyed(build_sha256, &[])
    }

    /// [`Self::hash`] with each secret value replaced by a digest keyed by `key` (the
    /// installation's): the hash is shown to everyone, and must not let anyone test guesses
    /// of a secret offline. Without secrets it equals the plain hash.
    pub fn hash_keyed(&self, build_sha256: &str, key: &[u8]) -> String {
        let mut canon = self.clone().canonical();
        for k in &canon.secret_keys {
            if let Some(v) = canon.env.get_mut(k) {
                let mut h = Sha256::new();
                h.update(key);
                h.update([0u8]);
                h.update(v.as_bytes());
                *v = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
            }
        }
        let json = serde_json::to_string(&(build_sha256, &canon)).unwrap_or_default();
        let digest = Sha256::digest(json.as_bytes());
        digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Release {
    pub id: i64,
    pub app: String,
    pub build_id: i64,
    /// The build's version and commit, so lists can say what a release runs.
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub commit: Option<String>,
    pub hash: String,
    #[serde(flatten)]
    pub config: ReleaseConfig,
    pub ingredients: Vec<String>,
    pub created_by: String,
    pub created_at: i64,
}

/// Where a merged key's value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Layer {
    /// The buildpack's `bin/release` env.
    Build,
    Ingredient(String),
    /// The release's (or swarm's) own values.
    Own,
}

impl Layer {
    /// `build`, `ingredient NAME` or `own`: how pages and the CLI name it.
    pub fn label(&self) -> String {
        match self {
            Layer::Build => "build".to_string(),
            Layer::Ingredient(name) => format!("ingredient {name}"),
            Layer::Own => "own".to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Sourced {
    pub key: String,
    pub value: Value,
    pub from: Layer,
}

/// `POST /api/releases/preview`: the merged result, which layer each key came from, and the
/// hash the release would get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReleasePreview {
    pub config: ReleaseConfig,
    pub settings_from: Vec<Sourced>,
    pub env_from: Vec<Sourced>,
    pub hash: String,
}

/// One configuration layer: a name for provenance, settings and env, and which of its env keys
/// are secret.
pub struct ConfigLayer<'a> {
    pub from: Layer,
    pub settings: &'a Map<String, Value>,
    pub env: &'a BTreeMap<String, String>,
    pub secret_keys: &'a BTreeSet<String>,
}

/// Merges layers in order, later ones winning, shallowly per top-level key (SPEC §3.2:
/// build env ← ingredients in order ← own values).
pub fn merge(layers: &[ConfigLayer<'_>]) -> Merged {
    let mut settings = Map::new();
    let mut env = BTreeMap::new();
    let mut settings_from: BTreeMap<String, Layer> = BTreeMap::new();
    let mut env_from: BTreeMap<String, Layer> = BTreeMap::new();
    // A key any layer calls secret stays secret, whichever layer's value wins.
    let mut secret_keys = BTreeSet::new();
    for layer in layers {
        secret_keys.extend(layer.secret_keys.iter().cloned());
        for (k, v) in layer.settings {
            settings.insert(k.clone(), v.clone());
            settings_from.insert(k.clone(), layer.from.clone());
        }
        for (k, v) in layer.env {
            env.insert(k.clone(), v.clone());
            env_from.insert(k.clone(), layer.from.clone());
        }
    }
    let sourced = |from: BTreeMap<String, Layer>, values: &dyn Fn(&str) -> Value| {
        from.into_iter()
            .map(|(key, from)| Sourced {
                value: values(&key),
                key,
                from,
            })
            .collect::<Vec<_>>()
    };
    let s_from = sourced(settings_from, &|k| {
        settings.get(k).cloned().unwrap_or(Value::Null)
    });
    let e_from = sourced(env_from, &|k| {
        env.get(k)
            .map(|v| Value::String(v.clone()))
            .unwrap_or(Value::Null)
    });
    secret_keys.retain(|k| env.contains_key(k));
    Merged {
        settings,
        env,
        secret_keys,
        settings_from: s_from,
        env_from: e_from,
    }
}

/// The result of [`merge`].
pub struct Merged {
    pub settings: Map<String, Value>,
    pub env: BTreeMap<String, String>,
    pub secret_keys: BTreeSet<String>,
    pub settings_from: Vec<Sourced>,
    pub env_from: Vec<Sourced>,
}

/// One difference between two releases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Difference {
    /// `settings`, `env`, `volumes`, `run_as`, `mem_limit_mb` or `build`.
    pub section: String,
    /// The top-level key for settings and env; empty otherwise.
    pub key: String,
    pub a: Option<Value>,
    pub b: Option<Value>,
    /// A secret env value changed: `a` and `b` show [`crate::secret::MASK`], not the values.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReleaseDiff {
    pub a: Release,
    pub b: Release,
    pub differences: Vec<Difference>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CompareQuery {
    pub a: i64,
    pub b: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReleaseQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// A release's own values: the keys of its merged config that its build's env and its
/// ingredients (as they are now, in its order) do not give it. A new release made from these
/// with the same ingredients merges to the same config, so starting a release from the last
/// one drops no key and does not copy ingredient values into it.
pub fn own_values(
    config: &ReleaseConfig,
    build_env: &BTreeMap<String, String>,
    ingredients: &[&Ingredient],
) -> (Map<String, Value>, BTreeMap<String, String>) {
    let mut settings = Map::new();
    let mut env = BTreeMap::new();
    for i in ingredients {
        settings.extend(i.settings.iter().map(|(k, v)| (k.clone(), v.clone())));
        env.extend(i.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let base_env = |k: &str| env.get(k).or_else(|| build_env.get(k));
    // `extend` rather than `collect`: collecting into a map sorts a buffer first, one more copy
    // of the sort in the UI's wasm per map type (see `order`).
    let mut own_settings = Map::new();
    own_settings.extend(
        config
            .settings
            .iter()
            .filter(|(k, v)| settings.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    let mut own_env = BTreeMap::new();
    own_env.extend(
        config
            .env
            .iter()
            .filter(|(k, v)| base_env(k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    (own_settings, own_env)
}

/// `key: value` lines that read back as `values`: each value written as JSON, which YAML
/// reads as the same scalar, list or mapping; keys quoted unless plain.
pub fn to_yaml<'a, V: Serialize + 'a>(
    values: impl IntoIterator<Item = (&'a String, &'a V)>,
) -> String {
    let mut out = String::new();
    for (k, v) in values {
        let plain = !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            && !k.starts_with(['-', '.']);
        let key = if plain {
            k.clone()
        } else {
            serde_json::to_string(k).unwrap_or_default()
        };
        let value = serde_json::to_string(v).unwrap_or_default();
        out.push_str(&format!("{key}: {value}\n"));
    }
    out
}

/// Every key of two maps once, in order. (`extend`, not `collect`: see [`own_values`].)
fn key_union<'a>(
    a: impl Iterator<Item = &'a String>,
    b: impl Iterator<Item = &'a String>,
) -> BTreeSet<&'a String> {
    let mut keys = BTreeSet::new();
    keys.extend(a.chain(b));
    keys
}

/// What differs between two releases, section by section, key by key.
pub fn diff(a: &Release, b: &Release) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut push = |section: &str, key: &str, x: Option<Value>, y: Option<Value>| {
        if x != y {
            out.push(Difference {
                section: section.into(),
                key: key.into(),
                a: x,
                b: y,
                secret: false,
            });
        }
    };
    push(
        "build",
        "",
        Some(Value::from(a.build_id)),
        Some(Value::from(b.build_id)),
    );
    for k in key_union(a.config.settings.keys(), b.config.settings.keys()) {
        push(
            "settings",
            k,
            a.config.settings.get(k).cloned(),
            b.config.settings.get(k).cloned(),
        );
    }
    for k in key_union(a.config.env.keys(), b.config.env.keys()) {
        push(
            "env",
            k,
            a.config.env.get(k).map(|v| Value::String(v.clone())),
            b.config.env.get(k).map(|v| Value::String(v.clone())),
        );
    }
    let secrets = |r: &Release| serde_json::to_value(&r.config.secret_keys).ok();
    push("secret_keys", "", secrets(a), secrets(b));
    let vols = |r: &Release| serde_json::to_value(&r.config.volumes).ok();
    push("volumes", "", vols(a), vols(b));
    push(
        "run_as",
        "",
        a.config.run_as.clone().map(Value::String),
        b.config.run_as.clone().map(Value::String),
    );
    push(
        "mem_limit_mb",
        "",
        a.config.mem_limit_mb.map(Value::from),
        b.config.mem_limit_mb.map(Value::from),
    );
    push(
        "cpu_weight",
        "",
        a.config.cpu_weight.map(Value::from),
        b.config.cpu_weight.map(Value::from),
    );
    push(
        "runner",
        "",
        Some(Value::from(a.config.runner.as_str())),
        Some(Value::from(b.config.runner.as_str())),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn later_layers_win_per_top_level_key() {
        let build_env = BTreeMap::from([
            ("PATH".to_string(), "/app/bin".to_string()),
            ("A".to_string(), "build".to_string()),
        ]);
        let empty = Map::new();
        let db = map(json!({"db": {"host": "x", "port": 1}, "debug": false}));
        let db_env = BTreeMap::from([("A".to_string(), "ingredient".to_string())]);
        let own = map(json!({"db": {"host": "y"}}));
        let own_env = BTreeMap::from([
            ("B".to_string(), "own".to_string()),
            ("A".to_string(), "own wins".to_string()),
        ]);
        let none = BTreeSet::new();
        let db_secret = BTreeSet::from(["A".to_string(), "NOT_IN_ENV".to_string()]);
        let Merged {
            settings,
            env,
            secret_keys,
            settings_from: s_from,
            env_from: e_from,
        } = merge(&[
            ConfigLayer {
                from: Layer::Build,
                settings: &empty,
                env: &build_env,
                secret_keys: &none,
            },
            ConfigLayer {
                from: Layer::Ingredient("db".into()),
                settings: &db,
                env: &db_env,
                secret_keys: &db_secret,
            },
            ConfigLayer {
                from: Layer::Own,
                settings: &own,
                env: &own_env,
                secret_keys: &none,
            },
        ]);
        // Shallow: own `db` replaces the ingredient's whole `db`.
        assert_eq!(
            Value::Object(settings),
            json!({"db": {"host": "y"}, "debug": false})
        );
        assert_eq!(env.get("A").map(String::as_str), Some("own wins"));
        // The ingredient called A secret: it stays secret though its own value won; a secret
        // key no layer has is dropped.
        assert_eq!(secret_keys, BTreeSet::from(["A".to_string()]));
        assert_eq!(env.get("PATH").map(String::as_str), Some("/app/bin"));
        assert_eq!(
            s_from.iter().find(|s| s.key == "db").map(|s| &s.from),
            Some(&Layer::Own)
        );
        assert_eq!(
            s_from.iter().find(|s| s.key == "debug").map(|s| &s.from),
            Some(&Layer::Ingredient("db".into()))
        );
        assert_eq!(
            e_from.iter().find(|s| s.key == "A").map(|s| &s.from),
            Some(&Layer::Own)
        );
    }

    #[test]
    fn the_plain_runner_leaves_no_trace_so_older_releases_keep_their_hash() {
        let plain = ReleaseConfig::default();
        let json = serde_json::to_string(&plain).unwrap_or_default();
        assert!(!json.contains("runner"), "{json}");
        let sandbox = ReleaseConfig {
            runner: Runner::Sandbox,
            ..ReleaseConfig::default()
        };
        assert_ne!(plain.hash("s"), sandbox.hash("s"));
        assert_eq!(
            serde_json::from_str::<ReleaseConfig>(&json)
                .map(|c| c.runner)
                .ok(),
            Some(Runner::Plain)
        );
    }

    #[test]
    fn a_cpu_weight_left_at_the_default_leaves_no_trace() {
        let plain = ReleaseConfig::default();
        let json = serde_json::to_string(&plain.clone().canonical()).unwrap_or_default();
        assert!(!json.contains("cpu_weight"), "{json}");
        let default = ReleaseConfig {
            cpu_weight: Some(CPU_WEIGHT_DEFAULT),
            ..plain.clone()
        };
        assert_eq!(default.hash("sha"), plain.hash("sha"));
        let half = ReleaseConfig {
            cpu_weight: Some(50),
            ..plain.clone()
        };
        assert_ne!(half.hash("sha"), plain.hash("sha"));
        assert_eq!(cpu_shares(50), 512);
        assert_eq!(cpu_shares(CPU_WEIGHT_DEFAULT), 1024);
        assert_eq!(cpu_shares(1), 10);
    }

    #[test]
    fn equal_meanings_hash_alike() {
        let a = ReleaseConfig {
            settings: map(json!({"b": 1, "a": {"y": 2, "x": 1}})),
            env: BTreeMap::from([("K".into(), "v".into())]),
            volumes: vec![
                Volume {
                    host_dir: "/b".into(),
                    mount_dir: "/m2".into(),
                },
                Volume {
                    host_dir: "/a".into(),
                    mount_dir: "/m1".into(),
                },
            ],
            run_as: Some(String::new()),
            mem_limit_mb: Some(0),
            secret_keys: BTreeSet::new(),
            runner: Runner::Plain,
            stack: None,
            cpu_weight: None,
        };
        let b = ReleaseConfig {
            settings: map(json!({"a": {"x": 1, "y": 2}, "b": 1})),
            env: BTreeMap::from([("K".into(), "v".into())]),
            volumes: vec![
                Volume {
                    host_dir: "/a".into(),
                    mount_dir: "/m1".into(),
                },
                Volume {
                    host_dir: "/b".into(),
                    mount_dir: "/m2".into(),
                },
                Volume {
                    host_dir: "/a".into(),
                    mount_dir: "/m1".into(),
                },
            ],
            run_as: None,
            mem_limit_mb: None,
            secret_keys: BTreeSet::new(),
            runner: Runner::Plain,
            stack: None,
            cpu_weight: None,
        };
        assert_eq!(a.hash("sha"), b.hash("sha"));
        assert_eq!(a.hash("sha").len(), 12);
        assert_ne!(a.hash("sha"), a.hash("other build"));
        let mut c = b.clone();
        c.env.insert("K".into(), "w".into());
        assert_ne!(c.hash("sha"), b.hash("sha"));
        // Releases without secrets hash as before secrets existed; marking a key secret is a
        // different release.
        assert!(
            !serde_json::to_string(&b)
                .unwrap_or_default()
                .contains("secret_keys")
        );
        let mut d = b.clone();
        d.secret_keys.insert("K".into());
        assert_ne!(d.hash("sha"), b.hash("sha"));
        // A secret's value reaches the hash only through the installation's key.
        assert_eq!(
            b.hash_keyed("sha", b"k1"),
            b.hash("sha"),
            "no secrets: the plain hash"
        );
        assert_ne!(d.hash_keyed("sha", b"k1"), d.hash_keyed("sha", b"k2"));
        assert_eq!(d.hash_keyed("sha", b"k1"), d.hash_keyed("sha", b"k1"));
        let mut e = d.clone();
        e.env.insert("K".into(), "other".into());
        assert_ne!(e.hash_keyed("sha", b"k1"), d.hash_keyed("sha", b"k1"));
    }

    #[test]
    fn own_values_are_what_the_build_and_ingredients_do_not_give() {
        let ingredient = Ingredient {
            id: 1,
            name: "db".into(),
            settings_yaml: String::new(),
            env_yaml: String::new(),
            settings: map(json!({"pool": 5, "host": "db1"})),
            env: BTreeMap::from([("DB_URL".into(), "pg://db1".into())]),
            secret_keys: BTreeSet::new(),
            notes: String::new(),
            updated_at: 0,
            used_by_releases: vec![],
        };
        let build_env = BTreeMap::from([
            ("PATH".into(), "/app/bin".into()),
            ("MODE".into(), "x".into()),
        ]);
        let config = ReleaseConfig {
            settings: map(json!({"pool": 9, "host": "db1", "own": [1, 2]})),
            env: BTreeMap::from([
                ("PATH".into(), "/app/bin".into()),
                ("MODE".into(), "prod".into()),
                ("DB_URL".into(), "pg://db1".into()),
                ("TOKEN".into(), "••••••".into()),
            ]),
            ..Default::default()
        };
        let (settings, env) = own_values(&config, &build_env, &[&ingredient]);
        assert_eq!(
            Value::Object(settings.clone()),
            json!({"pool": 9, "own": [1, 2]})
        );
        assert_eq!(
            env.keys().map(String::as_str).collect::<Vec<_>>(),
            ["MODE", "TOKEN"]
        );
        // Written as YAML that reads back to the same values.
        let yaml = to_yaml(settings.iter());
        assert_eq!(yaml, "own: [1,2]\npool: 9\n");
        let env_yaml = to_yaml(env.iter());
        assert_eq!(env_yaml, "MODE: \"prod\"\nTOKEN: \"••••••\"\n");
        let odd = BTreeMap::from([("a b".to_string(), "x: y".to_string())]);
        assert_eq!(to_yaml(odd.iter()), "\"a b\": \"x: y\"\n");
    }

    #[test]
    fn diffs_name_section_and_key() {
        let base = Release {
            id: 1,
            app: "shop".into(),
            build_id: 7,
            version: "1.0".into(),
            commit: None,
            hash: "h".into(),
            config: ReleaseConfig {
                settings: map(json!({"a": 1, "same": true})),
                env: BTreeMap::from([("E".into(), "1".into())]),
                ..Default::default()
            },
            ingredients: vec![],
            created_by: String::new(),
            created_at: 0,
        };
        let mut other = base.clone();
        other.config.settings = map(json!({"b": 2, "same": true}));
        other.config.run_as = Some("web".into());
        let d = diff(&base, &other);
        let keys: Vec<(&str, &str)> = d
            .iter()
            .map(|x| (x.section.as_str(), x.key.as_str()))
            .collect();
        assert_eq!(keys, [("settings", "a"), ("settings", "b"), ("run_as", "")]);
        assert!(diff(&base, &base).is_empty());
    }

    proptest::proptest! {
        /// Any layers merge without panicking; every key comes from the last layer that has it,
        /// and a key marked secret anywhere stays secret if it is set at all.
        #[test]
        fn any_layers_merge(
            layers in proptest::collection::vec(
                (
                    proptest::collection::btree_map("[a-c]{1,2}", -5i64..5, 0..4),
                    proptest::collection::btree_map("[A-C]{1,2}", "[ -~]{0,4}", 0..4),
                    proptest::collection::btree_set("[A-D]{1,2}", 0..3),
                ),
                0..6,
            ),
        ) {
            type Built = (Map<String, Value>, BTreeMap<String, String>, BTreeSet<String>);
            let built: Vec<Built> = layers
                .iter()
                .map(|(s, e, k)| {
                    (
                        s.iter().map(|(k, v)| (k.clone(), Value::from(*v))).collect(),
                        e.clone(),
                        k.clone(),
                    )
                })
                .collect();
            let refs: Vec<ConfigLayer<'_>> = built
                .iter()
                .enumerate()
                .map(|(i, (s, e, k))| ConfigLayer {
                    from: Layer::Ingredient(i.to_string()),
                    settings: s,
                    env: e,
                    secret_keys: k,
                })
                .collect();
            let m = merge(&refs);
            for (k, v) in &m.env {
                let last = built.iter().rev().find_map(|(_, e, _)| e.get(k));
                proptest::prop_assert_eq!(Some(v), last);
            }
            for k in &m.secret_keys {
                proptest::prop_assert!(m.env.contains_key(k));
                proptest::prop_assert!(built.iter().any(|(_, _, s)| s.contains(k)));
            }
            proptest::prop_assert_eq!(m.env_from.len(), m.env.len());
            proptest::prop_assert_eq!(m.settings_from.len(), m.settings.len());
        }

        /// However the same settings, env and volumes are written down (any key order, any
        /// volume order with repeats, empty run-as or zero limit for none), one hash comes out.
        #[test]
        fn the_hash_ignores_order_and_equivalent_empties(
            pairs in proptest::collection::vec(("[a-z]{1,8}", -1000i64..1000), 0..12),
            env in proptest::collection::vec(("[A-Z_]{1,8}", "[ -~]{0,12}"), 0..8),
            vols in proptest::collection::vec(("/[a-z]{1,6}", "/[a-z]{1,6}"), 0..5),
            seed in 0usize..1000,
        ) {
            let build = |order: &dyn Fn(usize) -> usize, empty_style: bool| {
                let mut settings = Map::new();
                let n = pairs.len();
                for i in 0..n {
                    let (k, v) = &pairs[order(i) % n.max(1)];
                    settings.insert(k.clone(), json!({"v": v}));
                }
                let mut volumes: Vec<Volume> = vols
                    .iter()
                    .map(|(h, m)| Volume { host_dir: h.clone(), mount_dir: m.clone() })
                    .collect();
                if empty_style {
                    volumes.reverse();
                    volumes.extend(volumes.clone());
                }
                ReleaseConfig {
                    settings,
                    env: env.iter().cloned().collect(),
                    volumes,
                    run_as: empty_style.then(String::new),
                    mem_limit_mb: empty_style.then_some(0),
                    secret_keys: BTreeSet::new(),
                    runner: Runner::Plain,
                    stack: None,
                    cpu_weight: None,
                }
            };
            // Insert keys front to back, or rotated by `seed` (keeping the last value per key
            // the same needs each key once: dedup first).
            let mut seen = std::collections::BTreeSet::new();
            let unique: Vec<usize> = (0..pairs.len()).filter(|i| seen.insert(pairs[*i].0.clone())).collect();
            let rotate = |i: usize| unique[(i + seed) % unique.len().max(1)];
            let straight = |i: usize| unique[i % unique.len().max(1)];
            let a = if unique.is_empty() { build(&|i| i, false) } else { build(&straight, false) };
            let b = if unique.is_empty() { build(&|i| i, true) } else { build(&rotate, true) };
            proptest::prop_assert_eq!(a.hash("sha"), b.hash("sha"));
        }
    }
}
