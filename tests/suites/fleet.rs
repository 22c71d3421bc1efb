//! The fleet against real harness hosts: squads and hosts through the API, the poller's
//! snapshot (procs added and removed by hand, managed or not, MISSING), dead and hanging hosts,
//! host-key pinning, proc actions and log tails.

use std::time::{Duration, Instant};
use vr_app::fleet::{
    ConnectionReport, Health, HostPatch, NewSquad, Proc, ProcAction, ProcActionReport,
    ProcActionRequest, ProcFilter, ProcRef, Squad, TrustKey, paths,
};
use vr_app::supervisor::ProcState;
use vr_tests::harness::fleet::{add_host, fleet, meta, server_key, wait_health, wait_procs};
use vr_tests::harness::{ApiClient, HostOptions, NetnsHost, ServerOptions, TestHost, VrServer};

pub const PW: &str = "admin-password-1";
/// Short, so dead-host tests finish quickly; the flagging bound is deadline + interval.
pub const DEADLINE_MS: u64 = 1500;
pub const POLL_MS: u64 = 300;
const WAIT: Duration = Duration::from_secs(15);

pub async fn fleet_server() -> VrServer {
    fleet_server_with(Vec::new()).await
}

/// [`fleet_server`] with more environment variables.
pub async fn fleet_server_with(extra: Vec<(String, String)>) -> VrServer {
    let mut env = vec![
        ("VR_POLL_INTERVAL_MS".into(), POLL_MS.to_string()),
        ("VR_SSH_TIMEOUT_MS".into(), DEADLINE_MS.to_string()),
    ];
    env.extend(extra);
    VrServer::start(ServerOptions {
        admin_password: Some(PW.into()),
        env,
        ..Default::default()
    })
    .await
}

pub async fn hosts_for(api: &ApiClient, n: usize) -> Vec<TestHost> {
    let key = server_key(api).await;
    TestHost::start_many(
        n,
        HostOptions {
            authorized_keys: vec![key],
            ..Default::default()
        },
    )
}

/// Runs "test connection" on host `name` through the API.
async fn test_connection(api: &ApiClient, name: &str) -> ConnectionReport {
    api.post_empty(&paths::host_test(name))
        .await
        .expect_ok()
        .json()
}

fn proc<'a>(procs: &'a [Proc], name: &str) -> Option<&'a Proc> {
    procs.iter().find(|p| p.name == name)
}

