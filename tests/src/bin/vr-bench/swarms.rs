//! Swarm benchmarks (issue 11): a 10-proc web swarm over 5 harness hosts — its first dispatch
//! and v1 → v2 (a new env value: a new release of the same build) — each against its floor
//! (the slowest new proc's start and uptests, from its deploy's steps), with the SSH
//! connections the server opened per host during the dispatch (its debug log counts them); and
//! `vr swarm '.*' -` (the real CLI) over 50 one-proc swarms that already match.

use super::{PW, ms};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use vr_app::build::{NewApp, NewBuildpack, paths as build_paths};
use vr_app::deploy::{DeployStepKind, Deployment, paths as deploy_paths};
use vr_app::fleet::{Health, HostPatch, NewSquad, paths as fleet_paths};
use vr_app::swarm::{Dispatch, DispatchRequest, DispatchStatus, Swarm, SwarmSpec, paths};
use vr_tests::harness::fleet::{add_host, server_key, wait_health};
use vr_tests::harness::git::{GitRepo, shell_buildpack};
use vr_tests::harness::{ApiClient, HostOptions, ServerOptions, TestHost, VrServer};

const HOSTS: usize = 5;

fn web_repo() -> GitRepo {
    let repo = GitRepo::new();
    repo.commit(
        &[
            ("app.sh", "#!/bin/sh\n"),
            ("index.html", "hello\n"),
            (
                "uptests/web/01_http.sh",
                "#!/bin/sh\nexec python3 -c 'import sys, urllib.request; urllib.request.urlopen(\"http://%s:%s/\" % (sys.argv[1], sys.argv[2]), timeout=5)' \"$1\" \"$2\"\n",
            ),
            ("Procfile", "web: exec python3 -m http.server $PORT --bind 127.0.0.1\n"),
        ],
        "web",
    );
    repo
}

