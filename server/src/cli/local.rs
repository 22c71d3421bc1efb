//! Commands that work on the local data dir rather than through the API.

use crate::config::{self, ServeArgs};
use crate::{keys, serve, store};
use anyhow::Context;
use std::path::{Path, PathBuf};

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let cfg = config::resolve(&args)?;
    serve::run(cfg).await
}

fn data_dir(flag: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    flag.or_else(config::default_data_dir)
        .context("no data dir: pass --data-dir or set VR_DATA_DIR")
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

pub fn pubkey(data_dir_flag: Option<PathBuf>) -> anyhow::Result<()> {
    let id = keys::load_or_create(&data_dir(data_dir_flag)?.join("ssh"))?;
    println!("{}", id.public_key);
    Ok(())
}
