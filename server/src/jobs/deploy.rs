//! The deploy-one-proc job (SPEC §3.3). The `deploys` row is its durable record with its steps;
//! re-running a deploy of a proc that already runs is a no-op; ports are checked against the
//! host's snapshot and against deploys in flight.

use super::JobError;
use super::build::Builds;
use crate::clock::now_ms;
use crate::events::record_event;
use crate::fleet::FleetService;
use crate::remote::RemoteError;
use crate::remote::deploy::{self, ProcSpec};
use crate::remote::link::HostLink;
use crate::store::{NewDeployRecord, PortOwner, Store};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use vr_app::api::{LiveMessage, Outcome};
use vr_app::deploy::{
    DeployRequest, DeployStatus, DeployStep, DeployStepKind, Deployment, UptestResult, program_name,
};
use vr_app::fleet::{Health, Host, LogStream, ProcMeta};
use vr_app::supervisor::ProcState;
use vr_app::validate::{self, Invalid};

/// How long a new proc may take to reach RUNNING.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Time limit of each uptest.
const UPTEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Deadline of copying a build to a host.
const COPY_TIMEOUT: Duration = Duration::from_secs(15 * 60);

pub struct Deploys {
    store: Store,
    live: broadcast::Sender<LiveMessage>,
    fleet: Arc<FleetService>,
    builds: Arc<Builds>,
}

/// Why a deploy step did not succeed. The causes stay apart: a lost host leaves what the step
/// did unknown (a dispatch may retry elsewhere), a failed step means the host answered no.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The host did not answer or the connection broke.
    #[error("host lost: {0}")]
    HostLost(RemoteError),
    /// The host answered with an error (a command or Supervisor failed).
    #[error("{0}")]
    Remote(RemoteError),
    /// The step's own check failed on the host: the port is taken, Supervisor refused the
    /// program, the proc did not reach RUNNING, an uptest failed.
    #[error("{0}")]
    Failed(String),
    /// This server's side failed (the artifact is missing, a task panicked).
    #[error("{0}")]
    Local(String),
}

impl StepError {
    pub fn host_lost(&self) -> bool {
        matches!(self, StepError::HostLost(_))
    }
}

impl From<RemoteError> for StepError {
    fn from(e: RemoteError) -> Self {
        if e.is_transport() {
            StepError::HostLost(e)
        } else {
            StepError::Remote(e)
        }
    }
}

/// The step a deploy ended at, and why.
#[derive(Debug, thiserror::Error)]
#[error("{}: {}", .step.label(), first_line(&.source.to_string()))]
pub struct DeployFailure {
    pub step: DeployStepKind,
    pub source: StepError,
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("failed")
}

/// What a step found on a host that answered. Returned from inside a host session, so that
/// only transport errors travel as `RemoteError` (the session retries and reconnects on those).
enum Answer {
    Done(String),
    Refused(String),
    /// This server could not do its part (the artifact is missing).
    Local(String),
}

impl Answer {
    fn into_result(self) -> Result<String, StepError> {
        match self {
            Answer::Done(m) => Ok(m),
            Answer::Refused(m) => Err(StepError::Failed(m)),
            Answer::Local(m) => Err(StepError::Local(m)),
        }
    }
}

/// A remote deploy operation's result as an [`Answer`]; only a transport or command error
/// stays a `RemoteError`.
fn answered<T>(
    result: Result<T, deploy::DeployError>,
    done: impl FnOnce(T) -> String,
) -> Result<Answer, RemoteError> {
    match result {
        Ok(v) => Ok(Answer::Done(done(v))),
        Err(deploy::DeployError::Remote(e)) => Err(e),
        Err(other) => Ok(Answer::Refused(other.to_string())),
    }
}