#[tokio::test]
async fn squads_and_hosts_are_managed_and_polled() {
    let server = fleet_server().await;
    let api = server.admin().await;
    let hosts = hosts_for(&api, 2).await;

    for name in ["web", "jobs"] {
        api.post(
            paths::SQUADS,
            &NewSquad {
                name: name.into(),
                description: format!("{name} tier"),
            },
        )
        .await
        .expect_status(201);
    }
    // Names that would be shell syntax are refused with the field at fault.
    let bad = api
        .post(
            paths::SQUADS,
            &NewSquad {
                name: "a;rm -rf /".into(),
                description: String::new(),
            },
        )
        .await
        .expect_status(400)
        .error();
    assert_eq!(bad.field.as_deref(), Some("name"));
    let mut evil = vr_tests::harness::fleet::new_host(&hosts[0], "h0", Some("web"));
    evil.address = "$(touch /tmp/pwned)".into();
    let bad = api
        .post(paths::HOSTS, &evil)
        .await
        .expect_status(400)
        .error();
    assert_eq!(bad.field.as_deref(), Some("address"));
    let mut evil = vr_tests::harness::fleet::new_host(&hosts[0], "h0", Some("nope"));
    evil.include_dir = Some("relative/dir".into());
    let bad = api
        .post(paths::HOSTS, &evil)
        .await
        .expect_status(400)
        .error();
    assert_eq!(bad.field.as_deref(), Some("include_dir"));

    add_host(&api, &hosts[0], "h0", Some("web")).await;
    add_host(&api, &hosts[1], "h1", Some("web")).await;
    let unknown_squad = vr_tests::harness::fleet::new_host(&hosts[1], "h9", Some("nope"));
    let err = api
        .post(paths::HOSTS, &unknown_squad)
        .await
        .expect_status(409)
        .error();
    assert_eq!(err.field.as_deref(), Some("squad"));

    // First contact pins each host's key and reads Supervisor over its socket.
    let h0 = wait_health(&api, "h0", Health::Ok, WAIT).await;
    assert!(
        h0.host_key
            .as_deref()
            .is_some_and(|k| k.starts_with("SHA256:"))
    );
    assert_eq!(h0.status.via.as_deref(), Some("xmlrpc"));
    assert_eq!(h0.status.supervisor_version.as_deref(), Some("4.2.5"));
    wait_health(&api, "h1", Health::Ok, WAIT).await;

    // A program added by hand shows up, unmanaged; one planted like a vr deploy is managed.
    hosts[0].add_program("legacy_cron", "sleep 1000");
    hosts[0].add_managed_program(
        "shop-1_0-prod-abc123-web-5001",
        "sleep 1000",
        &meta("shop", "prod", "web", 5001),
    );
    let procs = wait_procs(&api, "h0", "show both programs", WAIT, |p| {
        proc(p, "legacy_cron").is_some_and(|p| p.state == ProcState::Running)
            && proc(p, "shop-1_0-prod-abc123-web-5001").is_some_and(|p| p.managed())
    })
    .await;
    let legacy = proc(&procs, "legacy_cron").expect("legacy");
    assert!(!legacy.managed() && !legacy.expected);
    assert!(legacy.pid.is_some() && legacy.started_at.is_some());
    let managed = proc(&procs, "shop-1_0-prod-abc123-web-5001").expect("managed");
    assert_eq!(
        managed.meta.as_ref().map(|m| m.match_key()),
        Some("shop-prod-web".into())
    );
    assert!(managed.expected);

    // Stopped by hand: the state follows. Removed by hand: the unmanaged one is gone, the
    // managed one stays as MISSING (vr expected it there).
    hosts[0].ctl_ok(&["stop", "legacy_cron"]);
    wait_procs(&api, "h0", "show legacy_cron STOPPED", WAIT, |p| {
        proc(p, "legacy_cron").is_some_and(|p| p.state == ProcState::Stopped)
    })
    .await;
    hosts[0].remove_program("legacy_cron");
    hosts[0].remove_program("shop-1_0-prod-abc123-web-5001");
    let procs = wait_procs(
        &api,
        "h0",
        "drop legacy and miss the managed one",
        WAIT,
        |p| {
            proc(p, "legacy_cron").is_none()
                && proc(p, "shop-1_0-prod-abc123-web-5001")
                    .is_some_and(|p| p.state == ProcState::Missing)
        },
    )
    .await;
    let detail: vr_app::fleet::ProcDetail = api
        .get(&paths::proc("h0", "shop-1_0-prod-abc123-web-5001"))
        .await
        .expect_ok()
        .json();
    assert_eq!(
        detail.history.first().map(|c| c.state),
        Some(ProcState::Missing)
    );
    assert!(detail.history.iter().any(|c| c.state == ProcState::Running));
    assert_eq!(procs.len(), 1);

    // Move between squads, take out of a squad, mark inactive.
    let moved: vr_app::fleet::Host = api
        .patch(
            &paths::host("h1"),
            &HostPatch {
                squad: Some(Some("jobs".into())),
                ..Default::default()
            },
        )
        .await
        .expect_ok()
        .json();
    assert_eq!(moved.settings.squad.as_deref(), Some("jobs"));
    let err = api
        .delete(&paths::squad("web"))
        .await
        .expect_status(409)
        .error();
    assert!(err.message.contains("h0"), "{}", err.message);
    let out: vr_app::fleet::Host = api
        .patch(
            &paths::host("h0"),
            &HostPatch {
                squad: Some(None),
                active: Some(false),
                ..Default::default()
            },
        )
        .await
        .expect_ok()
        .json();
    assert_eq!(out.settings.squad, None);
    assert_eq!(out.status.health, Health::Inactive);
    api.delete(&paths::squad("web")).await.expect_status(204);
    let squads: Vec<Squad> = api.get(paths::SQUADS).await.expect_ok().json();
    assert_eq!(
        squads.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["jobs"]
    );

    // Delete a host: it and its procs leave the snapshot; the host itself is untouched.
    api.delete(&paths::host("h0")).await.expect_status(204);
    let f = fleet(&api).await;
    assert!(f.hosts.iter().all(|h| h.settings.name != "h0"));
    assert!(f.procs.iter().all(|p| p.host != "h0"));

    // Every change is in the activity log with its user.
    let events: Vec<vr_app::api::Event> = api.get("/api/events?limit=100").await.expect_ok().json();
    for action in [
        "squad.create",
        "host.create",
        "host.update",
        "squad.delete",
        "host.delete",
    ] {
        assert!(
            events
                .iter()
                .any(|e| e.action == action && e.actor == "admin"),
            "no {action} event"
        );
    }
}

