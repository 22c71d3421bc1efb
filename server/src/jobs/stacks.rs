//! Stack images (issue 16) beside the build artifacts: each uploaded tarball checked (a gzip tar
//! holding a shell and `setpriv`, no device outside `/dev`), stored once by sha256 in
//! `{data_dir}/stacks/`, and deleted when retention expires the last image holding it.

use super::JobError;
use super::build::{SCAN_MAX, ScanError, blocking, read_log, scan_tarball};
use crate::clock::now_ms;
use crate::events::record_event;
use crate::remote::build::{BuildError, cleanup, download_file};
use crate::remote::link::HostLink;
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vr_app::api::{LiveMessage, Outcome};
use vr_app::build::BuildLog;
use vr_app::fleet::Host;
use vr_app::stack::{NewStackBuild, StackImage, StackRef, entry_path, missing_files, skipped};

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
        self.keep_image(part, &sha256).await.map_err(|e| match e {
            NotKept::Unusable(why) => JobError::Invalid(why),
            NotKept::Storing(why) => JobError::Refused(format!("storing the upload: {why}")),
        })?;
        let image = self
            .store
            .create_stack_image(stack.to_string(), sha256, size, actor.to_string(), now_ms())
            .await?;
        self.expire_stacks().await;
        Ok(image)
    }

    fn stack_log_path(&self, id: i64) -> PathBuf {
        self.stacks.join(format!("{id}.log"))
    }

    fn append_stack_log(&self, id: i64, bytes: &[u8]) {
        append_log(&self.stack_log_path(id), id, bytes);
    }

    /// Keeps the tar.gz at `part` as image `sha256` once it passes [`check_image`]; removes it
    /// otherwise.
    async fn keep_image(&self, part: PathBuf, sha256: &str) -> Result<(), NotKept> {
        let p = part.clone();
        let checked = tokio::task::spawn_blocking(move || check_image(&p, SCAN_MAX))
            .await
            .map_err(|e| NotKept::Storing(e.to_string()))
            .and_then(|c| c.map_err(NotKept::Unusable))
            .and_then(|()| {
                std::fs::rename(&part, self.stack_path(sha256))
                    .map_err(|e| NotKept::Storing(e.to_string()))
            });
        if checked.is_err() {
            let _ = std::fs::remove_file(&part);
        }
        checked
    }

    /// An image build's log from `offset`; `complete` once it is over.
    pub async fn stack_log(&self, id: i64, offset: u64) -> Result<BuildLog, JobError> {
        let image = self.store.stack_image(id).await?;
        Ok(read_log(&self.stack_log_path(id), offset, image.status.in_progress()).await)
    }

    /// At start: image builds a stopped server left unfinished are failed, with a line in
    /// their log.
    pub async fn recover_stacks(&self) -> Result<(), JobError> {
        for id in self.store.fail_unfinished_stack_builds(now_ms()).await? {
            self.append_stack_log(
                id,
                b"\n-----> The server stopped during this build; start it again.\n",
            );
        }
        Ok(())
    }

    /// Starts building an image of `stack` with mmdebstrap on a builder host; the row is
    /// recorded before anything runs there.
    pub async fn request_stack_build(
        self: &Arc<Self>,
        actor: &str,
        stack: &str,
        recipe: NewStackBuild,
    ) -> Result<StackImage, JobError> {
        let host = self.pick_builder().await?;
        let image = self
            .store
            .create_stack_build(
                stack.to_string(),
                recipe.clone(),
                actor.to_string(),
                now_ms(),
            )
            .await?;
        let _ = self.live.send(LiveMessage::Apps);
        let this = Arc::clone(self);
        let actor = actor.to_string();
        let id = image.id;
        tokio::spawn(async move { this.run_stack_build(id, host, recipe, actor).await });
        Ok(image)
    }

    async fn run_stack_build(
        self: Arc<Self>,
        id: i64,
        host: Host,
        recipe: NewStackBuild,
        actor: String,
    ) {
        let outcome = self.stack_build(id, &host, &recipe).await;
        let ended = match outcome {
            Ok((sha, size)) => {
                self.append_stack_log(id, b"-----> Image stored\n");
                let done = self.store.finish_stack_build(id, sha, size, now_ms()).await;
                self.expire_stacks().await;
                done
            }
            Err(why) => {
                self.append_stack_log(id, format!("\n-----> Build failed: {why}\n").as_bytes());
                self.store.fail_stack_build(id, why, now_ms()).await
            }
        };
        let _ = self.live.send(LiveMessage::Apps);
        match ended {
            Ok(image) => {
                let (outcome, detail) = match &image.error {
                    None => (
                        Outcome::Ok,
                        format!(
                            "{} ({} bytes, sha256 {})",
                            image.recipe,
                            image.size.unwrap_or(0),
                            image.sha256.as_deref().unwrap_or("?")
                        ),
                    ),
                    Some(e) => (Outcome::Failed, e.clone()),
                };
                record_event(
                    &self.store,
                    &self.live,
                    &actor,
                    "stack.build",
                    &format!("stack:{}#{}", image.stack, image.id),
                    outcome,
                    &detail,
                )
                .await;
            }
            Err(e) => {
                tracing::error!(image = id, error = %e, "could not record the end of an image build")
            }
        }
    }

    /// mmdebstrap on the builder (its own session), the tarball copied back and checked.
    async fn stack_build(
        &self,
        id: i64,
        host: &Host,
        recipe: &NewStackBuild,
    ) -> Result<(String, u64), String> {
        self.store
            .start_stack_build(id, host.settings.name.clone())
            .await
            .map_err(|e| e.to_string())?;
        let _ = self.live.send(LiveMessage::Apps);
        self.append_stack_log(
            id,
            format!(
                "-----> Building {} on {}\n",
                recipe.summary(),
                host.settings.name
            )
            .as_bytes(),
        );
        // Its own session: a long build must not hold the link the poller uses.
        let link = Arc::new(HostLink::default());
        let access = self.fleet.access(host);
        let timeout = self.config.timeout;
        let log_path = self.stack_log_path(id);
        let part = self.stacks.join(format!(".part-{id}"));
        let (l, a, r, p) = (
            Arc::clone(&link),
            access.clone(),
            recipe.clone(),
            part.clone(),
        );
        let made = blocking(move || {
            let mut file = std::fs::File::create(&p).map_err(|e| BuildError::Failed(e.to_string()));
            l.run(&a, |s| {
                let mut log = |bytes: &[u8]| append_log(&log_path, id, bytes);
                let (made, work) = match crate::remote::stack::build_image(
                    s.conn, s.layout, id, &r, timeout, &mut log,
                ) {
                    Ok(m) => m,
                    Err(BuildError::Remote(e)) => return Err(e),
                    Err(other) => return Ok(Err(other)),
                };
                let f = match file.as_mut() {
                    Ok(f) => f,
                    Err(e) => return Ok(Err(BuildError::Failed(e.to_string()))),
                };
                let copied = download_file(s.conn, s.layout, &made, f, timeout);
                cleanup(s.conn, s.layout, &work);
                Ok(copied.map(|()| (made.sha256, made.size)))
            })
            .map(|w| w.value)
        })
        .await;
        let (sha, size) = match made {
            Ok(m) => m,
            Err(e) => {
                let _ = std::fs::remove_file(&part);
                return Err(e);
            }
        };
        self.keep_image(part, &sha).await.map_err(|e| match e {
            NotKept::Unusable(why) => format!("the image is not usable: {why}"),
            NotKept::Storing(why) => format!("storing the image: {why}"),
        })?;
        self.append_stack_log(
            id,
            format!("-----> Copied {size} bytes, sha256 {sha}\n").as_bytes(),
        );
        Ok((sha, size))
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

/// Why a tarball did not become a stored image.
enum NotKept {
    /// It is not a usable image ([`check_image`]'s words).
    Unusable(String),
    /// This server could not store it.
    Storing(String),
}

/// Appends to an image build's log file; a failure is logged, the build goes on.
fn append_log(path: &Path, id: i64, bytes: &[u8]) {
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(bytes));
    if let Err(e) = written {
        tracing::error!(image = id, error = %e, "could not write a stack image's log");
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
