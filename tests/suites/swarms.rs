//! Swarms dispatched onto two real harness hosts: a first dispatch spreading one proc per
//! host, `-` on a swarm that matches (nothing to do), a new release replacing the procs, a
//! scale-down, dry runs changing nothing, a failing uptest removing its new proc and keeping the
//! old, a worker swarm one per host whose rollout keeps a worker RUNNING on every host at every
//! poll, a second dispatch queued behind the first and cancelled, a second swarm with the same
//! identity refused naming the first, two swarms dispatched at once never sharing a port, the
//! CLI (`list-swarms`, `swarm REGEX VERSION|-` with `-x`, `--size`, `--dry-run`), and the
//! server SIGKILLed mid-dispatch: failed with the reason, finished by the next dispatch.

use super::builds::setup_with;
use super::deploys::web_built;
use std::time::{Duration, Instant};
use vr_app::fleet::{HostPatch, NewSquad, Proc, paths as fleet_paths};
use vr_app::supervisor::ProcState;
use vr_app::swarm::{
    Dispatch, DispatchRequest, DispatchStatus, DispatchStepKind, Placement, RollbackRequest,
    SpecChange, Swarm, SwarmSpec, SwarmState, paths,
};
use vr_tests::harness::ApiClient;
use vr_tests::harness::fleet::{add_host, fleet, wait_health};

pub async fn give_ports(api: &ApiClient, host: &str, n: u16) {
    let base = vr_tests::harness::proc_port_range(n);
    api.patch(
        &fleet_paths::host(host),
        &HostPatch {
            port_min: Some(Some(base)),
            port_max: Some(Some(base + n - 1)),
            squad: Some(Some("eu".into())),
            ..Default::default()
        },
    )
    .await
    .expect_ok();
}

pub fn web_swarm(size: u32) -> SwarmSpec {
    SwarmSpec {
        app: "web".into(),
        version: "main".into(),
        proc_type: "web".into(),
        config: "prod".into(),
        squad: "eu".into(),
        size,
        uses_ports: true,
        settings_yaml: "greeting: hi\n".into(),
        env_yaml: "COLOUR: blue\n".into(),
        ..SwarmSpec::default()
    }
}

pub async fn dispatch(api: &ApiClient, swarm: i64, req: &DispatchRequest) -> Dispatch {
    let d: Dispatch = api
        .post(&paths::dispatch_swarm(swarm), req)
        .await
        .expect_status(202)
        .json();
    finished(api, d.id).await
}

/// [`dispatch`], which must succeed.
pub async fn succeeded(api: &ApiClient, swarm: i64, req: &DispatchRequest) -> Dispatch {
    let d = dispatch(api, swarm, req).await;
    assert_eq!(d.status, DispatchStatus::Succeeded, "{d:#?}");
    d
}