#[tokio::test]
async fn test_connection_reports_what_it_found_or_the_exact_failure() {
    let server = fleet_server().await;
    let api = server.admin().await;
    let hosts = hosts_for(&api, 1).await;
    hosts[0].add_program("one", "sleep 1000");
    add_host(&api, &hosts[0], "good", None).await;
    let r = test_connection(&api, "good").await;
    assert!(r.ok, "{r:?}");
    assert_eq!(r.proc_count, Some(1));
    assert_eq!(r.supervisor_version.as_deref(), Some("4.2.5"));

    // Nothing listens on this port: the report says so, quickly.
    let mut nobody = vr_tests::harness::fleet::new_host(&hosts[0], "nobody", None);
    nobody.port = Some(vr_tests::harness::free_port());
    api.post(paths::HOSTS, &nobody).await.expect_status(201);
    let r = test_connection(&api, "nobody").await;
    assert!(!r.ok);
    let err = r.error.unwrap_or_default();
    assert!(
        err.contains("cannot connect") && err.contains("refused"),
        "{err}"
    );

    // The wrong socket: XML-RPC is refused, supervisorctl still answers.
    api.patch(
        &paths::host("good"),
        &serde_json::json!({ "supervisor_socket": "/nonexistent/supervisor.sock" }),
    )
    .await
    .expect_ok();
    let r = test_connection(&api, "good").await;
    assert!(r.ok, "{r:?}");
    assert_eq!(r.via.as_deref(), Some("supervisorctl"));
    assert_eq!(r.proc_count, Some(1));
    // And a broken supervisorctl command on top: Supervisor counts as down, with the reason.
    api.patch(
        &paths::host("good"),
        &serde_json::json!({ "supervisorctl": "supervisorctl -c /nonexistent.conf" }),
    )
    .await
    .expect_ok();
    let r = test_connection(&api, "good").await;
    assert!(!r.ok);
    assert!(
        r.error
            .as_deref()
            .unwrap_or_default()
            .contains("Supervisor on"),
        "{r:?}"
    );
    wait_health(&api, "good", Health::SupervisorDown, WAIT).await;
}

/// Times one API read while hosts are dead or hanging: pages never wait on hosts.
async fn api_answers_without_waiting(api: &ApiClient) {
    for _ in 0..5 {
        let t = Instant::now();
        fleet(api).await;
        let took = t.elapsed();
        assert!(
            took < Duration::from_millis(DEADLINE_MS),
            "GET /api/fleet took {took:?} while hosts hang: it must not wait on them"
        );
    }
}

#[tokio::test]
async fn dead_and_hanging_hosts_are_flagged_within_the_deadline_and_recover() {
    let server = fleet_server().await;
    let api = server.admin().await;
    let key = server_key(&api).await;
    let opts = HostOptions {
        authorized_keys: vec![key],
        ..Default::default()
    };
    let hosts = TestHost::start_many(4, opts.clone());
    let cut = NetnsHost::start(opts);
    let names = ["sshd_killed", "supervisor_stopped", "hanging", "healthy"];
    for (h, name) in hosts.iter().zip(names) {
        h.add_program("app", "sleep 1000");
        add_host(&api, h, name, None).await;
    }
    cut.add_program("app", "sleep 1000");
    add_host(&api, &cut, "cut_off", None).await;
    for name in names.iter().chain(&["cut_off"]) {
        wait_health(&api, name, Health::Ok, WAIT).await;
    }

    let t = Instant::now();
    hosts[0].kill_sshd();
    hosts[1].stop_supervisord();
    hosts[2].stop_sshd_hanging();
    cut.cut();
    // Flagged within a deadline plus a poll interval or two (and the poll that was in flight).
    let bound = Duration::from_millis(2 * DEADLINE_MS + 3 * POLL_MS) + Duration::from_secs(2);
    // The first failure may be the open session breaking mid-command; the steady reason is the
    // refused connection.
    vr_tests::harness::fleet::wait_fleet(&api, "saw sshd_killed refuse connections", bound, |f| {
        f.hosts
            .iter()
            .find(|h| {
                h.settings.name == "sshd_killed"
                    && h.status.health == Health::Unreachable
                    && h.status
                        .error
                        .as_deref()
                        .unwrap_or_default()
                        .contains("cannot connect")
            })
            .cloned()
    })
    .await;
    let down = wait_health(&api, "supervisor_stopped", Health::SupervisorDown, bound).await;
    assert!(down.status.error.is_some());
    let hung = wait_health(&api, "hanging", Health::Unreachable, bound).await;
    assert!(
        hung.status
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("did not answer"),
        "{hung:?}"
    );
    let lost = wait_health(&api, "cut_off", Health::Unreachable, bound).await;
    assert!(
        lost.status
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("did not answer"),
        "{lost:?}"
    );
    eprintln!("all four flagged after {:?}", t.elapsed());

    // Their last known procs are kept, with the age of the last success.
    let f = fleet(&api).await;
    for name in ["sshd_killed", "hanging", "cut_off"] {
        let host = f
            .hosts
            .iter()
            .find(|h| h.settings.name == name)
            .expect("host");
        assert!(host.status.last_ok_at.is_some());
        assert!(
            f.procs.iter().any(|p| p.host == name && p.name == "app"),
            "{name} lost its procs"
        );
    }

    // Meanwhile the API answers at once and the healthy host is still followed closely.
    api_answers_without_waiting(&api).await;
    hosts[3].ctl_ok(&["stop", "app"]);
    wait_procs(
        &api,
        "healthy",
        "see app STOPPED",
        Duration::from_secs(5),
        |p| proc(p, "app").is_some_and(|p| p.state == ProcState::Stopped),
    )
    .await;

    // Actions on an unreachable host fail fast, with the reason.
    let t = Instant::now();
    let report: ProcActionReport = api
        .post(
            paths::PROC_ACTIONS,
            &action(ProcAction::Restart, "hanging", "app"),
        )
        .await
        .expect_ok()
        .json();
    assert!(
        t.elapsed() < Duration::from_millis(DEADLINE_MS),
        "took {:?}",
        t.elapsed()
    );
    assert!(!report.results[0].ok);
    assert!(
        report.results[0].message.contains("unreachable"),
        "{:?}",
        report.results
    );

    // Everything comes back.
    hosts[0].start_sshd();
    hosts[1].start_supervisord();
    hosts[2].resume_sshd();
    cut.restore();
    for name in names.iter().chain(&["cut_off"]) {
        wait_health(&api, name, Health::Ok, Duration::from_secs(20)).await;
    }
}

