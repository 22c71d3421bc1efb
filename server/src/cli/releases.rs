//! `vr releases`, `vr release …`, `vr compare-releases A B` and `vr ingredient(s)`.

use super::ClientArgs;
use super::client::{client, print_json};
use anyhow::{Context, anyhow};
use clap::Subcommand;
use std::path::PathBuf;
use vr_app::release::{
    Ingredient, IngredientPatch, NewIngredient, NewRelease, Release, ReleaseDiff, ReleaseQuery,
    Volume, paths,
};
use vr_app::secret::{RevealRequest, Revealed};
use vr_app::time::format_utc;

#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Make a release of a build (or get the identical one that exists)
    Create {
        build_id: i64,
        /// YAML file of settings (`-` = standard input)
        #[arg(long)]
        settings: Option<PathBuf>,
        /// YAML file of env vars (strings)
        #[arg(long)]
        env: Option<PathBuf>,
        /// Ingredient to merge, in order (repeat)
        #[arg(long = "ingredient")]
        ingredients: Vec<String>,
        /// HOST_DIR:MOUNT_DIR (repeat)
        #[arg(long = "volume")]
        volumes: Vec<String>,
        #[arg(long)]
        run_as: Option<String>,
        /// Memory limit in MB
        #[arg(long)]
        mem_limit: Option<u64>,
        /// CPU weight against other procs: 1 to 10000, 100 is the default
        #[arg(long)]
        cpu_weight: Option<u32>,
        /// How its procs run: plain (a Supervisor program) or sandbox (each in a bubblewrap
        /// sandbox)
        #[arg(long, default_value = "plain", value_parser = ["plain", "sandbox"])]
        runner: String,
        /// An env key whose value is secret: shown masked everywhere (repeat)
        #[arg(long = "secret", value_name = "KEY")]
        secret_keys: Vec<String>,
    },
    /// Show one release with its merged configuration (secret values masked)
    Show { id: i64 },
    /// Print one secret value of a release (recorded in the activity log)
    Reveal { id: i64, key: String },
}

#[derive(Debug, Subcommand)]
pub enum IngredientCommand {
    /// Make an ingredient from YAML files
    Add {
        name: String,
        #[arg(long)]
        settings: Option<PathBuf>,
        #[arg(long)]
        env: Option<PathBuf>,
        #[arg(long, default_value = "")]
        notes: String,
        /// An env key whose value is secret (repeat)
        #[arg(long = "secret", value_name = "KEY")]
        secret_keys: Vec<String>,
    },
    /// Replace an ingredient's settings, env or notes
    Edit {
        name: String,
        #[arg(long)]
        settings: Option<PathBuf>,
        #[arg(long)]
        env: Option<PathBuf>,
        #[arg(long)]
        notes: Option<String>,
        /// The env keys whose values are secret, replacing the list (repeat)
        #[arg(long = "secret", value_name = "KEY", conflicts_with = "no_secrets")]
        secret_keys: Vec<String>,
        /// No key is secret any more
        #[arg(long)]
        no_secrets: bool,
    },
    Rm {
        name: String,
    },
    /// Print one secret value of an ingredient (recorded in the activity log)
    Reveal {
        name: String,
        key: String,
    },
}

/// The text of a YAML file, `-` for standard input; at most the server's YAML limit, so
/// `--settings /dev/zero` fails at once instead of reading forever.
fn read_yaml(path: &std::path::Path) -> anyhow::Result<String> {
    use std::io::Read;
    let max = crate::yaml::MAX_BYTES;
    let mut raw = Vec::new();
    let name = if path.as_os_str() == "-" {
        std::io::stdin()
            .take(max as u64 + 1)
            .read_to_end(&mut raw)
            .context("reading standard input")?;
        "standard input".to_string()
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(max as u64 + 1).read_to_end(&mut raw))
            .with_context(|| format!("reading {}", path.display()))?;
        path.display().to_string()
    };
    if raw.len() > max {
        return Err(anyhow!(
            "{name} is larger than {} KiB, more than a YAML file vr accepts",
            max / 1024
        ));
    }
    String::from_utf8(raw).map_err(|_| anyhow!("{name} is not UTF-8 text"))
}

