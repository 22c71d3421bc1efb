//! The deploy-one-proc job (SPEC §3.3). The `deploys` row is its durable record with its steps;
//! re-running a deploy of a proc that already runs is a no-op; ports are checked against the
//! host's snapshot and reserved with the record. The job shell ([`Deploys::run`]) wraps the
//! work ([`work`]), which drives a [`host::DeployHost`].

mod host;
mod work;

use super::JobError;
use super::build::Builds;
use crate::clock::now_ms;
use crate::events::record_event;
use crate::fleet::FleetService;
use crate::store::{NewDeployRecord, PortOwner, Store};
pub use host::SshHost;
use host::{DeployHost, StepError};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use vr_app::api::{LiveMessage, Outcome};
use vr_app::deploy::{
    DeployRequest, DeployStatus, DeployStep, DeployStepKind, Deployment, UptestResult, program_name,
};
use vr_app::fleet::{Health, Host, ProcMeta};
use vr_app::supervisor::ProcState;
use vr_app::validate::{self, Invalid};

pub struct Deploys {
    store: Store,
    live: broadcast::Sender<LiveMessage>,
    fleet: Arc<FleetService>,
    builds: Arc<Builds>,
    /// Dispatches' sessions, one per host, shared by every dispatch: a host gets one deploy
    /// connection however many swarms are dispatched onto it at once, and its procs are set up
    /// one after another instead of racing each other in Supervisor.
    sessions: std::sync::Mutex<HashMap<i64, Arc<SshHost>>>,
}

/// A deploy checked and recorded: nothing to do, or work to run.
enum Prepared {
    Done(Deployment),
    Start(Deployment, Box<Plan>),
}

/// One SSH session of a host, shared by the procs a dispatch starts there.
#[derive(Clone)]
pub struct HostSession(Arc<dyn DeployHost>);

