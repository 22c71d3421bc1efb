//! `vr apps`, `vr app …`, `vr buildpacks`, `vr buildpack …`, `vr build …` and `vr builds`.

use super::ClientArgs;
use super::client::{client, print_json};
use anyhow::{Context, anyhow};
use clap::Subcommand;
use std::time::Duration;
use vr_app::build::{
    App, AppPatch, Build, BuildLog, BuildQuery, BuildRequest, BuildStatus, Buildpack,
    BuildpackPatch, NewApp, NewBuildpack, paths,
};
use vr_app::time::format_utc;

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Register an app: a git repository with a Procfile
    Add {
        name: String,
        repo_url: String,
        /// Always build with this buildpack (URL) instead of detecting
        #[arg(long)]
        buildpack: Option<String>,
        #[arg(long, default_value = "")]
        notes: String,
        /// Build and run in this stack (an OS image: `vr stacks`); sandboxed procs only
        #[arg(long)]
        stack: Option<String>,
    },
    /// Change an app's repository, pinned buildpack, notes or stack
    Edit {
        name: String,
        #[arg(long)]
        repo_url: Option<String>,
        /// Pin a buildpack URL; an empty value goes back to detection
        #[arg(long)]
        buildpack: Option<String>,
        #[arg(long)]
        notes: Option<String>,
        /// Build in this stack from now on; an empty value goes back to the hosts' own OS
        #[arg(long)]
        stack: Option<String>,
    },
    /// Delete an app that has no builds
    Rm { name: String },
}

