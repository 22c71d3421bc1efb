//! The build job (SPEC §3.1). The `builds` row is its durable record: created `pending`, set
//! `running` on a builder host, then `succeeded` (artifact in the store, by sha256) or `failed`
//! with the reason. A server restart fails whatever was unfinished, so nothing stays `running`.
//! The log is a file per build, appended as output arrives and pushed live.

use super::JobError;
use crate::clock::now_ms;
use crate::events::record_event;
use crate::fleet::FleetService;
use crate::remote::build::{self, BuildError, BuildJob, Built};
use crate::remote::link::HostLink;
use crate::store::{BuildOutcome, NewBuildRecord, Store};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use vr_app::api::{LiveMessage, Outcome};
use vr_app::build::{App, Build, BuildLog, BuildRequest, BuildStatus};
use vr_app::fleet::{Health, Host};

/// Largest piece of a build log one request returns.
const MAX_LOG_CHUNK: u64 = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct BuildConfig {
    /// Deadline of a whole build (fetch, compile, pack) and of the copy back.
    pub timeout: Duration,
    /// Successful builds kept per app; older ones expire.
    pub keep_per_app: u32,
    /// Largest prebuilt upload.
    pub max_upload_bytes: u64,
    /// Most of a build's output kept in its log.
    pub max_log_bytes: u64,
}

impl Default for BuildConfig {
    fn default() -> Self {
        BuildConfig {
            timeout: Duration::from_secs(30 * 60),
            keep_per_app: 20,
            max_upload_bytes: 1024 * 1024 * 1024,
            max_log_bytes: 64 * 1024 * 1024,
        }
    }
}

pub struct Builds {
    pub(super) store: Store,
    pub(super) live: broadcast::Sender<LiveMessage>,
    pub(super) fleet: Arc<FleetService>,
    artifacts: PathBuf,
    /// Stack images' tarballs, by sha256 (`jobs::stacks`).
    pub(super) stacks: PathBuf,
    logs: PathBuf,
    pub config: BuildConfig,
}

impl Builds {
    pub fn new(
        store: Store,
        live: broadcast::Sender<LiveMessage>,
        fleet: Arc<FleetService>,
        data_dir: &Path,
        config: BuildConfig,
    ) -> std::io::Result<Arc<Builds>> {
        let artifacts = data_dir.join("artifacts");
        let logs = data_dir.join("build-logs");
        let stacks = data_dir.join("stacks");
        std::fs::create_dir_all(&artifacts)?;
        std::fs::create_dir_all(&stacks)?;
        std::fs::create_dir_all(&logs)?;
        Ok(Arc::new(Builds {
            store,
            live,
            fleet,
            artifacts,
            stacks,
            logs,
            config,
        }))
    }

    /// At start: builds a stopped server left unfinished are failed, with a line in their log.
    pub async fn recover(&self) -> Result<(), JobError> {
        for id in self.store.fail_unfinished_builds(now_ms()).await? {
            self.append_log(
                id,
                b"\n-----> The server stopped during this build; start it again.\n",
            );
            tracing::warn!(
                build = id,
                "build interrupted by a server restart marked failed"
            );
        }
        Ok(())
    }

    pub fn artifact_path(&self, sha256: &str) -> PathBuf {
        self.artifacts.join(format!("{sha256}.tar.gz"))
    }

