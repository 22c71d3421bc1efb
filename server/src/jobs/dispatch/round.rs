//! A dispatch's rounds: plan (pure, `vr_app::plan`) → reserve ports → deploy the new procs in
//! parallel across hosts → route → retire, repeated until the plan is empty. A batch size B
//! brings up at most B new procs, then retires at most B old ones, per round.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use vr_app::balancer::Node;
use vr_app::deploy::{DeployRequest, DeployStatus, Deployment};
use vr_app::fleet::{Health, Host, Proc, ProcAction, ProcMeta, ProcRef, defaults};
use vr_app::plan::{HostView, NewProc, Plan, Target, plan};
use vr_app::release::Release;
use vr_app::supervisor::ProcState;
use vr_app::swarm::DispatchStepKind;

use super::{MAX_ROUNDS, Run, Stop};
use crate::clock::now_ms;
use crate::store::{PortOwner, StoreError};

/// How long a round waits for the snapshot to show the procs it started.
const SEEN_TIMEOUT: Duration = Duration::from_secs(10);

/// What the dispatch did to the hosts so far.
#[derive(Default)]
struct Done {
    started: Vec<(ProcRef, ProcMeta)>,
    retired: HashSet<ProcRef>,
    kept: usize,
}

/// Runs rounds until the squad holds what the swarm wants; a summary of what changed.
pub(super) async fn converge(
    run: &mut Run<'_>,
    release: &Release,
    dry_run: bool,
) -> Result<String, Stop> {
    let mut done = Done::default();
    for round in 0..MAX_ROUNDS {
        let started = Instant::now();
        let (hosts, views) = read_squad(run, &done).await?;
        let target = target(run, release);
        let p = plan(&target, &views);
        if round == 0 {
            run.progress.plan = Some(p.clone());
        }
        run.progress.short = p.short;
        done.kept = p.keep.len();
        if let Some(r) = p
            .retire
            .iter()
            .find(|r| done.started.iter().any(|(s, _)| s == *r))
        {
            // A proc this dispatch started and saw pass its uptests no longer counts as the
            // swarm's: stop rather than replace it again and again.
            let message = format!(
                "{} on {}, started by this dispatch, would be retired now: it stopped running, \
                 or it does not count as the swarm's",
                r.name, r.host
            );
            run.step(DispatchStepKind::Plan, started, false, message.clone())
                .await;
            return Err(Stop::Failed(message));
        }
        run.step(DispatchStepKind::Plan, started, true, describe(&p, &views))
            .await;
        if dry_run {
            break;
        }
        if p.is_empty() {
            // Nothing to start or retire; a pool a balancer host missed is brought in line.
            route(run, &hosts, &views, &done, &[]).await?;
            break;
        }
        run.check_cancel().await?;
        let batch = match run.swarm.spec.batch_size {
            0 => usize::MAX,
            b => usize::try_from(b).unwrap_or(usize::MAX),
        };
        let starts: Vec<NewProc> = p.start.iter().take(batch).cloned().collect();
        if !reserve(run, &starts).await? {
            continue; // another job took one of the ports meanwhile: plan again
        }
        let progressed = !starts.is_empty();
        let mut fresh = Vec::new();
        if progressed {
            fresh = deploy(run, release, &hosts, &starts, &mut done).await?;
            run.check_cancel().await?;
        }
        // Old procs go only once their replacements passed their uptests (this round's, or
        // none were needed): a worker swarm always has a proc running.
        // In a batch, procs on the hosts that just got a replacement go first, so a host is
        // not left without one while another holds two.
        let mut order: Vec<ProcRef> = p.retire.clone();
        vr_app::order::sort_by(&mut order, |a, b| {
            let fresh = |r: &ProcRef| !starts.iter().any(|s| s.host == r.host);
            fresh(a).cmp(&fresh(b))
        });
        let retire: Vec<ProcRef> = order.into_iter().take(batch).collect();
        // The pool gets the new procs and loses those about to retire, which then drain;
        // meanwhile the snapshot catches up with the new procs (pages show them).
        let grace = route(run, &hosts, &views, &done, &retire).await?;
        tokio::join!(
            tokio::time::sleep(grace.unwrap_or_default()),
            wait_until_seen(run, &hosts, &fresh)
        );
        if !retire.is_empty() {
            retire_procs(run, &hosts, &views, &retire, &mut done).await?;
        } else if !progressed {
            break; // nothing could be done: the rest is short of room
        }
        run.job
            .store
            .release_ports(PortOwner::Dispatch(run.id))
            .await?;
        run.check_cancel().await?;
    }
    if !dry_run {
        run.job
            .store
            .set_swarm_release(run.swarm.id, release.id)
            .await?;
    }
    let mut summary = format!(
        "{} kept, {} started, {} retired",
        done.kept.saturating_sub(done.started.len()),
        done.started.len(),
        done.retired.len()
    );
    if dry_run {
        summary = "dry run: nothing changed".into();
    }
    if run.progress.short > 0 {
        summary.push_str(&format!(
            "; under capacity: {} proc(s) found no usable host with room",
            run.progress.short
        ));
    }
    Ok(summary)
}

