//! The host side of a deploy: the [`DeployHost`] operations, the SSH implementation that runs
//! them in the host's session, and the errors that keep their causes apart. The job ([`super`])
//! only sequences and records; a scripted fake of `DeployHost` tests that (`work.rs`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Plan;
use crate::remote::RemoteError;
use crate::remote::deploy::{self, ProcSpec, Unpacked, UptestRun};
use crate::remote::link::{HostAccess, HostLink};
use vr_app::deploy::DeployStepKind;
use vr_app::fleet::LogStream;
use vr_app::supervisor::ProcState;

/// How long a new proc may take to reach RUNNING.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a starting proc is looked at (one XML-RPC call on the host's session).
const START_POLL: Duration = Duration::from_millis(100);
/// Time limit of each uptest.
const UPTEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Deadline of writing a proc folder (a few small files, and its volumes checked).
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Deadline of copying a build to a host.
const COPY_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// What a deploy does on its host. Blocking: the job calls it on the blocking pool.
pub trait DeployHost: Send + Sync + 'static {
    /// Runs one host step (every kind but `Uptests` and `AlreadyRunning`) and says what it did.
    fn step(&self, step: DeployStepKind, plan: &Plan, program: &str) -> Result<String, StepError>;
    /// Runs the proc's uptests.
    fn uptests(&self, plan: &Plan, program: &str) -> Result<Vec<UptestRun>, StepError>;
}

/// A host over SSH: one session for every step and uptest run through it.
pub struct SshHost {
    pub link: Arc<HostLink>,
    pub access: HostAccess,
    /// Programs whose port check also saw their build on the host (their copy step then skips
    /// its own look); taken by that step.
    pub built: Mutex<HashSet<String>>,
}

impl DeployHost for SshHost {
    fn step(&self, step: DeployStepKind, plan: &Plan, program: &str) -> Result<String, StepError> {
        if step == DeployStepKind::WaitRunning {
            return self.wait_running(program);
        }
        match self.link.run(&self.access, |s| {
            on_host(step, s, plan, program, &self.built)
        }) {
            Ok(worked) => worked.value.into_result(),
            Err(e) => Err(StepError::from(e)),
        }
    }

    fn uptests(&self, plan: &Plan, program: &str) -> Result<Vec<UptestRun>, StepError> {
        self.link
            .run(&self.access, |s| {
                with_spec(plan, program, |spec| {
                    deploy::run_uptests(
                        s.conn,
                        s.layout,
                        spec,
                        &plan.meta.proc_type,
                        &plan.host.settings.address,
                        UPTEST_TIMEOUT,
                    )
                })
            })
            .map(|w| w.value)
            .map_err(StepError::from)
    }
}

impl SshHost {
    /// A host reached with `access` over a session of its own, opened on first use.
    pub fn new(access: HostAccess) -> SshHost {
        SshHost {
            link: Arc::new(HostLink::default()),
            access,
            built: Mutex::default(),
        }
    }

