//! What the "new release" form holds, and the one place that turns it into a [`NewRelease`]
//! (checked like the server checks it), so the preview, its staleness and the create button
//! all send the same thing.

use crate::components::CollectVec;
use leptos::prelude::*;
use std::collections::BTreeMap;

use vr_app::release::{Ingredient, NewRelease, Release, Volume, own_values, to_yaml};
use vr_app::validate::{self, Invalid};

/// The largest memory limit the server accepts, in MB.
const MEM_MAX_MB: u64 = 1024 * 1024;

/// One host dir / mount dir pair being edited; `key` keeps rows apart while they move.
#[derive(Debug, Clone, Copy)]
pub struct VolumeRow {
    pub key: u64,
    pub host_dir: RwSignal<String>,
    pub mount_dir: RwSignal<String>,
}

/// The form's inputs; cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct Draft {
    pub app: RwSignal<String>,
    /// The chosen build's id as the select holds it; empty: none.
    pub build: RwSignal<String>,
    pub settings_yaml: RwSignal<String>,
    pub env_yaml: RwSignal<String>,
    /// Env keys whose values are secret, as typed (comma or space separated).
    pub secret_keys: RwSignal<String>,
    /// Merge order: first to last, later wins.
    pub ingredients: RwSignal<Vec<String>>,
    pub volumes: RwSignal<Vec<VolumeRow>>,
    next_volume: StoredValue<u64>,
    pub run_as: RwSignal<String>,
    pub mem_mb: RwSignal<String>,
    pub cpu_weight: RwSignal<String>,
    pub sandbox: RwSignal<bool>,
    /// The release this draft started from: its secret values fill the masked ones.
    pub secrets_from: RwSignal<Option<i64>>,
}

impl Draft {
    pub fn new(app: String) -> Draft {
        Draft {
            app: RwSignal::new(app),
            build: RwSignal::new(String::new()),
            settings_yaml: RwSignal::new(String::new()),
            env_yaml: RwSignal::new(String::new()),
            secret_keys: RwSignal::new(String::new()),
            ingredients: RwSignal::new(Vec::new()),
            volumes: RwSignal::new(Vec::new()),
            next_volume: StoredValue::new(0),
            run_as: RwSignal::new(String::new()),
            mem_mb: RwSignal::new(String::new()),
            cpu_weight: RwSignal::new(String::new()),
            sandbox: RwSignal::new(false),
            secrets_from: RwSignal::new(None),
        }
    }

    /// Nothing of the configuration typed or chosen yet (the app and build aside).
    pub fn is_pristine(&self) -> bool {
        self.settings_yaml.with(|s| s.trim().is_empty())
            && self.env_yaml.with(|s| s.trim().is_empty())
            && self.ingredients.with(Vec::is_empty)
            && self.volumes.with(Vec::is_empty)
            && self.run_as.with(|s| s.trim().is_empty())
            && self.mem_mb.with(|s| s.trim().is_empty())
            && self.cpu_weight.with(|s| s.trim().is_empty())
    }

    /// Starts from `release`: its own settings and env (what its build and ingredients do not
    /// give it), secret keys, ingredients, volumes, run-as and memory limit; its secret values
    /// are taken over unchanged.
    pub fn start_from(
        &self,
        release: &Release,
        build_env: &BTreeMap<String, String>,
        ingredients: &[Ingredient],
    ) {
        let chosen: Vec<&Ingredient> = release
            .ingredients
            .iter()
            .filter_map(|n| ingredients.iter().find(|i| &i.name == n))
            .collect_vec();
        let (settings, env) = own_values(&release.config, build_env, &chosen);
        let secret: Vec<&str> = release
            .config
            .secret_keys
            .iter()
            .filter(|k| env.contains_key(*k))
            .map(String::as_str)
            .collect_vec();
        self.settings_yaml.set(to_yaml(settings.iter()));
        self.env_yaml.set(to_yaml(env.iter()));
        self.secret_keys.set(secret.join(", "));
        self.ingredients.set(release.ingredients.clone());
        self.volumes.set(Vec::new());
        for v in &release.config.volumes {
            self.add_volume();
            if let Some(row) = self.volumes.with_untracked(|rows| rows.last().copied()) {
                row.host_dir.set(v.host_dir.clone());
                row.mount_dir.set(v.mount_dir.clone());
            }
        }
        self.run_as
            .set(release.config.run_as.clone().unwrap_or_default());
        self.mem_mb.set(
            release
                .config
                .mem_limit_mb
                .map(|m| m.to_string())
                .unwrap_or_default(),
        );
        self.cpu_weight.set(
            release
                .config
                .cpu_weight
                .map(|w| w.to_string())
                .unwrap_or_default(),
        );
        self.sandbox
            .set(release.config.runner == vr_app::release::Runner::Sandbox);
        self.secrets_from.set(Some(release.id));
    }