    /// Deletes the logs of failed and expired builds (and of builds no longer recorded) last
    /// written before `before` (ms since the epoch); how many.
    pub async fn prune_logs(&self, before: i64) -> usize {
        let Ok(dir) = std::fs::read_dir(&self.logs) else {
            return 0;
        };
        let mut old = Vec::new();
        for entry in dir.flatten() {
            let name = entry.file_name();
            let Some(id) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".log"))
                .and_then(|n| n.parse::<i64>().ok())
            else {
                continue;
            };
            let written = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            if written.is_some_and(|w| w < before) {
                old.push((id, entry.path()));
            }
        }
        let mut n = 0;
        for (id, path) in old {
            let gone = match self.store.build_status(id).await {
                Ok(Some(status)) => status == "failed" || status == "expired",
                Ok(None) => true,
                Err(_) => false,
            };
            if gone && std::fs::remove_file(&path).is_ok() {
                n += 1;
            }
        }
        n
    }

    fn log_path(&self, id: i64) -> PathBuf {
        self.logs.join(format!("{id}.log"))
    }

    fn append_log(&self, id: i64, bytes: &[u8]) -> u64 {
        let path = self.log_path(id);
        let offset = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(bytes));
        if let Err(e) = written {
            tracing::error!(build = id, error = %e, "could not write the build log");
        }
        let _ = self.live.send(LiveMessage::BuildLog {
            id,
            offset,
            text: String::from_utf8_lossy(bytes).into_owned(),
        });
        offset + bytes.len() as u64
    }

    /// The log from `offset`; `complete` once the build is over.
    pub async fn log(&self, id: i64, offset: u64) -> Result<BuildLog, JobError> {
        // Read the status first: a build that is over has written all of its log.
        let build = self.store.build(id).await?;
        Ok(read_log(&self.log_path(id), offset, build.status.in_progress()).await)
    }

    fn announce(&self, build: &Build) {
        let mut shown = build.clone();
        vr_app::secret::mask_build(&mut shown);
        let _ = self.live.send(LiveMessage::Build {
            build: Box::new(shown),
        });
    }

    /// Credentials in the app's and the buildpacks' URLs: they must never reach a build's log
    /// or its error (git prints URLs when it fails).
    async fn url_secrets(&self, app: &App) -> Vec<String> {
        let mut urls = vec![app.repo_url.clone()];
        urls.extend(app.buildpack.clone());
        if let Ok(bps) = self.store.list_buildpacks().await {
            urls.extend(bps.into_iter().map(|b| b.url));
        }
        urls.iter()
            .filter_map(|u| vr_app::secret::url_secret(u))
            .collect()
    }

    /// Starts a build, or returns the one already under way for the same app and version.
    /// The bool says whether a new one was started.
    pub async fn request(
        self: &Arc<Self>,
        actor: &str,
        req: BuildRequest,
    ) -> Result<(Build, bool), JobError> {
        let app = self.store.app(req.app.clone()).await?;
        let stack = match req.stack.as_ref().or(app.stack.as_ref()) {
            Some(name) => Some(self.stack_image(name).await.map_err(|e| match e {
                JobError::Store(crate::store::StoreError::NotFound { .. }) => {
                    let unknown = vr_app::stack::unknown("stack", name);
                    JobError::Field {
                        field: unknown.field,
                        message: unknown.message,
                    }
                }
                other => other,
            })?),
            None => None,
        };
        if !req.force
            && let Some(running) = self
                .store
                .build_in_flight(req.app.clone(), req.version.clone())
                .await?
            && running.stack == stack
        {
            return Ok((running, false));
        }
        let host = self.pick_builder().await?;
        let build = self
            .store
            .create_build(NewBuildRecord {
                app: req.app.clone(),
                version: req.version.clone(),
                stack,
                forced: req.force,
                requested_by: actor.to_string(),
                now: now_ms(),
            })
            .await?;
        self.announce(&build);
        let this = Arc::clone(self);
        let actor = actor.to_string();
        let started = build.clone();
        tokio::spawn(async move { this.run(started, app, host, req.force, actor).await });
        Ok((build, true))
    }

    /// An active builder host that is not known to be down.
    pub(super) async fn pick_builder(&self) -> Result<Host, JobError> {
        let hosts = self.store.list_hosts().await?;
        let mut builders: Vec<Host> = hosts
            .into_iter()
            .filter(|h| h.settings.active && h.settings.builder)
            .collect();
        if builders.is_empty() {
            return Err(JobError::Refused(
                "no active builder host: mark one with `vr host edit NAME --builder` or on its page"
                    .into(),
            ));
        }
        builders.sort_by_key(|h| (h.status.health != Health::Ok, h.settings.name.clone()));
        builders
            .into_iter()
            .find(|h| !matches!(h.status.health, Health::Unreachable | Health::KeyChanged))
            .ok_or_else(|| JobError::Refused("every builder host is unreachable right now".into()))
    }

    async fn run(self: Arc<Self>, build: Build, app: App, host: Host, force: bool, actor: String) {
        let id = build.id;
        let secrets = self.url_secrets(&app).await;
        let outcome = self
            .execute(&build, &app, &host, force, &secrets)
            .await
            .map_err(|why| vr_app::secret::redact(&why, &secrets));
        let finished = match outcome {
            Ok(out) => {
                // The log is complete before the status says so: a reader that sees the end
                // state has every line.
                self.append_log(id, b"-----> Build succeeded\n");
                let done = self.store.finish_build(id, out, now_ms()).await;
                if let Ok(b) = &done {
                    self.expire_old(&b.app).await;
                }
                done
            }
            Err(why) => {
                self.append_log(id, format!("\n-----> Build failed: {why}\n").as_bytes());
                self.store.fail_build(id, why, now_ms()).await
            }
        };
        match finished {
            Ok(b) => {
                self.announce(&b);
                let (outcome, detail) = match b.status {
                    BuildStatus::Succeeded => (
                        Outcome::Ok,
                        format!(
                            "{} at {}{}",
                            b.version,
                            b.commit.as_deref().map_or("?", |c| &c[..c.len().min(12)]),
                            b.reused_from
                                .map(|r| format!(", reused build #{r}"))
                                .unwrap_or_default()
                        ),
                    ),
                    _ => (Outcome::Failed, b.error.clone().unwrap_or_default()),
                };
                record_event(
                    &self.store,
                    &self.live,
                    &actor,
                    "build.finish",
                    &format!("build:{}#{}", b.app, b.id),
                    outcome,
                    &detail,
                )
                .await;
            }
            Err(e) => {
                tracing::error!(build = id, error = %e, "could not record the end of a build")
            }
        }
    }

    /// The steps; the error is the reason shown to people.
    async fn execute(
        &self,
        build: &Build,
        app: &App,
        host: &Host,
        force: bool,
        secrets: &[String],
    ) -> Result<BuildOutcome, String> {
        let id = build.id;
        let store_err = |e: crate::store::StoreError| e.to_string();
        let running = self
            .store
            .start_build(id, host.settings.name.clone(), now_ms())
            .await
            .map_err(store_err)?;
        self.announce(&running);
        self.append_log(
            id,
            format!(
                "-----> Building {} {} on {}\n",
                app.name, build.version, host.settings.name
            )
            .as_bytes(),
        );
        // Its own session: a long compile must not hold the link the poller uses.
        let link = Arc::new(HostLink::default());
        let access = self.fleet.access(host);
        let timeout = self.config.timeout;

        let (repo, version) = (app.repo_url.clone(), build.version.clone());
        let l = Arc::clone(&link);
        let a = access.clone();
        let key = self
            .store
            .instance_hash_key(rand::random())
            .await
            .map_err(store_err)?;
        let uid = self
            .store
            .app_build_uid(app.id, key)
            .await
            .map_err(store_err)?;
        let commit = blocking(move || {
            l.run(&a, |s| {
                Ok(build::resolve(
                    s.conn, s.layout, &repo, &version, uid, timeout,
                ))
            })
            .map(|w| w.value)
        })
        .await?;
        let with_commit = self
            .store
            .set_build_commit(id, commit.clone())
            .await
            .map_err(store_err)?;
        self.announce(&with_commit);
        self.append_log(
            id,
            format!("-----> {} is {commit}\n", build.version).as_bytes(),
        );

        if !force
            && let Some(prev) = self
                .store
                .reusable_build(
                    app.name.clone(),
                    commit.clone(),
                    app.buildpack.clone(),
                    build.stack.as_ref().map(|s| s.sha256.clone()),
                    id,
                )
                .await
                .map_err(store_err)?
            && let Some(sha) = prev.sha256.clone()
            && self.artifact_path(&sha).exists()
        {
            self.append_log(
                id,
                format!(
                    "-----> Reusing build #{} of the same commit (buildpack {}); force a rebuild to build again\n",
                    prev.id,
                    prev.buildpack
                        .as_deref()
                        .map_or("?".to_string(), vr_app::secret::mask_url)
                )
                .as_bytes(),
            );
            return Ok(BuildOutcome {
                buildpack: prev.buildpack,
                buildpack_commit: prev.buildpack_commit,
                sha256: sha,
                size: prev.size.unwrap_or(0),
                procfile: prev.procfile,
                env: prev.env,
                reused_from: Some(prev.id),
            });
        }

        let buildpacks: Vec<String> = match &app.buildpack {
            Some(url) => vec![url.clone()],
            None => self
                .store
                .list_buildpacks()
                .await
                .map_err(store_err)?
                .into_iter()
                .map(|b| b.url)
                .collect(),
        };
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
        let logger = {
            let this_logs = self.log_path(id);
            let live = self.live.clone();
            let mut redactor = vr_app::secret::Redactor::new(secrets);
            let cap = self.config.max_log_bytes;
            tokio::spawn(async move {
                let mut offset = std::fs::metadata(&this_logs).map(|m| m.len()).unwrap_or(0);
                let mut done = false;
                let mut truncated = false;
                while !done {
                    let mut chunk = match rx.recv().await {
                        Some(piece) => redactor.push(&piece),
                        None => {
                            done = true;
                            redactor.finish()
                        }
                    };
                    if truncated || chunk.is_empty() {
                        continue;
                    }
                    // A build that prints without end must not fill the server's disk: past the
                    // cap the rest is dropped, once, with a line saying so.
                    if offset + chunk.len() as u64 > cap {
                        chunk.truncate(usize::try_from(cap.saturating_sub(offset)).unwrap_or(0));
                        chunk.extend_from_slice(
                            format!(
                                "\n-----> [log truncated: the build printed more than {} MiB; the rest of its output was dropped]\n",
                                cap / (1024 * 1024)
                            )
                            .as_bytes(),
                        );
                        truncated = true;
                    }
                    let written = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&this_logs)
                        .and_then(|mut f| f.write_all(&chunk));
                    if let Err(e) = written {
                        tracing::error!(build = id, error = %e, "could not write the build log");
                    }
                    let _ = live.send(LiveMessage::BuildLog {
                        id,
                        offset,
                        text: String::from_utf8_lossy(&chunk).into_owned(),
                    });
                    offset += chunk.len() as u64;
                }
            })
        };
        let stack_dir = match &build.stack {
            Some(stack) => Some(self.stack_on_builder(id, &link, &access, stack).await?),
            None => None,
        };
        let (app_name, repo_url, pinned) = (
            app.name.clone(),
            app.repo_url.clone(),
            app.buildpack.is_some(),
        );
        let build_uid = uid;
        let l = Arc::clone(&link);
        let a = access.clone();
        let c = commit.clone();
        let built: Result<Built, String> = blocking(move || {
            l.run(&a, |s| {
                let job = BuildJob {
                    id,
                    app: &app_name,
                    uid: build_uid,
                    repo_url: &repo_url,
                    commit: &c,
                    buildpacks: &buildpacks,
                    pinned,
                    stack_dir: stack_dir.clone(),
                };
                Ok(build::run(s.conn, s.layout, &job, timeout, &mut |bytes| {
                    let _ = tx.send(bytes.to_vec());
                }))
            })
            .map(|w| w.value)
        })
        .await;
        // The sender went with the closure; the logger ends once it wrote everything.
        let _ = logger.await;
        let built = built?;

        let procfile = vr_app::build::parse_procfile(&built.procfile)?;
        let env = release_env(&built.release_yaml)?;
        let dest = self.artifact_path(&built.sha256);
        let part = self.artifacts.join(format!(".part-{id}"));
        let (l, a, b2, p) = (
            Arc::clone(&link),
            access.clone(),
            built.clone(),
            part.clone(),
        );
        let copied: Result<(), String> = blocking(move || {
            let mut file = std::fs::File::create(&p).map_err(|e| BuildError::Failed(e.to_string()));
            l.run(&a, |s| {
                let f = match file.as_mut() {
                    Ok(f) => f,
                    Err(e) => return Ok(Err(BuildError::Failed(e.to_string()))),
                };
                let copied = build::download(s.conn, s.layout, &b2, f, timeout);
                build::cleanup(s.conn, s.layout, &b2.work);
                Ok(copied)
            })
            .map(|w| w.value)
        })
        .await;
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
        std::fs::rename(&part, &dest).map_err(|e| format!("storing the artifact: {e}"))?;
        self.append_log(
            id,
            format!("-----> Stored {} bytes as {}\n", built.size, built.sha256).as_bytes(),
        );
        Ok(BuildOutcome {
            buildpack: Some(built.buildpack),
            buildpack_commit: Some(built.buildpack_commit),
            sha256: built.sha256,
            size: built.size,
            procfile,
            env,
            reused_from: None,
        })
    }

    /// Unpacks the build's stack image on the builder unless it is there; returns where it is.
    async fn stack_on_builder(
        &self,
        id: i64,
        link: &Arc<HostLink>,
        access: &crate::remote::link::HostAccess,
        stack: &vr_app::stack::StackRef,
    ) -> Result<String, String> {
        use crate::remote::deploy::{DeployError, Unpack, Unpacked, unpack_once};
        let tarball = self.stack_path(&stack.sha256);
        let (l, a, sha) = (Arc::clone(link), access.clone(), stack.sha256.clone());
        let timeout = self.config.timeout;
        let (dir, copied) = blocking(move || {
            l.run(&a, |s| {
                let dir = Unpacked::Stack.dir(s.layout, &sha);
                // Transport errors go to the link (it reconnects); the rest end the build.
                match unpack_once(s.conn, s.layout, Unpacked::Stack, &sha, &tarball, timeout) {
                    Ok(done) => Ok(Ok((dir, done == Unpack::Copied))),
                    Err(DeployError::Remote(e)) => Err(e),
                    Err(other) => Ok(Err(BuildError::Failed(other.to_string()))),
                }
            })
            .map(|w| w.value)
        })
        .await?;
        self.append_log(
            id,
            format!(
                "-----> Stack image {} {}\n",
                stack.short(),
                if copied {
                    "copied to the builder and unpacked"
                } else {
                    "already on the builder"
                }
            )
            .as_bytes(),
        );
        Ok(dir)
    }

    /// Applies retention for the app and deletes artifacts nothing uses any more.
    async fn expire_old(&self, app: &str) {
        match self
            .store
            .expire_builds(app.to_string(), self.config.keep_per_app)
            .await
        {
            Ok(orphans) => {
                for sha in orphans {
                    if let Err(e) = std::fs::remove_file(self.artifact_path(&sha)) {
                        tracing::warn!(sha, error = %e, "could not delete an expired artifact");
                    }
                }
            }
            Err(e) => tracing::error!(app, error = %e, "build retention failed"),
        }
        // An expired build may have been the last user of an old stack image.
        self.expire_stacks().await;
    }

    /// Stores an uploaded tar.gz (already written to `part`, hashed and sized) as a prebuilt
    /// build, after checking it is a gzip tar with a Procfile.
    pub async fn store_upload(
        &self,
        actor: &str,
        app: &str,
        version: &str,
        part: PathBuf,
        sha256: String,
        size: u64,
    ) -> Result<Build, JobError> {
        self.store.app(app.to_string()).await?;
        let p = part.clone();
        let procfile = tokio::task::spawn_blocking(move || procfile_of_tarball(&p))
            .await
            .map_err(|e| JobError::Refused(e.to_string()))?;
        let procfile = match procfile {
            Ok(p) => p,
            Err(why) => {
                let _ = std::fs::remove_file(&part);
                return Err(JobError::Invalid(why));
            }
        };
        if let Err(e) = std::fs::rename(&part, self.artifact_path(&sha256)) {
            let _ = std::fs::remove_file(&part);
            return Err(JobError::Refused(format!("storing the upload: {e}")));
        }
        let build = self
            .store
            .create_prebuilt(
                NewBuildRecord {
                    app: app.to_string(),
                    version: version.to_string(),
                    stack: None,
                    forced: false,
                    requested_by: actor.to_string(),
                    now: now_ms(),
                },
                BuildOutcome {
                    buildpack: None,
                    buildpack_commit: None,
                    sha256,
                    size,
                    procfile,
                    env: BTreeMap::new(),
                    reused_from: None,
                },
            )
            .await?;
        self.append_log(
            build.id,
            format!("-----> Uploaded by {actor}: {size} bytes\n").as_bytes(),
        );
        self.announce(&build);
        self.expire_old(app).await;
        Ok(build)
    }

    /// Where an upload is written while it arrives.
    pub fn upload_part(&self) -> PathBuf {
        self.artifacts
            .join(format!(".upload-{}", crate::auth::random_secret()))
    }
}

