//! Balancer pools: a pool is set to exactly the nodes vr routes (rendered from its own record,
//! never read back), on every balancer host at once, one update per pool at a time — so two
//! dispatches never lose each other's nodes. Each host's answer is recorded: one that missed an
//! update shows as drift until a later update or a re-apply reaches it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::deploy::Deploys;
use crate::clock::now_ms;
use crate::remote::balancer::{self, ApplyError, PoolFile};
use crate::store::{Store, StoreError};
use vr_app::balancer::{Balancer, BalancerKind, Node, PoolHost, fingerprint, render};
use vr_app::fleet::{Host, Proc};

/// Deadline of one pool update on one balancer host (write, validate, reload).
const APPLY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How one balancer host took an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostOutcome {
    /// It holds the file now (written and reloaded, or already holding it); `settled`: how
    /// long after the reload its old workers were gone, when it reloaded and could tell.
    Applied {
        said: String,
        settled: Option<std::time::Duration>,
    },
    /// It did not answer: it may still route the previous nodes (drift).
    Behind(String),
    /// It refused the file (validation or reload failed): it routes the previous nodes.
    Refused(String),
}

/// What a pool update did, per balancer host.
#[derive(Debug, Clone)]
pub struct PoolReport {
    pub balancer: String,
    pub pool: String,
    pub nodes: usize,
    pub hosts: Vec<(String, HostOutcome)>,
}

impl PoolReport {
    /// A host refused the new file: the pool still routes the old nodes there.
    pub fn refused(&self) -> bool {
        self.hosts
            .iter()
            .any(|(_, o)| matches!(o, HostOutcome::Refused(_)))
    }

    /// The shortest time, over the hosts that reloaded, from the reload until its old workers
    /// were gone; none when no host said (then a drain waits its whole grace).
    pub fn settled(&self) -> Option<std::time::Duration> {
        self.hosts
            .iter()
            .filter_map(|(_, o)| match o {
                HostOutcome::Applied { settled, .. } => *settled,
                _ => None,
            })
            .min()
    }

    pub fn behind(&self) -> Vec<&str> {
        self.hosts
            .iter()
            .filter(|(_, o)| matches!(o, HostOutcome::Behind(_)))
            .map(|(h, _)| h.as_str())
            .collect()
    }

    /// One line per host, for a step's message.
    pub fn describe(&self) -> String {
        let mut lines = vec![format!(
            "pool {} on balancer {}: {} node(s)",
            self.pool, self.balancer, self.nodes
        )];
        for (host, o) in &self.hosts {
            lines.push(match o {
                HostOutcome::Applied { said, .. } => format!("{host}: {said}"),
                HostOutcome::Behind(m) => format!("{host}: behind (drift until re-applied): {m}"),
                HostOutcome::Refused(m) => format!("{host}: refused: {m}"),
            });
        }
        lines.join("\n")
    }
}

type PoolLock = Arc<tokio::sync::Mutex<()>>;

pub struct Pools {
    store: Store,
    live: tokio::sync::broadcast::Sender<vr_app::api::LiveMessage>,
    deploys: Arc<Deploys>,
    /// One lock per (balancer, pool): its updates run one at a time.
    locks: Mutex<HashMap<(i64, String), PoolLock>>,
}

impl Pools {
    pub fn new(
        store: Store,
        live: tokio::sync::broadcast::Sender<vr_app::api::LiveMessage>,
        deploys: Arc<Deploys>,
    ) -> Arc<Pools> {
        Arc::new(Pools {
            store,
            live,
            deploys,
            locks: Mutex::new(HashMap::new()),
        })
    }

    fn lock_of(&self, balancer: i64, pool: &str) -> PoolLock {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(locks.entry((balancer, pool.to_string())).or_default())
    }

    /// Takes the pool's lock, then reads the balancer: what its hosts hold is read after
    /// the update before this one ended, never before.
    async fn locked(
        &self,
        balancer: &str,
        pool: &str,
    ) -> Result<(tokio::sync::OwnedMutexGuard<()>, Balancer), PoolError> {
        let id = self.store.balancer(balancer.to_string()).await?.id;
        let guard = self.lock_of(id, pool).lock_owned().await;
        Ok((guard, self.store.balancer(balancer.to_string()).await?))
    }