#[tokio::test]
async fn a_changed_host_key_is_refused_until_an_admin_trusts_it() {
    let server = fleet_server().await;
    let api = server.admin().await;
    let hosts = hosts_for(&api, 1).await;
    hosts[0].add_program("app", "sleep 1000");
    add_host(&api, &hosts[0], "h", None).await;
    let pinned = wait_health(&api, "h", Health::Ok, WAIT)
        .await
        .host_key
        .expect("pinned");

    hosts[0].regenerate_host_key();
    let changed = wait_health(&api, "h", Health::KeyChanged, WAIT).await;
    let presented = changed.status.presented_key.clone().expect("presented key");
    assert_ne!(presented, pinned);
    let error = changed.status.error.clone().unwrap_or_default();
    assert!(
        error.contains(&pinned) && error.contains(&presented),
        "{error}"
    );
    assert_eq!(changed.host_key.as_deref(), Some(pinned.as_str()));

    // Nothing is done on it meanwhile.
    let report: ProcActionReport = api
        .post(paths::PROC_ACTIONS, &action(ProcAction::Stop, "h", "app"))
        .await
        .expect_ok()
        .json();
    assert!(!report.results[0].ok && report.results[0].message.contains("host key"));
    assert_eq!(hosts[0].program_state("app").as_deref(), Some("RUNNING"));

    // Only an admin, and only for the key the host really presents.
    let deployer = make_user(&server, &api, "dep", "deployer").await;
    deployer
        .post(
            &paths::host_trust("h"),
            &TrustKey {
                fingerprint: presented.clone(),
            },
        )
        .await
        .expect_status(403);
    let err = api
        .post(
            &paths::host_trust("h"),
            &TrustKey {
                fingerprint: "SHA256:forged".into(),
            },
        )
        .await
        .expect_status(409)
        .error();
    assert_eq!(err.field.as_deref(), Some("fingerprint"));
    let trusted: vr_app::fleet::Host = api
        .post(
            &paths::host_trust("h"),
            &TrustKey {
                fingerprint: presented.clone(),
            },
        )
        .await
        .expect_ok()
        .json();
    assert_eq!(trusted.host_key.as_deref(), Some(presented.as_str()));
    wait_health(&api, "h", Health::Ok, WAIT).await;
}

pub async fn make_user(server: &VrServer, admin: &ApiClient, name: &str, role: &str) -> ApiClient {
    admin
        .post(
            "/api/users",
            &serde_json::json!({ "username": name, "password": "user-password-1", "role": role }),
        )
        .await
        .expect_status(201);
    let c = server.client();
    c.login(name, "user-password-1").await;
    c
}

fn action(action: ProcAction, host: &str, name: &str) -> ProcActionRequest {
    ProcActionRequest {
        action,
        procs: vec![ProcRef {
            host: host.into(),
            name: name.into(),
        }],
        filter: None,
    }
}