/// A job's log file from `offset`, at most [`MAX_LOG_CHUNK`] of it; `complete` once the job is
/// over (`running` false, read before) and everything was read.
pub(super) async fn read_log(path: &Path, offset: u64, running: bool) -> BuildLog {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let mut bytes = Vec::new();
    let mut start = 0;
    let mut len = 0;
    if let Ok(mut file) = tokio::fs::File::open(path).await {
        len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
        start = offset.min(len);
        if file.seek(std::io::SeekFrom::Start(start)).await.is_ok() {
            // At most MAX_LOG_CHUNK per answer: a client keeps reading from `offset`.
            let _ = file.take(MAX_LOG_CHUNK).read_to_end(&mut bytes).await;
        }
    }
    let next = start + bytes.len() as u64;
    BuildLog {
        text: String::from_utf8_lossy(&bytes).into_owned(),
        offset: next,
        complete: !running && next >= len,
    }
}

/// Runs blocking host work and flattens its two error layers into the reason to show.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<Result<T, BuildError>, crate::remote::RemoteError> + Send + 'static,
) -> Result<T, String> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(Ok(v))) => Ok(v),
        Ok(Ok(Err(e))) => Err(e.to_string()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!("build task failed: {e}")),
    }
}

/// `config_vars` of a buildpack's `bin/release` YAML, as strings.
fn release_env(yaml: &str) -> Result<BTreeMap<String, String>, String> {
    if yaml.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    #[derive(serde::Deserialize)]
    struct Release {
        #[serde(default)]
        config_vars: Option<BTreeMap<String, serde_yaml_ng::Value>>,
    }
    crate::yaml::check(yaml).map_err(|e| format!("bin/release printed YAML that {e}"))?;
    let r: Release = serde_yaml_ng::from_str(yaml)
        .map_err(|e| format!("bin/release printed unreadable YAML: {e}"))?;
    r.config_vars
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| {
            if !vr_app::validate::is_env_name(&k) {
                return Err(format!(
                    "bin/release declares {k:?}, which is not an environment variable name"
                ));
            }
            let s = match v {
                serde_yaml_ng::Value::String(s) => s,
                other => serde_yaml_ng::to_string(&other)
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            };
            Ok((k, s))
        })
        .collect()
}

