//! Stack images (issue 16) beside the build artifacts: each uploaded tarball checked (a gzip tar
//! holding a shell and `setpriv`, no device outside `/dev`), stored once by sha256 in
//! `{data_dir}/stacks/`, and deleted when retention expires the last image holding it.

use super::JobError;
use super::build::{SCAN_MAX, ScanError, scan_tarball};
use crate::clock::now_ms;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use vr_app::stack::{StackImage, StackRef, entry_path, missing_files, skipped};

impl super::Builds {
    /// Where an image's tarball is kept on this server.
    pub fn stack_path(&self, sha256: &str) -> PathBuf {
        self.stacks.join(format!("{sha256}.tar.gz"))
    }

    /// Where a stack upload is written while it arrives.
    pub fn stack_upload_part(&self) -> PathBuf {
        self.stacks
            .join(format!(".upload-{}", crate::auth::random_secret()))
    }

    /// The image builds of `stack` compile in now.
    pub async fn stack_image(&self, stack: &str) -> Result<StackRef, JobError> {
        Ok(self.store.current_stack_image(stack.to_string()).await?)
    }

    /// Stores an uploaded image of `stack` (written to `part`, hashed and sized) after checking
    /// it, then expires what no longer needs keeping.
    pub async fn store_stack_upload(
        &self,
        actor: &str,
        stack: &str,
        part: PathBuf,
        sha256: String,
        size: u64,
    ) -> Result<StackImage, JobError> {
        let p = part.clone();
        let checked = tokio::task::spawn_blocking(move || check_image(&p, SCAN_MAX))
            .await
            .map_err(|e| JobError::Refused(e.to_string()));
        if let Err(why) = checked.and_then(|c| c.map_err(JobError::Invalid)) {
            let _ = std::fs::remove_file(&part);
            return Err(why);
        }
        if let Err(e) = std::fs::rename(&part, self.stack_path(&sha256)) {
            let _ = std::fs::remove_file(&part);
            return Err(JobError::Refused(format!("storing the upload: {e}")));
        }
        let image = self
            .store
            .create_stack_image(stack.to_string(), sha256, size, actor.to_string(), now_ms())
            .await?;
        self.expire_stacks().await;
        Ok(image)
    }

    /// Expires images no release, build or stack needs any more and deletes the tarballs no
    /// stored image holds. Hosts keep their unpacked copies (procs may run on them).
    pub async fn expire_stacks(&self) {
        match self.store.expire_stack_images().await {
            Ok(gone) => {
                for sha in gone {
                    if let Err(e) = std::fs::remove_file(self.stack_path(&sha)) {
                        tracing::warn!(sha, error = %e, "could not delete an expired stack image");
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "stack retention failed"),
        }
    }
}

/// Whether the tar.gz at `path` can be a stack image: readable to its end, a shell and
/// `setpriv` in it, devices, FIFOs and sockets only where hosts skip them.
fn check_image(path: &Path, scan_max: u64) -> Result<(), String> {
    let wanted: Vec<&str> = vr_app::stack::REQUIRED_FILES
        .iter()
        .flat_map(|(_, paths)| paths.iter().copied())
        .collect();
    let mut present: HashSet<String> = HashSet::new();
    let scanned = scan_tarball(path, scan_max, &mut |name, kind, _| {
        let p = entry_path(name);
        if (kind.is_block_special() || kind.is_character_special() || kind.is_fifo()) && !skipped(p)
        {
            return Err(format!(
                "it holds {name:?}, a device or FIFO outside /dev: refused"
            ));
        }
        if wanted.contains(&p) {
            present.insert(p.to_string());
        }
        Ok(())
    });
    match scanned {
        Ok(()) => {}
        Err(ScanError::Refused(why)) => return Err(why),
        Err(ScanError::NotTar(e)) => return Err(format!("not a gzip tar archive: {e}")),
        Err(ScanError::TooLong) => {
            return Err(format!(
                "it does not end in the first {} MiB",
                scan_max / (1024 * 1024)
            ));
        }
    }
    let missing = missing_files(|p| present.contains(p));
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "a stack image needs {}; this one has no {}",
            vr_app::stack::REQUIRED_FILES
                .iter()
                .map(|(what, _)| *what)
                .collect::<Vec<_>>()
                .join(" and "),
            missing.join(" and no ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tarball(dir: &Path, entries: &[(&str, tar::EntryType)]) -> PathBuf {
        let path = dir.join("image.tar.gz");
        let file = std::fs::File::create(&path).expect("create");
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::fast(),
        ));
        for (name, kind) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_size(0);
            h.set_mode(0o755);
            h.set_cksum();
            tar.append_data(&mut h, name, &[][..]).expect("append");
        }
        tar.into_inner().and_then(|gz| gz.finish()).expect("finish");
        path
    }

    #[test]
    fn an_image_needs_a_shell_and_setpriv_and_no_device_outside_dev() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = tar::EntryType::Regular;
        let good = tarball(
            dir.path(),
            &[
                ("./usr/bin/sh", file),
                ("./usr/bin/setpriv", file),
                ("./dev/null", tar::EntryType::Char),
            ],
        );
        check_image(&good, SCAN_MAX).expect("a good image");
        let no_setpriv = tarball(dir.path(), &[("bin/sh", file)]);
        let why = check_image(&no_setpriv, SCAN_MAX).expect_err("no setpriv");
        assert!(why.contains("has no setpriv"), "{why}");
        let disk = tarball(
            dir.path(),
            &[
                ("bin/sh", file),
                ("bin/setpriv", file),
                ("srv/disk", tar::EntryType::Block),
            ],
        );
        let why = check_image(&disk, SCAN_MAX).expect_err("device");
        assert!(why.contains("srv/disk"), "{why}");
        std::fs::write(dir.path().join("plain"), "not a tarball").expect("write");
        let why = check_image(&dir.path().join("plain"), SCAN_MAX).expect_err("not a tar");
        assert!(why.starts_with("not a gzip tar archive"), "{why}");
    }
}