    /// Sets the pool to exactly `nodes` on every balancer host.
    pub async fn set(
        &self,
        balancer: &str,
        pool: &str,
        nodes: Vec<Node>,
    ) -> Result<PoolReport, PoolError> {
        let (_held, b) = self.locked(balancer, pool).await?;
        self.apply(&b, pool, nodes, false).await
    }

    /// Changes the pool's recorded nodes with `edit` and applies them; `None` when that
    /// changed nothing (or the pool has no record yet and `edit` added nothing).
    async fn edit(
        &self,
        balancer: &str,
        pool: &str,
        edit: impl FnOnce(&mut Vec<Node>),
    ) -> Result<Option<PoolReport>, PoolError> {
        let (_held, b) = self.locked(balancer, pool).await?;
        let current: Vec<Node> = b
            .pools
            .iter()
            .find(|p| p.pool == pool)
            .map(|p| p.nodes.clone())
            .unwrap_or_default();
        let mut nodes = current.clone();
        edit(&mut nodes);
        if nodes == current {
            return Ok(None);
        }
        self.apply(&b, pool, nodes, false).await.map(Some)
    }

    /// The pool a proc is routed in, from its swarm: (balancer, pool, node).
    async fn pool_of(&self, host: &Host, proc: &Proc) -> Option<(String, String, Node)> {
        let meta = proc.meta.as_ref()?;
        let swarm = self.store.swarm(meta.swarm_id?).await.ok()?;
        let (pool, balancer) = (swarm.spec.pool?, swarm.spec.balancer?);
        (meta.port != 0).then(|| {
            let node = Node {
                address: host.settings.address.clone(),
                port: meta.port,
                program: proc.name.clone(),
            };
            (balancer, pool, node)
        })
    }

    /// Takes the routed procs among `targets` out of their pools before they are stopped by
    /// hand, then waits the longest drain grace of those balancers. One line per pool changed.
    pub async fn drain(&self, targets: &[(Host, Proc)]) -> Result<Vec<String>, PoolError> {
        let mut lines = Vec::new();
        let mut grace = 0;
        for (host, proc) in targets {
            let Some((balancer, pool, node)) = self.pool_of(host, proc).await else {
                continue;
            };
            let same = |n: &Node| n.address == node.address && n.port == node.port;
            let report = self
                .edit(&balancer, &pool, |nodes| nodes.retain(|n| !same(n)))
                .await?;
            if let Some(r) = report {
                grace = grace.max(self.store.balancer(balancer).await?.spec.drain_ms);
                lines.push(format!(
                    "{} left its pool first. {}",
                    proc.name,
                    r.describe()
                ));
            }
        }
        if grace > 0 && !lines.is_empty() {
            tokio::time::sleep(Duration::from_millis(grace)).await;
        }
        Ok(lines)
    }

    /// Puts a proc back in its swarm's pool (once it runs and passed its uptests).
    pub async fn restore(&self, host: &Host, proc: &Proc) -> Result<Option<PoolReport>, PoolError> {
        let Some((balancer, pool, node)) = self.pool_of(host, proc).await else {
            return Ok(None);
        };
        self.edit(&balancer, &pool, |nodes| {
            if !nodes
                .iter()
                .any(|n| n.address == node.address && n.port == node.port)
            {
                nodes.push(node);
            }
        })
        .await
    }

    /// Writes the pool's recorded nodes to every balancer host again, even to those that hold
    /// them: what an operator does after fixing a host.
    pub async fn reapply(&self, balancer: &str, pool: &str) -> Result<PoolReport, PoolError> {
        let (_held, b) = self.locked(balancer, pool).await?;
        let nodes = b
            .pools
            .iter()
            .find(|p| p.pool == pool)
            .map(|p| p.nodes.clone())
            .ok_or_else(|| StoreError::NotFound {
                what: format!("pool {pool} on balancer {balancer}"),
            })?;
        self.apply(&b, pool, nodes, true).await
    }