/// Most of an upload decompressed while looking for its Procfile: a gzip bomb stops here
/// instead of burning a core for hours.
pub(crate) const SCAN_MAX: u64 = 16 * 1024 * 1024 * 1024;

/// The Procfile of a tar.gz, checking on the way that it is one. Reads at most
/// [`vr_app::build::PROCFILE_MAX`] of it and decompresses at most [`SCAN_MAX`] to find it.
fn procfile_of_tarball(path: &Path) -> Result<BTreeMap<String, String>, String> {
    procfile_of_tarball_within(path, SCAN_MAX)
}

fn procfile_of_tarball_within(
    path: &Path,
    scan_max: u64,
) -> Result<BTreeMap<String, String>, String> {
    use std::io::Read;
    let mut procfile = None;
    let scanned = scan_tarball(path, scan_max, &mut |name, kind, entry| {
        // Every entry: a device node or a FIFO would be created as root on every host.
        if kind.is_block_special() || kind.is_character_special() || kind.is_fifo() {
            return Err(format!(
                "it holds {name:?}, a device or FIFO: builds may hold only files, directories and links"
            ));
        }
        if procfile.is_none() && (name == "Procfile" || name == "./Procfile") {
            let max = vr_app::build::PROCFILE_MAX;
            let mut raw = Vec::new();
            entry
                .take(max as u64 + 1)
                .read_to_end(&mut raw)
                .map_err(|e| format!("reading its Procfile: {e}"))?;
            if raw.len() > max {
                return Err(format!("its Procfile is larger than {} KiB", max / 1024));
            }
            procfile = Some(vr_app::build::parse_procfile(&String::from_utf8_lossy(
                &raw,
            ))?);
        }
        Ok(())
    });
    match scanned {
        Ok(()) => procfile.ok_or_else(|| "the archive has no Procfile at its top level".into()),
        Err(ScanError::Refused(why)) => Err(why),
        Err(ScanError::NotTar(e)) => Err(format!("not a gzip tar archive: {e}")),
        Err(ScanError::TooLong) => Err(format!(
            "{} in the first {} MiB of the archive",
            if procfile.is_some() {
                "it does not end"
            } else {
                "no Procfile"
            },
            scan_max / (1024 * 1024)
        )),
    }
}

