//! `vr stacks`, `vr stack upload NAME FILE` and `vr stack build NAME --suite S` (issue 16).

use super::ClientArgs;
use super::client::{client, print_json};
use anyhow::{Context, anyhow};
use clap::Subcommand;
use std::time::Duration;
use vr_app::build::{BuildLog, BuildStatus};
use vr_app::stack::{NewStackBuild, StackImage, paths};
use vr_app::time::format_utc;

#[derive(Debug, Subcommand)]
pub enum StackCommand {
    /// Store a new image of a stack: a .tar.gz of a root filesystem holding /bin/sh and setpriv
    /// (e.g. made by `mmdebstrap --variant=minbase bookworm FILE.tar.gz`)
    Upload {
        name: String,
        file: std::path::PathBuf,
    },
    /// Build a new image of a stack with mmdebstrap on a builder host
    Build {
        name: String,
        /// A Debian suite or codename (bookworm, stable…)
        #[arg(long)]
        suite: String,
        /// Packages on top of the variant's, comma-separated
        #[arg(long, value_delimiter = ',')]
        include: Vec<String>,
        /// mmdebstrap's variant: essential, minbase (the default), apt, required, important,
        /// standard
        #[arg(long, default_value = "")]
        variant: String,
        /// A mirror URL or a whole `deb …` sources line (default: mmdebstrap's)
        #[arg(long, default_value = "")]
        mirror: String,
        /// Print the log until the build ends; exit non-zero if it failed
        #[arg(long, short)]
        follow: bool,
    },
}

pub async fn stacks(args: ClientArgs) -> anyhow::Result<()> {
    let c = client(&args)?;
    let images: Vec<StackImage> = c.get(paths::STACKS).await?;
    if args.json {
        return print_json(&images);
    }
    if images.is_empty() {
        println!(
            "no stacks: upload an image with `vr stack upload NAME FILE` or build one with `vr stack build NAME --suite SUITE`"
        );
    }
    for i in images {
        println!("{}", image_line(&i));
    }
    Ok(())
}

fn image_line(i: &StackImage) -> String {
    let sha = i.sha256.as_deref().unwrap_or("-");
    format!(
        "{:<16} #{:<4} {:<9} {:<12} {:>12} bytes  {} by {}, {} release(s){}{}",
        i.stack,
        i.id,
        if i.current {
            "current"
        } else {
            i.status.as_str()
        },
        &sha[..sha.len().min(12)],
        i.size.unwrap_or(0),
        format_utc(i.created_at),
        i.created_by,
        i.used_by_releases,
        if i.recipe.is_empty() {
            String::new()
        } else {
            format!("; {}", i.recipe)
        },
        i.error
            .as_deref()
            .map(|e| format!("; failed: {e}"))
            .unwrap_or_default()
    )
}

pub async fn stack(args: ClientArgs, cmd: StackCommand) -> anyhow::Result<()> {
    let c = client(&args)?;
    match cmd {
        StackCommand::Upload { name, file } => {
            let f = tokio::fs::File::open(&file)
                .await
                .with_context(|| format!("opening {}", file.display()))?;
            let image: StackImage = c
                .post_stream(&paths::stack(&name), &[] as &[(&str, &str)], f)
                .await?;
            if args.json {
                return print_json(&image);
            }
            println!(
                "uploaded image #{} of stack {}: {} bytes, sha256 {}",
                image.id,
                image.stack,
                image.size.unwrap_or(0),
                image.sha256.as_deref().unwrap_or("?")
            );
        }
        StackCommand::Build {
            name,
            suite,
            include,
            variant,
            mirror,
            follow,
        } => {
            let recipe = NewStackBuild {
                suite,
                packages: include.into_iter().filter(|p| !p.is_empty()).collect(),
                variant,
                mirror,
            };
            let image: StackImage = c.post(&paths::stack_build(&name), &recipe).await?;
            if !follow {
                if args.json {
                    return print_json(&image);
                }
                println!(
                    "building image #{} of stack {}: {}",
                    image.id, image.stack, image.recipe
                );
                return Ok(());
            }
            let mut offset = 0;
            loop {
                let piece: BuildLog = c
                    .get(&format!("{}?offset={offset}", paths::image_log(image.id)))
                    .await?;
                print!("{}", piece.text);
                offset = piece.offset;
                if piece.complete {
                    break;
                }
                if piece.text.is_empty() {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
            let done: StackImage = c.get(&paths::image(image.id)).await?;
            if done.status != BuildStatus::Succeeded {
                return Err(anyhow!(
                    "image #{} of stack {} failed: {}",
                    done.id,
                    done.stack,
                    done.error.unwrap_or_default()
                ));
            }
        }
    }
    Ok(())
}
