//! The deploy-one-proc job (SPEC §3.3). The `deploys` row is its durable record with its steps;
//! re-running a deploy of a proc that already runs is a no-op; ports are checked against the
//! host's snapshot and against deploys in flight.

use super::JobError;
use super::build::Builds;
use crate::clock::now_ms;
use crate::fleet::FleetService;
use crate::remote::RemoteError;
use crate::remote::deploy::{self, ProcSpec};
use crate::remote::link::HostLink;
use crate::state::record_event;
use crate::store::{NewDeployRecord, Store};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use vr_app::api::{LiveMessage, Outcome};
use vr_app::deploy::{
    DeployRequest, DeployStatus, DeployStep, Deployment, UptestResult, program_name,
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
    /// (host, port) of deploys in flight.
    reserved: Mutex<HashSet<(String, u16)>>,
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
            reserved: Mutex::default(),
        })
    }

    pub async fn recover(&self) -> Result<(), JobError> {
        let n = self.store.fail_unfinished_deploys(now_ms()).await?;
        if n > 0 {
            tracing::warn!(
                deploys = n,
                "deploys interrupted by a server restart marked failed"
            );
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
        };
        if already_running {
            let d = self.store.create_deploy(record).await?;
            let step = DeployStep {
                name: "check".into(),
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
        if req.port != 0 {
            let mut reserved = self.reserved.lock().unwrap_or_else(|p| p.into_inner());
            if !reserved.insert((req.host.clone(), req.port)) {
                return Err(invalid(Invalid::new(
                    "port",
                    format!(
                        "port {} on {} is taken by a deploy in flight",
                        req.port, req.host
                    ),
                )));
            }
        }
        let d = match self.store.create_deploy(record).await {
            Ok(d) => d,
            Err(e) => {
                self.unreserve(&req.host, req.port);
                return Err(e.into());
            }
        };
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
        let settings_yaml = serde_yaml_ng::to_string(&release.config.settings)
            .map_err(|e| JobError::Refused(format!("writing settings.yaml: {e}")))?;
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

    fn unreserve(&self, host: &str, port: u16) {
        let mut reserved = self.reserved.lock().unwrap_or_else(|p| p.into_inner());
        reserved.remove(&(host.to_string(), port));
    }

    async fn run(self: Arc<Self>, d: Deployment, plan: Plan, actor: String) {
        let link = Arc::new(HostLink::default());
        let access = self.fleet.access(&plan.host);
        let mut steps: Vec<DeployStep> = Vec::new();
        let plan = Arc::new(plan);
        let program = d.program.clone();
        let artifact = self.builds.artifact_path(&plan.sha256);

        let mut failure: Option<String> = None;
        // A port some process already listens on is refused before anything is written.
        let first: &[&str] = if d.port == 0 { &[] } else { &["check port"] };
        let rest = [
            "copy build",
            "write proc",
            "add to Supervisor",
            "wait for RUNNING",
        ];
        for &step in first.iter().chain(rest.iter()) {
            let started = Instant::now();
            let (l, a, p, prog, art) = (
                Arc::clone(&link),
                access.clone(),
                Arc::clone(&plan),
                program.clone(),
                artifact.clone(),
            );
            let result: Result<String, String> = tokio::task::spawn_blocking(move || {
                let worked = l.run(&a, |s| {
                    Ok(match step {
                        "check port" => {
                            if deploy::port_in_use(s.conn, s.layout, p.meta.port)? {
                                Err(format!(
                                    "port {} is already in use on the host (by a process vr does not manage?)",
                                    p.meta.port
                                ))
                            } else {
                                Ok(format!("port {} is free", p.meta.port))
                            }
                        }
                        "copy build" => {
                            if deploy::has_build(s.conn, s.layout, &p.sha256)? {
                                Ok("the build is already on the host".to_string())
                            } else {
                                match std::fs::File::open(&art) {
                                    Ok(mut f) => deploy::copy_build(
                                        s.conn,
                                        s.layout,
                                        &p.sha256,
                                        &mut f,
                                        COPY_TIMEOUT,
                                    )
                                    .map(|()| format!("copied and unpacked build {}", p.sha256))
                                    .map_err(|e| e.to_string()),
                                    Err(e) => Err(format!(
                                        "the artifact {} is missing: {e}",
                                        art.display()
                                    )),
                                }
                            }
                        }
                        "write proc" => with_spec(&p, &prog, |spec| {
                            deploy::write_proc(s.conn, s.layout, spec, COPY_TIMEOUT)
                                .map(|vols| {
                                    if vols.is_empty() {
                                        format!("wrote {}", s.layout.proc_dir(&prog))
                                    } else {
                                        format!(
                                            "wrote {}; volumes:\n{vols}",
                                            s.layout.proc_dir(&prog)
                                        )
                                    }
                                })
                                .map_err(|e| e.to_string())
                        }),
                        "add to Supervisor" => {
                            let reread = s.reread()?;
                            let add = s.add(&prog)?;
                            // The program file says autostart=true, so `add` starts it; only a
                            // group that was already active (a retried step) may need a start.
                            let start = if add.ok && add.message.contains("already active") {
                                Some(s.start(&prog)?)
                            } else {
                                None
                            };
                            let ok = reread.ok && add.ok && start.as_ref().is_none_or(|v| v.ok);
                            let mut out = format!("{}\n{}", reread.message, add.message);
                            if let Some(start) = start {
                                out.push('\n');
                                out.push_str(&start.message);
                            }
                            if ok { Ok(out) } else { Err(out) }
                        }
                        _ => wait_running(s, &prog)?,
                    })
                });
                match worked {
                    Ok(w) => w.value,
                    Err(e) => Err(e.to_string()),
                }
            })
            .await
            .unwrap_or_else(|e| Err(format!("deploy task failed: {e}")));
            let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let (ok, message) = match result {
                Ok(m) => (true, m),
                Err(m) => (false, m),
            };
            // Log tails may print the proc's env: its secrets never reach the record.
            let message = vr_app::secret::redact(&message, &plan.secret_values());
            steps.push(DeployStep {
                name: step.to_string(),
                ok,
                message: message.clone(),
                ms,
            });
            if !ok {
                failure = Some(format!(
                    "{step}: {}",
                    message.lines().next().unwrap_or("failed")
                ));
            }
            let status = if failure.is_some() {
                DeployStatus::Failed
            } else {
                DeployStatus::Running
            };
            self.save_steps(d.id, &steps, status, &failure).await;
            if failure.is_some() {
                break;
            }
        }
        if failure.is_none() {
            let step = self.uptests(&link, &access, &plan, &program).await;
            if !step.ok {
                failure = Some(format!(
                    "uptests: {}",
                    step.message.lines().next().unwrap_or("failed")
                ));
            }
            steps.push(step);
            let status = if failure.is_some() {
                DeployStatus::Failed
            } else {
                DeployStatus::Succeeded
            };
            self.save_steps(d.id, &steps, status, &failure).await;
        }
        self.unreserve(&d.host, d.port);
        self.fleet.refresh(&plan.host).await;
        let (outcome, detail) = match &failure {
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
            outcome,
            &detail,
        )
        .await;
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
    ) -> DeployStep {
        let started = Instant::now();
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
        .unwrap_or_else(|e| {
            Err(RemoteError::Exec {
                target: plan.host.settings.name.clone(),
                message: format!("uptest task failed: {e}"),
            })
        });
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let runs = match runs {
            Ok(r) => r,
            Err(e) => {
                return DeployStep {
                    name: "uptests".into(),
                    ok: false,
                    message: e.to_string(),
                    ms,
                };
            }
        };
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
            return DeployStep {
                name: "uptests".into(),
                ok: true,
                message: format!(
                    "no uptests for {} (uptests/{}/ is empty or absent)",
                    plan.meta.proc_type, plan.meta.proc_type
                ),
                ms,
            };
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
        DeployStep {
            name: "uptests".into(),
            ok: failed.is_empty(),
            message,
            ms,
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
            let step = self.uptests(&link, &access, &plan, &d.program).await;
            if !step.ok {
                record_event(
                    &self.store,
                    &self.live,
                    "system",
                    "uptest.fail",
                    &format!("proc:{}/{}", d.host, d.program),
                    Outcome::Failed,
                    &step.message,
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
) -> Result<Result<String, String>, RemoteError> {
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
            return Ok(Ok(format!("RUNNING ({desc})")));
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
            return Ok(Err(format!(
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