/// Why a tar.gz could not be read to its end.
#[derive(Debug)]
pub(crate) enum ScanError {
    /// Not a gzip tar archive (the reader's words).
    NotTar(std::io::Error),
    /// It decompresses to more than the limit.
    TooLong,
    /// The visitor refused an entry.
    Refused(String),
}

/// An entry of a scanned archive: its path as written, its type, its content.
pub(crate) type EntryVisitor<'a> =
    dyn FnMut(&str, tar::EntryType, &mut dyn std::io::Read) -> Result<(), String> + 'a;

/// Reads every entry of the tar.gz at `path`, decompressing at most `scan_max` bytes (a gzip
/// bomb stops there instead of burning a core for hours).
pub(crate) fn scan_tarball(
    path: &Path,
    scan_max: u64,
    visit: &mut EntryVisitor<'_>,
) -> Result<(), ScanError> {
    let file = std::fs::File::open(path).map_err(ScanError::NotTar)?;
    let left = std::rc::Rc::new(std::cell::Cell::new(scan_max));
    let limited = ScanLimit {
        inner: flate2::read::GzDecoder::new(file),
        left: std::rc::Rc::clone(&left),
    };
    let failed = |e: std::io::Error| {
        if left.get() == 0 {
            ScanError::TooLong
        } else {
            ScanError::NotTar(e)
        }
    };
    let mut archive = tar::Archive::new(limited);
    for entry in archive.entries().map_err(failed)? {
        let mut entry = entry.map_err(failed)?;
        let name = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let kind = entry.header().entry_type();
        visit(&name, kind, &mut entry).map_err(ScanError::Refused)?;
    }
    Ok(())
}