/// Everything a deploy needs, resolved and checked before it starts.
struct Plan {
    host: Host,
    command: String,
    sha256: String,
    /// The build's artifact on this server.
    artifact: std::path::PathBuf,
    /// The tarball of the stack image the release runs on, if it has one.
    stack_artifact: Option<std::path::PathBuf>,
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
            sessions: std::sync::Mutex::new(HashMap::new()),
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
        match self.prepare(actor, req, None).await? {
            Prepared::Done(d) => Ok(d),
            Prepared::Start(d, plan) => {
                let this = Arc::clone(self);
                let actor = actor.to_string();
                let started = d.clone();
                let host = self.ssh_host(&plan.host);
                tokio::spawn(async move { this.run(started, *plan, actor, host).await });
                Ok(d)
            }
        }
    }

    /// One proc of a dispatch (swarm `swarm_id`): the port is the dispatch's (it reserved it),
    /// the work runs on the dispatch's `session` of the host, and this returns when the deploy
    /// ended, with its record.
    pub async fn deploy_for_swarm(
        self: &Arc<Self>,
        actor: &str,
        req: DeployRequest,
        swarm_id: i64,
        session: &HostSession,
    ) -> Result<Deployment, JobError> {
        match self.prepare(actor, req, Some(swarm_id)).await? {
            Prepared::Done(d) => Ok(d),
            Prepared::Start(d, plan) => {
                let id = d.id;
                Arc::clone(self)
                    .run(d, *plan, actor.to_string(), Arc::clone(&session.0))
                    .await;
                Ok(self.store.deploy(id).await?)
            }
        }
    }

    /// The dispatches' session of `host`: one SSH connection for all their procs there (a
    /// new one when the host's settings or key pin changed).
    pub fn session(&self, host: &Host) -> HostSession {
        HostSession(self.shared(host))
    }

    /// Drops the dispatch session of a deleted host (it closes once no job holds it).
    pub fn forget_session(&self, host_id: i64) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&host_id);
    }

    /// The host's shared session itself, for other work done on hosts by jobs (pool files).
    pub fn shared(&self, host: &Host) -> Arc<SshHost> {
        let access = self.fleet.access(host);
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        match sessions.get(&host.id) {
            Some(s) if s.access == access => Arc::clone(s),
            _ => {
                let made = Arc::new(SshHost::new(access));
                sessions.insert(host.id, Arc::clone(&made));
                made
            }
        }
    }

    /// Every check, then the record (and, outside a dispatch, the port's reservation).
    async fn prepare(
        &self,
        actor: &str,
        req: DeployRequest,
        swarm_id: Option<i64>,
    ) -> Result<Prepared, JobError> {
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
            // A dispatch reserved its ports for all its procs at once.
            reserve_port: !already_running && swarm_id.is_none(),
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
            return Ok(Prepared::Done(d));
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
            swarm_id,
            deployed_by: actor.to_string(),
            deployed_at: now_ms(),
        };
        let plan = Plan {
            host,
            command,
            artifact: self.builds.artifact_path(&sha256),
            stack_artifact: release
                .config
                .stack
                .as_ref()
                .map(|s| self.builds.stack_path(&s.sha256)),
            sha256,
            meta,
            settings_yaml,
            release,
        };
        Ok(Prepared::Start(d, Box::new(plan)))
    }

    /// The job shell: runs the work, then records the end whatever happened (the deploy is
    /// never left running), frees the port, refreshes the host and records the event.
    async fn run(
        self: Arc<Self>,
        d: Deployment,
        plan: Plan,
        actor: String,
        host: Arc<dyn DeployHost>,
    ) {
        let plan = Arc::new(plan);
        let mut sink = Recorder {
            deploys: &self,
            id: d.id,
        };
        let (steps, outcome) = work::work(&plan, &d.program, host, &mut sink).await;
        let failure = outcome.as_ref().err().map(|f| {
            // Alone, a proc that failed its uptests stays for the operator to look at; a
            // dispatch decides itself what happens to it.
            if f.step == DeployStepKind::Uptests && plan.meta.swarm_id.is_none() {
                format!("{f}; the proc is left running for you to look at")
            } else {
                f.to_string()
            }
        });
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

    /// Stores an uptest run's results (each run replaces the proc's previous ones).
    async fn save_uptests(&self, results: Vec<UptestResult>) {
        let Some(first) = results.first() else {
            return;
        };
        let (host, program) = (first.host.clone(), first.program.clone());
        if let Err(e) = self.store.save_uptests(host, program, results).await {
            tracing::error!(error = %e, "could not store uptest results");
        }
    }

    /// `host` over an SSH session of its own (long work stays off the poller's session).
    fn ssh_host(&self, host: &Host) -> Arc<dyn DeployHost> {
        Arc::new(SshHost::new(self.fleet.access(host)))
    }

    /// Re-runs the uptests of every running proc a deploy put there, every `every`, until
    /// shutdown; a failing run is an event (`uptest.fail`) and its results are stored.
    pub async fn run_uptest_checks(
        self: Arc<Self>,
        every: Duration,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut ticker = crate::clock::Ticker::new(every, shutdown);
        while ticker.next().await {
            if let Err(e) = self.check_uptests_once().await {
                tracing::error!(error = %e, "scheduled uptests failed to run");
            }
        }
    }

    async fn check_uptests_once(&self) -> Result<(), JobError> {
        let fleet = self.store.fleet().await?;
        let mut seen = HashSet::new();
        // One session per host for the whole round, however many of its procs are checked.
        let mut sessions: HashMap<String, Arc<dyn DeployHost>> = HashMap::new();
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
            let target = Arc::clone(
                sessions
                    .entry(d.host.clone())
                    .or_insert_with(|| self.ssh_host(host)),
            );
            let Some((verdict, secrets)) = self.uptest_deployed(host, &d, target).await? else {
                continue;
            };
            if let Err(e) = verdict {
                record_event(
                    &self.store,
                    &self.live,
                    "system",
                    "uptest.fail",
                    &format!("proc:{}/{}", d.host, d.program),
                    Outcome::Failed,
                    &vr_app::secret::redact(&e.to_string(), &secrets),
                )
                .await;
            }
        }
        Ok(())
    }

    /// Runs the uptests of `program` on `host` as its newest successful deploy set them up, and
    /// stores the results: `Ok(None)` when no deploy made the proc (or its build is gone).
    pub async fn uptest_proc(
        &self,
        host: &Host,
        program: &str,
    ) -> Result<Option<Result<String, String>>, JobError> {
        let Some(d) = self.store.list_deploys(1000).await?.into_iter().find(|d| {
            d.status == DeployStatus::Succeeded
                && d.host == host.settings.name
                && d.program == program
        }) else {
            return Ok(None);
        };
        let target: Arc<dyn DeployHost> = self.shared(host);
        Ok(self
            .uptest_deployed(host, &d, target)
            .await?
            .map(|(verdict, secrets)| {
                verdict.map_err(|e| vr_app::secret::redact(&e.to_string(), &secrets))
            }))
    }

    /// The uptests of the proc deploy `d` made, through `target`; their verdict and the secret
    /// values to keep out of any message.
    async fn uptest_deployed(
        &self,
        host: &Host,
        d: &Deployment,
        target: Arc<dyn DeployHost>,
    ) -> Result<Option<(Result<String, StepError>, Vec<String>)>, JobError> {
        let release = self.store.release(d.release_id).await?;
        let build = self.store.build(release.build_id).await?;
        let Some(sha) = build.sha256.clone() else {
            return Ok(None);
        };
        let plan = Arc::new(Plan {
            host: host.clone(),
            command: String::new(),
            artifact: self.builds.artifact_path(&sha),
            stack_artifact: release
                .config
                .stack
                .as_ref()
                .map(|s| self.builds.stack_path(&s.sha256)),
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
        let (p, program) = (Arc::clone(&plan), d.program.clone());
        let runs = tokio::task::spawn_blocking(move || target.uptests(&p, &program))
            .await
            .unwrap_or_else(|e| Err(StepError::Local(format!("the uptest task failed: {e}"))));
        let verdict = match runs {
            Ok(runs) => {
                let (results, verdict) = work::judge_uptests(&plan, &d.program, &runs, now_ms());
                self.save_uptests(results).await;
                verdict
            }
            Err(e) => Err(e),
        };
        Ok(Some((verdict, plan.secret_values())))
    }

    pub async fn get(&self, id: i64) -> Result<Deployment, JobError> {
        Ok(self.store.deploy(id).await?)
    }

    pub async fn list(&self, limit: u32) -> Result<Vec<Deployment>, JobError> {
        Ok(self.store.list_deploys(limit).await?)
    }
}

/// The job's [`work::StepSink`]: each step list is stored in the deploy's row and pushed live.
struct Recorder<'a> {
    deploys: &'a Deploys,
    id: i64,
}

impl work::StepSink for Recorder<'_> {
    async fn steps(&mut self, steps: &[DeployStep]) {
        self.deploys
            .save_steps(self.id, steps, DeployStatus::Running, &None)
            .await;
    }

    async fn uptests(&mut self, results: Vec<UptestResult>) {
        self.deploys.save_uptests(results).await;
    }
}

impl Plan {
    /// The release's secret values, to redact from whatever the host prints.
    fn secret_values(&self) -> Vec<String> {
        self.release.config.secret_values()
    }
}

fn invalid(i: Invalid) -> JobError {
    JobError::Field {
        field: i.field,
        message: i.message,
    }
}