pub async fn finished(api: &ApiClient, id: i64) -> Dispatch {
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let d: Dispatch = api.get(&paths::dispatch(id)).await.expect_ok().json();
        if !d.status.in_flight() {
            return d;
        }
        assert!(
            Instant::now() < until,
            "dispatch {id} still in flight: {d:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The swarm's procs in the snapshot, by host.
pub async fn procs_of(api: &ApiClient, swarm: i64) -> Vec<Proc> {
    let mut p: Vec<Proc> = fleet(api)
        .await
        .procs
        .into_iter()
        .filter(|p| p.meta.as_ref().and_then(|m| m.swarm_id) == Some(swarm))
        .collect();
    p.sort_by(|a, b| a.host.cmp(&b.host).then(a.name.cmp(&b.name)));
    p
}

async fn answers(port: u16) -> bool {
    match reqwest::get(format!("http://127.0.0.1:{port}/index.html")).await {
        Ok(r) => r.text().await.is_ok_and(|t| t == "hello from vr\n"),
        Err(_) => false,
    }
}

pub fn keep_version() -> DispatchRequest {
    DispatchRequest {
        version: Some("-".into()),
        ..DispatchRequest::default()
    }
}

/// The builds setup with a realistic SSH deadline (5 s instead of the fleet suites' 1.5 s):
/// a dispatch stops and removes procs, which on two busy cores can take longer than 1.5 s.
pub async fn swarm_setup() -> super::builds::Setup {
    setup_with(vec![("VR_SSH_TIMEOUT_MS".into(), "5000".into())]).await
}

/// Squad `eu`.
pub async fn add_squad(api: &ApiClient) {
    api.post(
        fleet_paths::SQUADS,
        &NewSquad {
            name: "eu".into(),
            description: String::new(),
        },
    )
    .await
    .expect_status(201);
}

/// Waits until dispatch `id` has reserved its ports, so its deploys are under way (or about
/// to be): the moment to cut a host or stop the server.
async fn wait_for_deploys(api: &ApiClient, id: i64) {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let now: Dispatch = api.get(&paths::dispatch(id)).await.expect_ok().json();
        if now
            .steps
            .iter()
            .any(|s| s.name == DispatchStepKind::ReservePorts)
        {
            return;
        }
        assert!(now.status.in_flight(), "ended before its deploys: {now:#?}");
        assert!(
            Instant::now() < until,
            "never reached its deploys: {now:#?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The setup's builder and a second host `web2`, both in squad `eu` with port ranges of their
/// own, and the web app built (keep the repo and the host alive).
pub async fn two_hosts() -> (
    super::builds::Setup,
    vr_tests::harness::git::GitRepo,
    vr_tests::harness::TestHost,
) {
    let s = swarm_setup().await;
    let (repo, _build) = web_built(&s).await;
    add_squad(&s.api).await;
    let mut more = super::fleet::hosts_for(&s.api, 1).await;
    let second = more.remove(0);
    add_host(&s.api, &second, "web2", Some("eu")).await;
    wait_health(
        &s.api,
        "web2",
        vr_app::fleet::Health::Ok,
        Duration::from_secs(15),
    )
    .await;
    give_ports(&s.api, "builder1", 6).await;
    give_ports(&s.api, "web2", 6).await;
    (s, repo, second)
}

#[tokio::test]
async fn a_batched_rollout_never_holds_more_than_size_plus_batch() {
    let (s, _repo, _web2) = two_hosts().await;
    let mut spec = web_swarm(2);
    spec.batch_size = 1;
    let swarm = create_swarm(&s.api, &spec).await;
    succeeded(&s.api, swarm.id, &DispatchRequest::default()).await;
    let v1 = procs_of(&s.api, swarm.id).await;
    assert_eq!(v1.len(), 2, "{v1:#?}");
    spec.env_yaml = "COLOUR: red\n".into();
    s.api.put(&paths::swarm(swarm.id), &spec).await.expect_ok();
    let d: Dispatch = s
        .api
        .post(&paths::dispatch_swarm(swarm.id), &keep_version())
        .await
        .expect_status(202)
        .json();
    let (mut most, mut polls) = (0, 0);
    loop {
        let now: Dispatch = s.api.get(&paths::dispatch(d.id)).await.expect_ok().json();
        let procs = procs_of(&s.api, swarm.id).await;
        most = most.max(procs.len());
        assert!(procs.len() <= 3, "more than size + batch: {procs:#?}");
        assert!(
            procs
                .iter()
                .filter(|p| p.state == ProcState::Running)
                .count()
                >= 1,
            "no proc running during the rollout: {procs:#?}"
        );
        polls += 1;
        if !now.status.in_flight() {
            assert_eq!(now.status, DispatchStatus::Succeeded, "{now:#?}");
            let deploys = now
                .steps
                .iter()
                .filter(|s| s.name == DispatchStepKind::Deploy)
                .count();
            assert_eq!(deploys, 2, "one new proc per round: {:#?}", now.steps);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        polls > 1 && most == 3,
        "the rollout was not watched in flight ({polls} polls, {most} at most)"
    );
    let v2 = procs_of(&s.api, swarm.id).await;
    assert_eq!(v2.len(), 2);
    assert!(v2.iter().all(|p| !v1.iter().any(|o| o.name == p.name)));
    assert_ne!(v2[0].host, v2[1].host, "still one per host: {v2:#?}");
}

/// The web app built and squad `eu` of two hosts, `near` and `far`, each in a network
/// namespace of its own (so one can be cut off, and procs may bind every address there).
pub async fn netns_squad() -> (
    super::builds::Setup,
    vr_tests::harness::git::GitRepo,
    vr_tests::harness::NetnsHost,
    vr_tests::harness::NetnsHost,
) {
    use vr_tests::harness::{HostOptions, NetnsHost};
    let s = swarm_setup().await;
    let (repo, _build) = web_built(&s).await;
    add_squad(&s.api).await;
    let key = vr_tests::harness::fleet::server_key(&s.api).await;
    let mut pair = NetnsHost::start_many(
        2,
        HostOptions {
            authorized_keys: vec![key],
            ..Default::default()
        },
    );
    let far = pair.pop().expect("far");
    let near = pair.pop().expect("near");
    for (h, name) in [(&near, "near"), (&far, "far")] {
        add_host(&s.api, h, name, Some("eu")).await;
        wait_health(
            &s.api,
            name,
            vr_app::fleet::Health::Ok,
            Duration::from_secs(15),
        )
        .await;
    }
    (s, repo, near, far)
}

/// Creates swarm `spec` (it must be accepted).
pub async fn create_swarm(api: &ApiClient, spec: &SwarmSpec) -> Swarm {
    api.post(paths::SWARMS, spec)
        .await
        .expect_status(201)
        .json()
}

/// How many dispatches swarm `id` has had.
async fn dispatch_count(api: &ApiClient, id: i64) -> usize {
    let list: Vec<Dispatch> = api
        .get(&format!("{}?swarm={id}", paths::DISPATCHES))
        .await
        .expect_ok()
        .json();
    list.len()
}

/// Dispatch `d`'s first route step.
pub fn route_step(d: &Dispatch) -> &vr_app::swarm::DispatchStep {
    d.steps
        .iter()
        .find(|st| st.name == DispatchStepKind::Route)
        .expect("a route step")
}

/// The dispatches of swarm `id` that self-healing asked for.
async fn by_healer(api: &ApiClient, id: i64) -> Vec<Dispatch> {
    let list: Vec<Dispatch> = api
        .get(&format!("{}?swarm={id}", paths::DISPATCHES))
        .await
        .expect_ok()
        .json();
    list.into_iter()
        .filter(|d| d.requested_by == "self-heal")
        .collect()
}

/// Self-healing: a swarm that asked for it is dispatched by vr itself once a host holding its
/// procs has been unreachable for its delay, and its procs come back on the healthy host; a
/// swarm without it is left alone; when the host returns, a dispatch retires the extra proc.
#[tokio::test]
async fn a_swarm_with_self_healing_replaces_the_procs_of_a_lost_host_by_itself() {
    let (s, _repo, _near, far) = netns_squad().await;
    let mut healing = web_swarm(2);
    healing.proc_type = "netweb".into();
    healing.heal_after_secs = 2;
    let mut plain = healing.clone();
    plain.config = "plain".into();
    plain.heal_after_secs = 0;
    let mut ids = Vec::new();
    for spec in [&healing, &plain] {
        let swarm = create_swarm(&s.api, spec).await;
        succeeded(&s.api, swarm.id, &DispatchRequest::default()).await;
        assert_eq!(
            procs_of(&s.api, swarm.id)
                .await
                .iter()
                .filter(|p| p.host == "far")
                .count(),
            1
        );
        ids.push(swarm.id);
    }
    far.cut();
    let healed = vr_tests::harness::wait_until_async(Duration::from_secs(60), || {
        let (api, id) = (&s.api, ids[0]);
        async move {
            let on_builder = procs_of(api, id)
                .await
                .iter()
                .filter(|p| p.host == "near" && p.state == ProcState::Running)
                .count();
            // The procs can show RUNNING before the healing dispatch has ended.
            let ended = by_healer(api, id)
                .await
                .iter()
                .any(|d| !d.status.in_flight());
            on_builder == 2 && ended
        }
    })
    .await;
    assert!(
        healed,
        "the self-healing swarm never came back to 2 procs on the healthy host"
    );
    let heals = by_healer(&s.api, ids[0]).await;
    assert_eq!(heals.len(), 1, "{heals:#?}");
    assert_eq!(heals[0].status, DispatchStatus::Succeeded, "{heals:#?}");
    let events: Vec<vr_app::api::Event> =
        s.api.get("/api/events?limit=200").await.expect_ok().json();
    assert!(
        events.iter().any(|e| e.action == "swarm.heal" && e.detail.contains("host far has been unreachable")),
        "no swarm.heal event"
    );
    assert!(
        by_healer(&s.api, ids[1]).await.is_empty(),
        "a swarm without self-healing was dispatched"
    );

    // The host returns: the next dispatch retires what is now extra.
    far.restore();
    wait_health(
        &s.api,
        "far",
        vr_app::fleet::Health::Ok,
        Duration::from_secs(30),
    )
    .await;
    succeeded(&s.api, ids[0], &keep_version()).await;
    assert_eq!(procs_of(&s.api, ids[0]).await.len(), 2);
}

#[tokio::test]
async fn a_host_cut_off_gets_no_new_procs_and_the_dispatch_goes_on_without_it() {
    use vr_tests::harness::{HostOptions, NetnsHost};
    let s = swarm_setup().await;
    let (_repo, _build) = web_built(&s).await;
    add_squad(&s.api).await;
    give_ports(&s.api, "builder1", 4).await;
    let key = vr_tests::harness::fleet::server_key(&s.api).await;
    let far = NetnsHost::start(HostOptions {
        authorized_keys: vec![key],
        ..Default::default()
    });
    add_host(&s.api, &far, "far", Some("eu")).await;
    wait_health(
        &s.api,
        "far",
        vr_app::fleet::Health::Ok,
        Duration::from_secs(15),
    )
    .await;
    // Workers, one per host: their uptest needs TRICKY and port 0.
    let mut spec = web_swarm(0);
    spec.proc_type = "worker".into();
    spec.placement = Placement::OnePerHost;
    spec.uses_ports = false;
    spec.env_yaml = "TRICKY: \"one\"\n".into();
    let swarm = create_swarm(&s.api, &spec).await;
    succeeded(&s.api, swarm.id, &DispatchRequest::default()).await;
    assert_eq!(procs_of(&s.api, swarm.id).await.len(), 2);

    // Cut off before the dispatch: it plans without the host and leaves its proc alone.
    far.cut();
    wait_health(
        &s.api,
        "far",
        vr_app::fleet::Health::Unreachable,
        Duration::from_secs(30),
    )
    .await;
    spec.env_yaml = "TRICKY: \"two\"\n".into();
    s.api.put(&paths::swarm(swarm.id), &spec).await.expect_ok();
    let started = Instant::now();
    let without = succeeded(&s.api, swarm.id, &keep_version()).await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the dead host slowed the dispatch: {:?}",
        started.elapsed()
    );
    let plan = without.plan.clone().expect("plan");
    assert!(plan.start.iter().all(|p| p.host == "builder1"), "{plan:?}");
    assert!(plan.retire.iter().all(|p| p.host == "builder1"), "{plan:?}");
    assert!(
        without.steps.iter().any(|s| s
            .message
            .contains("not used (inactive or not answering): far")),
        "{:#?}",
        without.steps
    );
    let now: Swarm = s.api.get(&paths::swarm(swarm.id)).await.expect_ok().json();
    assert_eq!(now.status.unknown, 1, "{:?}", now.status);
    assert_ne!(now.status.state, SwarmState::Matches);

    // Back on the network: the next dispatch replaces the stale proc there too.
    far.restore();
    wait_health(
        &s.api,
        "far",
        vr_app::fleet::Health::Ok,
        Duration::from_secs(30),
    )
    .await;
    let healed = succeeded(&s.api, swarm.id, &keep_version()).await;
    let procs = procs_of(&s.api, swarm.id).await;
    assert_eq!(procs.len(), 2, "{procs:#?}");
    assert!(
        procs
            .iter()
            .all(|p| p.meta.as_ref().and_then(|m| m.release_id) == healed.release_id)
    );
    let now: Swarm = s.api.get(&paths::swarm(swarm.id)).await.expect_ok().json();
    assert_eq!(now.status.state, SwarmState::Matches, "{:?}", now.status);

    // Cut off during the dispatch: the deploy there fails as a lost host, the other host's
    // new proc stands, and the dispatch ends failed with the reason.
    spec.env_yaml = "TRICKY: \"three\"\n".into();
    s.api.put(&paths::swarm(swarm.id), &spec).await.expect_ok();
    let d: Dispatch = s
        .api
        .post(&paths::dispatch_swarm(swarm.id), &keep_version())
        .await
        .expect_status(202)
        .json();
    wait_for_deploys(&s.api, d.id).await;
    far.cut();
    let cut_at = Instant::now();
    let cut_short = finished(&s.api, d.id).await;
    // Bounded by the step's own limit (a proc folder 30 s, an uptest 30 s) plus the host's
    // deadline for removing what failed: never the 15 minutes a build copy may take.
    assert!(
        cut_at.elapsed() < Duration::from_secs(60),
        "the cut host held the dispatch for {:?}",
        cut_at.elapsed()
    );
    assert_eq!(cut_short.status, DispatchStatus::Failed, "{cut_short:#?}");
    let why = cut_short.error.clone().unwrap_or_default();
    assert!(why.contains("far"), "{why}");
    assert!(why.contains("the old procs stay running"), "{why}");
    far.restore();
}

#[tokio::test]
async fn swarms_are_dispatched_replaced_scaled_and_protected_on_real_hosts() {
    let (s, _repo, _web2) = two_hosts().await;

    // Bad input names its field and saves nothing.
    let mut bad = web_swarm(2);
    bad.env_yaml = "COLOUR: [unclosed\n".into();
    let r = s.api.post(paths::SWARMS, &bad).await.expect_status(400);
    assert_eq!(r.value()["error"]["field"], "env_yaml", "{}", r.value());
    let mut bad = web_swarm(2);
    bad.squad = "nowhere".into();
    s.api.post(paths::SWARMS, &bad).await.expect_status(409);

    let swarm = create_swarm(&s.api, &web_swarm(2)).await;
    assert_eq!(swarm.name, "web-prod-web");
    // The same identity again is refused, naming the swarm that has it.
    let dup = s
        .api
        .post(paths::SWARMS, &web_swarm(3))
        .await
        .expect_status(409);
    assert!(
        dup.value()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("swarm #{} (web-prod-web on squad eu)", swarm.id))),
        "{}",
        dup.value()
    );

    // A dry run shows the plan and changes nothing.
    let dry = dispatch(
        &s.api,
        swarm.id,
        &DispatchRequest {
            dry_run: true,
            ..DispatchRequest::default()
        },
    )
    .await;
    assert_eq!(dry.status, DispatchStatus::Succeeded, "{dry:#?}");
    assert!(dry.dry_run);
    assert_eq!(
        dry.plan.as_ref().map(|p| p.start.len()),
        Some(2),
        "{dry:#?}"
    );
    assert!(dry.deploys.is_empty());
    assert!(procs_of(&s.api, swarm.id).await.is_empty());
    let saved: Swarm = s.api.get(&paths::swarm(swarm.id)).await.expect_ok().json();
    assert_eq!(
        saved.release_id, None,
        "a dry run must not mark a release as running"
    );

    // First dispatch: one proc per host, each reached on its port, proc.json naming the swarm.
    let first = succeeded(&s.api, swarm.id, &DispatchRequest::default()).await;
    let plan = first.plan.clone().expect("plan");
    assert_eq!(plan.start.len(), 2, "{plan:?}");
    assert!(plan.start.iter().any(|p| p.host == "builder1"));
    assert!(plan.start.iter().any(|p| p.host == "web2"));
    let kinds: Vec<DispatchStepKind> = first.steps.iter().map(|s| s.name).collect();
    assert_eq!(
        &kinds[..6],
        &[
            DispatchStepKind::Build,
            DispatchStepKind::Release,
            DispatchStepKind::Plan,
            DispatchStepKind::ReservePorts,
            DispatchStepKind::Deploy,
            DispatchStepKind::Route,
        ],
        "{:#?}",
        first.steps
    );
    assert_eq!(first.deploys.len(), 2);
    let v1 = procs_of(&s.api, swarm.id).await;
    assert_eq!(v1.len(), 2, "{v1:#?}");
    assert_ne!(v1[0].host, v1[1].host);
    for p in &v1 {
        assert_eq!(p.state, ProcState::Running, "{p:?}");
        let port = p.meta.as_ref().map_or(0, |m| m.port);
        assert!(answers(port).await, "{} does not answer on {port}", p.name);
    }

    let now: Swarm = s.api.get(&paths::swarm(swarm.id)).await.expect_ok().json();
    assert_eq!(now.status.state, SwarmState::Matches, "{:?}", now.status);
    assert_eq!((now.status.running, now.status.wanted), (2, 2));

    // `-` on a swarm that matches: nothing to do, nothing started.
    let same = succeeded(&s.api, swarm.id, &keep_version()).await;
    assert!(same.deploys.is_empty(), "{same:#?}");
    assert!(
        same.steps
            .iter()
            .any(|s| s.message.contains("the swarm matches")),
        "{:#?}",
        same.steps
    );
    assert!(
        same.steps[0].message.contains("kept build"),
        "{:?}",
        same.steps[0]
    );

    // A new env value makes a new release: new procs start, then the old ones go.
    let mut changed = web_swarm(2);
    changed.env_yaml = "COLOUR: green\n".into();
    s.api
        .put(&paths::swarm(swarm.id), &changed)
        .await
        .expect_ok();
    let second_dispatch = dispatch(&s.api, swarm.id, &keep_version()).await;
    assert_eq!(
        second_dispatch.status,
        DispatchStatus::Succeeded,
        "{second_dispatch:#?}"
    );
    assert_ne!(second_dispatch.release_id, first.release_id);
    assert_eq!(
        second_dispatch.changes,
        vec![SpecChange {
            field: "env.COLOUR".into(),
            before: "blue".into(),
            after: "green".into(),
        }],
        "{second_dispatch:#?}"
    );
    let v2 = procs_of(&s.api, swarm.id).await;
    assert_eq!(v2.len(), 2, "{v2:#?}");
    for p in &v2 {
        assert!(!v1.iter().any(|o| o.name == p.name), "{} survived", p.name);
        assert_eq!(
            p.meta.as_ref().and_then(|m| m.release_id),
            second_dispatch.release_id
        );
    }

    // Scale down to one.
    let down = dispatch(
        &s.api,
        swarm.id,
        &DispatchRequest {
            size: Some(1),
            ..keep_version()
        },
    )
    .await;
    assert_eq!(down.status, DispatchStatus::Succeeded, "{down:#?}");
    assert_eq!(procs_of(&s.api, swarm.id).await.len(), 1);

    // A dry run now plans the way back to two and changes nothing.
    let dry = dispatch(
        &s.api,
        swarm.id,
        &DispatchRequest {
            size: Some(2),
            dry_run: true,
            ..keep_version()
        },
    )
    .await;
    assert_eq!(dry.status, DispatchStatus::Succeeded, "{dry:#?}");
    assert_eq!(
        dry.plan.as_ref().map(|p| p.start.len()),
        Some(1),
        "{dry:#?}"
    );
    assert_eq!(procs_of(&s.api, swarm.id).await.len(), 1);
    let saved: Swarm = s.api.get(&paths::swarm(swarm.id)).await.expect_ok().json();
    assert_eq!(saved.spec.size, 1, "a dry run must not save its size");

    // A proc type whose uptest fails: the dispatch fails with the uptest's output, its new
    // proc is removed, and the web swarm's proc is untouched.
    let mut checked = web_swarm(1);
    checked.proc_type = "checked".into();
    let checked = create_swarm(&s.api, &checked).await;
    let failed = dispatch(&s.api, checked.id, &DispatchRequest::default()).await;
    assert_eq!(failed.status, DispatchStatus::Failed, "{failed:#?}");
    let why = failed.error.clone().unwrap_or_default();
    assert!(why.contains("checked is not ready"), "{why}");
    assert!(why.contains("the failed procs were removed"), "{why}");
    assert!(procs_of(&s.api, checked.id).await.is_empty());
    let now: Swarm = s
        .api
        .get(&paths::swarm(checked.id))
        .await
        .expect_ok()
        .json();
    assert_eq!(now.status.state, SwarmState::Failed, "{:?}", now.status);
    assert_eq!(procs_of(&s.api, swarm.id).await.len(), 1);

    // Workers: one per host, port 0, their uptest called with port 0.
    let mut workers = web_swarm(0);
    workers.proc_type = "worker".into();
    workers.placement = Placement::OnePerHost;
    workers.uses_ports = false;
    workers.env_yaml = "TRICKY: \"x; $(id)\"\n".into();
    let workers = create_swarm(&s.api, &workers).await;
    succeeded(&s.api, workers.id, &DispatchRequest::default()).await;
    let w_procs = procs_of(&s.api, workers.id).await;
    assert_eq!(w_procs.len(), 2, "{w_procs:#?}");
    assert!(w_procs.iter().all(|p| p.name.ends_with("-worker-0")));

    // A worker rollout (new env, so new procs): the second dispatch of the swarm waits queued
    // behind it and is cancelled; during the rollout every host always has a worker RUNNING
    // (the new one passes its uptest before the old one stops).
    let mut rolled = s
        .api
        .get(&paths::swarm(workers.id))
        .await
        .expect_ok()
        .json::<Swarm>()
        .spec;
    rolled.env_yaml = "TRICKY: \"y; $(id)\"\n".into();
    s.api
        .put(&paths::swarm(workers.id), &rolled)
        .await
        .expect_ok();
    let a: Dispatch = s
        .api
        .post(&paths::dispatch_swarm(workers.id), &keep_version())
        .await
        .expect_status(202)
        .json();
    let b: Dispatch = s
        .api
        .post(&paths::dispatch_swarm(workers.id), &keep_version())
        .await
        .expect_status(202)
        .json();
    let cancelled: Dispatch = s
        .api
        .post_empty(&paths::cancel(b.id))
        .await
        .expect_ok()
        .json();
    assert_eq!(
        cancelled.status,
        DispatchStatus::Cancelled,
        "{cancelled:#?}"
    );
    let mut polls = 0;
    loop {
        let d: Dispatch = s.api.get(&paths::dispatch(a.id)).await.expect_ok().json();
        let running = procs_of(&s.api, workers.id).await;
        for host in ["builder1", "web2"] {
            assert!(
                running
                    .iter()
                    .any(|p| p.host == host && p.state == ProcState::Running),
                "no worker RUNNING on {host} during the rollout: {running:#?}"
            );
        }
        polls += 1;
        if !d.status.in_flight() {
            assert_eq!(d.status, DispatchStatus::Succeeded, "{d:#?}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(polls > 1, "the rollout ended before it was watched");
    let rolled_procs = procs_of(&s.api, workers.id).await;
    assert_eq!(rolled_procs.len(), 2, "{rolled_procs:#?}");
    assert!(
        rolled_procs
            .iter()
            .all(|p| !w_procs.iter().any(|o| o.name == p.name))
    );
    let b_end = finished(&s.api, b.id).await;
    assert_eq!(b_end.status, DispatchStatus::Cancelled, "{b_end:#?}");
    assert!(
        b_end.deploys.is_empty() && b_end.started_at.is_none(),
        "{b_end:#?}"
    );
    let history: Vec<Dispatch> = s
        .api
        .get(&format!("{}?swarm={}", paths::DISPATCHES, workers.id))
        .await
        .expect_ok()
        .json();
    assert_eq!(history.len(), 3, "{history:#?}");

    // An idle swarm can be deleted; other swarms' procs are untouched.
    s.api
        .delete(&paths::swarm(checked.id))
        .await
        .expect_status(204);
    assert_eq!(procs_of(&s.api, swarm.id).await.len(), 1);

    // The CLI: VR's verbs with real regexes.
    let cli = super::fleet::cli_token(&s.api).await;
    let vr = |args: &[&str]| super::fleet::vr(&s.server, &cli, args);
    let (ok, out) = vr(&["list-swarms"]);
    assert!(ok, "{out}");
    assert_eq!(out, "web-prod-web\nweb-prod-worker\n");
    let (ok, out) = vr(&["list-swarms", "web-prod-web|nothing-else"]);
    assert!(ok && out == "web-prod-web\n", "{out}");
    let (ok, out) = vr(&[
        "swarm",
        "web-prod-.*",
        "-",
        "-x",
        "web-prod-worker",
        "--size",
        "2",
        "--dry-run",
    ]);
    assert!(ok, "{out}");
    assert!(
        out.contains("planning 1 swarm(s) at -: web-prod-web"),
        "{out}"
    );
    assert!(out.contains("start on"), "{out}");
    assert_eq!(
        procs_of(&s.api, swarm.id).await.len(),
        1,
        "a dry run changed the hosts"
    );
    let (ok, out) = vr(&["swarm", "web-prod-web", "-", "--size", "2"]);
    assert!(ok, "{out}");
    assert!(out.contains("succeeded web-prod-web"), "{out}");
    assert_eq!(procs_of(&s.api, swarm.id).await.len(), 2);
    let (ok, out) = vr(&["swarm", "web-prod-.*", "-"]);
    assert!(ok && out.contains("the swarm matches"), "{out}");
    let (ok, out) = vr(&["swarm", "web", "-"]);
    assert!(!ok && out.contains("no swarm matches \"web\""), "{out}");
    let (ok, out) = vr(&["swarm", "(", "-"]);
    assert!(!ok && out.contains("not a valid regex"), "{out}");
    let (ok, out) = vr(&["swarm", "history", "web-prod-web"]);
    assert!(ok && out.lines().count() >= 7, "{out}");
    let before: Swarm = s
        .api
        .get(&paths::swarm(workers.id))
        .await
        .expect_ok()
        .json();
    let (ok, out) = vr(&[
        "swarm",
        "edit",
        "web-prod-worker",
        "--batch",
        "1",
        "--keep-failed",
        "true",
    ]);
    assert!(
        ok && out.contains("swarm #") && out.contains("saved"),
        "{out}"
    );
    let after: Swarm = s
        .api
        .get(&paths::swarm(workers.id))
        .await
        .expect_ok()
        .json();
    assert_eq!((after.spec.batch_size, after.spec.keep_failed), (1, true));
    assert_eq!(
        after.spec.env_yaml, before.spec.env_yaml,
        "an edit keeps what it does not name"
    );
    let (ok, out) = vr(&["swarm", "edit", "web-prod-worker", "--size", "5000"]);
    assert!(!ok && out.contains("size"), "{out}");
    // The runner is the swarm's to choose; shown, and back to plain.
    let (ok, out) = vr(&["swarm", "edit", "web-prod-worker", "--runner", "sandbox"]);
    assert!(ok, "{out}");
    let (ok, out) = vr(&["swarm", "show", "web-prod-worker"]);
    assert!(ok && out.contains("runner     sandbox"), "{out}");
    let (ok, out) = vr(&["swarm", "edit", "web-prod-worker", "--runner", "plain"]);
    assert!(ok, "{out}");
    let (ok, out) = vr(&["swarm", "edit", "web-prod-worker", "--runner", "docker"]);
    assert!(!ok && out.contains("docker"), "{out}");
    let (ok, out) = vr(&["swarm", "show", "web-prod-worker"]);
    assert!(
        ok && out.contains("one-per-host") && out.contains("no (port 0)"),
        "{out}"
    );

    // Rollback: the newest successful dispatch of another release runs again, its settings
    // saved back on the swarm.
    let (ok, out) = vr(&["swarm", "rollback", "web-prod-web"]);
    assert!(ok, "{out}");
    let back = procs_of(&s.api, swarm.id).await;
    assert_eq!(back.len(), 2, "{back:#?}");
    for p in &back {
        assert_eq!(
            p.meta.as_ref().and_then(|m| m.release_id),
            first.release_id,
            "{p:?}"
        );
    }
    let restored: Swarm = s.api.get(&paths::swarm(swarm.id)).await.expect_ok().json();
    assert_eq!(restored.spec.env_yaml, "COLOUR: blue\n");
    let (ok, out) = vr(&["swarm", "history", "web-prod-web"]);
    assert!(ok && out.contains("(rollback to #"), "{out}");
    assert!(out.contains("env.COLOUR: green → blue"), "{out}");
    // Each release change names the release it replaced, and the command that diffs them.
    let hint = out
        .lines()
        .find_map(|l| l.split("(see `vr compare-releases ").nth(1))
        .unwrap_or_else(|| panic!("no config line: {out}"));
    let pair: Vec<&str> = hint.trim_end_matches("`)").split(' ').collect();
    let (ok, diff) = vr(&["compare-releases", pair[0], pair[1]]);
    assert!(ok && diff.contains("COLOUR"), "{diff}");
    let r = s
        .api
        .post(&paths::rollback(checked.id), &RollbackRequest::default())
        .await;
    assert_eq!(r.status, 404, "a deleted swarm: {}", r.value());

    // Two swarms dispatched at once onto the same hosts never get the same port.
    let mut ids = Vec::new();
    for config in ["blue", "green"] {
        let mut spec = web_swarm(2);
        spec.config = config.into();
        let made = create_swarm(&s.api, &spec).await;
        ids.push(made.id);
    }
    let mut queued = Vec::new();
    for id in &ids {
        let d: Dispatch = s
            .api
            .post(&paths::dispatch_swarm(*id), &DispatchRequest::default())
            .await
            .expect_status(202)
            .json();
        queued.push(d.id);
    }
    for id in queued {
        let d = finished(&s.api, id).await;
        assert_eq!(d.status, DispatchStatus::Succeeded, "{d:#?}");
    }
    let all = fleet(&s.api).await.procs;
    let mut seen = std::collections::HashSet::new();
    for p in all
        .iter()
        .filter(|p| p.meta.as_ref().is_some_and(|m| m.port != 0))
    {
        let port = p.meta.as_ref().map_or(0, |m| m.port);
        assert!(
            seen.insert((p.host.clone(), port)),
            "port {port} twice on {}: {all:#?}",
            p.host
        );
        assert!(answers(port).await, "{} does not answer on {port}", p.name);
    }
    assert_eq!(seen.len(), 6, "{all:#?}");

    // The server killed in the middle of a dispatch: after the restart the dispatch is failed
    // with the reason, and dispatching again finishes the job with whole procs only.
    let blue = ids[0];
    let mut spec = web_swarm(2);
    spec.config = "blue".into();
    spec.env_yaml = "COLOUR: navy\n".into();
    s.api.put(&paths::swarm(blue), &spec).await.expect_ok();
    let d: Dispatch = s
        .api
        .post(&paths::dispatch_swarm(blue), &keep_version())
        .await
        .expect_status(202)
        .json();
    wait_for_deploys(&s.api, d.id).await;
    let mut server = s.server;
    server.kill();
    server.restart().await;
    let api = server.admin().await;
    let after: Dispatch = api.get(&paths::dispatch(d.id)).await.expect_ok().json();
    assert_eq!(after.status, DispatchStatus::Failed, "{after:#?}");
    assert!(
        after
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("server stopped"),
        "{after:#?}"
    );
    wait_health(
        &api,
        "builder1",
        vr_app::fleet::Health::Ok,
        Duration::from_secs(20),
    )
    .await;
    wait_health(
        &api,
        "web2",
        vr_app::fleet::Health::Ok,
        Duration::from_secs(20),
    )
    .await;
    let again = succeeded(&api, blue, &keep_version()).await;
    let blue_procs = procs_of(&api, blue).await;
    assert_eq!(blue_procs.len(), 2, "{blue_procs:#?}");
    for p in &blue_procs {
        assert_eq!(p.state, ProcState::Running, "{p:?}");
        assert_eq!(p.meta.as_ref().and_then(|m| m.release_id), again.release_id);
    }
}

/// The operator's loop in Chromium: create a swarm and dispatch it, watch it live, plan,
/// change its env and dispatch again, roll back.
#[tokio::test]
async fn a_swarm_is_created_planned_dispatched_and_rolled_back_in_the_ui() {
    use vr_tests::harness::Browser;
    let s = swarm_setup().await;
    let (_repo, _build) = web_built(&s).await;
    add_squad(&s.api).await;
    give_ports(&s.api, "builder1", 4).await;

    let browser = Browser::start().await;
    browser
        .sign_in(&s.server.base_url(), "admin", super::fleet::PW)
        .await;
    browser.goto(&s.server.url("/swarms")).await;
    browser
        .wait_for_text("[data-test=\"swarms-table\"]", "No swarms to show.")
        .await;
    browser.click("#swarms-new").await;
    for (field, value) in [
        ("#swarm-app", "web"),
        ("#swarm-version", "main"),
        ("#swarm-proc", "web"),
        ("#swarm-config", "ui"),
        ("#swarm-squad", "eu"),
        ("#swarm-size", "5e3"),
    ] {
        browser.fill(field, value).await;
    }
    // Its procs run sandboxed (the whole loop below runs them so).
    browser.click("#swarm-sandbox").await;
    // A bad number is refused next to its field, before anything is sent.
    browser.click("#swarm-save-dispatch").await;
    browser.wait_for("#swarm-size-error").await;
    browser.fill("#swarm-size", "1").await;
    // The config tab: a value the server refuses is named by the preview; saving from another
    // tab brings the form back to the tab of the field at fault.
    browser.click("#swarm-tab-config").await;
    browser.fill("#swarm-env", "COLOUR: [\n").await;
    browser.click("#swarm-preview").await;
    browser
        .wait_for("[data-test=swarm-preview] [data-test=form-error]")
        .await;
    browser.click("#swarm-tab-routing").await;
    browser.click("#swarm-save").await;
    browser.wait_for("#swarm-env-error").await;
    browser
        .wait_for("#swarm-tab-config[aria-selected=\"true\"]")
        .await;
    browser.fill("#swarm-env", "COLOUR: blue\n").await;
    browser.fill("#swarm-settings", "greeting: hi\n").await;
    // The preview: each key with the layer it comes from.
    browser.click("#swarm-preview").await;
    browser
        .wait_for("[data-test=swarm-preview-env] tr[data-key=COLOUR][data-from=own]")
        .await;
    browser
        .wait_for("[data-test=swarm-preview-settings] tr[data-key=greeting][data-from=own]")
        .await;
    browser.click("#swarm-save-dispatch").await;
    browser
        .wait_for("#dispatch-status[data-status=\"succeeded\"]")
        .await;
    browser
        .wait_for("li[data-test=\"dispatch-step\"][data-name=\"deploy\"][data-ok=\"true\"]")
        .await;
    browser.screenshot("ui-dispatch").await;

    browser.click("#dispatch-swarm").await;
    browser
        .wait_for("#swarm-state[data-state=\"matches\"]")
        .await;
    browser
        .wait_for("tr[data-test=\"swarm-proc\"][data-host=\"builder1\"][data-state=\"RUNNING\"]")
        .await;
    browser.screenshot("ui-swarm").await;
    let made: Vec<Swarm> = s.api.get(paths::SWARMS).await.expect_ok().json();
    assert_eq!(made[0].spec.runner, vr_app::release::Runner::Sandbox);
    let pid = procs_of(&s.api, made[0].id)
        .await
        .iter()
        .find_map(|p| p.pid)
        .expect("a running proc");
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    assert_eq!(comm.trim(), "bwrap", "Supervisor's pid is the sandbox's");

    // Plan: a dry run, shown as such, changing nothing.
    browser.click("#swarm-plan").await;
    browser.wait_for_text("#dispatch-plan", "dry run").await;
    browser.wait_for_text("#dispatch-plan", "keep ").await;
    browser
        .wait_for("#dispatch-status[data-status=\"succeeded\"]")
        .await;

    // A new env value, saved and dispatched from the swarm's page.
    browser.click("#dispatch-swarm").await;
    browser.click("#swarm-edit summary").await;
    browser.click("#swarm-tab-config").await;
    browser.fill("#swarm-env", "COLOUR: green\n").await;
    browser.click("#swarm-save-dispatch").await;
    browser
        .wait_for("#dispatch-status[data-status=\"succeeded\"]")
        .await;
    browser
        .wait_for_text("[data-test=\"dispatch-facts\"]", "env.COLOUR: blue → green")
        .await;

    // The swarm's history links what the release's config changed: the release compared
    // with the one it replaced.
    browser.click("#dispatch-swarm").await;
    browser.click("a[data-test=history-config-diff]").await;
    browser
        .wait_for_text("[data-test=release-diff]", "COLOUR")
        .await;
    let listed: Vec<Swarm> = s.api.get(paths::SWARMS).await.expect_ok().json();
    browser
        .goto(&s.server.url(&format!("/swarms/{}", listed[0].id)))
        .await;

    // Roll back from the swarm's page: the first release runs again.
    browser.click("#swarm-rollback").await;
    browser
        .wait_for("#dispatch-status[data-status=\"succeeded\"]")
        .await;
    browser
        .wait_for_text("[data-test=\"dispatch-steps\"]", "rollback: build")
        .await;
    let swarms: Vec<Swarm> = s.api.get(paths::SWARMS).await.expect_ok().json();
    assert_eq!(swarms.len(), 1);
    assert_eq!(swarms[0].spec.env_yaml, "COLOUR: blue\n");
    let history: Vec<Dispatch> = s
        .api
        .get(&format!("{}?swarm={}", paths::DISPATCHES, swarms[0].id))
        .await
        .expect_ok()
        .json();
    let first_release = history.last().and_then(|d| d.release_id);
    assert_eq!(swarms[0].release_id, first_release, "{history:#?}");
    browser.goto(&s.server.url("/swarms")).await;
    browser
        .wait_for("tr[data-test=\"swarm-row\"][data-name=\"web-ui-web\"][data-state=\"matches\"]")
        .await;
    // Filters live in the URL: chosen, reloaded, still applied; a status no swarm has hides it.
    browser.select("#swarms-filter-squad", "eu").await;
    browser
        .wait_for_text("#swarms-dispatch-shown", "every swarm on squad eu (1)")
        .await;
    assert!(browser.current_url().await.contains("squad=eu"));
    browser.reload().await;
    browser
        .wait_for("tr[data-test=\"swarm-row\"][data-name=\"web-ui-web\"]")
        .await;
    browser
        .wait_for_text("#swarms-dispatch-shown", "every swarm on squad eu (1)")
        .await;
    browser.goto(&s.server.url("/swarms?status=failed")).await;
    browser
        .wait_for_text("[data-test=\"swarms-table\"]", "No swarms to show.")
        .await;
    browser.goto(&s.server.url("/swarms?host=builder1")).await;
    browser
        .wait_for("tr[data-test=\"swarm-row\"][data-name=\"web-ui-web\"]")
        .await;
    // Dispatching what the filters show asks for the count, typed.
    let before = dispatch_count(&s.api, swarms[0].id).await;
    browser.click("#swarms-dispatch-shown").await;
    browser.fill("#confirm-typed", "1").await;
    browser.click("#confirm-ok").await;
    browser
        .wait_for_text("[data-test=\"toasts\"]", "1 dispatch(es) queued.")
        .await;
    assert_eq!(dispatch_count(&s.api, swarms[0].id).await, before + 1);
    // Ticked rows: "dispatch selected" takes those only (none ticked: nothing to do).
    browser
        .wait_for("#swarms-dispatch-selected[disabled]")
        .await;
    browser
        .click("tr[data-test=\"swarm-row\"][data-name=\"web-ui-web\"] [data-test=swarm-select]")
        .await;
    browser
        .wait_for_text("#swarms-dispatch-selected", "the 1 selected swarm(s)")
        .await;
    browser.click("#swarms-dispatch-selected").await;
    browser.fill("#confirm-typed", "1").await;
    browser.click("#confirm-ok").await;
    let queued = vr_tests::harness::wait_until_async(Duration::from_secs(10), || {
        let (api, id) = (&s.api, swarms[0].id);
        async move { dispatch_count(api, id).await == before + 2 }
    })
    .await;
    assert!(queued, "dispatch selected queued nothing");
    // The dashboard groups the procs by the swarm their proc.json names, linked to it.
    browser.goto(&s.server.url("/")).await;
    browser
        .wait_for(&format!(
            "tr[data-test=\"proc-swarm\"][data-group=\"swarm-{}\"] a[href=\"/swarms/{}\"]",
            swarms[0].id, swarms[0].id
        ))
        .await;
    browser.close().await;
}

/// The config preview (`POST /api/swarms/preview`), through the API: each key with its layer;
/// an edit's masked secret keeps the swarm's value (and stays masked); bad input is named by
/// field; an app never built has nothing to preview with. Nothing is saved.
#[tokio::test]
async fn the_config_preview_names_each_keys_layer_and_keeps_secrets_masked() {
    use vr_app::release::{Layer, ReleasePreview};
    let s = swarm_setup().await;
    add_squad(&s.api).await;
    let mut spec = web_swarm(1);
    spec.env_yaml = "COLOUR: blue\nTOKEN: s3cret-value\n".into();
    spec.secret_keys = vec!["TOKEN".into()];
    // Not built yet: a 409 naming the app.
    let repo = super::deploys::web_app();
    super::builds::add_app(&s.api, "web", &repo).await;
    let r = s.api.post(paths::PREVIEW, &spec).await.expect_status(409);
    assert_eq!(r.value()["error"]["field"], "app", "{}", r.value());
    let (b, log) = super::builds::build(&s.api, "web", "main", false).await;
    assert_eq!(b.status, vr_app::build::BuildStatus::Succeeded, "{log}");

    let swarm = create_swarm(&s.api, &spec).await;
    assert!(swarm.spec.env_yaml.contains(vr_app::secret::MASK));
    // The edit as the form sends it back: the secret masked, a setting added.
    let mut edit = swarm.spec.clone();
    edit.settings_yaml = "greeting: hello\n".into();
    let p: ReleasePreview = s
        .api
        .post(&format!("{}?id={}", paths::PREVIEW, swarm.id), &edit)
        .await
        .expect_ok()
        .json();
    let layer = |list: &[vr_app::release::Sourced], key: &str| {
        list.iter()
            .find(|k| k.key == key)
            .map(|k| (k.from.clone(), k.value.clone()))
    };
    assert_eq!(
        layer(&p.settings_from, "greeting"),
        Some((Layer::Own, serde_json::json!("hello")))
    );
    assert_eq!(
        layer(&p.env_from, "COLOUR"),
        Some((Layer::Own, serde_json::json!("blue")))
    );
    let token = layer(&p.env_from, "TOKEN").expect("TOKEN");
    assert_eq!(token.1, serde_json::json!(vr_app::secret::MASK));
    assert!(!serde_json::to_string(&p).expect("json").contains("s3cret"));
    // Without the swarm to take it from, a masked value is refused, naming the field.
    let r = s.api.post(paths::PREVIEW, &edit).await.expect_status(400);
    assert_eq!(r.value()["error"]["field"], "env_yaml", "{}", r.value());
    let mut bad = spec.clone();
    bad.settings_yaml = "greeting: [".into();
    let r = s.api.post(paths::PREVIEW, &bad).await.expect_status(400);
    assert_eq!(
        r.value()["error"]["field"],
        "settings_yaml",
        "{}",
        r.value()
    );
    // The CLI prints the same for the swarm as saved.
    let cli = super::fleet::cli_token(&s.api).await;
    let (ok, out) = super::fleet::vr(&s.server, &cli, &["swarm", "preview", "web-prod-web"]);
    assert!(ok, "{out}");
    assert!(out.contains("  COLOUR = blue   (own)"), "{out}");
    assert!(out.contains("  greeting = hi   (own)"), "{out}");
    assert!(
        out.contains(&format!("  TOKEN = {}   (own)", vr_app::secret::MASK)),
        "{out}"
    );
    assert!(!out.contains("s3cret"), "{out}");
    // Nothing was saved by any of it.
    let now: Swarm = s.api.get(&paths::swarm(swarm.id)).await.expect_ok().json();
    assert_eq!(now.spec.settings_yaml, swarm.spec.settings_yaml);
    let all: Vec<Swarm> = s.api.get(paths::SWARMS).await.expect_ok().json();
    assert_eq!(all.len(), 1);
}
