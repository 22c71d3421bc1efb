//! vr against Ansible, side by side in one run (issue 12): the same 5 harness hosts, the same
//! build (unpacked once by vr), the same nginx balancer host, and the same rollout — 10 procs of
//! a web app v1 → v2 behind nginx under a steady request loop. For each: wall time, SSH logins
//! per host (sshd's own log), failed requests; for vr also the floor (the slowest new proc's
//! start + uptests, plus the route step's validate and reload). Ansible (`ansible-core`, in
//! `.tools/ansible`, installed by `scripts/bench.sh`) runs `bench/ansible/rollout.yml`.

use super::ms;
use super::swarms::{dispatch, floor, steps_line};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vr_app::balancer::paths as bpaths;
use vr_app::build::{Build, BuildStatus, NewApp, NewBuildpack, paths as build_paths};
use vr_app::fleet::{Health, HostPatch, NewSquad, paths as fleet_paths};
use vr_app::swarm::{DispatchRequest, DispatchStepKind, Swarm, SwarmSpec, paths};
use vr_tests::harness::balancer::NginxEdge;
use vr_tests::harness::fleet::{add_host, server_key, wait_health};
use vr_tests::harness::git::{GitRepo, shell_buildpack};
use vr_tests::harness::load::{Load, wait_answers};
use vr_tests::harness::{ClientKey, HostOptions, TestHost};

const HOSTS: usize = 5;
const PER_HOST: usize = 2;

fn echo_repo() -> GitRepo {
    let repo = GitRepo::new();
    repo.commit(
        &[
            // What the test shell buildpack detects.
            ("app.sh", "#!/bin/sh\n"),
            ("echo.py", vr_tests::harness::balancer::ECHO_PY),
            (
                "uptests/web/01_http.sh",
                vr_tests::harness::balancer::ECHO_UPTEST,
            ),
            ("Procfile", "web: exec python3 echo.py\n"),
        ],
        "echo",
    );
    repo
}

fn logins(hosts: &[TestHost]) -> Vec<usize> {
    hosts.iter().map(TestHost::logins).collect()
}