/// `HOST_DIR:MOUNT_DIR`, exactly one `:`.
fn parse_volume(v: &str) -> anyhow::Result<Volume> {
    match v.split(':').collect::<Vec<_>>()[..] {
        [h, m] if !h.is_empty() && !m.is_empty() => Ok(Volume {
            host_dir: h.to_string(),
            mount_dir: m.to_string(),
        }),
        _ => Err(anyhow!(
            "--volume {v:?}: write HOST_DIR:MOUNT_DIR, two absolute paths with one ':' between"
        )),
    }
}

fn opt_yaml(path: Option<PathBuf>) -> anyhow::Result<Option<String>> {
    path.map(|p| read_yaml(&p)).transpose()
}

fn print_release(r: &Release) -> anyhow::Result<()> {
    println!(
        "release #{} of {} (build #{}), hash {}, by {} at {}",
        r.id,
        r.app,
        r.build_id,
        r.hash,
        r.created_by,
        format_utc(r.created_at)
    );
    if !r.ingredients.is_empty() {
        println!("ingredients: {}", r.ingredients.join(" ← "));
    }
    println!(
        "runner: {}; run as: {}; memory limit: {}; cpu weight: {}",
        r.config.runner.as_str(),
        r.config.run_as.as_deref().unwrap_or(match r.config.runner {
            vr_app::release::Runner::Plain => "(the host's default)",
            vr_app::release::Runner::Sandbox => "nobody",
        }),
        r.config
            .mem_limit_mb
            .map_or("none".to_string(), |m| format!("{m} MB")),
        r.config
            .cpu_weight
            .map_or("default (100)".to_string(), |w| w.to_string())
    );
    if let Some(stack) = &r.config.stack {
        println!("stack: {} (sha256 {})", stack.name, stack.sha256);
    }
    for v in &r.config.volumes {
        println!("volume: {} → {}", v.host_dir, v.mount_dir);
    }
    println!("settings:");
    println!(
        "{}",
        serde_json::to_string_pretty(&r.config.settings).context("encoding settings")?
    );
    println!("env:");
    for (k, v) in &r.config.env {
        let note = if r.config.secret_keys.contains(k) {
            "  (secret: vr release reveal ID KEY)"
        } else {
            ""
        };
        println!("  {k}={v}{note}");
    }
    Ok(())
}

/// Prints one secret value the server reveals (it records that we asked).
async fn reveal(
    c: &super::client::Client,
    args: &ClientArgs,
    path: &str,
    key: String,
) -> anyhow::Result<()> {
    let r: Revealed = c.post(path, &RevealRequest { key }).await?;
    if args.json {
        return print_json(&r);
    }
    println!("{}", r.value);
    Ok(())
}

pub async fn releases(args: ClientArgs, app: Option<String>) -> anyhow::Result<()> {
    let c = client(&args)?;
    let list: Vec<Release> = c
        .get_query(
            paths::RELEASES,
            &ReleaseQuery {
                app,
                limit: Some(100),
            },
        )
        .await?;
    if args.json {
        return print_json(&list);
    }
    for r in list {
        println!(
            "#{:<5} {:<16} {}  build #{:<5} {}  {}",
            r.id,
            r.app,
            r.hash,
            r.build_id,
            format_utc(r.created_at),
            r.ingredients.join(",")
        );
    }
    Ok(())
}

