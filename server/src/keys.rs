//! The server's own SSH identity: an ed25519 key made on first start, used to reach every host.

use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("SSH key {path}: {message}")]
    Key { path: PathBuf, message: String },
}

/// Paths and public parts of the identity.
#[derive(Debug, Clone)]
pub struct SshIdentity {
    pub private_key_path: PathBuf,
    pub public_key: String,
    pub fingerprint: String,
}

/// Loads `dir/id_ed25519` if it exists.
pub fn load(dir: &Path) -> Result<Option<SshIdentity>, KeyError> {
    if dir.join("id_ed25519").exists() {
        load_or_create(dir).map(Some)
    } else {
        Ok(None)
    }
}

/// Loads `dir/id_ed25519`, creating it (mode 0600) when absent.
pub fn load_or_create(dir: &Path) -> Result<SshIdentity, KeyError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| KeyError::Io { path, source }
    };
    let private_key_path = dir.join("id_ed25519");
    fs::create_dir_all(dir).map_err(io(dir))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))?;

    let key_err = |message: String| KeyError::Key {
        path: private_key_path.clone(),
        message,
    };
    let key = if private_key_path.exists() {
        let text = fs::read_to_string(&private_key_path).map_err(io(&private_key_path))?;
        PrivateKey::from_openssh(&text).map_err(|e| key_err(e.to_string()))?
    } else {
        let mut key = PrivateKey::random(&mut rand::rngs::OsRng, Algorithm::Ed25519)
            .map_err(|e| key_err(e.to_string()))?;
        key.set_comment(format!("vr@{}", hostname()));
        let pem = key
            .to_openssh(LineEnding::LF)
            .map_err(|e| key_err(e.to_string()))?;
        // create_new + mode: the secret never exists on disk with wider permissions.
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&private_key_path)
            .map_err(io(&private_key_path))?;
        f.write_all(pem.as_bytes()).map_err(io(&private_key_path))?;
        tracing::info!(path = %private_key_path.display(), "created the server's SSH key");
        key
    };
    let public = key.public_key();
    let public_key = public.to_openssh().map_err(|e| key_err(e.to_string()))?;
    let pub_path = dir.join("id_ed25519.pub");
    fs::write(&pub_path, format!("{public_key}\n")).map_err(io(&pub_path))?;
    Ok(SshIdentity {
        private_key_path,
        public_key,
        fingerprint: public.fingerprint(HashAlg::Sha256).to_string(),
    })
}

fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_with_private_mode_then_reloads_the_same_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = load_or_create(&dir.path().join("ssh")).expect("create");
        assert!(a.public_key.starts_with("ssh-ed25519 "));
        assert!(a.fingerprint.starts_with("SHA256:"));
        let mode = fs::metadata(&a.private_key_path)
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let b = load_or_create(&dir.path().join("ssh")).expect("reload");
        assert_eq!(a.public_key, b.public_key);
    }
}