/// One host step of a deploy, in an open session.
fn on_host(
    step: DeployStepKind,
    s: &mut crate::remote::supervisor::Supervisor<'_>,
    p: &Plan,
    program: &str,
    artifact: &std::path::Path,
) -> Result<Answer, RemoteError> {
    Ok(match step {
        DeployStepKind::CheckPort => {
            if deploy::port_in_use(s.conn, s.layout, p.meta.port)? {
                Answer::Refused(format!(
                    "port {} is already in use on the host (by a process vr does not manage?)",
                    p.meta.port
                ))
            } else {
                Answer::Done(format!("port {} is free", p.meta.port))
            }
        }
        DeployStepKind::CopyBuild => {
            if deploy::has_build(s.conn, s.layout, &p.sha256)? {
                return Ok(Answer::Done("the build is already on the host".to_string()));
            }
            let mut file = match std::fs::File::open(artifact) {
                Ok(f) => f,
                Err(e) => {
                    return Ok(Answer::Local(format!(
                        "the artifact {} is missing: {e}",
                        artifact.display()
                    )));
                }
            };
            answered(
                deploy::copy_build(s.conn, s.layout, &p.sha256, &mut file, COPY_TIMEOUT),
                |()| format!("copied and unpacked build {}", p.sha256),
            )?
        }
        DeployStepKind::WriteProc => {
            let written = with_spec(p, program, |spec| {
                deploy::write_proc(s.conn, s.layout, spec, COPY_TIMEOUT)
            });
            let dir = s.layout.proc_dir(program);
            answered(written, |vols| {
                if vols.is_empty() {
                    format!("wrote {dir}")
                } else {
                    format!("wrote {dir}; volumes:\n{vols}")
                }
            })?
        }
        DeployStepKind::AddToSupervisor => {
            let reread = s.reread()?;
            let add = s.add(program)?;
            // The program file says autostart=true, so `add` starts it; only a group that was
            // already active (a retried step) may need a start.
            let start = if add.ok && add.message.contains("already active") {
                Some(s.start(program)?)
            } else {
                None
            };
            let ok = reread.ok && add.ok && start.as_ref().is_none_or(|v| v.ok);
            let mut out = format!("{}\n{}", reread.message, add.message);
            if let Some(start) = start {
                out.push('\n');
                out.push_str(&start.message);
            }
            if ok {
                Answer::Done(out)
            } else {
                Answer::Refused(out)
            }
        }
        DeployStepKind::WaitRunning => wait_running(s, program)?,
        // Not host steps: the deploy runs uptests itself, and "already running" never gets here.
        DeployStepKind::Uptests | DeployStepKind::AlreadyRunning => {
            Answer::Local(format!("{} is not a host step", step.label()))
        }
    })
}

/// Everything a deploy needs, resolved and checked before it starts.
struct Plan {
    host: Host,
    command: String,
    sha256: String,
    meta: ProcMeta,
    settings_yaml: String,
    release: vr_app::release::Release,
}

impl Deploys {
    pub fn new(
        store: Store,
        live: broadcast::Sender<LiveMessage>,
        fleet: Arc<FleetService>,
        builds: Arc<Builds>,
    ) -> Arc<Deploys> {
        Arc::new(Deploys {
            store,
            live,
            fleet,
            builds,
        })
    }

    /// At start-up: deploys a stopped server left running are failed, and the ports they
    /// held are free again.
    pub async fn recover(&self) -> Result<(), JobError> {
        let n = self.store.fail_unfinished_deploys(now_ms()).await?;
        if n > 0 {
            tracing::warn!(
                deploys = n,
                "deploys interrupted by a server restart marked failed"
            );
        }
        let ports = self.store.release_all_ports().await?;
        if ports > 0 {
            tracing::warn!(ports, "port reservations of interrupted jobs released");
        }
        Ok(())
    }

    fn announce(&self, d: &Deployment) {
        let _ = self.live.send(LiveMessage::Deploy {
            deploy: Box::new(d.clone()),
        });
    }