fn per_host(before: &[usize], after: &[usize]) -> String {
    before
        .iter()
        .zip(after)
        .map(|(b, a)| (a - b).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Ansible inventory: each app host with its ports and Supervisor layout, and the
/// balancer host.
fn inventory(
    hosts: &[TestHost],
    lb: &TestHost,
    key: &ClientKey,
    ports: &[Vec<u16>],
    old: &[Vec<u16>],
    edge: &NginxEdge,
) -> String {
    let list = |p: &[u16]| {
        format!(
            "[{}]",
            p.iter().map(u16::to_string).collect::<Vec<_>>().join(",")
        )
    };
    let line = |name: &str, h: &TestHost| {
        format!(
            "{name} ansible_host=127.0.0.1 ansible_port={} ansible_user={} ansible_ssh_private_key_file={}",
            h.ssh_port(),
            h.user(),
            key.private_path().display()
        )
    };
    let mut out = String::from("[apps]\n");
    for (i, h) in hosts.iter().enumerate() {
        let _ = writeln!(
            out,
            "{} ctl=\"{}\" include_dir={} apps_root={} new_ports=\"{}\" old_ports=\"{}\"",
            line(&format!("h{i}"), h),
            h.supervisorctl(),
            h.include_dir().display(),
            h.apps_root().display(),
            list(&ports[i]),
            list(&old[i])
        );
    }
    let _ = writeln!(
        out,
        "[lb]\n{} pool_file={}/pools/ans.conf nginx=\"{}\"",
        line("lb", lb),
        edge.path().display(),
        edge.nginx("")
    );
    out
}

/// Runs the playbook once; its wall time.
fn ansible(tools: &Path, work: &Path, colour: &str, build: &str) -> Duration {
    let t = Instant::now();
    let out = std::process::Command::new(tools.join("bin/ansible-playbook"))
        .arg("-i")
        .arg(work.join("inventory"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/ansible/rollout.yml"))
        .args(["-e", &format!("colour={colour} build={build}")])
        .env("ANSIBLE_CONFIG", work.join("ansible.cfg"))
        // A fresh ControlPath folder per run: each run opens its own connections, as a run
        // started more than ControlPersist's 60 s after the last one does.
        .env(
            "ANSIBLE_SSH_CONTROL_PATH_DIR",
            work.join(format!("cp-{colour}")),
        )
        .env("ANSIBLE_LOCAL_TEMP", work.join("tmp"))
        .env("ANSIBLE_HOME", work.join("home"))
        .output()
        .expect("running ansible-playbook");
    assert!(
        out.status.success(),
        "ansible-playbook failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    t.elapsed()
}

pub async fn run(vr: &Path) {
    let tools = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/ansible");
    assert!(
        tools.join("bin/ansible-playbook").exists(),
        "no ansible-playbook in {}: run scripts/bench.sh (it installs ansible-core there)",
        tools.display()
    );
    let server = super::bench_server(vr).await;
    let api = server.admin().await;
    let ansible_key = ClientKey::generate();
    let opts = HostOptions {
        authorized_keys: vec![
            server_key(&api).await,
            ansible_key.public_line().to_string(),
        ],
        log_logins: true,
        ..Default::default()
    };
    let hosts = TestHost::start_many(HOSTS, opts.clone());
    let lb = TestHost::start(opts);
    api.post(
        fleet_paths::SQUADS,
        &NewSquad {
            name: "bench".into(),
            description: String::new(),
        },
    )
    .await
    .expect_status(201);
    // vr's procs get 16 ports per host; Ansible's get two fixed pairs of their own.
    let mut ansible_ports: Vec<[u16; 4]> = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        let name = format!("h{i}");
        add_host(&api, h, &name, Some("bench")).await;
        // One range per host, so vr's ports and Ansible's never meet, and below the kernel's
        // ephemeral ports: the request loop's thousands of short connections would otherwise
        // sit on a port a new proc wants.
        let base = vr_tests::harness::proc_port_range(20);
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
        let a = base + 16;
        ansible_ports.push([a, a + 1, a + 2, a + 3]);
        wait_health(&api, &name, Health::Ok, Duration::from_secs(15)).await;
    }
    add_host(&api, &lb, "lb", None).await;
    wait_health(&api, "lb", Health::Ok, Duration::from_secs(15)).await;
    // Port 0 proxies to vr's pool, port 1 to Ansible's.
    let edge = NginxEdge::start(&[("vr-pool-web.conf", "web"), ("ans.conf", "ans")]);
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
    let repo = echo_repo();
    api.post(
        build_paths::APPS,
        &NewApp {
            name: "echo".into(),
            repo_url: repo.url(),
            buildpack: None,
            notes: String::new(),
            stack: None,
        },
    )
    .await
    .expect_status(201);
    api.post(bpaths::BALANCERS, &edge.balancer("edge", &["lb"], 300))
        .await
        .expect_status(201);
    let mut spec = SwarmSpec {
        app: "echo".into(),
        version: "main".into(),
        proc_type: "web".into(),
        config: "prod".into(),
        squad: "bench".into(),
        size: u32::try_from(HOSTS * PER_HOST).unwrap_or(10),
        uses_ports: true,
        env_yaml: "COLOUR: blue\n".into(),
        pool: Some("web".into()),
        balancer: Some("edge".into()),
        ..SwarmSpec::default()
    };
    let swarm: Swarm = api
        .post(paths::SWARMS, &spec)
        .await
        .expect_status(201)
        .json();
    // v1, which builds and unpacks the build on every host (Ansible reuses it).
    let (v1, _) = dispatch(&api, swarm.id, &DispatchRequest::default()).await;
    wait_answers(edge.ports[0], "blue").await;
    let build: Build = api
        .get(&build_paths::build(v1.build_id.expect("a build")))
        .await
        .expect_ok()
        .json();
    assert_eq!(build.status, BuildStatus::Succeeded);
    let sha = build.sha256.clone().expect("the build's sha256");

    // vr: v1 → v2 under load.
    spec.env_yaml = "COLOUR: green\n".into();
    api.put(&paths::swarm(swarm.id), &spec).await.expect_ok();
    let before = logins(&hosts);
    let lb_before = lb.logins();
    let load = Load::start(edge.ports[0]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let keep = DispatchRequest {
        version: Some("-".into()),
        ..DispatchRequest::default()
    };
    let (v2, vr_wall) = dispatch(&api, swarm.id, &keep).await;
    let (vr_n, vr_failed, _) = load.stop().await;
    wait_answers(edge.ports[0], "green").await;
    let vr_total = logins(&hosts);
    let vr_logins = per_host(&before, &vr_total);
    let vr_lb = lb.logins() - lb_before;
    let route_ms: u64 = v2
        .steps
        .iter()
        .filter(|s| s.name == DispatchStepKind::Route)
        .map(|s| s.ms)
        .sum();
    let start = floor(&api, &v2).await;
    let vr_floor = start + Duration::from_millis(route_ms);

    // Ansible: v1 once (not timed), then v1 → v2 under load.
    let work = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(work.path().join("tmp")).expect("tmp dir");
    std::fs::write(
        work.path().join("ansible.cfg"),
        "[defaults]\nhost_key_checking = False\nforks = 10\ngathering = explicit\n\
         interpreter_python = /usr/bin/python3\n\
         [ssh_connection]\npipelining = True\n",
    )
    .expect("ansible.cfg");
    let first: Vec<Vec<u16>> = ansible_ports.iter().map(|p| p[..2].to_vec()).collect();
    let second: Vec<Vec<u16>> = ansible_ports.iter().map(|p| p[2..].to_vec()).collect();
    let none: Vec<Vec<u16>> = vec![Vec::new(); HOSTS];
    std::fs::write(
        work.path().join("inventory"),
        inventory(&hosts, &lb, &ansible_key, &first, &none, &edge),
    )
    .expect("inventory");
    ansible(&tools, work.path(), "blue", &sha);
    wait_answers(edge.ports[1], "blue").await;
    std::fs::write(
        work.path().join("inventory"),
        inventory(&hosts, &lb, &ansible_key, &second, &first, &edge),
    )
    .expect("inventory");
    let before = logins(&hosts);
    let lb_before = lb.logins();
    let load = Load::start(edge.ports[1]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ans_wall = tokio::task::spawn_blocking({
        let (tools, work, sha) = (tools.clone(), work.path().to_path_buf(), sha.clone());
        move || ansible(&tools, &work, "green", &sha)
    })
    .await
    .expect("ansible task");
    let (ans_n, ans_failed, _) = load.stop().await;
    wait_answers(edge.ports[1], "green").await;
    let ans_logins = per_host(&before, &logins(&hosts));
    let ans_lb = lb.logins() - lb_before;

    let mut errors = BTreeMap::new();
    for e in vr_failed.iter().chain(&ans_failed) {
        *errors
            .entry(e.lines().next().unwrap_or("").to_string())
            .or_insert(0) += 1;
    }
    println!(
        "v1 → v2 of {} procs over {HOSTS} hosts behind nginx, side by side:",
        HOSTS * PER_HOST
    );
    println!(
        "  vr:      {} wall; floor {} (slowest new proc's start + uptests {} + route {} ms) = {:.2}× the floor, {:.2}× with the 300 ms drain; failed requests {} of {vr_n}; SSH logins per app host [{vr_logins}], balancer host {vr_lb} (its sessions outlive a dispatch); logins per host since start [{}]",
        ms(vr_wall),
        ms(vr_floor),
        ms(start),
        route_ms,
        vr_wall.as_secs_f64() / vr_floor.as_secs_f64().max(0.001),
        vr_wall.as_secs_f64() / (vr_floor.as_secs_f64() + 0.3),
        vr_failed.len(),
        per_host(&[0; HOSTS], &vr_total)
    );
    println!("  vr's steps: {}", steps_line(&v2));
    println!(
        "  Ansible: {} wall; failed requests {} of {ans_n}; SSH logins per app host [{ans_logins}], balancer host {ans_lb}",
        ms(ans_wall),
        ans_failed.len()
    );
    println!(
        "  Ansible / vr: {:.1}×{}",
        ans_wall.as_secs_f64() / vr_wall.as_secs_f64().max(0.001),
        if errors.is_empty() {
            String::new()
        } else {
            format!("; failures: {errors:?}")
        }
    );
}
