//! `vr stacks` and `vr stack upload NAME FILE` (issue 16).

use super::ClientArgs;
use super::client::{client, print_json};
use anyhow::Context;
use clap::Subcommand;
use vr_app::stack::{StackImage, paths};
use vr_app::time::format_utc;

#[derive(Debug, Subcommand)]
pub enum StackCommand {
    /// Store a new image of a stack: a .tar.gz of a root filesystem holding /bin/sh and setpriv
    /// (e.g. made by `mmdebstrap --variant=minbase bookworm FILE.tar.gz`)
    Upload {
        name: String,
        file: std::path::PathBuf,
    },
}

pub async fn stacks(args: ClientArgs) -> anyhow::Result<()> {
    let c = client(&args)?;
    let images: Vec<StackImage> = c.get(paths::STACKS).await?;
    if args.json {
        return print_json(&images);
    }
    if images.is_empty() {
        println!("no stacks: upload an image with `vr stack upload NAME FILE`");
    }
    for i in images {
        println!("{}", image_line(&i));
    }
    Ok(())
}

fn image_line(i: &StackImage) -> String {
    format!(
        "{:<16} #{:<4} {:<9} {} {:>12} bytes  {} by {}, {} release(s)",
        i.stack,
        i.id,
        if i.current {
            "current"
        } else {
            i.status.as_str()
        },
        &i.sha256[..i.sha256.len().min(12)],
        i.size,
        format_utc(i.created_at),
        i.created_by,
        i.used_by_releases
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
                image.id, image.stack, image.size, image.sha256
            );
        }
    }
    Ok(())
}