fn target(run: &Run<'_>, release: &Release) -> Target {
    let spec = &run.swarm.spec;
    Target {
        swarm_id: run.swarm.id,
        app: spec.app.clone(),
        config: spec.config.clone(),
        release_hash: release.hash.clone(),
        proc_type: spec.proc_type.clone(),
        size: spec.size,
        placement: spec.placement,
        uses_ports: spec.uses_ports,
    }
}

/// The squad's hosts and what the planner sees of them: the snapshot, with the procs this
/// dispatch started (the snapshot may not show them yet) and without those it retired.
async fn read_squad(
    run: &Run<'_>,
    done: &Done,
) -> Result<(BTreeMap<String, Host>, Vec<HostView>), Stop> {
    let store = &run.job.store;
    let fleet = store.fleet().await?;
    let reserved = store.reserved_ports().await?;
    let squad = &run.swarm.spec.squad;
    let mut hosts = BTreeMap::new();
    let mut views = Vec::new();
    for h in fleet.hosts {
        let name = h.settings.name.clone();
        let in_squad = h.settings.squad.as_deref() == Some(squad.as_str());
        // A host outside the squad matters only while it holds procs of the swarm (the
        // swarm moved, or the host left): they are retired from there.
        let holds_ours = fleet.procs.iter().any(|p| {
            p.host == name && p.meta.as_ref().and_then(|m| m.swarm_id) == Some(run.swarm.id)
        });
        if !in_squad && !holds_ours {
            continue;
        }
        let mut procs: Vec<Proc> = fleet
            .procs
            .iter()
            .filter(|p| p.host == name)
            .filter(|p| {
                !done.retired.contains(&ProcRef {
                    host: p.host.clone(),
                    name: p.name.clone(),
                })
            })
            .cloned()
            .collect();
        for (r, meta) in done.started.iter().filter(|(r, _)| r.host == name) {
            if !procs.iter().any(|p| p.name == r.name) {
                procs.push(started_proc(r, meta.clone()));
            }
        }
        views.push(HostView {
            name: name.clone(),
            usable: h.settings.active && h.status.health == Health::Ok,
            in_squad,
            port_min: h.settings.port_min.unwrap_or(defaults::PORT_MIN),
            port_max: h.settings.port_max.unwrap_or(defaults::PORT_MAX),
            procs,
            reserved: reserved
                .iter()
                .filter(|(host, _)| *host == name)
                .map(|(_, port)| *port)
                .collect(),
        });
        hosts.insert(name, h);
    }
    Ok((hosts, views))
}

/// A proc this dispatch started and saw pass its uptests, as the planner must count it.
fn started_proc(r: &ProcRef, meta: ProcMeta) -> Proc {
    Proc {
        host: r.host.clone(),
        name: r.name.clone(),
        state: ProcState::Running,
        description: String::new(),
        pid: None,
        started_at: Some(now_ms()),
        meta: Some(meta),
        expected: true,
        state_since: now_ms(),
        last_seen_at: now_ms(),
        oom_kills: 0,
    }
}

