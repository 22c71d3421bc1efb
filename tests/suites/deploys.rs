//! Deploying one proc on a real harness host: a web proc reached on its port, a worker with
//! port 0, env with shell metacharacters arriving verbatim, the build copied once per host, port
//! conflicts, idempotent re-deploys, a proc that cannot start, the seed's "Deploying Workers"
//! procedure, destroy leaving nothing, and the CLI.

use super::builds::{add_app, build, setup};
use std::time::{Duration, Instant};
use vr_app::build::BuildStatus;
use vr_app::deploy::{DeployRequest, DeployStatus, DeployStepKind, Deployment, paths};
use vr_app::fleet::{ProcAction, ProcActionReport, ProcActionRequest, ProcRef};
use vr_app::release::{NewRelease, Release};
use vr_tests::harness::ApiClient;
use vr_tests::harness::fleet::wait_procs;
use vr_tests::harness::git::GitRepo;

const TRICKY: &str = "x; rm -rf / $(id) \"q\" 'a' `b` \\n";

pub fn web_app() -> GitRepo {
    let repo = GitRepo::new();
    repo.commit(
        &[
            ("app.sh", "#!/bin/sh\n"),
            ("index.html", "hello from vr\n"),
            (
                "uptests/web/01_http.sh",
                "#!/bin/sh\nexec python3 -c 'import sys, urllib.request; urllib.request.urlopen(\"http://%s:%s/index.html\" % (sys.argv[1], sys.argv[2]), timeout=5)' \"$1\" \"$2\"\n",
            ),
            ("echo.py", vr_tests::harness::balancer::ECHO_PY),
            ("uptests/echo/01_http.sh", vr_tests::harness::balancer::ECHO_UPTEST),
            // For hosts in network namespaces, where the uptest reaches the host's own
            // address (binding every address is safe inside a namespace of its own).
            (
                "uptests/netweb/01_http.sh",
                vr_tests::harness::balancer::ECHO_UPTEST,
            ),
            ("uptests/worker/01_env.sh", "#!/bin/sh\n[ -n \"$TRICKY\" ] && [ \"$2\" = 0 ]\n"),
            ("uptests/slow/01_slow.sh", "#!/bin/sh\nsleep 20\n"),
            // Passes only inside a sandbox (vr's /run/vr is there, nowhere else).
            (
                "uptests/boxed/01_inside.sh",
                "#!/bin/sh\n[ -f /run/vr/env ] && [ \"$(pwd)\" = /app ] || { echo \"not in a sandbox: $(pwd)\"; exit 1; }\n",
            ),
            ("uptests/checked/01_not_ready.sh", "#!/bin/sh\necho \"checked is not ready on $1:$2\"\nexit 1\n"),
            (
                "Procfile",
                "web: python3 -m http.server $PORT --bind 127.0.0.1\n\
                 worker: printf %s \"$TRICKY\" > \"$HOME/tricky.out\"; cp \"$APP_SETTINGS_YAML\" \"$HOME/seen.yaml\"; exec sleep 1000\n\
                 bad: echo boom >&2; exit 3\n\
                 checked: exec sleep 1000\n\
                 talker: echo \"token=$TRICKY\"; exec sleep 1000\n\
                 slow: exec sleep 1000\n\
                 echo: exec python3 echo.py\n\
                 netweb: exec python3 -m http.server $PORT --bind 0.0.0.0\n\
                 hog: exec python3 -c \"import time; b = bytearray(256 * 1024 * 1024); print('allocated', flush=True); time.sleep(1000)\"\n\
                 boxed: echo \"uid=$(id -u) home=$HOME pwd=$(pwd) tricky=$TRICKY\"; ls \"$OTHER\" >/dev/null 2>&1 && echo other:seen || echo other:hidden; touch /app/x 2>/dev/null || echo app:read-only; echo hi > /data/shared/note && echo volume:written; \
                 ls \"$SERVER\" >/dev/null 2>&1 && echo server:seen || echo server:hidden; \
                 for d in / /var /etc /usr /run /run/vr /home /data; do touch \"$d/x\" 2>/dev/null && echo \"wrote:$d\"; done; echo writes:tried; \
                 sleep 1000 & sleep 1000\n",
            ),
        ],
        "web app",
    );
    repo
}

/// The web app added as `web` and built at `main` on the setup's builder (keep the repo alive).
pub async fn web_built(s: &super::builds::Setup) -> (GitRepo, vr_app::build::Build) {
    let repo = web_app();
    add_app(&s.api, "web", &repo).await;
    let (b, log) = build(&s.api, "web", "main", false).await;
    assert_eq!(b.status, BuildStatus::Succeeded, "{log}");
    (repo, b)
}