pub async fn release(args: ClientArgs, cmd: ReleaseCommand) -> anyhow::Result<()> {
    let c = client(&args)?;
    match cmd {
        ReleaseCommand::Create {
            build_id,
            settings,
            env,
            ingredients,
            volumes,
            run_as,
            mem_limit,
            cpu_weight,
            runner,
            secret_keys,
        } => {
            let volumes = volumes
                .iter()
                .map(|v| parse_volume(v))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let new = NewRelease {
                build_id,
                settings_yaml: opt_yaml(settings)?.unwrap_or_default(),
                env_yaml: opt_yaml(env)?.unwrap_or_default(),
                secret_keys,
                secrets_from: None,
                ingredients,
                volumes,
                run_as,
                mem_limit_mb: mem_limit,
                cpu_weight,
                runner: vr_app::release::Runner::parse(&runner).unwrap_or_default(),
            };
            let r: Release = c.post(paths::RELEASES, &new).await?;
            if args.json {
                return print_json(&r);
            }
            print_release(&r)
        }
        ReleaseCommand::Show { id } => {
            let r: Release = c.get(&paths::release(id)).await?;
            if args.json {
                return print_json(&r);
            }
            print_release(&r)
        }
        ReleaseCommand::Reveal { id, key } => {
            reveal(&c, &args, &vr_app::secret::paths::release_reveal(id), key).await
        }
    }
}

pub async fn compare(args: ClientArgs, a: i64, b: i64) -> anyhow::Result<()> {
    let c = client(&args)?;
    let d: ReleaseDiff = c
        .get_query(paths::RELEASE_COMPARE, &[("a", a), ("b", b)])
        .await?;
    if args.json {
        return print_json(&d);
    }
    if d.differences.is_empty() {
        println!("releases #{a} and #{b} are the same");
        return Ok(());
    }
    let show = |v: &Option<serde_json::Value>| {
        v.as_ref().map_or("(absent)".to_string(), |v| v.to_string())
    };
    for x in &d.differences {
        let name = if x.key.is_empty() {
            x.section.clone()
        } else {
            format!("{}.{}", x.section, x.key)
        };
        let note = if x.secret { "  (secret: changed)" } else { "" };
        println!("{name}: #{a} {} | #{b} {}{note}", show(&x.a), show(&x.b));
    }
    Ok(())
}

pub async fn ingredients(args: ClientArgs) -> anyhow::Result<()> {
    let c = client(&args)?;
    let list: Vec<Ingredient> = c.get(paths::INGREDIENTS).await?;
    if args.json {
        return print_json(&list);
    }
    for i in list {
        println!(
            "{:<24} {} settings, {} env, used by {} release(s)",
            i.name,
            i.settings.len(),
            i.env.len(),
            i.used_by_releases.len()
        );
    }
    Ok(())
}

pub async fn ingredient(args: ClientArgs, cmd: IngredientCommand) -> anyhow::Result<()> {
    let c = client(&args)?;
    match cmd {
        IngredientCommand::Add {
            name,
            settings,
            env,
            notes,
            secret_keys,
        } => {
            let i: Ingredient = c
                .post(
                    paths::INGREDIENTS,
                    &NewIngredient {
                        name,
                        settings_yaml: opt_yaml(settings)?.unwrap_or_default(),
                        env_yaml: opt_yaml(env)?.unwrap_or_default(),
                        secret_keys,
                        notes,
                    },
                )
                .await?;
            println!("added ingredient {}", i.name);
        }
        IngredientCommand::Edit {
            name,
            settings,
            env,
            notes,
            secret_keys,
            no_secrets,
        } => {
            let i: Ingredient = c
                .patch(
                    &paths::ingredient(&name),
                    &IngredientPatch {
                        settings_yaml: opt_yaml(settings)?,
                        env_yaml: opt_yaml(env)?,
                        secret_keys: (no_secrets || !secret_keys.is_empty()).then_some(secret_keys),
                        notes,
                    },
                )
                .await?;
            println!(
                "updated ingredient {} (used by {} release(s), which keep their values)",
                i.name,
                i.used_by_releases.len()
            );
        }
        IngredientCommand::Rm { name } => {
            c.delete(&paths::ingredient(&name)).await?;
            println!("removed ingredient {name}");
        }
        IngredientCommand::Reveal { name, key } => {
            reveal(
                &c,
                &args,
                &vr_app::secret::paths::ingredient_reveal(&name),
                key,
            )
            .await?;
        }
    }
    Ok(())
}