    /// Adds an empty volume row at the end.
    pub fn add_volume(&self) {
        self.next_volume.update_value(|n| *n += 1);
        let row = VolumeRow {
            key: self.next_volume.get_value(),
            host_dir: RwSignal::new(String::new()),
            mount_dir: RwSignal::new(String::new()),
        };
        self.volumes.update(|rows| rows.push(row));
    }

    pub fn remove_volume(&self, key: u64) {
        self.volumes.update(|rows| rows.retain(|r| r.key != key));
    }

    /// Moves the ingredient at `index` one place towards the top (`up`) or the bottom.
    pub fn move_ingredient(&self, index: usize, up: bool) {
        self.ingredients.update(|list| {
            let other = if up {
                index.checked_sub(1)
            } else {
                Some(index + 1)
            };
            if let Some(other) = other
                && other < list.len()
                && index < list.len()
            {
                list.swap(index, other);
            }
        });
    }

    /// The request the form describes, or what is wrong with it (tracked: call untracked from
    /// event handlers).
    pub fn request(&self) -> Result<NewRelease, Vec<Invalid>> {
        let mut wrong = Vec::new();
        let build_id = match self.build.get().parse::<i64>() {
            Ok(id) => id,
            Err(_) => {
                wrong.push(Invalid::new("build_id", "choose a build"));
                0
            }
        };
        let run_as = self.run_as.get().trim().to_string();
        if !run_as.is_empty()
            && let Err(e) = validate::unix_user("run_as", &run_as)
        {
            wrong.push(e);
        }
        let mem = self.mem_mb.get().trim().to_string();
        let mem_limit_mb = if mem.is_empty() {
            None
        } else {
            match vr_app::validate::whole_number("mem_limit_mb", &mem, 1, MEM_MAX_MB) {
                Ok(mb) => Some(mb),
                Err(e) => {
                    wrong.push(e);
                    None
                }
            }
        };
        let cpu = self.cpu_weight.get().trim().to_string();
        let cpu_weight = if cpu.is_empty() {
            None
        } else {
            let max = u64::from(vr_app::release::CPU_WEIGHT_MAX);
            match vr_app::validate::whole_number("cpu_weight", &cpu, 1, max) {
                Ok(w) => u32::try_from(w).ok(),
                Err(e) => {
                    wrong.push(e);
                    None
                }
            }
        };
        let mut volumes = Vec::new();
        for row in self.volumes.get() {
            let host_dir = row.host_dir.get().trim().to_string();
            let mount_dir = row.mount_dir.get().trim().to_string();
            // A row left blank is not a volume.
            if host_dir.is_empty() && mount_dir.is_empty() {
                continue;
            }
            for path in [&host_dir, &mount_dir] {
                if let Err(e) = validate::remote_path("volumes", path) {
                    wrong.push(Invalid::new(
                        "volumes",
                        format!("{}: {}", display_path(path), e.message),
                    ));
                }
            }
            volumes.push(Volume {
                host_dir,
                mount_dir,
            });
        }
        let secret_keys = vr_app::secret::parse_key_list(&self.secret_keys.get());
        for k in &secret_keys {
            if let Err(e) = validate::env_name("secret_keys", k) {
                wrong.push(e);
            }
        }
        if !wrong.is_empty() {
            return Err(wrong);
        }
        Ok(NewRelease {
            build_id,
            settings_yaml: self.settings_yaml.get(),
            env_yaml: self.env_yaml.get(),
            secret_keys,
            secrets_from: self.secrets_from.get(),
            ingredients: self.ingredients.get(),
            volumes,
            run_as: (!run_as.is_empty()).then_some(run_as),
            mem_limit_mb,
            cpu_weight,
            runner: if self.sandbox.get() {
                vr_app::release::Runner::Sandbox
            } else {
                vr_app::release::Runner::Plain
            },
        })
    }
}

/// A path as an error names it; an empty one is named as missing.
fn display_path(path: &str) -> String {
    if path.is_empty() {
        "(empty)".to_string()
    } else {
        path.to_string()
    }
}