#[tokio::test]
async fn proc_actions_work_on_the_hosts_and_are_logged() {
    let server = fleet_server().await;
    let api = server.admin().await;
    let hosts = hosts_for(&api, 2).await;
    let web = "shop-1_0-prod-abc123-web-5001";
    for (i, h) in hosts.iter().enumerate() {
        h.add_program("legacy", "sleep 1000");
        h.add_managed_program(
            web,
            "sh -c 'echo started web; exec sleep 1000'",
            &meta("shop", "prod", "web", 5001),
        );
        add_host(&api, h, &format!("h{i}"), None).await;
    }
    for i in 0..2 {
        wait_procs(&api, &format!("h{i}"), "show both", WAIT, |p| p.len() == 2).await;
    }

    // One proc: stop, start, restart (new pid).
    let r: ProcActionReport = api
        .post(
            paths::PROC_ACTIONS,
            &action(ProcAction::Stop, "h0", "legacy"),
        )
        .await
        .expect_ok()
        .json();
    assert!(r.results[0].ok, "{r:?}");
    assert_eq!(hosts[0].program_state("legacy").as_deref(), Some("STOPPED"));
    // Stopping again is fine (idempotent), and says so.
    let r: ProcActionReport = api
        .post(
            paths::PROC_ACTIONS,
            &action(ProcAction::Stop, "h0", "legacy"),
        )
        .await
        .expect_ok()
        .json();
    assert!(
        r.results[0].ok && r.results[0].message.contains("not running"),
        "{r:?}"
    );
    let r: ProcActionReport = api
        .post(
            paths::PROC_ACTIONS,
            &action(ProcAction::Start, "h0", "legacy"),
        )
        .await
        .expect_ok()
        .json();
    assert!(r.results[0].ok, "{r:?}");
    assert_eq!(hosts[0].program_state("legacy").as_deref(), Some("RUNNING"));
    let before = wait_procs(&api, "h0", "see legacy running", WAIT, |p| {
        proc(p, "legacy").is_some_and(|p| p.state == ProcState::Running)
    })
    .await;
    let old_pid = proc(&before, "legacy").and_then(|p| p.pid);
    let r: ProcActionReport = api
        .post(
            paths::PROC_ACTIONS,
            &action(ProcAction::Restart, "h0", "legacy"),
        )
        .await
        .expect_ok()
        .json();
    assert!(r.results[0].ok, "{r:?}");
    wait_procs(&api, "h0", "see a new pid", WAIT, |p| {
        proc(p, "legacy").is_some_and(|p| p.state == ProcState::Running && p.pid != old_pid)
    })
    .await;

    // Unknown procs are a 404, not a trip to the host.
    api.post(paths::PROC_ACTIONS, &action(ProcAction::Stop, "h0", "nope"))
        .await
        .expect_status(404);
    // Destroy refuses unmanaged programs …
    let r: ProcActionReport = api
        .post(
            paths::PROC_ACTIONS,
            &action(ProcAction::Destroy, "h0", "legacy"),
        )
        .await
        .expect_ok()
        .json();
    assert!(
        !r.results[0].ok && r.results[0].message.contains("unmanaged"),
        "{r:?}"
    );
    assert_eq!(hosts[0].program_state("legacy").as_deref(), Some("RUNNING"));

    // … and across hosts by filter removes managed ones completely.
    let r: ProcActionReport = api
        .post(
            paths::PROC_ACTIONS,
            &ProcActionRequest {
                action: ProcAction::Destroy,
                procs: vec![],
                filter: Some(ProcFilter {
                    pattern: Some("^shop-prod-web$".into()),
                    host: Some("^h[01]$".into()),
                    ..Default::default()
                }),
            },
        )
        .await
        .expect_ok()
        .json();
    assert_eq!(r.results.len(), 2, "{r:?}");
    assert!(r.results.iter().all(|x| x.ok), "{r:?}");
    for h in &hosts {
        assert_eq!(h.program_state(web), None);
        assert!(!h.include_dir().join(format!("{web}.conf")).exists());
        assert!(!h.apps_root().join("procs").join(web).exists());
    }
    let f = fleet(&api).await;
    assert!(
        f.procs.iter().all(|p| p.name != web),
        "destroyed procs are not MISSING"
    );

    // A bad regex names its field.
    let err = api
        .post(
            paths::PROC_ACTIONS,
            &ProcActionRequest {
                action: ProcAction::Stop,
                procs: vec![],
                filter: Some(ProcFilter {
                    pattern: Some("(".into()),
                    ..Default::default()
                }),
            },
        )
        .await
        .expect_status(400)
        .error();
    assert_eq!(err.field.as_deref(), Some("pattern"));

    // Viewers may look but not act.
    let viewer = make_user(&server, &api, "val", "viewer").await;
    viewer.get(paths::FLEET).await.expect_ok();
    viewer
        .post(
            paths::PROC_ACTIONS,
            &action(ProcAction::Stop, "h0", "legacy"),
        )
        .await
        .expect_status(403);

    let events: Vec<vr_app::api::Event> = api
        .get("/api/events?action=proc.&limit=100")
        .await
        .expect_ok()
        .json();
    for (act, object) in [
        ("proc.stop", "proc:h0/legacy"),
        ("proc.start", "proc:h0/legacy"),
        ("proc.restart", "proc:h0/legacy"),
        ("proc.destroy", &*format!("proc:h1/{web}")),
    ] {
        assert!(
            events
                .iter()
                .any(|e| e.action == act && e.object == object && e.actor == "admin"),
            "no {act} on {object} in {events:#?}"
        );
    }
    assert!(
        events
            .iter()
            .any(|e| e.action == "proc.destroy" && e.outcome == vr_app::api::Outcome::Failed)
    );
}