pub(super) async fn dispatch(
    api: &ApiClient,
    id: i64,
    req: &DispatchRequest,
) -> (Dispatch, Duration) {
    let t = Instant::now();
    let d: Dispatch = api
        .post(&paths::dispatch_swarm(id), req)
        .await
        .expect_status(202)
        .json();
    loop {
        let now: Dispatch = api.get(&paths::dispatch(d.id)).await.expect_ok().json();
        if !now.status.in_flight() {
            assert_eq!(now.status, DispatchStatus::Succeeded, "{now:#?}");
            return (now, t.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The slowest new proc's start and uptests: the part of a dispatch no tool can skip.
pub(super) async fn floor(api: &ApiClient, d: &Dispatch) -> Duration {
    let mut slowest = 0;
    for id in &d.deploys {
        let dep: Deployment = api.get(&deploy_paths::deploy(*id)).await.expect_ok().json();
        let ms: u64 = dep
            .steps
            .iter()
            .filter(|s| {
                matches!(
                    s.name,
                    DeployStepKind::AddToSupervisor
                        | DeployStepKind::WaitRunning
                        | DeployStepKind::Uptests
                )
            })
            .map(|s| s.ms)
            .sum();
        slowest = slowest.max(ms);
    }
    Duration::from_millis(slowest)
}

/// Each dispatch step and its time, in order: where a dispatch's wall time goes.
pub(super) fn steps_line(d: &Dispatch) -> String {
    d.steps
        .iter()
        .map(|s| format!("{} {}", s.name.label(), ms(Duration::from_millis(s.ms))))
        .collect::<Vec<_>>()
        .join(", ")
}

/// SSH connections opened per host in `log` (the part written during one dispatch).
fn connections(log: &str) -> BTreeMap<String, usize> {
    let mut per_host = BTreeMap::new();
    for line in log.lines().filter(|l| l.contains("ssh connection opened")) {
        if let Some(host) = line
            .split("host=")
            .nth(1)
            .and_then(|h| h.split_whitespace().next())
        {
            *per_host.entry(host.to_string()).or_insert(0) += 1;
        }
    }
    per_host
}

fn spec(config: &str, size: u32) -> SwarmSpec {
    SwarmSpec {
        app: "bench".into(),
        version: "main".into(),
        proc_type: "web".into(),
        config: config.into(),
        squad: "bench".into(),
        size,
        uses_ports: true,
        env_yaml: "COLOUR: blue\n".into(),
        ..SwarmSpec::default()
    }
}

pub async fn run(vr: &Path) {
    let server = VrServer::start(ServerOptions {
        admin_password: Some(PW.into()),
        binary: Some(vr.to_path_buf()),
        env: vec![(
            "RUST_LOG".into(),
            "info,vr_server::remote::ssh=debug".into(),
        )],
        ..Default::default()
    })
    .await;
    let api = server.admin().await;
    let key = server_key(&api).await;
    api.post(
        fleet_paths::SQUADS,
        &NewSquad {
            name: "bench".into(),
            description: String::new(),
        },
    )
    .await
    .expect_status(201);
    let hosts = TestHost::start_many(
        HOSTS,
        HostOptions {
            authorized_keys: vec![key],
            ..Default::default()
        },
    );
    for (i, h) in hosts.iter().enumerate() {
        let name = format!("h{i}");
        add_host(&api, h, &name, Some("bench")).await;
        let base = vr_tests::harness::proc_port_range(16);
        api.patch(
            &fleet_paths::host(&name),
            &HostPatch {
                port_min: Some(Some(base)),
                port_max: Some(Some(base + 15)),
                builder: Some(i == 0),
                ..Default::default()
            },
        )
        .await
        .expect_ok();
        wait_health(&api, &name, Health::Ok, Duration::from_secs(15)).await;
    }
    let bp = shell_buildpack();
    api.post(
        build_paths::BUILDPACKS,
        &NewBuildpack {
            url: bp.url(),
            order: None,
            description: String::new(),
        },
    )
    .await
    .expect_status(201);
    let repo = web_repo();
    api.post(
        build_paths::APPS,
        &NewApp {
            name: "bench".into(),
            repo_url: repo.url(),
            buildpack: None,
            notes: String::new(),
            stack: None,
        },
    )
    .await
    .expect_status(201);

    // The floor: one proc alone (nothing queued behind anything), its start and uptests.
    let solo: Swarm = api
        .post(paths::SWARMS, &spec("solo", 1))
        .await
        .expect_status(201)
        .json();
    let (solo_d, _) = dispatch(&api, solo.id, &DispatchRequest::default()).await;
    let alone = floor(&api, &solo_d).await;
    println!("one proc alone: start + uptests {}", ms(alone));
    let big: Swarm = api
        .post(paths::SWARMS, &spec("prod", 10))
        .await
        .expect_status(201)
        .json();
    // The first dispatch builds too; its build is timed apart.
    let (first, first_wall) = dispatch(&api, big.id, &DispatchRequest::default()).await;
    let build_ms: u64 = first
        .steps
        .iter()
        .filter(|s| s.name == vr_app::swarm::DispatchStepKind::Build)
        .map(|s| s.ms)
        .sum();
    let first_floor = floor(&api, &first).await;
    println!(
        "swarm 10 procs / {HOSTS} hosts, first dispatch: {} wall ({} of it the build), floor {} (slowest proc start + uptests), {:.2}× the floor without the build",
        ms(first_wall),
        ms(Duration::from_millis(build_ms)),
        ms(first_floor),
        (first_wall.as_secs_f64() - build_ms as f64 / 1000.0)
            / first_floor.as_secs_f64().max(0.001)
    );

    let mut changed = spec("prod", 10);
    changed.env_yaml = "COLOUR: green\n".into();
    api.put(&paths::swarm(big.id), &changed).await.expect_ok();
    let before = server.log().len();
    let keep = DispatchRequest {
        version: Some("-".into()),
        ..DispatchRequest::default()
    };
    let (second, wall) = dispatch(&api, big.id, &keep).await;
    let log = server.log();
    let per_host = connections(log.get(before..).unwrap_or_default());
    let second_floor = floor(&api, &second).await;
    println!("v1 → v2 steps: {}", steps_line(&second));
    println!(
        "swarm 10 procs / {HOSTS} hosts, v1 → v2: {} wall; {:.2}× the slowest new proc's start + uptests ({}, queueing behind the other proc on its host included), {:.2}× one proc alone; SSH connections opened during it, per host: {per_host:?} (the hosts' dispatch sessions stay open between dispatches)",
        ms(wall),
        wall.as_secs_f64() / second_floor.as_secs_f64().max(0.001),
        ms(second_floor),
        wall.as_secs_f64() / alone.as_secs_f64().max(0.001)
    );

    // 50 one-proc swarms, dispatched once, then `vr swarm '.*' -` while they all match.
    let mut ids = Vec::new();
    for i in 0..50 {
        let s: Swarm = api
            .post(paths::SWARMS, &spec(&format!("c{i}"), 1))
            .await
            .expect_status(201)
            .json();
        ids.push(s.id);
    }
    let t = Instant::now();
    let mut queued = Vec::new();
    for id in &ids {
        let d: Dispatch = api
            .post(&paths::dispatch_swarm(*id), &DispatchRequest::default())
            .await
            .expect_status(202)
            .json();
        queued.push(d.id);
    }
    for id in queued {
        loop {
            let d: Dispatch = api.get(&paths::dispatch(id)).await.expect_ok().json();
            if !d.status.in_flight() {
                assert_eq!(d.status, DispatchStatus::Succeeded, "{d:#?}");
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    println!(
        "50 one-proc swarms dispatched at once (10 per host, one deploy session per host): {} wall",
        ms(t.elapsed())
    );
    let token: vr_app::api::CreatedToken = api
        .post("/api/tokens", &serde_json::json!({ "name": "bench" }))
        .await
        .expect_status(201)
        .json();
    let mut runs = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let out = std::process::Command::new(vr)
            .args(["swarm", ".*", "-"])
            .env("VR_URL", server.base_url())
            .env("VR_TOKEN", &token.secret)
            .env(
                "VR_CREDENTIALS",
                server.temp_dir().join("bench-credentials.toml"),
            )
            .output()
            .expect("running vr");
        runs.push(t.elapsed());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    runs.sort();
    println!(
        "`vr swarm '.*' -` over 52 matching swarms (the CLI process, start to exit), 3 runs: median {}, max {}",
        ms(runs[1]),
        ms(runs[2])
    );

    // Velociraptor's own client against /api/v1/, side by side: it only asks for the
    // dispatches, so the time until the last one has ended is counted too.
    let vrcli = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/vrcli/bin/vr.cli");
    if !vrcli.exists() {
        println!(
            "vr.cli: skipped ({} missing: scripts/bootstrap.sh test installs it)",
            vrcli.display()
        );
        return;
    }
    for (what, password) in [
        ("an API token", token.secret.as_str()),
        ("the password", PW),
    ] {
        let t = Instant::now();
        let out = std::process::Command::new(&vrcli)
            .args(["swarm", ".*", "-"])
            .env("VELOCIRAPTOR_URL", format!("{}/", server.base_url()))
            .env("VELOCIRAPTOR_USERNAME", "admin")
            .env("VELOCIRAPTOR_PASSWORD", password)
            .output()
            .expect("running vr.cli");
        let client = t.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        loop {
            let all: Vec<Dispatch> = api
                .get("/api/dispatches?limit=200")
                .await
                .expect_ok()
                .json();
            if all.iter().all(|d| !d.status.in_flight()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        println!(
            "VR's `vr.cli swarm '.*' -` over 52 matching swarms, Basic auth with {what}: client {} (1 list + 52 dispatch requests), every dispatch ended {}",
            ms(client),
            ms(t.elapsed())
        );
    }
}