    /// Polls Supervisor until the program runs (past `startsecs`), or gives up — when it is
    /// FATAL or EXITED, or at the timeout (BACKOFF is Supervisor still retrying). Each poll
    /// takes the session for one call only, so the other procs deployed on this host go on
    /// meanwhile: their waits overlap instead of queueing.
    fn wait_running(&self, program: &str) -> Result<String, StepError> {
        let until = Instant::now() + START_TIMEOUT;
        loop {
            let last = Instant::now() >= until;
            let seen = self
                .link
                .run(&self.access, |s| poll_running(s, program, last))
                .map_err(StepError::from)?
                .value;
            if let Some(answer) = seen {
                return answer.into_result();
            }
            std::thread::sleep(START_POLL);
        }
    }
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

pub(super) fn first_line(text: &str) -> &str {
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
    built: &Mutex<HashSet<String>>,
) -> Result<Answer, RemoteError> {
    let artifact = &p.artifact;
    Ok(match step {
        DeployStepKind::CheckPort => {
            if let Some(why) = sandbox_refusal(s, p)? {
                return Ok(Answer::Refused(why));
            }
            let found = match deploy::port_and_build(s.conn, s.layout, p.meta.port, &p.sha256) {
                Ok(f) => f,
                Err(deploy::DeployError::Remote(e)) => return Err(e),
                Err(other) => return Ok(Answer::Refused(other.to_string())),
            };
            if found.build_here {
                built
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(program.to_string());
            }
            if found.port_taken {
                Answer::Refused(format!(
                    "port {} is already in use on the host (by a process vr does not manage?)",
                    p.meta.port
                ))
            } else {
                Answer::Done(format!("port {} is free", p.meta.port))
            }
        }
        DeployStepKind::CopyBuild => {
            // The first step of a proc without a port: the host is checked here.
            if p.meta.port == 0
                && let Some(why) = sandbox_refusal(s, p)?
            {
                return Ok(Answer::Refused(why));
            }
            // The stack image first: a build is no use on a host without its OS.
            let mut said = Vec::new();
            if let (Some(stack), Some(tarball)) = (&p.release.config.stack, &p.stack_artifact) {
                match copy_once(s, Unpacked::Stack, &stack.sha256, tarball)? {
                    Answer::Done(m) => said.push(format!("stack {}: {m}", stack.short())),
                    other => return Ok(other),
                }
            }
            // The port check just saw the build there: no second look.
            let seen = built
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(program);
            let build = if seen {
                Answer::Done(ALREADY_THERE.to_string())
            } else {
                copy_once(s, Unpacked::Build, &p.sha256, artifact)?
            };
            match build {
                Answer::Done(m) => {
                    said.push(format!("build {}: {m}", p.sha256));
                    Answer::Done(said.join("\n"))
                }
                other => other,
            }
        }
        DeployStepKind::WriteProc => {
            let written = with_spec(p, program, |spec| {
                // A proc folder is a few small files: the host's own deadline bounds it.
                deploy::write_proc(s.conn, s.layout, spec, WRITE_TIMEOUT)
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
        // Not host steps: the wait polls in turns of its own (`SshHost::wait_running`), the
        // deploy runs uptests itself, and "already running" never gets here.
        DeployStepKind::WaitRunning | DeployStepKind::Uptests | DeployStepKind::AlreadyRunning => {
            Answer::Local(format!("{} is not a host step", step.label()))
        }
    })
}

const ALREADY_THERE: &str = "already on the host";

/// Sends a build or stack image to the host and unpacks it there, unless it is there already.
fn copy_once(
    s: &mut crate::remote::supervisor::Supervisor<'_>,
    kind: Unpacked,
    sha256: &str,
    tarball: &std::path::Path,
) -> Result<Answer, RemoteError> {
    match deploy::unpack_once(s.conn, s.layout, kind, sha256, tarball, COPY_TIMEOUT) {
        Ok(deploy::Unpack::AlreadyThere) => Ok(Answer::Done(ALREADY_THERE.to_string())),
        Ok(deploy::Unpack::Copied) => Ok(Answer::Done("copied and unpacked".to_string())),
        Err(deploy::DeployError::MissingHere(why)) => Ok(Answer::Local(why)),
        Err(deploy::DeployError::Remote(e)) => Err(e),
        Err(other) => Ok(Answer::Refused(other.to_string())),
    }
}

/// Why this host cannot run the plan's proc when the release wants a sandbox and the host
/// lacks what one needs: asked in the deploy's first step, before anything is written.
fn sandbox_refusal(
    s: &mut crate::remote::supervisor::Supervisor<'_>,
    p: &Plan,
) -> Result<Option<String>, RemoteError> {
    if p.release.config.runner != vr_app::release::Runner::Sandbox {
        return Ok(None);
    }
    let caps =
        vr_app::isolation::HostCapabilities::parse(&crate::remote::capabilities::probe(s.conn)?);
    let missing = caps.sandbox_missing();
    Ok((!missing.is_empty()).then(|| {
        format!(
            "this host cannot run a sandboxed proc: it lacks {}",
            missing.join(" and ")
        )
    }))
}

/// Calls `f` with the proc's spec, built from the plan.
pub(super) fn with_spec<T>(p: &Plan, program: &str, f: impl FnOnce(&ProcSpec<'_>) -> T) -> T {
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
        cpu_weight: p.release.config.cpu_weight,
        volumes: &volumes,
        runner: p.release.config.runner,
        stack_sha256: p.release.config.stack.as_ref().map(|s| s.sha256.as_str()),
    })
}

/// One look at the program: `Some` once it runs, or once it gave up (or `last`) — then with
/// its state and the tail of its logs; `None` while it is starting.
fn poll_running(
    s: &mut crate::remote::supervisor::Supervisor<'_>,
    program: &str,
    last: bool,
) -> Result<Option<Answer>, RemoteError> {
    let status = s.status()?;
    let seen = status
        .procs
        .into_iter()
        .find(|p| p.name == program)
        .map(|p| (p.state, p.description));
    let (state, desc) = seen.unwrap_or((ProcState::Unknown, "not in Supervisor".into()));
    if state == ProcState::Running {
        return Ok(Some(Answer::Done(format!("RUNNING ({desc})"))));
    }
    let gave_up = matches!(state, ProcState::Fatal | ProcState::Exited);
    if gave_up || last {
        let mut tail = |stream| {
            s.tail(program, stream, None, 2000)
                .map(|c| c.text)
                .unwrap_or_default()
        };
        let err = tail(LogStream::Stderr);
        let out = tail(LogStream::Stdout);
        return Ok(Some(Answer::Refused(format!(
            "{program} is {} ({desc}){}\n--- stderr ---\n{err}\n--- stdout ---\n{out}",
            state.as_str(),
            if gave_up {
                String::new()
            } else {
                format!(" after {}s", START_TIMEOUT.as_secs())
            }
        ))));
    }
    Ok(None)
}