#[tokio::test]
async fn log_tails_follow_stdout_and_stderr() {
    let server = fleet_server().await;
    let api = server.admin().await;
    let hosts = hosts_for(&api, 1).await;
    hosts[0].add_program(
        "talker",
        "sh -c 'echo to-stdout; echo to-stderr >&2; i=0; while true; do i=$((i+1)); echo line-$i; sleep 0.2; done'",
    );
    add_host(&api, &hosts[0], "h", None).await;
    wait_procs(&api, "h", "show talker", WAIT, |p| !p.is_empty()).await;

    let first: vr_app::fleet::LogChunk = api
        .get(&format!("{}?stream=stdout", paths::proc_log("h", "talker")))
        .await
        .expect_ok()
        .json();
    assert!(first.text.contains("to-stdout"), "{first:?}");
    let err: vr_app::fleet::LogChunk = api
        .get(&format!("{}?stream=stderr", paths::proc_log("h", "talker")))
        .await
        .expect_ok()
        .json();
    assert!(
        err.text.contains("to-stderr") && !err.text.contains("line-"),
        "{err:?}"
    );
    // Following from the returned offset yields only what came after.
    let mut offset = first.offset;
    let mut more = String::new();
    let deadline = Instant::now() + WAIT;
    while more.lines().count() < 3 && Instant::now() < deadline {
        let next: vr_app::fleet::LogChunk = api
            .get(&format!(
                "{}?stream=stdout&offset={offset}",
                paths::proc_log("h", "talker")
            ))
            .await
            .expect_ok()
            .json();
        offset = next.offset;
        more.push_str(&next.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = more.lines().count() >= 3;
    assert!(got, "no new lines: {more:?}");
    assert!(!more.contains("to-stdout"), "{more:?}");
    api.get(&format!("{}?stream=stdout", paths::proc_log("h", "nope")))
        .await
        .expect_status(404);
}

/// Runs `vr ARGS` against the server with an API token; returns (success, stdout+stderr).
/// A fresh API token of `api`'s user, for running the CLI as it.
pub async fn cli_token(api: &ApiClient) -> String {
    let t: vr_app::api::CreatedToken = api
        .post("/api/tokens", &serde_json::json!({ "name": "cli" }))
        .await
        .expect_status(201)
        .json();
    t.secret
}

pub fn vr(server: &VrServer, token: &str, args: &[&str]) -> (bool, String) {
    vr_in(server, token, None, args)
}

/// [`vr`] run in `dir` (for commands that name files relative to where they run).
pub fn vr_in(
    server: &VrServer,
    token: &str,
    dir: Option<&std::path::Path>,
    args: &[&str],
) -> (bool, String) {
    let mut cmd = super::server_process::vr_cmd(server);
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let out = cmd
        .env("VR_URL", server.base_url())
        .env("VR_TOKEN", token)
        .args(args)
        .output()
        .expect("running vr");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test]
async fn the_cli_manages_squads_hosts_and_procs() {
    let server = fleet_server().await;
    let api = server.admin().await;
    let cli = cli_token(&api).await;
    let t = cli.as_str();
    let hosts = hosts_for(&api, 2).await;
    hosts[0].add_program("legacy", "sleep 1000");
    hosts[1].add_managed_program(
        "shop-1-prod-x-web-5001",
        "sleep 1000",
        &meta("shop", "prod", "web", 5001),
    );
    hosts[1].add_managed_program(
        "shop-1-prod-x-worker-0",
        "sleep 1000",
        &meta("shop", "prod", "worker", 0),
    );

    let (ok, out) = vr(
        &server,
        t,
        &["squad", "add", "web", "--description", "front"],
    );
    assert!(ok, "{out}");
    for (i, h) in hosts.iter().enumerate() {
        let name = format!("h{i}");
        let port = h.ssh_port().to_string();
        let sock = h.supervisor_socket().display().to_string();
        let inc = h.include_dir().display().to_string();
        let apps = h.apps_root().display().to_string();
        let ctl = h.supervisorctl();
        let (ok, out) = vr(
            &server,
            t,
            &[
                "host",
                "add",
                &h.address(),
                "--name",
                &name,
                "--squad",
                "web",
                "--port",
                &port,
                "--supervisorctl",
                &ctl,
                "--supervisor-socket",
                &sock,
                "--include-dir",
                &inc,
                "--apps-root",
                &apps,
            ],
        );
        assert!(ok, "{out}");
        assert!(out.contains(&format!("added host {name}")), "{out}");
    }
    // Bad input names the problem and adds nothing.
    let (ok, out) = vr(&server, t, &["host", "add", "a;rm -rf /", "--name", "evil"]);
    assert!(!ok && out.contains("field address"), "{out}");
    let (ok, out) = vr(&server, t, &["host", "add", "10.0.0.9", "--squad", "nope"]);
    assert!(!ok && out.contains("no squad named nope"), "{out}");

    let (ok, out) = vr(&server, t, &["host", "test", "h0"]);
    assert!(
        ok && out.contains("supervisor 4.2.5 via xmlrpc, 1 procs"),
        "{out}"
    );
    // What the host offers for isolation, as this machine has it (the test bootstrap installs
    // bubblewrap; the cgroup hierarchy is the kernel's).
    let bwrap = std::process::Command::new("bwrap")
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .replace("bubblewrap ", "")
        })
        .expect("bwrap is installed by scripts/bootstrap.sh test");
    assert!(
        out.contains(&format!("isolation: sandbox: bubblewrap {bwrap}; ")),
        "{out}"
    );
    let memory = match std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers") {
        Ok(c) if c.split_whitespace().any(|w| w == "memory") => "memory limits by cgroup v2",
        Ok(_) => "memory limits by ulimit -v",
        Err(_) if std::path::Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists() => {
            "memory limits by cgroup v1"
        }
        Err(_) => "memory limits by ulimit -v",
    };
    assert!(out.contains(memory), "{out}");
    wait_health(&api, "h1", Health::Ok, WAIT).await;
    wait_procs(&api, "h1", "show both", WAIT, |p| {
        p.len() == 2 && p.iter().all(|p| p.managed())
    })
    .await;
    let (ok, out) = vr(&server, t, &["squads"]);
    assert!(ok && out.contains("web") && out.contains("h0,h1"), "{out}");
    let (ok, out) = vr(&server, t, &["hosts", "--squad", "web"]);
    assert!(
        ok && out.contains("h0") && out.contains("ok (supervisor 4.2.5 via xmlrpc)"),
        "{out}"
    );

    // procs list: regexes with alternation, --host, --json.
    let (ok, out) = vr(&server, t, &["procs", "list", "worker|legacy"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("legacy")
            && out.contains("shop-1-prod-x-worker-0")
            && !out.contains("web-5001"),
        "{out}"
    );
    let (ok, out) = vr(&server, t, &["procs", "list", "--host", "^h1$", "--json"]);
    assert!(ok, "{out}");
    let listed: Vec<Proc> = serde_json::from_str(&out).expect("json");
    assert_eq!(listed.len(), 2);

    // Actions by filter across hosts, with per-proc results.
    let (ok, out) = vr(&server, t, &["procs", "stop", "shop-prod-", "--host", "h"]);
    assert!(ok, "{out}");
    assert_eq!(out.matches("ok   ").count(), 2, "{out}");
    assert_eq!(
        hosts[1].program_state("shop-1-prod-x-web-5001").as_deref(),
        Some("STOPPED")
    );
    let (ok, out) = vr(&server, t, &["procs", "start", "web"]);
    assert!(ok, "{out}");
    assert_eq!(
        hosts[1].program_state("shop-1-prod-x-web-5001").as_deref(),
        Some("RUNNING")
    );
    let (ok, out) = vr(&server, t, &["procs", "restart", "nothing-matches-this"]);
    assert!(
        !ok && (out.contains("no proc matches") || out.contains("not found")),
        "{out}"
    );
    // Destroy wants a selection and a confirmation.
    let (ok, out) = vr(&server, t, &["procs", "destroy"]);
    assert!(!ok && out.contains("refusing"), "{out}");
    let (ok, out) = vr(&server, t, &["procs", "destroy", "worker"]);
    assert!(!ok && out.contains("--yes"), "{out}");
    // Stopped earlier, and still there: nothing was destroyed without --yes.
    assert_eq!(
        hosts[1].program_state("shop-1-prod-x-worker-0").as_deref(),
        Some("STOPPED")
    );
    let (ok, out) = vr(&server, t, &["procs", "destroy", "worker", "--yes"]);
    assert!(ok, "{out}");
    assert_eq!(hosts[1].program_state("shop-1-prod-x-worker-0"), None);
    // A failure exits non-zero and says which.
    let (ok, out) = vr(&server, t, &["procs", "destroy", "legacy", "--yes"]);
    assert!(
        !ok && out.contains("FAIL legacy on h0") && out.contains("1 of 1"),
        "{out}"
    );

    // The seed's host-loss scenario: take a host out of its squad, mark it inactive, delete it.
    let (ok, out) = vr(
        &server,
        t,
        &["host", "edit", "h0", "--no-squad", "--inactive"],
    );
    assert!(ok && out.contains("squad none, inactive"), "{out}");
    let (ok, out) = vr(&server, t, &["squad", "rm", "web"]);
    assert!(!ok && out.contains("h1"), "{out}");
    let (ok, out) = vr(&server, t, &["host", "rm", "h0"]);
    assert!(ok, "{out}");
    let (ok, out) = vr(&server, t, &["hosts"]);
    assert!(ok && !out.contains("h0 ") && out.contains("h1"), "{out}");
}

