//! Commands that work on the local data dir rather than through the API.

use crate::config::{self, ServeArgs};
use crate::{keys, serve, store};
use anyhow::Context;
use std::path::{Path, PathBuf};

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let cfg = config::resolve(&args)?;
    serve::run(cfg).await
}

/// The data dir exactly as `vr serve` would find it (flag/env, then the config file, then the
/// default), so `backup` and `pubkey` read the server's own files.
fn data_dir(flag: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let args = ServeArgs {
        data_dir: flag,
        ..Default::default()
    };
    Ok(config::resolve(&args)?.data_dir)
}

pub fn backup(file: &Path, data_dir_flag: Option<PathBuf>) -> anyhow::Result<()> {
    let db = data_dir(data_dir_flag)?.join("vr.db");
    store::backup(&db, file).with_context(|| format!("backing up {}", db.display()))?;
    println!(
        "wrote a consistent copy of {} to {}",
        db.display(),
        file.display()
    );
    Ok(())
}

/// Prints the key the server uses; never makes one (that would not be the server's key).
pub fn pubkey(data_dir_flag: Option<PathBuf>) -> anyhow::Result<()> {
    let dir = data_dir(data_dir_flag)?.join("ssh");
    let id = keys::load(&dir)?.with_context(|| {
        format!(
            "no SSH key in {}: start `vr serve` once with this data dir to create it",
            dir.display()
        )
    })?;
    println!("{}", id.public_key);
    Ok(())
}
