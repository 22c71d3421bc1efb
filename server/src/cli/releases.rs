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
    },
    /// Show one release with its merged configuration
    Show { id: i64 },
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
    },
    Rm {
        name: String,
    },
}

/// The text of a YAML file, `-` for standard input.
fn read_yaml(path: &std::path::Path) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading standard input")
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
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
        "run as: {}; memory limit: {}",
        r.config.run_as.as_deref().unwrap_or("(the host's default)"),
        r.config
            .mem_limit_mb
            .map_or("none".to_string(), |m| format!("{m} MB"))
    );
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
        println!("  {k}={v}");
    }
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
        } => {
            let volumes = volumes
                .iter()
                .map(|v| {
                    v.split_once(':')
                        .map(|(h, m)| Volume {
                            host_dir: h.to_string(),
                            mount_dir: m.to_string(),
                        })
                        .ok_or_else(|| anyhow!("--volume {v:?}: write HOST_DIR:MOUNT_DIR"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let new = NewRelease {
                build_id,
                settings_yaml: opt_yaml(settings)?.unwrap_or_default(),
                env_yaml: opt_yaml(env)?.unwrap_or_default(),
                ingredients,
                volumes,
                run_as,
                mem_limit_mb: mem_limit,
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
        println!("{name}: #{a} {} | #{b} {}", show(&x.a), show(&x.b));
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
        } => {
            let i: Ingredient = c
                .post(
                    paths::INGREDIENTS,
                    &NewIngredient {
                        name,
                        settings_yaml: opt_yaml(settings)?.unwrap_or_default(),
                        env_yaml: opt_yaml(env)?.unwrap_or_default(),
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
        } => {
            let i: Ingredient = c
                .patch(
                    &paths::ingredient(&name),
                    &IngredientPatch {
                        settings_yaml: opt_yaml(settings)?,
                        env_yaml: opt_yaml(env)?,
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
    }
    Ok(())
}