/// A login user with passwordless sudo, as many fleets use instead of root. Made once per
/// machine (idempotent); the harness is root on test machines.
fn ensure_sudo_user(user: &str) {
    let exists = std::process::Command::new("id")
        .arg(user)
        .output()
        .is_ok_and(|o| o.status.success());
    if !exists {
        let out = std::process::Command::new("useradd")
            // `*`: no password, but not "locked" (sshd without PAM refuses locked accounts).
            .args([
                "--no-create-home",
                "--shell",
                "/bin/sh",
                "--password",
                "*",
                user,
            ])
            .output()
            .expect("useradd");
        // A parallel test may have made it meanwhile.
        assert!(
            out.status.success() || String::from_utf8_lossy(&out.stderr).contains("exists"),
            "useradd: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let rule = format!("/etc/sudoers.d/vr-tests-{user}");
    if !std::path::Path::new(&rule).exists() {
        std::fs::write(&rule, format!("{user} ALL=(ALL) NOPASSWD: ALL\n")).expect("sudoers rule");
        std::os::unix::fs::chown(&rule, Some(0), Some(0)).expect("chown sudoers rule");
        std::fs::set_permissions(&rule, std::os::unix::fs::PermissionsExt::from_mode(0o440))
            .expect("chmod sudoers rule");
    }
}

#[tokio::test]
async fn a_sudo_user_reaches_supervisor_through_sudo() {
    ensure_sudo_user("vrsudo");
    let server = fleet_server().await;
    let api = server.admin().await;
    let hosts = hosts_for(&api, 1).await;
    // sshd reads authorized_keys as the user logging in.
    std::fs::set_permissions(
        hosts[0].dir().join("authorized_keys"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .expect("chmod authorized_keys");
    hosts[0].add_program("app", "sh -c 'echo hello-from-app; exec sleep 1000'");
    let mut new = vr_tests::harness::fleet::new_host(&hosts[0], "h", None);
    new.user = Some("vrsudo".into());
    api.post(paths::HOSTS, &new).await.expect_status(201);

    // supervisord's socket is root-only (0700), so the status comes from `sudo -n supervisorctl`.
    let h = wait_health(&api, "h", Health::Ok, WAIT).await;
    assert_eq!(h.status.via.as_deref(), Some("supervisorctl"), "{h:?}");
    assert_eq!(h.status.supervisor_version.as_deref(), Some("4.2.5"));
    wait_procs(&api, "h", "show app RUNNING", WAIT, |p| {
        proc(p, "app").is_some_and(|p| p.state == ProcState::Running && p.pid.is_some())
    })
    .await;
    let r: ProcActionReport = api
        .post(paths::PROC_ACTIONS, &action(ProcAction::Stop, "h", "app"))
        .await
        .expect_ok()
        .json();
    assert!(r.results[0].ok, "{r:?}");
    assert_eq!(hosts[0].program_state("app").as_deref(), Some("STOPPED"));
    let log: vr_app::fleet::LogChunk = api
        .get(&format!("{}?stream=stdout", paths::proc_log("h", "app")))
        .await
        .expect_ok()
        .json();
    assert!(
        log.text.contains("hello-from-app") && log.overflow,
        "{log:?}"
    );
}
