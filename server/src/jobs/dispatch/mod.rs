//! The dispatch job (SPEC §3.4): makes a swarm's squad hold what the swarm wants. Its row in
//! `dispatches` is its durable record (steps, plan, deploys, outcome), written before any remote
//! work and after every step. One dispatch per swarm runs at a time; others wait queued and can
//! be cancelled; a running one can be cancelled between steps. Each new proc is a deploy
//! ([`Deploys::deploy_for_swarm`]), through its uptests, on one SSH session per host.

mod heal;
mod round;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::broadcast;
use vr_app::api::{LiveMessage, Outcome};
use vr_app::build::{BuildRequest, BuildStatus};
use vr_app::release::Release;
use vr_app::swarm::{
    Dispatch, DispatchRequest, DispatchStatus, DispatchStep, DispatchStepKind, RollbackRequest,
    SpecChange, SwarmSpec, spec_changes,
};

use super::JobError;
use super::build::Builds;
use super::deploy::Deploys;
use crate::clock::now_ms;
use crate::events::record_event;
use crate::fleet::FleetService;
use crate::store::{DispatchProgress, NewDispatchRecord, PortOwner, Store, SwarmRow};

/// How often a dispatch looks at the build it waits for.
const BUILD_POLL: Duration = Duration::from_millis(250);
/// How often a queued dispatch looks whether an older one of its swarm has started.
const QUEUE_POLL: Duration = Duration::from_millis(50);
/// Rounds of plan → deploy → retire before a dispatch gives up converging.
const MAX_ROUNDS: usize = 64;

pub struct Dispatches {
    store: Store,
    live: broadcast::Sender<LiveMessage>,
    fleet: Arc<FleetService>,
    builds: Arc<Builds>,
    deploys: Arc<Deploys>,
    pools: Arc<super::Pools>,
    /// One lock per swarm: its dispatches run one at a time, in the order they were asked.
    locks: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
}

/// Why a dispatch stopped before the end.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Stop {
    #[error("{0}")]
    Failed(String),
    #[error("cancelled by {0}")]
    Cancelled(String),
    #[error(transparent)]
    Job(#[from] JobError),
}

impl From<crate::store::StoreError> for Stop {
    fn from(e: crate::store::StoreError) -> Self {
        Stop::Job(JobError::Store(e))
    }
}

/// A running dispatch: its record so far, saved after every step.
pub(crate) struct Run<'a> {
    pub(crate) job: &'a Arc<Dispatches>,
    pub(crate) id: i64,
    pub(crate) actor: String,
    pub(crate) swarm: SwarmRow,
    pub(crate) progress: DispatchProgress,
}