/// One line per part of the plan.
fn describe(p: &Plan, views: &[HostView]) -> String {
    if p.is_empty() && p.short == 0 {
        return format!("the swarm matches: {} proc(s) kept", p.keep.len());
    }
    let mut lines = vec![format!(
        "keep {}, start {}, retire {}{}",
        p.keep.len(),
        p.start.len(),
        p.retire.len(),
        if p.short > 0 {
            format!(", {} short of room", p.short)
        } else {
            String::new()
        }
    )];
    for s in &p.start {
        lines.push(format!("start on {} port {}", s.host, s.port));
    }
    for r in &p.retire {
        lines.push(format!("retire {} on {}", r.name, r.host));
    }
    let unusable: Vec<&str> = views
        .iter()
        .filter(|v| !v.usable)
        .map(|v| v.name.as_str())
        .collect();
    if !unusable.is_empty() {
        lines.push(format!(
            "not used (inactive or not answering): {}",
            unusable.join(", ")
        ));
    }
    lines.join("\n")
}

/// Reserves the round's ports for the dispatch; false when another job holds one now.
async fn reserve(run: &mut Run<'_>, starts: &[NewProc]) -> Result<bool, Stop> {
    let started = Instant::now();
    let ports: Vec<(String, u16)> = starts.iter().map(|s| (s.host.clone(), s.port)).collect();
    match run
        .job
        .store
        .reserve_ports(PortOwner::Dispatch(run.id), ports, now_ms())
        .await
    {
        Ok(()) => {
            let n = starts.iter().filter(|s| s.port != 0).count();
            run.step(
                DispatchStepKind::ReservePorts,
                started,
                true,
                format!("{n} port(s) reserved"),
            )
            .await;
            Ok(true)
        }
        Err(StoreError::Conflict { message, .. }) => {
            run.step(
                DispatchStepKind::ReservePorts,
                started,
                false,
                format!("{message}; planning again"),
            )
            .await;
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// Starts the round's new procs, in parallel across hosts (one SSH session per host), each
/// through its uptests; returns them. If any fails, the round's failed procs are removed (unless the swarm
/// keeps them), the old ones stay, and the dispatch fails with the reasons.
async fn deploy(
    run: &mut Run<'_>,
    release: &Release,
    hosts: &BTreeMap<String, Host>,
    starts: &[NewProc],
    done: &mut Done,
) -> Result<Vec<Deployment>, Stop> {
    let started = Instant::now();
    let spec = run.swarm.spec.clone();
    let mut tasks = JoinSet::new();
    let mut sessions = BTreeMap::new();
    for s in starts {
        let Some(host) = hosts.get(&s.host) else {
            continue;
        };
        let session = sessions
            .entry(s.host.clone())
            .or_insert_with(|| run.job.deploys.session(host))
            .clone();
        let deploys = std::sync::Arc::clone(&run.job.deploys);
        let req = DeployRequest {
            release_id: release.id,
            proc_type: spec.proc_type.clone(),
            config: spec.config.clone(),
            host: s.host.clone(),
            port: s.port,
        };
        let (actor, swarm_id) = (run.actor.clone(), run.swarm.id);
        let wanted = s.clone();
        tasks.spawn(async move {
            let out = deploys
                .deploy_for_swarm(&actor, req, swarm_id, &session)
                .await;
            (wanted, out)
        });
    }
    let mut ok: Vec<Deployment> = Vec::new();
    let mut failed: Vec<(NewProc, Option<Deployment>, String)> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((_, Ok(d))) if d.status == DeployStatus::Succeeded => ok.push(d),
            Ok((want, Ok(d))) => {
                // The failed step's own message carries the detail (an uptest's output).
                let why = d
                    .steps
                    .iter()
                    .rev()
                    .find(|s| !s.ok)
                    .map(|s| format!("{}: {}", s.name.label(), s.message))
                    .or_else(|| d.error.clone())
                    .unwrap_or_else(|| "failed".into());
                failed.push((want, Some(d), why));
            }
            Ok((want, Err(e))) => {
                let why = e.to_string();
                failed.push((want, None, why));
            }
            Err(e) => failed.push((
                NewProc {
                    host: String::new(),
                    port: 0,
                },
                None,
                format!("a deploy task failed: {e}"),
            )),
        }
    }
    run.progress.deploys.extend(
        ok.iter()
            .chain(failed.iter().filter_map(|(_, d, _)| d.as_ref()))
            .map(|d| d.id),
    );
    for d in &ok {
        let r = ProcRef {
            host: d.host.clone(),
            name: d.program.clone(),
        };
        done.started.push((r, started_meta(run, release, d)));
    }
    if failed.is_empty() {
        run.step(
            DispatchStepKind::Deploy,
            started,
            true,
            ok.iter()
                .map(|d| {
                    format!(
                        "{} on {}: started, uptests passed (deploy #{})",
                        d.program, d.host, d.id
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
        )
        .await;
        return Ok(ok);
    }
    let mut lines: Vec<String> = failed
        .iter()
        .map(|(want, d, why)| match d {
            Some(d) => format!("{} on {} (deploy #{}): {why}", d.program, d.host, d.id),
            None => format!("on {} port {}: {why}", want.host, want.port),
        })
        .collect();
    if spec.keep_failed {
        lines
            .push("the failed procs are left in place (the swarm keeps them for debugging)".into());
    } else {
        let removed = remove_failed(run, hosts, release, &failed).await;
        lines.push(removed);
    }
    lines.push("the old procs stay running".into());
    let message = lines.join("\n");
    run.step(DispatchStepKind::Deploy, started, false, message.clone())
        .await;
    Err(Stop::Failed(message))
}

fn started_meta(run: &Run<'_>, release: &Release, d: &Deployment) -> ProcMeta {
    ProcMeta {
        app: release.app.clone(),
        version: release.version.clone(),
        config: d.config.clone(),
        proc_type: d.proc_type.clone(),
        port: d.port,
        release_id: Some(release.id),
        release_hash: release.hash.clone(),
        swarm_id: Some(run.swarm.id),
        deployed_by: run.actor.clone(),
        deployed_at: d.created_at,
    }
}

/// Waits (briefly) until the snapshot shows the procs just started, so the next plan and the
/// pages see them; they are counted in either case.
async fn wait_until_seen(run: &Run<'_>, hosts: &BTreeMap<String, Host>, ok: &[Deployment]) {
    let deadline = Instant::now() + SEEN_TIMEOUT;
    for d in ok {
        let Some(host) = hosts.get(&d.host) else {
            continue;
        };
        while Instant::now() < deadline {
            let seen = match run.job.store.host_snapshot(host.id).await {
                Ok((_, procs)) => procs
                    .iter()
                    .any(|p| p.name == d.program && p.state == ProcState::Running),
                Err(_) => false,
            };
            if seen {
                break;
            }
            run.job.fleet.refresh(host).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Removes the procs of the round that failed (their files are vr's own).
async fn remove_failed(
    run: &Run<'_>,
    hosts: &BTreeMap<String, Host>,
    release: &Release,
    failed: &[(NewProc, Option<Deployment>, String)],
) -> String {
    let targets: Vec<(Host, Proc)> = failed
        .iter()
        .filter_map(|(_, d, _)| d.as_ref())
        .filter_map(|d| {
            let host = hosts.get(&d.host)?.clone();
            let r = ProcRef {
                host: d.host.clone(),
                name: d.program.clone(),
            };
            Some((host, started_proc(&r, started_meta(run, release, d))))
        })
        .collect();
    if targets.is_empty() {
        return "no proc was left to remove".into();
    }
    let report = run
        .job
        .fleet
        .proc_action(&run.actor, ProcAction::Destroy, targets)
        .await;
    let bad: Vec<String> = report
        .results
        .iter()
        .filter(|r| !r.ok)
        .map(|r| format!("{} on {}: {}", r.name, r.host, r.message))
        .collect();
    if bad.is_empty() {
        format!("the failed procs were removed ({})", report.results.len())
    } else {
        format!("could not remove every failed proc: {}", bad.join("; "))
    }
}

/// Sets the swarm's pool to the procs of the swarm that run and stay — kept, started by this
/// dispatch, not about to retire (those are drained: out of the pool first). Nothing while the
/// swarm has no pool. A balancer host that refuses the file stops the dispatch before anything
/// retires (the pool there still routes to the old procs); one that does not answer is
/// reported behind and shows as drift. Returns the grace to wait before retiring, if any.
async fn route(
    run: &mut Run<'_>,
    hosts: &BTreeMap<String, Host>,
    views: &[HostView],
    done: &Done,
    retiring: &[ProcRef],
) -> Result<Option<Duration>, Stop> {
    let started = Instant::now();
    let (Some(pool), Some(balancer)) =
        (run.swarm.spec.pool.clone(), run.swarm.spec.balancer.clone())
    else {
        run.step(
            DispatchStepKind::Route,
            started,
            true,
            "no pool: nothing to route".into(),
        )
        .await;
        return Ok(None);
    };
    let record = run.job.store.balancer(balancer.clone()).await.ok();
    let held: Vec<Node> = record
        .as_ref()
        .and_then(|b| b.pools.iter().find(|p| p.pool == pool))
        .map(|p| p.nodes.clone())
        .unwrap_or_default();
    let (nodes, retested) = retest_newcomers(
        run,
        hosts,
        routed_nodes(run.swarm.id, hosts, views, done, retiring),
        &held,
        done,
    )
    .await;
    let report = match run.job.pools.set(&balancer, &pool, nodes).await {
        Ok(r) => r,
        Err(e) => {
            let message = format!("pool {pool} on balancer {balancer}: {e}");
            run.step(DispatchStepKind::Route, started, false, message.clone())
                .await;
            return Err(Stop::Failed(message));
        }
    };
    let mut message = report.describe();
    for line in retested {
        message.push('\n');
        message.push_str(&line);
    }
    if report.refused() {
        message.push_str(
            "
the old procs stay running and routed",
        );
        run.step(DispatchStepKind::Route, started, false, message.clone())
            .await;
        return Err(Stop::Failed(message));
    }
    let grace = match record {
        Some(b) if !retiring.is_empty() && b.spec.drain_ms > 0 => {
            // The grace runs from the reload: the wait for the old workers was part of it.
            let full = Duration::from_millis(b.spec.drain_ms);
            let passed = report.settled().unwrap_or_default().min(full);
            message.push_str(&format!(
                "
draining {} proc(s) for {} ms before they stop ({} ms of it while the old workers finished)",
                retiring.len(),
                b.spec.drain_ms,
                passed.as_millis()
            ));
            Some(full - passed)
        }
        _ => None,
    };
    run.step(DispatchStepKind::Route, started, true, message)
        .await;
    Ok(grace)
}

/// Kept procs the pool does not hold yet — their host was away and is back, or the swarm just
/// got its pool — run their uptests again first: only those that pass are routed. Procs this
/// dispatch started passed theirs already. Returns the nodes to route and a line per proc
/// tested.
async fn retest_newcomers(
    run: &Run<'_>,
    hosts: &BTreeMap<String, Host>,
    nodes: Vec<(String, Node)>,
    held: &[Node],
    done: &Done,
) -> (Vec<Node>, Vec<String>) {
    let fresh = |(host, n): &(String, Node)| {
        !held.contains(n)
            && !done
                .started
                .iter()
                .any(|(r, _)| &r.host == host && r.name == n.program)
    };
    let (newcomers, routed): (Vec<_>, Vec<_>) = nodes.into_iter().partition(fresh);
    let mut routed: Vec<Node> = routed.into_iter().map(|(_, n)| n).collect();
    let mut lines = Vec::new();
    let verdicts = futures_util::future::join_all(newcomers.iter().map(|(host, n)| async move {
        match hosts.get(host) {
            Some(h) => run.job.deploys.uptest_proc(h, &n.program).await,
            None => Ok(None),
        }
    }))
    .await;
    for ((host, n), verdict) in newcomers.into_iter().zip(verdicts) {
        match verdict {
            Ok(Some(Ok(_))) => {
                lines.push(format!(
                    "{} on {host}: was out of the pool; its uptests passed again, routed",
                    n.program
                ));
                routed.push(n);
            }
            Ok(None) => routed.push(n),
            Ok(Some(Err(why))) => lines.push(format!(
                "{} on {host}: kept but not routed, its uptests failed: {why}",
                n.program
            )),
            Err(e) => lines.push(format!(
                "{} on {host}: kept but not routed, its uptests could not run: {e}",
                n.program
            )),
        }
    }
    (routed, lines)
}

/// The pool's nodes: the swarm's RUNNING procs with a port on hosts that answer, as this
/// round sees them (a proc on an unreachable host is not known to run, so it is not routed).
fn routed_nodes(
    swarm_id: i64,
    hosts: &BTreeMap<String, Host>,
    views: &[HostView],
    done: &Done,
    retiring: &[ProcRef],
) -> Vec<(String, Node)> {
    let leaving = |host: &str, name: &str| {
        let r = ProcRef {
            host: host.to_string(),
            name: name.to_string(),
        };
        retiring.contains(&r) || done.retired.contains(&r)
    };
    let mut nodes: Vec<(String, Node)> = Vec::new();
    let mut add = |host: &str, name: &str, port: u16| {
        let Some(h) = hosts.get(host) else {
            return;
        };
        if port == 0 || leaving(host, name) {
            return;
        }
        let node = Node {
            address: h.settings.address.clone(),
            port,
            program: name.to_string(),
        };
        if !nodes.iter().any(|(_, n)| n == &node) {
            nodes.push((host.to_string(), node));
        }
    };
    for v in views.iter().filter(|v| v.usable) {
        for p in &v.procs {
            let Some(meta) = &p.meta else {
                continue;
            };
            if meta.swarm_id == Some(swarm_id) && p.state == ProcState::Running {
                add(&v.name, &p.name, meta.port);
            }
        }
    }
    for (r, meta) in &done.started {
        add(&r.host, &r.name, meta.port);
    }
    nodes
}

/// Stops and removes stale and surplus procs of the swarm.
async fn retire_procs(
    run: &mut Run<'_>,
    hosts: &BTreeMap<String, Host>,
    views: &[HostView],
    retire: &[ProcRef],
    done: &mut Done,
) -> Result<(), Stop> {
    let started = Instant::now();
    // The procs as this round's plan saw them: no second read of the snapshot.
    let targets: Vec<(Host, Proc)> = retire
        .iter()
        .filter_map(|r| {
            let host = hosts.get(&r.host)?.clone();
            let proc = views
                .iter()
                .find(|v| v.name == r.host)?
                .procs
                .iter()
                .find(|p| p.name == r.name)?
                .clone();
            Some((host, proc))
        })
        .collect();
    let report = run
        .job
        .fleet
        .proc_action(&run.actor, ProcAction::Destroy, targets)
        .await;
    let mut lines = Vec::new();
    let mut bad = 0;
    for r in &report.results {
        if r.ok {
            done.retired.insert(ProcRef {
                host: r.host.clone(),
                name: r.name.clone(),
            });
            lines.push(format!("{} on {}: retired", r.name, r.host));
        } else {
            bad += 1;
            lines.push(format!("{} on {}: {}", r.name, r.host, r.message));
        }
    }
    let ok = bad == 0;
    let message = lines.join("\n");
    run.step(DispatchStepKind::Retire, started, ok, message.clone())
        .await;
    if ok {
        Ok(())
    } else {
        Err(Stop::Failed(format!(
            "{bad} old proc(s) could not be retired (the new ones run):\n{message}"
        )))
    }
}