pub async fn release(api: &ApiClient, build_id: i64, env_yaml: &str) -> Release {
    let r = api
        .post(
            vr_app::release::paths::RELEASES,
            &NewRelease {
                build_id,
                settings_yaml: "greeting: hi\n".into(),
                env_yaml: env_yaml.into(),
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(r.status, 200 | 201), "{}", r.value());
    r.json()
}

pub async fn deploy(
    api: &ApiClient,
    release_id: i64,
    proc_type: &str,
    config: &str,
    port: u16,
) -> Deployment {
    let d: Deployment = api
        .post(
            paths::DEPLOYS,
            &request(release_id, proc_type, config, port),
        )
        .await
        .expect_status(202)
        .json();
    wait_deploy(api, d.id).await
}

/// Waits (up to a minute) for deploy `id` to end.
pub async fn wait_deploy(api: &ApiClient, id: i64) -> Deployment {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let now: Deployment = api.get(&paths::deploy(id)).await.expect_ok().json();
        if now.status != DeployStatus::Running {
            return now;
        }
        assert!(Instant::now() < until, "deploy {id} still running: {now:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A deploy of `proc_type` of release `release_id` on the test host.
pub fn request(release_id: i64, proc_type: &str, config: &str, port: u16) -> DeployRequest {
    DeployRequest {
        release_id,
        proc_type: proc_type.into(),
        config: config.into(),
        host: "builder1".into(),
        port,
    }
}

async fn act(api: &ApiClient, action: ProcAction, name: &str) -> ProcActionReport {
    api.post(
        vr_app::fleet::paths::PROC_ACTIONS,
        &ProcActionRequest {
            action,
            procs: vec![ProcRef {
                host: "builder1".into(),
                name: name.into(),
            }],
            filter: None,
        },
    )
    .await
    .expect_ok()
    .json()
}

#[tokio::test]
async fn procs_are_deployed_reached_and_taken_down() {
    let s = setup().await;
    let (_repo, b) = web_built(&s).await;
    let env = format!("TRICKY: {}\n", serde_json::to_string(TRICKY).expect("json"));
    let r1 = release(&s.api, b.id, &env).await;

    // A web proc, reached on its port.
    let port = vr_tests::harness::proc_port_range(1);
    let web = deploy(&s.api, r1.id, "web", "prod", port).await;
    assert_eq!(web.status, DeployStatus::Succeeded, "{web:#?}");
    assert_eq!(web.steps.len(), 6, "{web:#?}");
    assert!(
        web.steps[0].message.contains("is free"),
        "{:?}",
        web.steps[0]
    );
    assert!(
        web.steps[1].message.contains("copied"),
        "{:?}",
        web.steps[1]
    );
    assert!(
        web.steps[5].ok && web.steps[5].message.contains("1 uptest(s) passed"),
        "{:?}",
        web.steps[5]
    );
    // Adding it to Supervisor starts it (autostart): no redundant `start` that answers
    // "ERROR (already started)" inside a step marked ok.
    let added = &web.steps[3];
    assert!(
        added.name == DeployStepKind::AddToSupervisor
            && added.message.contains("added process group"),
        "{added:?}"
    );
    assert!(
        web.steps.iter().all(|s| !s.message.contains("ERROR")),
        "{:#?}",
        web.steps
    );
    assert!(
        web.program.starts_with("web-main-prod-") && web.program.ends_with(&format!("-web-{port}")),
        "{}",
        web.program
    );
    let body = reqwest::get(format!("http://127.0.0.1:{port}/index.html"))
        .await
        .expect("the web proc answers")
        .text()
        .await
        .expect("body");
    assert_eq!(body, "hello from vr\n");
    let procs = wait_procs(
        &s.api,
        "builder1",
        "show the web proc managed",
        Duration::from_secs(10),
        |p| {
            p.iter()
                .any(|p| p.name == web.program && p.meta.as_ref().is_some_and(|m| m.port == port))
        },
    )
    .await;
    assert!(procs.iter().any(|p| p.name == web.program && p.expected));

    // A worker (port 0): env arrives verbatim, settings file is where APP_SETTINGS_YAML says.
    let worker = deploy(&s.api, r1.id, "worker", "prod", 0).await;
    assert_eq!(worker.status, DeployStatus::Succeeded, "{worker:#?}");
    assert!(
        worker.steps[0].message.contains("already on the host"),
        "{:?}",
        worker.steps[0]
    );
    let dir = s.host.apps_root().join("procs").join(&worker.program);
    let seen = std::fs::read_to_string(dir.join("home/tricky.out")).expect("tricky.out");
    assert_eq!(seen, TRICKY);
    let settings = std::fs::read_to_string(dir.join("home/seen.yaml")).expect("seen.yaml");
    assert!(settings.contains("greeting: hi"), "{settings}");

    // A port taken by a program vr does not manage is found on the host itself.
    let squatted = vr_tests::harness::free_port();
    s.host.add_program(
        "squatter",
        &format!("python3 -m http.server {squatted} --bind 127.0.0.1"),
    );
    let until = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", squatted)).is_err() {
        assert!(Instant::now() < until, "the squatter never listened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = deploy(&s.api, r1.id, "web", "prod", squatted).await;
    assert_eq!(refused.status, DeployStatus::Failed, "{refused:#?}");
    assert_eq!(refused.steps.len(), 1);
    assert!(
        refused.steps[0].message.contains("already in use"),
        "{:?}",
        refused.steps[0]
    );
    assert!(
        !s.host
            .include_dir()
            .join(format!("{}.conf", refused.program))
            .exists()
    );

    // The same deploy again is a no-op; the port of a running proc is refused to another.
    let again = deploy(&s.api, r1.id, "web", "prod", port).await;
    assert_eq!(again.status, DeployStatus::Succeeded);
    assert!(
        again.steps[0].message.contains("nothing to do"),
        "{again:?}"
    );
    let err = s
        .api
        .post(paths::DEPLOYS, &request(r1.id, "web", "other", port))
        .await
        .expect_status(400)
        .error();
    assert_eq!(err.field.as_deref(), Some("port"), "{err:?}");
    let err = s
        .api
        .post(paths::DEPLOYS, &request(r1.id, "nope", "prod", 0))
        .await
        .expect_status(400)
        .error();
    assert_eq!(err.field.as_deref(), Some("proc_type"));
    assert!(err.message.contains("web"), "{}", err.message);

    // A proc that cannot start: failed, with its stderr.
    let bad = deploy(&s.api, r1.id, "bad", "prod", 0).await;
    assert_eq!(bad.status, DeployStatus::Failed, "{bad:#?}");
    let last = bad.steps.last().expect("steps");
    assert_eq!(last.name, DeployStepKind::WaitRunning);
    assert!(last.message.contains("boom"), "{last:?}");
    // A proc that failed on a host that answered is not a lost host.
    let why = bad.error.as_deref().unwrap_or_default();
    assert!(
        why.starts_with("wait for RUNNING: ") && !why.contains("host lost"),
        "{why}"
    );

    // A proc whose uptest fails: the deploy fails with the test's output, stored for later.
    let checked = deploy(&s.api, r1.id, "checked", "prod", 0).await;
    assert_eq!(checked.status, DeployStatus::Failed, "{checked:#?}");
    let last = checked.steps.last().expect("steps");
    assert_eq!(last.name, DeployStepKind::Uptests);
    assert!(
        last.message.contains("checked is not ready on 127.0.0.1:0"),
        "{last:?}"
    );
    let results: Vec<vr_app::deploy::UptestResult> = s
        .api
        .get(&format!("/api/uptests?program={}", checked.program))
        .await
        .expect_ok()
        .json();
    assert_eq!(results.len(), 1);
    assert!(!results[0].passed && results[0].name == "01_not_ready.sh");

    // The seed's "Deploying Workers": a new release's worker on the same host and config, then
    // stop the old one and destroy it. Nothing of the old one is left.
    let r2 = release(&s.api, b.id, "TRICKY: second\n").await;
    let worker2 = deploy(&s.api, r2.id, "worker", "prod", 0).await;
    assert_eq!(worker2.status, DeployStatus::Succeeded, "{worker2:#?}");
    assert_ne!(worker2.program, worker.program);
    assert!(act(&s.api, ProcAction::Stop, &worker.program).await.results[0].ok);
    let destroyed = act(&s.api, ProcAction::Destroy, &worker.program).await;
    assert!(destroyed.results[0].ok, "{destroyed:?}");
    assert_eq!(s.host.program_state(&worker.program), None);
    assert!(!dir.exists());
    assert!(
        !s.host
            .include_dir()
            .join(format!("{}.conf", worker.program))
            .exists()
    );
    assert_eq!(
        s.host.program_state(&worker2.program).as_deref(),
        Some("RUNNING")
    );

    // The CLI follows the steps.
    let cli = super::fleet::cli_token(&s.api).await;
    let (ok, text) = super::fleet::vr(
        &s.server,
        &cli,
        &[
            "deploy",
            &r2.id.to_string(),
            "builder1",
            "0",
            "worker",
            "-c",
            "cli",
        ],
    );
    assert!(ok && text.contains("RUNNING"), "{text}");
    let (ok, text) = super::fleet::vr(&s.server, &cli, &["uptests", "--program", &checked.program]);
    assert!(
        !ok && text.contains("FAILED") && text.contains("not ready"),
        "{text}"
    );
    let events: Vec<vr_app::api::Event> = s
        .api
        .get("/api/events?action=deploy.")
        .await
        .expect_ok()
        .json();
    assert!(
        events
            .iter()
            .any(|e| e.action == "deploy.finish" && e.outcome == vr_app::api::Outcome::Failed)
    );
}

/// Waits until the deploy's last finished step is `step` (it is then working on the next).
async fn wait_step(api: &ApiClient, id: i64, step: DeployStepKind) {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let d: Deployment = api.get(&paths::deploy(id)).await.expect_ok().json();
        if d.steps.iter().any(|s| s.name == step) {
            return;
        }
        assert_eq!(d.status, DeployStatus::Running, "{d:#?}");
        assert!(
            Instant::now() < until,
            "deploy {id} never finished {step:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Destroys `program` on the test host and waits until the snapshot no longer has it.
async fn destroy(api: &ApiClient, program: &str) {
    assert!(act(api, ProcAction::Destroy, program).await.results[0].ok);
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let fleet: vr_app::fleet::Fleet = api
            .get(vr_app::fleet::paths::FLEET)
            .await
            .expect_ok()
            .json();
        if !fleet.procs.iter().any(|p| p.name == program) {
            return;
        }
        assert!(Instant::now() < until, "{program} stayed in the snapshot");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn two_deploys_racing_for_one_port_get_it_once() {
    let s = setup().await;
    let (_repo, b) = web_built(&s).await;
    let r = release(&s.api, b.id, "").await;
    let port = vr_tests::harness::proc_port_range(1);
    // Two programs (two configs) ask for the same port at the same moment: the reservation,
    // written with the deploy's record in one transaction, lets exactly one have it.
    let (ask_one, ask_two) = (
        request(r.id, "web", "one", port),
        request(r.id, "web", "two", port),
    );
    let (one, two) = tokio::join!(
        s.api.post(paths::DEPLOYS, &ask_one),
        s.api.post(paths::DEPLOYS, &ask_two),
    );
    let (won, lost) = if one.status == 202 {
        (one, two)
    } else {
        (two, one)
    };
    assert_eq!(won.status, 202, "{}", won.text);
    assert!(matches!(lost.status, 400 | 409), "{}", lost.text);
    assert_eq!(lost.error().field.as_deref(), Some("port"), "{}", lost.text);
    let won: Deployment = won.json();
    let until = Instant::now() + Duration::from_secs(60);
    let done = loop {
        let now: Deployment = s.api.get(&paths::deploy(won.id)).await.expect_ok().json();
        if now.status != DeployStatus::Running {
            break now;
        }
        assert!(Instant::now() < until, "{now:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done.status, DeployStatus::Succeeded, "{done:#?}");
    // The job's end released the port: once its proc is gone, another may take it.
    destroy(&s.api, &done.program).await;
    let again = deploy(&s.api, r.id, "web", "three", port).await;
    assert_eq!(again.status, DeployStatus::Succeeded, "{again:#?}");
}

#[tokio::test]
async fn a_lost_host_or_a_stopped_server_ends_a_deploy_cleanly() {
    let s = setup().await;
    let (_repo, b) = web_built(&s).await;
    let r = release(&s.api, b.id, "").await;
    let start = |config: &'static str, port: u16| {
        let api = &s.api;
        async move {
            api.post(paths::DEPLOYS, &request(r.id, "slow", config, port))
                .await
                .expect_status(202)
                .json::<Deployment>()
        }
    };

    // The host goes away while the uptests run: the deploy fails with the reason.
    let d = start("lost", 0).await;
    wait_step(&s.api, d.id, DeployStepKind::WaitRunning).await;
    s.host.kill_sshd();
    let until = Instant::now() + Duration::from_secs(30);
    let failed = loop {
        let now: Deployment = s.api.get(&paths::deploy(d.id)).await.expect_ok().json();
        if now.status != DeployStatus::Running {
            break now;
        }
        assert!(
            Instant::now() < until,
            "the deploy did not end after its host was lost"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(failed.status, DeployStatus::Failed, "{failed:#?}");
    assert_eq!(
        failed.steps.last().map(|s| s.name),
        Some(DeployStepKind::Uptests)
    );
    // Its cause stays a lost host, not a failed proc.
    assert!(
        failed
            .error
            .as_deref()
            .unwrap_or_default()
            .starts_with("uptests: host lost:"),
        "{failed:#?}"
    );
    s.host.start_sshd();

    // The server stops in the middle: after the restart the deploy is failed, not running.
    vr_tests::harness::fleet::wait_health(
        &s.api,
        "builder1",
        vr_app::fleet::Health::Ok,
        Duration::from_secs(20),
    )
    .await;
    // It holds a port: the restart releases it with the deploy.
    let port = vr_tests::harness::proc_port_range(1);
    let d = start("restart", port).await;
    wait_step(&s.api, d.id, DeployStepKind::WaitRunning).await;
    let mut server = s.server;
    server.kill();
    server.restart().await;
    let api = server.admin().await;
    let after: Deployment = api.get(&paths::deploy(d.id)).await.expect_ok().json();
    assert_eq!(after.status, DeployStatus::Failed);
    assert!(
        after
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("server stopped"),
        "{after:?}"
    );
    // What it wrote is whole: the program runs from a complete proc folder.
    assert_eq!(
        s.host.program_state(&after.program).as_deref(),
        Some("RUNNING")
    );
    assert!(
        s.host
            .apps_root()
            .join("procs")
            .join(&after.program)
            .join("proc.json")
            .exists()
    );
    destroy(&api, &after.program).await;
    let again = deploy(&api, r.id, "web", "again", port).await;
    assert_eq!(again.status, DeployStatus::Succeeded, "{again:#?}");
}

#[tokio::test]
async fn host_hygiene_removes_only_strays() {
    let s = setup().await;
    let (_repo, b) = web_built(&s).await;
    // Its worker uptest wants TRICKY set.
    let r = release(&s.api, b.id, "TRICKY: \"set\"\n").await;
    let worker = deploy(&s.api, r.id, "worker", "prod", 0).await;
    assert_eq!(worker.status, DeployStatus::Succeeded, "{worker:#?}");
    let apps = s.host.apps_root();
    std::fs::create_dir_all(apps.join("procs/stray_left_by_hand")).expect("stray");
    // Older than a deploy in flight could be.
    let touched = std::process::Command::new("touch")
        .args(["-d", "2 hours ago"])
        .arg(apps.join("procs/stray_left_by_hand"))
        .status()
        .expect("touch");
    assert!(touched.success());
    std::fs::create_dir_all(apps.join("builds/0123abcd")).expect("old build");
    let touched = std::process::Command::new("touch")
        .args(["-d", "10 days ago"])
        .arg(apps.join("builds/0123abcd"))
        .status()
        .expect("touch");
    assert!(touched.success());
    std::fs::create_dir_all(apps.join("builds/fresh_unused")).expect("fresh build");
    // A stack image no proc runs on, unpacked long ago, goes the same way.
    std::fs::create_dir_all(apps.join("stacks/4567cdef")).expect("old image");
    let touched = std::process::Command::new("touch")
        .args(["-d", "10 days ago"])
        .arg(apps.join("stacks/4567cdef"))
        .status()
        .expect("touch");
    assert!(touched.success());

    // As the README shows it: `vr host clean NAME --days 7`, one line per removed path.
    let cli = super::fleet::cli_token(&s.api).await;
    let (ok, out) = super::fleet::vr(
        &s.server,
        &cli,
        &["host", "clean", "builder1", "--days", "7"],
    );
    assert!(ok, "{out}");
    let removed: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("builder1: "))
        .collect();
    assert_eq!(removed.len(), 3, "{removed:?}");
    assert!(
        removed
            .iter()
            .any(|l| l.starts_with("removed stack image 4567cdef")),
        "{removed:?}"
    );
    assert!(!apps.join("stacks/4567cdef").exists());
    assert!(!apps.join("procs/stray_left_by_hand").exists());
    assert!(!apps.join("builds/0123abcd").exists());
    // Kept: the deployed proc, its build, and an unused build younger than the limit.
    assert!(
        apps.join("procs")
            .join(&worker.program)
            .join("run")
            .exists()
    );
    assert!(
        apps.join("builds")
            .join(b.sha256.as_deref().unwrap_or("?"))
            .exists()
    );
    assert!(apps.join("builds/fresh_unused").exists());
    assert_eq!(
        s.host.program_state(&worker.program).as_deref(),
        Some("RUNNING")
    );
    let events: Vec<vr_app::api::Event> = s
        .api
        .get("/api/events?action=host.clean")
        .await
        .expect_ok()
        .json();
    assert!(
        events
            .iter()
            .any(|e| e.detail.contains("stray_left_by_hand"))
    );
}

#[tokio::test]
async fn scheduled_uptests_notice_a_proc_going_bad() {
    let s = super::builds::setup_with(vec![("VR_UPTEST_INTERVAL_SECS".into(), "1".into())]).await;
    let (_repo, b) = web_built(&s).await;
    let r = release(&s.api, b.id, "TRICKY: \"set\"\n").await;
    let worker = deploy(&s.api, r.id, "worker", "prod", 0).await;
    assert_eq!(worker.status, DeployStatus::Succeeded, "{worker:#?}");
    // The check starts failing on the host; the next scheduled run says so.
    let check = s
        .host
        .apps_root()
        .join("builds")
        .join(b.sha256.as_deref().unwrap_or("?"))
        .join("uptests/worker/01_env.sh");
    std::fs::write(&check, "#!/bin/sh\necho 'worker went bad'\nexit 1\n")
        .expect("break the uptest");
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let events: Vec<vr_app::api::Event> = s
            .api
            .get("/api/events?action=uptest.fail")
            .await
            .expect_ok()
            .json();
        if let Some(e) = events
            .iter()
            .find(|e| e.object == format!("proc:builder1/{}", worker.program))
        {
            assert_eq!(e.actor, "system");
            assert!(e.detail.contains("worker went bad"), "{e:?}");
            break;
        }
        assert!(Instant::now() < until, "no uptest.fail event");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let results: Vec<vr_app::deploy::UptestResult> = s
        .api
        .get(&format!(
            "/api/uptests?host=builder1&program={}",
            worker.program
        ))
        .await
        .expect_ok()
        .json();
    assert!(
        results
            .iter()
            .any(|r| !r.passed && r.output.contains("worker went bad")),
        "{results:?}"
    );
}

#[tokio::test]
async fn run_as_and_memory_limit_apply_to_the_proc() {
    let s = setup().await;
    let (_repo, b) = web_built(&s).await;
    let r: Release = s
        .api
        .post(
            vr_app::release::paths::RELEASES,
            &NewRelease {
                build_id: b.id,
                env_yaml: "TRICKY: \"as nobody\"\n".into(),
                run_as: Some("nobody".into()),
                mem_limit_mb: Some(512),
                cpu_weight: Some(50),
                ..Default::default()
            },
        )
        .await
        .expect_status(201)
        .json();
    let worker = deploy(&s.api, r.id, "worker", "prod", 0).await;
    assert_eq!(worker.status, DeployStatus::Succeeded, "{worker:#?}");
    let procs = wait_procs(
        &s.api,
        "builder1",
        "show the worker's pid",
        Duration::from_secs(10),
        |p| {
            p.iter()
                .any(|p| p.name == worker.program && p.pid.is_some())
        },
    )
    .await;
    let pid = procs
        .iter()
        .find(|p| p.name == worker.program)
        .and_then(|p| p.pid)
        .expect("pid");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let uid_line = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap_or_default()
        .to_string();
    let nobody = std::process::Command::new("id")
        .args(["-u", "nobody"])
        .output()
        .expect("id");
    let nobody = String::from_utf8_lossy(&nobody.stdout).trim().to_string();
    assert!(
        uid_line.split_whitespace().nth(1) == Some(nobody.as_str()),
        "{uid_line} vs {nobody}"
    );
    // Its memory limit is a cgroup of its own, joined as root before dropping to nobody; on
    // a host whose cgroups vr cannot use, `ulimit -v`.
    let bytes = (512u64 * 1024 * 1024).to_string();
    match memory_group(&worker.program) {
        Some((group, limit, _)) => {
            let set = std::fs::read_to_string(group.join(limit)).unwrap_or_default();
            assert_eq!(set.trim(), bytes);
            let groups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
            assert!(
                groups.contains(&format!("/vr/{}", worker.program)),
                "{groups}"
            );
        }
        None => {
            let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
            let space = limits
                .lines()
                .find(|l| l.starts_with("Max address space"))
                .unwrap_or_default()
                .to_string();
            assert!(space.contains(&bytes), "{space}");
        }
    }
    // Its CPU weight, where the host has a cpu controller: v2's cpu.weight, or v1's cpu.shares
    // with the same share (512 of 1024).
    let groups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    let v2 = std::path::Path::new("/sys/fs/cgroup/vr")
        .join(&worker.program)
        .join("cpu.weight");
    let v1 = std::path::Path::new("/sys/fs/cgroup/cpu/vr")
        .join(&worker.program)
        .join("cpu.shares");
    if v2.exists() {
        assert_eq!(
            std::fs::read_to_string(&v2).unwrap_or_default().trim(),
            "50"
        );
    } else if std::path::Path::new("/sys/fs/cgroup/cpu/cpu.shares").exists() {
        assert_eq!(
            std::fs::read_to_string(&v1).unwrap_or_default().trim(),
            "512"
        );
        assert!(
            groups
                .lines()
                .any(|l| l.contains("cpu") && l.ends_with(&format!("/vr/{}", worker.program))),
            "{groups}"
        );
    }
    // No new privileges for it (setuid programs cannot raise them).
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("NoNewPrivs:") && l.trim_end().ends_with('1')),
        "{status}"
    );
    // It wrote in its HOME as that user.
    let dir = s.host.apps_root().join("procs").join(&worker.program);
    assert_eq!(
        std::fs::read_to_string(dir.join("home/tricky.out")).expect("tricky.out"),
        "as nobody"
    );
}

/// Every process below `pid` (from /proc's parent links).
fn descendants(pid: u32) -> Vec<u32> {
    let mut all: Vec<(u32, u32)> = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().nth(1))
            .and_then(|x| x.parse().ok())
            .unwrap_or(0);
        all.push((p, ppid));
    }
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        out.extend(all.iter().filter(|(_, pp)| *pp == parent).map(|(p, _)| *p));
        i += 1;
    }
    out
}

#[tokio::test]
async fn a_sandboxed_proc_sees_only_what_is_its_own_and_leaves_nothing_behind() {
    let s = setup().await;
    let (_repo, b) = web_built(&s).await;
    let shared = s.host.dir().join("shared");
    std::fs::create_dir_all(&shared).expect("volume dir");
    std::os::unix::fs::chown(&shared, Some(65534), None).expect("chown");
    let procs_dir = s.host.apps_root().join("procs");
    let new = |mount: &str| NewRelease {
        build_id: b.id,
        env_yaml: format!(
            "TRICKY: boxed\nOTHER: {}\nSERVER: {}\n",
            procs_dir.display(),
            s.server.data_dir().display()
        ),
        volumes: vec![vr_app::release::Volume {
            host_dir: shared.display().to_string(),
            mount_dir: mount.into(),
        }],
        runner: vr_app::release::Runner::Sandbox,
        ..Default::default()
    };
    // A volume where the sandbox makes its own folders is refused by field.
    let bad = s
        .api
        .post(vr_app::release::paths::RELEASES, &new("/app/data"))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert!(bad.text.contains("volumes"), "{}", bad.text);
    let r: Release = s
        .api
        .post(vr_app::release::paths::RELEASES, &new("/data/shared"))
        .await
        .expect_status(201)
        .json();
    assert_eq!(r.config.runner, vr_app::release::Runner::Sandbox);

    // A host without bubblewrap and setpriv (here: a login whose PATH has neither) refuses the
    // deploy at its first step, naming what it lacks, and nothing is written there.
    let bare = vr_tests::harness::TestHost::start(vr_tests::harness::HostOptions {
        authorized_keys: vec![vr_tests::harness::fleet::server_key(&s.api).await],
        extra_sshd_config: "SetEnv PATH=/usr/sbin:/sbin\n".into(),
        ..Default::default()
    });
    vr_tests::harness::fleet::add_host(&s.api, &bare, "bare", None).await;
    vr_tests::harness::fleet::wait_health(
        &s.api,
        "bare",
        vr_app::fleet::Health::Ok,
        Duration::from_secs(15),
    )
    .await;
    let refused: Deployment = s
        .api
        .post(
            paths::DEPLOYS,
            &DeployRequest {
                host: "bare".into(),
                ..request(r.id, "boxed", "prod", 0)
            },
        )
        .await
        .expect_status(202)
        .json();
    let refused = wait_deploy(&s.api, refused.id).await;
    assert_eq!(refused.status, DeployStatus::Failed, "{refused:#?}");
    let said = format!("{refused:?}");
    assert!(
        said.contains("this host cannot run a sandboxed proc: it lacks bubblewrap (Debian package `bubblewrap`)"),
        "{said}"
    );
    assert!(
        !bare
            .apps_root()
            .join("procs")
            .join(&refused.program)
            .exists()
    );

    // Its uptest passes only inside a sandbox: the deploy succeeding says it ran there.
    let d = deploy(&s.api, r.id, "boxed", "prod", 0).await;
    assert_eq!(d.status, DeployStatus::Succeeded, "{d:#?}");
    let dir = procs_dir.join(&d.program);
    let said = vr_tests::harness::ports::wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(dir.join("stdout.log")).is_ok_and(|t| t.contains("writes:tried"))
    });
    let log = std::fs::read_to_string(dir.join("stdout.log")).unwrap_or_default();
    assert!(said, "{log}");
    for want in [
        "uid=65534 home=/home/app pwd=/app tricky=boxed",
        "other:hidden",
        "app:read-only",
        "volume:written",
        // The server's files (its data dir, on this same machine) are not there.
        "server:hidden",
        "writes:tried",
    ] {
        assert!(log.contains(want), "{want} in {log}");
    }
    // Nothing outside its home, its volumes and its private /tmp takes a write.
    assert!(!log.contains("wrote:"), "{log}");
    assert!(s.server.data_dir().exists());
    assert_eq!(
        std::fs::read_to_string(shared.join("note")).ok().as_deref(),
        Some("hi\n")
    );

    // Supervisor's pid is bubblewrap's; stopping it leaves none of its processes behind.
    let pid = pid_on_builder(&s.api, &d.program).await;
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    assert_eq!(comm.trim(), "bwrap");
    let tree = descendants(pid);
    assert!(
        tree.len() >= 4,
        "bwrap, its init, the proc and its children: {tree:?}"
    );
    let report = act(&s.api, ProcAction::Stop, &d.program).await;
    assert!(report.results.iter().all(|r| r.ok), "{report:#?}");
    // Gone, or dead and waiting to be reaped: the test process adopts orphans (it is their
    // subreaper) and does not reap them; on a host, init does.
    let running = |p: &u32| {
        std::fs::read_to_string(format!("/proc/{p}/stat"))
            .ok()
            .and_then(|st| {
                st.rsplit_once(')')
                    .and_then(|(_, r)| r.split_whitespace().next().map(str::to_string))
            })
            .is_some_and(|state| state != "Z")
    };
    let gone =
        vr_tests::harness::ports::wait_until(Duration::from_secs(15), || !tree.iter().any(running));
    let left: Vec<String> = tree
        .iter()
        .filter(|p| running(p))
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/status")).ok())
        .map(|st| st.lines().take(3).collect::<Vec<_>>().join(" "))
        .collect();
    assert!(gone, "left behind: {left:?} of {tree:?}");
}

/// The memory cgroup folder vr made for `program`, in whichever hierarchy this host has.
fn memory_group(program: &str) -> Option<(std::path::PathBuf, &'static str, &'static str)> {
    let v2 = std::path::PathBuf::from("/sys/fs/cgroup/vr").join(program);
    let v1 = std::path::PathBuf::from("/sys/fs/cgroup/memory/vr").join(program);
    if v2.join("memory.max").exists() {
        Some((v2, "memory.max", "memory.events"))
    } else if v1.join("memory.limit_in_bytes").exists() {
        Some((v1, "memory.limit_in_bytes", "memory.oom_control"))
    } else {
        None
    }
}

#[tokio::test]
async fn a_sandboxed_proc_is_held_to_its_memory_limit_by_its_cgroup() {
    let s = setup().await;
    let (_repo, b) = web_built(&s).await;
    std::fs::create_dir_all(s.host.dir().join("vol")).expect("volume dir");
    let r: Release = s
        .api
        .post(
            vr_app::release::paths::RELEASES,
            &NewRelease {
                build_id: b.id,
                mem_limit_mb: Some(64),
                runner: vr_app::release::Runner::Sandbox,
                env_yaml: "TRICKY: boxed\nOTHER: /nowhere\n".into(),
                volumes: vec![vr_app::release::Volume {
                    host_dir: s.host.dir().join("vol").display().to_string(),
                    mount_dir: "/data/shared".into(),
                }],
                ..Default::default()
            },
        )
        .await
        .expect_status(201)
        .json();
    // Under its limit it runs, and everything of it is in its group.
    let ok = deploy(&s.api, r.id, "boxed", "prod", 0).await;
    assert_eq!(ok.status, DeployStatus::Succeeded, "{ok:#?}");
    // Over it (256 MB touched against 64 MB) the kernel kills it; it never stays up.
    let hog = deploy(&s.api, r.id, "hog", "prod", 0).await;
    assert_eq!(hog.status, DeployStatus::Failed, "{hog:#?}");
    match memory_group(&hog.program) {
        Some((dir, limit, events)) => {
            let bytes = std::fs::read_to_string(dir.join(limit)).unwrap_or_default();
            assert_eq!(bytes.trim(), (64u64 * 1024 * 1024).to_string());
            let counted = std::fs::read_to_string(dir.join(events)).unwrap_or_default();
            let kills: u64 = counted
                .lines()
                .find_map(|l| l.strip_prefix("oom_kill "))
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or(0);
            assert!(kills >= 1, "{counted}");
            let pid = pid_on_builder(&s.api, &ok.program).await;
            let groups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
            assert!(groups.contains(&format!("/vr/{}", ok.program)), "{groups}");
            // The poller reads the group's count when the proc stops or restarts, and the
            // dashboard says it was killed for memory.
            wait_procs(
                &s.api,
                "builder1",
                "a kill for memory",
                Duration::from_secs(15),
                |p| p.iter().any(|p| p.name == hog.program && p.oom_kills >= 1),
            )
            .await;
            let browser = vr_tests::harness::Browser::start().await;
            browser
                .sign_in(&s.server.base_url(), "admin", super::fleet::PW)
                .await;
            browser
                .wait_for_text(
                    &format!("tr[data-name=\"{}\"] [data-test=\"oom\"]", hog.program),
                    "killed for memory",
                )
                .await;
            // Destroying a proc takes its group away with it.
            destroy(&s.api, &hog.program).await;
            assert!(!dir.exists(), "{}", dir.display());
        }
        // A host whose cgroups vr cannot use: `ulimit -v` fails the allocation instead.
        None => {
            let log = format!("{hog:?}");
            assert!(log.contains("MemoryError"), "{log}");
        }
    }
}

/// The pid Supervisor reports for `program` on the setup's host, once it has one.
async fn pid_on_builder(api: &ApiClient, program: &str) -> u32 {
    let procs = wait_procs(api, "builder1", "its pid", Duration::from_secs(10), |p| {
        p.iter().any(|p| p.name == program && p.pid.is_some())
    })
    .await;
    procs
        .iter()
        .find(|p| p.name == program)
        .and_then(|p| p.pid)
        .expect("pid")
}