/// A reader that fails once `left` bytes were read.
struct ScanLimit<R> {
    inner: R,
    left: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: std::io::Read> std::io::Read for ScanLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.left.get();
        if left == 0 {
            return Err(std::io::Error::other("scan limit reached"));
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left.set(left - n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_yaml_gives_string_env() {
        let env = release_env("---\nconfig_vars:\n  PATH: /app/bin\n  WORKERS: 4\ndefault_process_types:\n  web: ./run\n")
            .unwrap_or_default();
        assert_eq!(env.get("PATH").map(String::as_str), Some("/app/bin"));
        assert_eq!(env.get("WORKERS").map(String::as_str), Some("4"));
        assert!(release_env("").unwrap_or_default().is_empty());
        assert!(release_env("config_vars: [").is_err());
        let bad = release_env("config_vars:\n  \"A;curl x|sh;B\": x\n").expect_err("bad name");
        assert!(bad.contains("not an environment variable name"), "{bad}");
    }

    #[test]
    fn tarballs_need_a_procfile() {
        let dir = tempfile::tempdir().expect("tempdir");
        let make = |name: &str, files: &[(&str, &str)]| {
            let path = dir.path().join(name);
            let gz = flate2::write::GzEncoder::new(
                std::fs::File::create(&path).expect("create"),
                flate2::Compression::fast(),
            );
            let mut tar = tar::Builder::new(gz);
            for (n, body) in files {
                let mut h = tar::Header::new_gnu();
                h.set_size(body.len() as u64);
                h.set_mode(0o644);
                h.set_cksum();
                tar.append_data(&mut h, n, body.as_bytes()).expect("append");
            }
            tar.into_inner().expect("tar").finish().expect("gz");
            path
        };
        let good = make(
            "good.tgz",
            &[("Procfile", "web: ./run\n"), ("run", "#!/bin/sh\n")],
        );
        assert_eq!(procfile_of_tarball(&good).map(|p| p.len()), Ok(1));
        let none = make("none.tgz", &[("run", "x")]);
        assert!(
            procfile_of_tarball(&none)
                .expect_err("must fail")
                .contains("no Procfile")
        );
        // A Procfile bomb: megabytes of one line, compressed to almost nothing.
        let bomb = make("bomb.tgz", &[("Procfile", &"w".repeat(8 * 1024 * 1024))]);
        assert!(
            procfile_of_tarball(&bomb)
                .expect_err("must fail")
                .contains("larger than 64 KiB")
        );
        // A bomb before the Procfile stops at the scan limit.
        let padded = make(
            "padded.tgz",
            &[
                ("zeros", &"\0".repeat(4 * 1024 * 1024)),
                ("Procfile", "web: x\n"),
            ],
        );
        assert!(
            procfile_of_tarball_within(&padded, 1024 * 1024)
                .expect_err("must fail")
                .contains("no Procfile in the first")
        );
        assert!(procfile_of_tarball(&padded).is_ok());
        // A device node anywhere is refused.
        let dev_path = dir.path().join("dev.tgz");
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&dev_path).expect("create"),
            flate2::Compression::fast(),
        );
        let mut tar = tar::Builder::new(gz);
        let mut h = tar::Header::new_gnu();
        h.set_size(7);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, "Procfile", &b"web: x\n"[..])
            .expect("append");
        let mut d = tar::Header::new_gnu();
        d.set_entry_type(tar::EntryType::Block);
        d.set_size(0);
        d.set_mode(0o644);
        d.set_device_major(8).expect("major");
        d.set_device_minor(0).expect("minor");
        d.set_cksum();
        tar.append_data(&mut d, "disk", &b""[..]).expect("append");
        tar.into_inner().expect("tar").finish().expect("gz");
        assert!(
            procfile_of_tarball(&dev_path)
                .expect_err("must fail")
                .contains("a device or FIFO"),
        );
        let junk = dir.path().join("junk");
        std::fs::write(&junk, "not gzip at all").expect("write");
        assert!(
            procfile_of_tarball(&junk)
                .expect_err("must fail")
                .contains("not a gzip tar")
        );
    }
}