    /// Records the nodes, then updates every balancer host in parallel (skipping those known to
    /// hold this very file, unless `force`) and records each answer.
    async fn apply(
        &self,
        b: &Balancer,
        pool: &str,
        nodes: Vec<Node>,
        force: bool,
    ) -> Result<PoolReport, PoolError> {
        let content = render(b.spec.kind, pool, &nodes);
        let wanted = fingerprint(&content);
        self.store
            .set_pool(
                b.id,
                pool.to_string(),
                nodes.clone(),
                wanted.clone(),
                now_ms(),
            )
            .await?;
        let held: HashMap<&str, &PoolHost> = b
            .pools
            .iter()
            .filter(|p| p.pool == pool)
            .flat_map(|p| p.hosts.iter())
            .map(|h| (h.host.as_str(), h))
            .collect();
        let mut tasks = tokio::task::JoinSet::new();
        let targets: Vec<String> = if b.spec.kind == BalancerKind::None {
            Vec::new()
        } else {
            b.spec.hosts.clone()
        };
        for (i, name) in targets.iter().enumerate() {
            if !force
                && held
                    .get(name.as_str())
                    .is_some_and(|h| h.ok && h.applied == wanted)
            {
                tasks.spawn(async move {
                    (
                        i,
                        HostOutcome::Applied {
                            said: "already holds this pool file".into(),
                            settled: None,
                        },
                    )
                });
                continue;
            }
            let host = match self.store.host(name.clone()).await {
                Ok(h) => h,
                Err(e) => {
                    let why = format!("not a host vr knows: {e}");
                    tasks.spawn(async move { (i, HostOutcome::Refused(why)) });
                    continue;
                }
            };
            let session = self.deploys.shared(&host);
            let file = FileArgs {
                dir: b.spec.pool_dir().to_string(),
                file: b.spec.kind.pool_file(pool),
                content: content.clone(),
                validate: b.spec.validate_line().to_string(),
                reload: b.spec.reload_line().to_string(),
                pid_file: b.spec.pid_file_path().to_string(),
            };
            tasks.spawn(async move {
                let outcome = tokio::task::spawn_blocking(move || on_host(&session, &file))
                    .await
                    .unwrap_or_else(|e| HostOutcome::Refused(format!("the task failed: {e}")));
                (i, outcome)
            });
        }
        let mut outcomes: Vec<(usize, HostOutcome)> = tasks.join_all().await;
        outcomes.sort_by_key(|(i, _)| *i);
        let mut hosts = Vec::new();
        for (i, outcome) in outcomes {
            let name = targets[i].clone();
            let previous = held
                .get(name.as_str())
                .map(|h| h.applied.clone())
                .unwrap_or_default();
            let (applied, ok, message) = match &outcome {
                HostOutcome::Applied { said, .. } => (wanted.clone(), true, said.clone()),
                HostOutcome::Behind(m) | HostOutcome::Refused(m) => (previous, false, m.clone()),
            };
            self.store
                .set_pool_host(
                    b.id,
                    pool.to_string(),
                    PoolHost {
                        host: name.clone(),
                        applied,
                        ok,
                        message,
                        at: now_ms(),
                    },
                )
                .await?;
            tracing::info!(balancer = %b.spec.name, pool, host = %name, outcome = ?outcome, "pool update");
            hosts.push((name, outcome));
        }
        let _ = self.live.send(vr_app::api::LiveMessage::Balancers);
        Ok(PoolReport {
            balancer: b.spec.name.clone(),
            pool: pool.to_string(),
            nodes: nodes.len(),
            hosts,
        })
    }
}

/// A pool file's parts, owned, for the blocking pool.
struct FileArgs {
    dir: String,
    file: String,
    content: String,
    validate: String,
    reload: String,
    pid_file: String,
}

fn on_host(session: &super::deploy::SshHost, f: &FileArgs) -> HostOutcome {
    let file = PoolFile {
        dir: &f.dir,
        file: &f.file,
        content: &f.content,
        validate: &f.validate,
        reload: &f.reload,
        pid_file: &f.pid_file,
    };
    // Only transport errors leave the session (it reconnects once on those); the host's own
    // answers come back as values.
    let ran = session.link.run(&session.access, |s| {
        match balancer::apply(s.conn, s.layout, &file, APPLY_TIMEOUT) {
            Err(ApplyError::Remote(e)) if e.is_transport() => Err(e),
            other => Ok(other),
        }
    });
    match ran {
        Ok(worked) => match worked.value {
            Ok(a) => HostOutcome::Applied {
                said: a.said,
                settled: a.settled,
            },
            Err(e) => HostOutcome::Refused(e.to_string()),
        },
        Err(e) => HostOutcome::Behind(e.to_string()),
    }
}
