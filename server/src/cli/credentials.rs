//! The CLI's saved server URL and token: `credentials.toml` in the user's config dir (mode 0600),
//! or the file named by `VR_CREDENTIALS`.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Saved {
    pub url: String,
    pub token: String,
}

pub fn path() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("VR_CREDENTIALS") {
        return Ok(PathBuf::from(p));
    }
    directories::ProjectDirs::from("", "", "vr")
        .map(|d| d.config_dir().join("credentials.toml"))
        .context("no config directory for saved credentials; set VR_CREDENTIALS")
}

pub fn load() -> anyhow::Result<Option<Saved>> {
    let p = path()?;
    match std::fs::read_to_string(&p) {
        Ok(text) => Ok(Some(
            toml::from_str(&text).with_context(|| format!("reading {}", p.display()))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", p.display())),
    }
}

pub fn save(saved: &Saved) -> anyhow::Result<PathBuf> {
    let p = path()?;
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let text = toml::to_string(saved)?;
    let tmp = p.with_extension("toml.tmp");
    // A leftover temp file may have looser permissions: start from a new one.
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, &p).with_context(|| format!("writing {}", p.display()))?;
    Ok(p)
}

pub fn forget() -> anyhow::Result<()> {
    let p = path()?;
    match std::fs::remove_file(&p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", p.display()))
        }
        _ => Ok(()),
    }
}