    /// Checks the request and starts the deploy; a proc that already runs is a no-op.
    pub async fn request(
        self: &Arc<Self>,
        actor: &str,
        req: DeployRequest,
    ) -> Result<Deployment, JobError> {
        validate::squad_name("config", &req.config).map_err(invalid)?;
        let release = self.store.release(req.release_id).await?;
        let build = self.store.build(release.build_id).await?;
        let sha256 = build
            .sha256
            .clone()
            .filter(|_| build.status == vr_app::build::BuildStatus::Succeeded)
            .ok_or_else(|| {
                JobError::Refused(format!(
                    "build #{} of release #{} is {}: it cannot be deployed",
                    build.id,
                    release.id,
                    build.status.as_str()
                ))
            })?;
        let command = build.procfile.get(&req.proc_type).cloned().ok_or_else(|| {
            invalid(Invalid::new(
                "proc_type",
                format!(
                    "the Procfile has no {:?}; it has: {}",
                    req.proc_type,
                    build
                        .procfile
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
        })?;
        // Everything that can refuse the deploy is checked before its record exists, so no
        // early error leaves a deploy "running".
        let settings_yaml = serde_yaml_ng::to_string(&release.config.settings)
            .map_err(|e| JobError::Refused(format!("writing settings.yaml: {e}")))?;
        let host = self.store.host(req.host.clone()).await?;
        if !host.settings.active {
            return Err(JobError::Refused(format!("host {} is inactive", req.host)));
        }
        if matches!(host.status.health, Health::Unreachable | Health::KeyChanged) {
            return Err(JobError::Refused(format!(
                "host {} is {}: {}",
                req.host,
                host.status.health.as_str(),
                host.status.error.as_deref().unwrap_or("")
            )));
        }
        let program = program_name(
            &release.app,
            &build.version,
            &req.config,
            &release.hash,
            &req.proc_type,
            req.port,
        );
        // Only this host's procs matter: its part of the snapshot, not the whole fleet.
        let (_, on_host) = self.store.host_snapshot(host.id).await?;
        let mut already_running = false;
        for p in &on_host {
            if p.name == program {
                already_running = p.state == ProcState::Running;
            } else if req.port != 0
                && p.state != ProcState::Missing
                && p.meta.as_ref().is_some_and(|m| m.port == req.port)
            {
                return Err(invalid(Invalid::new(
                    "port",
                    format!("port {} is used by {} on {}", req.port, p.name, req.host),
                )));
            }
        }
        let record = NewDeployRecord {
            release_id: release.id,
            proc_type: req.proc_type.clone(),
            config: req.config.clone(),
            host: req.host.clone(),
            port: req.port,
            program: program.clone(),
            requested_by: actor.to_string(),
            now: now_ms(),
            reserve_port: !already_running,
        };
        if already_running {
            let d = self.store.create_deploy(record).await?;
            let step = DeployStep {
                name: DeployStepKind::AlreadyRunning,
                ok: true,
                message: format!("{program} already runs on {}: nothing to do", req.host),
                ms: 0,
            };
            let d = self
                .store
                .update_deploy(d.id, vec![step], DeployStatus::Succeeded, None, now_ms())
                .await?;
            self.announce(&d);
            return Ok(d);
        }
        // The port is reserved with the record, in one transaction: of two deploys racing for
        // it, the second is refused here.
        let d = self.store.create_deploy(record).await?;
        self.announce(&d);
        record_event(
            &self.store,
            &self.live,
            actor,
            "deploy.start",
            &format!("proc:{}/{}", req.host, program),
            Outcome::Ok,
            &format!("release #{} {}", release.id, req.proc_type),
        )
        .await;
        let meta = ProcMeta {
            app: release.app.clone(),
            version: build.version.clone(),
            config: req.config.clone(),
            proc_type: req.proc_type.clone(),
            port: req.port,
            release_id: Some(release.id),
            release_hash: release.hash.clone(),
            swarm_id: None,
            deployed_by: actor.to_string(),
            deployed_at: now_ms(),
        };
        let plan = Plan {
            host,
            command,
            sha256,
            meta,
            settings_yaml,
            release,
        };
        let this = Arc::clone(self);
        let actor = actor.to_string();
        let started = d.clone();
        tokio::spawn(async move { this.run(started, plan, actor).await });
        Ok(d)
    }

    /// The job shell: runs the work, then records the end whatever happened (the deploy is
    /// never left running), frees the port, refreshes the host and records the event.
    async fn run(self: Arc<Self>, d: Deployment, plan: Plan, actor: String) {
        let plan = Arc::new(plan);
        let mut steps: Vec<DeployStep> = Vec::new();
        let outcome = self.work(d.id, &plan, &d.program, &mut steps).await;
        let failure = outcome.as_ref().err().map(ToString::to_string);
        if let Err(f) = &outcome {
            tracing::warn!(deploy = d.id, step = f.step.label(), host_lost = f.source.host_lost(), error = %f.source, "deploy failed");
        }
        let status = if failure.is_some() {
            DeployStatus::Failed
        } else {
            DeployStatus::Succeeded
        };
        self.save_steps(d.id, &steps, status, &failure).await;
        if let Err(e) = self.store.release_ports(PortOwner::Deploy(d.id)).await {
            tracing::error!(deploy = d.id, error = %e, "could not release the deploy's port");
        }
        self.fleet.refresh(&plan.host).await;
        let (event_outcome, detail) = match &failure {
            None => (
                Outcome::Ok,
                format!(
                    "release #{} {} on port {}",
                    d.release_id, d.proc_type, d.port
                ),
            ),
            Some(why) => (Outcome::Failed, why.clone()),
        };
        record_event(
            &self.store,
            &self.live,
            &actor,
            "deploy.finish",
            &format!("proc:{}/{}", d.host, d.program),
            event_outcome,
            &detail,
        )
        .await;
    }

    /// The deploy's work: its steps in order on the host, each recorded (and pushed live) as
    /// it ends; the first that fails ends it.
    async fn work(
        &self,
        id: i64,
        plan: &Arc<Plan>,
        program: &str,
        steps: &mut Vec<DeployStep>,
    ) -> Result<(), DeployFailure> {
        let link = Arc::new(HostLink::default());
        let access = self.fleet.access(&plan.host);
        let artifact = self.builds.artifact_path(&plan.sha256);
        for &step in DeployStepKind::plan(plan.meta.port) {
            let started = Instant::now();
            let result = match step {
                DeployStepKind::Uptests => self.uptests(&link, &access, plan, program).await,
                _ => {
                    let (l, a, p, prog, art) = (
                        Arc::clone(&link),
                        access.clone(),
                        Arc::clone(plan),
                        program.to_string(),
                        artifact.clone(),
                    );
                    tokio::task::spawn_blocking(move || {
                        match l.run(&a, |s| on_host(step, s, &p, &prog, &art)) {
                            Ok(worked) => worked.value.into_result(),
                            Err(e) => Err(StepError::from(e)),
                        }
                    })
                    .await
                    .unwrap_or_else(|e| {
                        Err(StepError::Local(format!("the step's task failed: {e}")))
                    })
                }
            };
            let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let (ok, message) = match &result {
                Ok(m) => (true, m.clone()),
                Err(e) => (false, e.to_string()),
            };
            // Log tails may print the proc's env: its secrets never reach the record.
            let message = vr_app::secret::redact(&message, &plan.secret_values());
            steps.push(DeployStep {
                name: step,
                ok,
                message,
                ms,
            });
            self.save_steps(id, steps, DeployStatus::Running, &None)
                .await;
            if let Err(source) = result {
                return Err(DeployFailure { step, source });
            }
        }
        Ok(())
    }

    /// Records the steps so far (and the end) and pushes them live.
    async fn save_steps(
        &self,
        id: i64,
        steps: &[DeployStep],
        status: DeployStatus,
        failure: &Option<String>,
    ) {
        match self
            .store
            .update_deploy(id, steps.to_vec(), status, failure.clone(), now_ms())
            .await
        {
            Ok(updated) => self.announce(&updated),
            Err(e) => tracing::error!(deploy = id, error = %e, "could not record a deploy step"),
        }
    }

    /// Runs the proc's uptests on its host and stores the results; the step fails when one does
    /// (the proc is left running for the operator to look at).
    async fn uptests(
        &self,
        link: &Arc<HostLink>,
        access: &crate::remote::link::HostAccess,
        plan: &Arc<Plan>,
        program: &str,
    ) -> Result<String, StepError> {
        let (l, a, p, prog) = (
            Arc::clone(link),
            access.clone(),
            Arc::clone(plan),
            program.to_string(),
        );
        let runs = tokio::task::spawn_blocking(move || {
            l.run(&a, |s| {
                with_spec(&p, &prog, |spec| {
                    deploy::run_uptests(
                        s.conn,
                        s.layout,
                        spec,
                        &p.meta.proc_type,
                        &p.host.settings.address,
                        UPTEST_TIMEOUT,
                    )
                })
            })
            .map(|w| w.value)
        })
        .await
        .map_err(|e| StepError::Local(format!("the uptest task failed: {e}")))?
        .map_err(StepError::from)?;
        let now = now_ms();
        let secrets = plan.secret_values();
        let results: Vec<UptestResult> = runs
            .iter()
            .map(|r| UptestResult {
                host: plan.host.settings.name.clone(),
                program: program.to_string(),
                name: r.name.clone(),
                passed: r.exit_code == 0,
                output: vr_app::secret::redact(&r.output, &secrets),
                ms: r.ms,
                at: now,
            })
            .collect();
        if let Err(e) = self
            .store
            .save_uptests(
                plan.host.settings.name.clone(),
                program.to_string(),
                results.clone(),
            )
            .await
        {
            tracing::error!(error = %e, "could not store uptest results");
        }
        if results.is_empty() {
            return Ok(format!(
                "no uptests for {} (uptests/{}/ is empty or absent)",
                plan.meta.proc_type, plan.meta.proc_type
            ));
        }
        let failed: Vec<&UptestResult> = results.iter().filter(|r| !r.passed).collect();
        let mut message = if failed.is_empty() {
            format!("{} uptest(s) passed", results.len())
        } else {
            format!(
                "{} of {} uptest(s) failed; the proc is left running for you to look at",
                failed.len(),
                results.len()
            )
        };
        for r in &results {
            message.push_str(&format!(
                "\n{} {} ({} ms){}",
                if r.passed { "passed" } else { "FAILED" },
                r.name,
                r.ms,
                if r.passed {
                    String::new()
                } else {
                    format!(": {}", r.output.trim())
                }
            ));
        }
        if failed.is_empty() {
            Ok(message)
        } else {
            Err(StepError::Failed(message))
        }
    }

    /// Re-runs the uptests of every running proc a deploy put there, every `every`, until
    /// shutdown; a failing run is an event (`uptest.fail`) and its results are stored.
    pub async fn run_uptest_checks(
        self: Arc<Self>,
        every: Duration,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => break,
            }
            if *shutdown.borrow() {
                break;
            }
            if let Err(e) = self.check_uptests_once().await {
                tracing::error!(error = %e, "scheduled uptests failed to run");
            }
        }
    }

    async fn check_uptests_once(&self) -> Result<(), JobError> {
        let fleet = self.store.fleet().await?;
        let mut seen = HashSet::new();
        for d in self.store.list_deploys(1000).await? {
            if d.status != DeployStatus::Succeeded
                || !seen.insert((d.host.clone(), d.program.clone()))
            {
                continue;
            }
            let running = fleet
                .procs
                .iter()
                .any(|p| p.host == d.host && p.name == d.program && p.state == ProcState::Running);
            let Some(host) = fleet.hosts.iter().find(|h| h.settings.name == d.host) else {
                continue;
            };
            if !running || host.status.health != Health::Ok {
                continue;
            }
            let release = self.store.release(d.release_id).await?;
            let build = self.store.build(release.build_id).await?;
            let Some(sha) = build.sha256.clone() else {
                continue;
            };
            let plan = Arc::new(Plan {
                host: host.clone(),
                command: String::new(),
                sha256: sha,
                meta: ProcMeta {
                    app: d.app.clone(),
                    version: build.version.clone(),
                    config: d.config.clone(),
                    proc_type: d.proc_type.clone(),
                    port: d.port,
                    release_id: Some(release.id),
                    release_hash: release.hash.clone(),
                    swarm_id: None,
                    deployed_by: d.requested_by.clone(),
                    deployed_at: d.created_at,
                },
                settings_yaml: String::new(),
                release,
            });
            let link = Arc::new(HostLink::default());
            let access = self.fleet.access(host);
            if let Err(e) = self.uptests(&link, &access, &plan, &d.program).await {
                record_event(
                    &self.store,
                    &self.live,
                    "system",
                    "uptest.fail",
                    &format!("proc:{}/{}", d.host, d.program),
                    Outcome::Failed,
                    &vr_app::secret::redact(&e.to_string(), &plan.secret_values()),
                )
                .await;
            }
        }
        Ok(())
    }

    pub async fn get(&self, id: i64) -> Result<Deployment, JobError> {
        Ok(self.store.deploy(id).await?)
    }

    pub async fn list(&self, limit: u32) -> Result<Vec<Deployment>, JobError> {
        Ok(self.store.list_deploys(limit).await?)
    }
}

impl Plan {
    /// The release's secret values, to redact from whatever the host prints.
    fn secret_values(&self) -> Vec<String> {
        let c = &self.release.config;
        c.secret_keys
            .iter()
            .filter_map(|k| c.env.get(k).cloned())
            .collect()
    }
}

/// Calls `f` with the proc's spec, built from the plan.
fn with_spec<T>(p: &Plan, program: &str, f: impl FnOnce(&ProcSpec<'_>) -> T) -> T {
    let proc_json = serde_json::to_string_pretty(&p.meta).unwrap_or_default();
    let volumes: Vec<(String, String)> = p
        .release
        .config
        .volumes
        .iter()
        .map(|v| (v.host_dir.clone(), v.mount_dir.clone()))
        .collect();
    f(&ProcSpec {
        program,
        build_sha256: &p.sha256,
        proc_json: &proc_json,
        settings_yaml: &p.settings_yaml,
        env: &p.release.config.env,
        command: &p.command,
        port: p.meta.port,
        run_as: p.release.config.run_as.as_deref(),
        mem_limit_mb: p.release.config.mem_limit_mb,
        volumes: &volumes,
    })
}

fn invalid(i: Invalid) -> JobError {
    JobError::Field {
        field: i.field,
        message: i.message,
    }
}

/// Polls Supervisor until the program runs (past `startsecs`), or gives up — when it is FATAL
/// or EXITED, or at the timeout (BACKOFF is Supervisor still retrying) — with its state and the
/// tail of its logs.
fn wait_running(
    s: &mut crate::remote::supervisor::Supervisor<'_>,
    program: &str,
) -> Result<Answer, RemoteError> {
    let until = Instant::now() + START_TIMEOUT;
    loop {
        let status = s.status()?;
        let seen = status
            .procs
            .into_iter()
            .find(|p| p.name == program)
            .map(|p| (p.state, p.description));
        let (state, desc) = seen.unwrap_or((ProcState::Unknown, "not in Supervisor".into()));
        if state == ProcState::Running {
            return Ok(Answer::Done(format!("RUNNING ({desc})")));
        }
        let gave_up = matches!(state, ProcState::Fatal | ProcState::Exited);
        if gave_up || Instant::now() >= until {
            let mut tail = |stream| {
                s.tail(program, stream, None, 2000)
                    .map(|c| c.text)
                    .unwrap_or_default()
            };
            let err = tail(LogStream::Stderr);
            let out = tail(LogStream::Stdout);
            return Ok(Answer::Refused(format!(
                "{program} is {} ({desc}){}\n--- stderr ---\n{err}\n--- stdout ---\n{out}",
                state.as_str(),
                if gave_up {
                    String::new()
                } else {
                    format!(" after {}s", START_TIMEOUT.as_secs())
                }
            )));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}