#[derive(Debug, Subcommand)]
pub enum BuildpackCommand {
    /// Add a buildpack (git URL; `#ref` pins a version) at the end, or at --order
    Add {
        /// The buildpack's git URL (its own id: `--url` is the server's)
        #[arg(id = "buildpack_url", value_name = "GIT_URL")]
        url: String,
        #[arg(long)]
        order: Option<i64>,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Change a buildpack's URL, order or description
    Edit {
        id: i64,
        /// New git URL (`--url` is the server's)
        #[arg(long = "git-url", id = "buildpack_git_url", value_name = "GIT_URL")]
        url: Option<String>,
        #[arg(long)]
        order: Option<i64>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Remove a buildpack no app pins
    Rm { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum BuildSubcommand {
    /// Store a tar.gz built elsewhere (it must hold a Procfile at its top)
    Upload {
        app: String,
        version: String,
        file: std::path::PathBuf,
    },
}

pub async fn apps(args: ClientArgs) -> anyhow::Result<()> {
    let c = client(&args)?;
    let apps: Vec<App> = c.get(paths::APPS).await?;
    if args.json {
        return print_json(&apps);
    }
    for a in apps {
        println!(
            "{:<24} {:<50} {}",
            a.name,
            a.repo_url,
            a.buildpack.as_deref().unwrap_or("(detect)"),
        );
        if let Some(stack) = &a.stack {
            println!("{:<24} stack {stack}", "");
        }
    }
    Ok(())
}

pub async fn app(args: ClientArgs, cmd: AppCommand) -> anyhow::Result<()> {
    let c = client(&args)?;
    match cmd {
        AppCommand::Add {
            name,
            repo_url,
            buildpack,
            notes,
            stack,
        } => {
            let a: App = c
                .post(
                    paths::APPS,
                    &NewApp {
                        name,
                        repo_url,
                        buildpack,
                        notes,
                        stack,
                    },
                )
                .await?;
            println!("added app {} ({})", a.name, a.repo_url);
        }
        AppCommand::Edit {
            name,
            repo_url,
            buildpack,
            notes,
            stack,
        } => {
            let patch = AppPatch {
                repo_url,
                buildpack: buildpack.map(|b| (!b.is_empty()).then_some(b)),
                notes,
                stack: stack.map(|s| (!s.is_empty()).then_some(s)),
            };
            let a: App = c.patch(&paths::app(&name), &patch).await?;
            println!(
                "updated app {}: {} with {}{}",
                a.name,
                a.repo_url,
                a.buildpack.as_deref().unwrap_or("buildpack detection"),
                a.stack
                    .as_deref()
                    .map(|s| format!(", in stack {s}"))
                    .unwrap_or_default()
            );
        }
        AppCommand::Rm { name } => {
            c.delete(&paths::app(&name)).await?;
            println!("deleted app {name}");
        }
    }
    Ok(())
}

pub async fn buildpacks(args: ClientArgs) -> anyhow::Result<()> {
    let c = client(&args)?;
    let list: Vec<Buildpack> = c.get(paths::BUILDPACKS).await?;
    if args.json {
        return print_json(&list);
    }
    for b in list {
        println!(
            "#{:<4} order {:<6} {}  {}",
            b.id, b.order, b.url, b.description
        );
    }
    Ok(())
}

pub async fn buildpack(args: ClientArgs, cmd: BuildpackCommand) -> anyhow::Result<()> {
    let c = client(&args)?;
    match cmd {
        BuildpackCommand::Add {
            url,
            order,
            description,
        } => {
            let b: Buildpack = c
                .post(
                    paths::BUILDPACKS,
                    &NewBuildpack {
                        url,
                        order,
                        description,
                    },
                )
                .await?;
            println!("added buildpack #{} at order {}", b.id, b.order);
        }
        BuildpackCommand::Edit {
            id,
            url,
            order,
            description,
        } => {
            let b: Buildpack = c
                .patch(
                    &paths::buildpack(id),
                    &BuildpackPatch {
                        url,
                        order,
                        description,
                    },
                )
                .await?;
            println!(
                "updated buildpack #{}: {} at order {}",
                b.id, b.url, b.order
            );
        }
        BuildpackCommand::Rm { id } => {
            c.delete(&paths::buildpack(id)).await?;
            println!("removed buildpack #{id}");
        }
    }
    Ok(())
}

fn build_line(b: &Build) -> String {
    format!(
        "#{:<5} {:<16} {:<16} {:<12} {:<9} {}{}{}",
        b.id,
        b.app,
        b.version,
        b.commit.as_deref().map_or("-", |c| &c[..c.len().min(12)]),
        b.status.as_str(),
        format_utc(b.created_at),
        b.stack
            .as_ref()
            .map(|s| format!("  in {}", s.short()))
            .unwrap_or_default(),
        match (&b.error, b.reused_from, b.prebuilt) {
            (Some(e), _, _) => format!("  {e}"),
            (None, Some(r), _) => format!("  reused #{r}"),
            (None, None, true) => "  uploaded".to_string(),
            _ => String::new(),
        }
    )
}

pub async fn builds(args: ClientArgs, app: Option<String>) -> anyhow::Result<()> {
    let c = client(&args)?;
    let list: Vec<Build> = c
        .get_query(
            paths::BUILDS,
            &BuildQuery {
                app,
                limit: Some(100),
            },
        )
        .await?;
    if args.json {
        return print_json(&list);
    }
    for b in &list {
        println!("{}", build_line(b));
    }
    Ok(())
}

/// `vr build APP VERSION [--force] [--follow]`: starts (or joins) a build; with --follow prints
/// its log until it ends and exits non-zero if it failed.
pub async fn build(
    args: ClientArgs,
    app: String,
    version: String,
    force: bool,
    stack: Option<String>,
    follow: bool,
) -> anyhow::Result<()> {
    let c = client(&args)?;
    let b: Build = c
        .post(
            paths::BUILDS,
            &BuildRequest {
                app,
                version,
                force,
                stack,
            },
        )
        .await?;
    if !follow {
        if args.json {
            return print_json(&b);
        }
        println!(
            "build #{} of {} {}: {}",
            b.id,
            b.app,
            b.version,
            b.status.as_str()
        );
        return Ok(());
    }
    eprintln!("build #{} of {} {}", b.id, b.app, b.version);
    // On a terminal, the log's lines go above a bar of the build's steps; piped, the log as is.
    let phases = vr_app::build::BUILD_PHASES;
    let mut bar = super::progress::Progress::new(phases.len());
    let mut lines = vr_app::logs::Lines::default();
    let mut reached = 0;
    let mut offset = 0;
    loop {
        let log: BuildLog = c
            .get_query(&paths::build_log(b.id), &[("offset", offset)])
            .await?;
        if bar.drawn() {
            for line in lines.push(&log.text) {
                reached = reached.max(vr_app::build::build_phase(&line).unwrap_or(0));
                bar.println(&line);
            }
            let what = reached
                .checked_sub(1)
                .and_then(|i| phases.get(i))
                .copied()
                .unwrap_or("waiting for the builder");
            bar.set(reached, what);
        } else {
            print!("{}", log.text);
        }
        offset = log.offset;
        if log.complete {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    if let Some(rest) = lines.flush() {
        bar.println(&rest);
    }
    bar.finish();
    let done: Build = c.get(&paths::build(b.id)).await?;
    if args.json {
        print_json(&done)?;
    }
    match done.status {
        BuildStatus::Succeeded => {
            eprintln!(
                "build #{} succeeded: {} bytes, sha256 {}",
                done.id,
                done.size.unwrap_or(0),
                done.sha256.as_deref().unwrap_or("?")
            );
            Ok(())
        }
        other => Err(anyhow!(
            "build #{} {}: {}",
            done.id,
            other.as_str(),
            done.error.as_deref().unwrap_or("see the log above")
        )),
    }
}

pub async fn upload(
    args: ClientArgs,
    app: String,
    version: String,
    file: std::path::PathBuf,
) -> anyhow::Result<()> {
    let c = client(&args)?;
    let f = tokio::fs::File::open(&file)
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    let b: Build = c
        .post_stream(
            &paths::build_upload(&app),
            &[("version", version.as_str())],
            f,
        )
        .await?;
    if args.json {
        return print_json(&b);
    }
    println!(
        "uploaded build #{} of {} {}: {} bytes, sha256 {}",
        b.id,
        b.app,
        b.version,
        b.size.unwrap_or(0),
        b.sha256.as_deref().unwrap_or("?")
    );
    Ok(())
}