impl Run<'_> {
    /// Records a finished step and pushes the dispatch live.
    pub(crate) async fn step(
        &mut self,
        name: DispatchStepKind,
        started: Instant,
        ok: bool,
        message: String,
    ) {
        self.progress.steps.push(DispatchStep {
            name,
            ok,
            message,
            ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
        match self
            .job
            .store
            .save_dispatch(self.id, self.progress.clone())
            .await
        {
            Ok(d) => self.job.announce(&d),
            Err(e) => {
                tracing::error!(dispatch = self.id, error = %e, "could not record a dispatch step")
            }
        }
    }

    /// Stops here if someone asked to cancel.
    pub(crate) async fn check_cancel(&self) -> Result<(), Stop> {
        let d = self.job.store.dispatch(self.id).await?;
        if d.cancel_requested {
            return Err(Stop::Cancelled(
                "request (between steps; every proc started so far is whole)".into(),
            ));
        }
        Ok(())
    }
}

impl Dispatches {
    pub fn new(
        store: Store,
        live: broadcast::Sender<LiveMessage>,
        fleet: Arc<FleetService>,
        builds: Arc<Builds>,
        deploys: Arc<Deploys>,
        pools: Arc<super::Pools>,
    ) -> Arc<Dispatches> {
        Arc::new(Dispatches {
            store,
            live,
            fleet,
            builds,
            deploys,
            pools,
            locks: Mutex::new(HashMap::new()),
        })
    }

    /// At start-up: dispatches a stopped server left queued or running are failed with the
    /// reason (their deploys and port reservations are ended by the deploy job's recovery).
    pub async fn recover(&self) -> Result<(), JobError> {
        let n = self.store.fail_unfinished_dispatches(now_ms()).await?;
        if n > 0 {
            tracing::warn!(
                dispatches = n,
                "dispatches interrupted by a server restart marked failed"
            );
        }
        Ok(())
    }

    fn announce(&self, d: &Dispatch) {
        let _ = self.live.send(LiveMessage::Dispatch {
            dispatch: Box::new(d.clone()),
        });
    }

    fn lock_of(&self, swarm_id: i64) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(locks.entry(swarm_id).or_default())
    }

    /// Queues a dispatch of the swarm (after saving a new version or size on it) and starts it
    /// as soon as the swarm's running dispatch, if any, has ended.
    pub async fn request(
        self: &Arc<Self>,
        actor: &str,
        swarm_id: i64,
        req: DispatchRequest,
    ) -> Result<Dispatch, JobError> {
        let mut swarm = self.store.swarm(swarm_id).await?;
        if req.new_version().is_some() || req.size.is_some() {
            let mut spec = swarm.spec.clone();
            if let Some(v) = req.new_version() {
                spec.version = v.to_string();
            }
            if let Some(n) = req.size {
                spec.size = n;
            }
            spec.validate().map_err(|i| JobError::Field {
                field: i.field,
                message: i.message,
            })?;
            if !req.dry_run {
                swarm = self.store.update_swarm(swarm_id, spec, now_ms()).await?;
            } else {
                swarm.spec = spec;
            }
        }
        self.queue(actor, &swarm, req.dry_run, None).await
    }

    /// Rolls the swarm back to an earlier successful dispatch: its settings as they were then
    /// are saved on the swarm, and a dispatch runs them on the build it ran.
    pub async fn rollback(
        self: &Arc<Self>,
        actor: &str,
        swarm_id: i64,
        req: RollbackRequest,
    ) -> Result<Dispatch, JobError> {
        let swarm = self.store.swarm(swarm_id).await?;
        let history = self.store.list_dispatches(Some(swarm_id), 1000).await?;
        let target = match req.dispatch {
            Some(id) => history
                .iter()
                .find(|d| d.id == id)
                .ok_or_else(|| {
                    JobError::Refused(format!("dispatch {id} is not one of swarm {swarm_id}'s"))
                })?
                .clone(),
            None => history
                .iter()
                .find(|d| {
                    d.status == DispatchStatus::Succeeded
                        && !d.dry_run
                        && d.release_id.is_some()
                        && d.release_id != swarm.release_id
                })
                .cloned()
                .ok_or_else(|| {
                    JobError::Refused(format!(
                        "swarm {} has no earlier successful dispatch of another release",
                        swarm.spec.name()
                    ))
                })?,
        };
        if target.status != DispatchStatus::Succeeded || target.dry_run {
            return Err(JobError::Refused(format!(
                "dispatch {} did not run successfully ({}{}): only a successful one can be \
                 rolled back to",
                target.id,
                target.status.as_str(),
                if target.dry_run { ", dry run" } else { "" }
            )));
        }
        let (spec, _) = self.store.dispatch_spec(target.id).await?;
        let pinned = target.build_id;
        let swarm = self.store.update_swarm(swarm_id, spec, now_ms()).await?;
        self.queue(actor, &swarm, false, Some((target.id, pinned)))
            .await
    }

    /// Records the dispatch as queued (with what changed since the previous one) and starts
    /// its task.
    async fn queue(
        self: &Arc<Self>,
        actor: &str,
        swarm: &SwarmRow,
        dry_run: bool,
        rollback: Option<(i64, Option<i64>)>,
    ) -> Result<Dispatch, JobError> {
        let changes = self.changes_since_last(swarm).await;
        let d = self
            .store
            .create_dispatch(NewDispatchRecord {
                swarm_id: swarm.id,
                spec: swarm.spec.clone(),
                dry_run,
                changes,
                rollback_of: rollback.map(|(id, _)| id),
                pinned_build: rollback.and_then(|(_, b)| b),
                actor: actor.to_string(),
                now: now_ms(),
            })
            .await?;
        self.announce(&d);
        let this = Arc::clone(self);
        let actor = actor.to_string();
        let id = d.id;
        let spec = swarm.spec.clone();
        tokio::spawn(async move {
            // A panic in the work must not leave the record in flight.
            let job = Arc::clone(&this);
            let outcome =
                tokio::spawn(async move { job.queue_and_run(id, spec, actor).await }).await;
            if let Err(e) = outcome {
                tracing::error!(dispatch = id, error = %e, "dispatch task failed");
                this.end(
                    id,
                    DispatchStatus::Failed,
                    Some(format!("internal error: {e}")),
                )
                .await;
                let _ = this.store.release_ports(PortOwner::Dispatch(id)).await;
            }
        });
        Ok(d)
    }

    /// The swarm's fields that differ from its previous (not dry-run) dispatch's.
    async fn changes_since_last(&self, swarm: &SwarmRow) -> Vec<SpecChange> {
        let Some(last) = swarm.last else {
            return Vec::new();
        };
        let Ok((before, _)) = self.store.dispatch_spec(last.id).await else {
            return Vec::new();
        };
        let env = |text: String| async move {
            crate::releases::parse_texts(String::new(), text)
                .await
                .map(|(_, env)| env)
                .unwrap_or_default()
        };
        let (old_env, new_env) = (
            env(before.env_yaml.clone()).await,
            env(swarm.spec.env_yaml.clone()).await,
        );
        let mut secret = before.secret_keys.clone();
        secret.extend(swarm.spec.secret_keys.iter().cloned());
        spec_changes(&before, &swarm.spec, &old_env, &new_env, &secret)
    }

    /// Asks a dispatch to stop (a queued one at once, a running one between steps).
    pub async fn cancel(&self, actor: &str, id: i64) -> Result<Dispatch, JobError> {
        let d = self.store.cancel_dispatch(id, now_ms()).await?;
        self.announce(&d);
        record_event(
            &self.store,
            &self.live,
            actor,
            "dispatch.cancel",
            &format!("swarm:{}", d.swarm),
            Outcome::Ok,
            &format!("dispatch #{id} ({})", d.status.as_str()),
        )
        .await;
        Ok(d)
    }

    pub async fn get(&self, id: i64) -> Result<Dispatch, JobError> {
        Ok(self.store.dispatch(id).await?)
    }

    pub async fn list(&self, swarm: Option<i64>, limit: u32) -> Result<Vec<Dispatch>, JobError> {
        Ok(self.store.list_dispatches(swarm, limit).await?)
    }

    async fn end(
        &self,
        id: i64,
        status: DispatchStatus,
        error: Option<String>,
    ) -> Option<Dispatch> {
        match self
            .store
            .finish_dispatch(id, status, error, now_ms())
            .await
        {
            Ok(d) => {
                self.announce(&d);
                Some(d)
            }
            Err(e) => {
                tracing::error!(dispatch = id, error = %e, "could not record the end of a dispatch");
                None
            }
        }
    }

    /// The job shell: waits its turn, runs the work, and records the end whatever happened.
    async fn queue_and_run(self: Arc<Self>, id: i64, spec: SwarmSpec, actor: String) {
        let Ok(queued) = self.store.dispatch(id).await else {
            return;
        };
        let lock = self.lock_of(queued.swarm_id);
        // Turns go by dispatch id: whichever task reaches the lock first, an older queued
        // dispatch of the swarm goes before this one.
        let _turn = loop {
            let turn = lock.lock().await;
            match self.store.older_queued_dispatch(queued.swarm_id, id).await {
                Ok(false) => break turn,
                Ok(true) => {
                    drop(turn);
                    tokio::time::sleep(QUEUE_POLL).await;
                }
                Err(e) => {
                    self.end(id, DispatchStatus::Failed, Some(e.to_string()))
                        .await;
                    return;
                }
            }
        };
        let Ok(Some(started)) = self.store.start_dispatch(id, now_ms()).await else {
            return; // cancelled while queued
        };
        self.announce(&started);
        let swarm = match self.store.swarm(started.swarm_id).await {
            Ok(mut s) => {
                // A dry run plans with the version it was asked for, unsaved.
                s.spec = spec;
                s
            }
            Err(e) => {
                self.end(id, DispatchStatus::Failed, Some(e.to_string()))
                    .await;
                return;
            }
        };
        let name = swarm.spec.name();
        record_event(
            &self.store,
            &self.live,
            &actor,
            "dispatch.start",
            &format!("swarm:{name}"),
            Outcome::Ok,
            &format!(
                "dispatch #{id}: {} {}{}",
                swarm.spec.version,
                swarm.spec.size,
                if started.dry_run { " (dry run)" } else { "" }
            ),
        )
        .await;
        let mut run = Run {
            job: &self,
            id,
            actor: actor.clone(),
            swarm,
            progress: DispatchProgress::default(),
        };
        let outcome = self.work(&mut run, started.dry_run).await;
        if let Err(e) = self.store.release_ports(PortOwner::Dispatch(id)).await {
            tracing::error!(dispatch = id, error = %e, "could not release the dispatch's ports");
        }
        let (status, error, event_outcome, detail) = match &outcome {
            Ok(summary) => (
                DispatchStatus::Succeeded,
                None,
                Outcome::Ok,
                summary.clone(),
            ),
            Err(Stop::Cancelled(by)) => (
                DispatchStatus::Cancelled,
                Some(format!("cancelled: {by}")),
                Outcome::Ok,
                format!("cancelled: {by}"),
            ),
            Err(e) => (
                DispatchStatus::Failed,
                Some(e.to_string()),
                Outcome::Failed,
                e.to_string(),
            ),
        };
        if let Err(e) = &outcome {
            tracing::warn!(dispatch = id, swarm = %name, error = %e, "dispatch did not succeed");
        }
        self.end(id, status, error).await;
        record_event(
            &self.store,
            &self.live,
            &actor,
            "dispatch.finish",
            &format!("swarm:{name}"),
            event_outcome,
            &format!("dispatch #{id}: {detail}"),
        )
        .await;
    }

    /// The steps: build, release, then rounds of plan → reserve ports → deploy → route →
    /// retire until the plan is empty. Returns a summary.
    async fn work(self: &Arc<Self>, run: &mut Run<'_>, dry_run: bool) -> Result<String, Stop> {
        let started = Instant::now();
        let (build_id, message) = self.resolve_build(run, dry_run).await?;
        run.progress.build_id = Some(build_id);
        run.step(DispatchStepKind::Build, started, true, message)
            .await;
        run.check_cancel().await?;

        let started = Instant::now();
        let (release, new) = self.make_release(run, build_id).await?;
        run.progress.release_id = Some(release.id);
        run.step(
            DispatchStepKind::Release,
            started,
            true,
            format!(
                "release #{} ({}){}",
                release.id,
                release.hash,
                if new { ", new" } else { ", unchanged" }
            ),
        )
        .await;
        run.check_cancel().await?;
        round::converge(run, &release, dry_run).await
    }

    /// The build to run: the current one when the version stays, else a build of the version
    /// (the build job reuses one of the same commit), waited for.
    async fn resolve_build(&self, run: &mut Run<'_>, dry_run: bool) -> Result<(i64, String), Stop> {
        let spec = &run.swarm.spec;
        if let (_, Some(build)) = self.store.dispatch_spec(run.id).await? {
            let b = self.store.build(build).await?;
            return Ok((
                build,
                format!(
                    "rollback: build #{build} ({} at {}) again",
                    b.version,
                    short_commit(b.commit.as_deref())
                ),
            ));
        }
        // The stack image new builds would use: the swarm's stack, else the app's.
        let stack_name = match &spec.stack {
            Some(s) => Some(s.clone()),
            None => self.store.app(spec.app.clone()).await?.stack,
        };
        let wanted_image = match stack_name {
            Some(name) => Some(self.store.current_stack_image(name).await?.sha256),
            None => None,
        };
        if let Some(rid) = run.swarm.release_id {
            let current = self.store.release(rid).await?;
            // Only the same app's build, in the same stack image: a swarm moved to another app
            // builds that one, and a stack's new image is built in (its OS updates roll out).
            let same_image =
                current.config.stack.as_ref().map(|s| &s.sha256) == wanted_image.as_ref();
            if current.version == spec.version && current.app == spec.app && same_image {
                return Ok((
                    current.build_id,
                    format!(
                        "kept build #{} ({} at {})",
                        current.build_id,
                        current.version,
                        short_commit(current.commit.as_deref())
                    ),
                ));
            }
        }
        if dry_run {
            // A dry run plans with a build of the version if there is one; it never builds.
            let builds = self
                .store
                .list_builds(vr_app::build::BuildQuery {
                    app: Some(spec.app.clone()),
                    limit: Some(200),
                })
                .await?;
            if let Some(b) = builds
                .iter()
                .find(|b| b.version == spec.version && b.status == BuildStatus::Succeeded)
            {
                return Ok((
                    b.id,
                    format!(
                        "build #{} ({} at {}): the newest of this version; a dispatch builds \
                         the version afresh (reusing it if the commit is the same)",
                        b.id,
                        b.version,
                        short_commit(b.commit.as_deref())
                    ),
                ));
            }
            return Err(Stop::Failed(format!(
                "a dry run does not build: {} {} has no build yet in this swarm; dispatch it, or \
                 build it first",
                spec.app, spec.version
            )));
        }
        let (build, _) = self
            .builds
            .request(
                &run.actor,
                BuildRequest {
                    app: spec.app.clone(),
                    version: spec.version.clone(),
                    force: false,
                    stack: spec.stack.clone(),
                },
            )
            .await?;
        let id = build.id;
        run.progress.build_id = Some(id);
        loop {
            let b = self.store.build(id).await?;
            match b.status {
                BuildStatus::Succeeded => {
                    return Ok((
                        id,
                        format!(
                            "build #{id}: {} at {}{}",
                            b.version,
                            short_commit(b.commit.as_deref()),
                            b.reused_from
                                .map(|r| format!(" (reused build #{r})"))
                                .unwrap_or_default()
                        ),
                    ));
                }
                BuildStatus::Failed => {
                    return Err(Stop::Failed(format!(
                        "build #{id} of {} {} failed: {}",
                        b.app,
                        b.version,
                        b.error.unwrap_or_default()
                    )));
                }
                _ => {}
            }
            run.check_cancel().await?;
            tokio::time::sleep(BUILD_POLL).await;
        }
    }

    /// The swarm's configuration over the build: the same inputs give the same release.
    async fn make_release(&self, run: &Run<'_>, build_id: i64) -> Result<(Release, bool), Stop> {
        let spec = &run.swarm.spec;
        let build = self.store.build(build_id).await?;
        if !build.procfile.contains_key(&spec.proc_type) {
            return Err(Stop::Failed(format!(
                "the Procfile of build #{build_id} has no {:?}; it has: {}",
                spec.proc_type,
                build
                    .procfile
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        crate::releases::create(&self.store, &run.actor, spec.release_request(build_id))
            .await
            .map_err(|e| Stop::Failed(format!("the swarm's configuration: {e}")))
    }
}

fn short_commit(c: Option<&str>) -> &str {
    c.map_or("?", |c| &c[..c.len().min(12)])
}
