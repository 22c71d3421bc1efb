//! Balancers against a real nginx on a harness host: a swarm routed through it rolls out v1 → v2
//! under a steady request loop with no failed request, and afterwards every answer is v2; a
//! manual destroy of a routed proc leaves the pool before the proc stops (no failed request);
//! a broken include makes validation fail: the previous file is put back, nginx keeps serving and
//! the dispatch says why; a balancer host down during a dispatch shows as drift until re-applied;
//! a second swarm cannot take a pool another routes; two swarms dispatched at once on one
//! balancer host both end with their pools right; size 0 empties the pool and nginx still
//! validates; and the CLI lists and shows balancers.

use super::deploys::web_built;
use super::swarms::{
    add_squad, dispatch, give_ports, keep_version, procs_of, succeeded, swarm_setup,
};
use std::time::Duration;
use vr_app::balancer::{Balancer, BalancerKind, BalancerSpec, paths as bpaths};
use vr_app::fleet::{
    ProcAction, ProcActionReport, ProcActionRequest, ProcRef, paths as fleet_paths,
};
use vr_app::swarm::{DispatchRequest, DispatchStatus, Swarm, SwarmSpec, paths};
use vr_tests::harness::balancer::NginxEdge;
use vr_tests::harness::fleet::{add_host, wait_health};
use vr_tests::harness::load::{Load, wait_answers};
use vr_tests::harness::{ApiClient, free_port};

fn echo_swarm(config: &str, size: u32, pool: &str) -> SwarmSpec {
    SwarmSpec {
        app: "web".into(),
        version: "main".into(),
        proc_type: "echo".into(),
        config: config.into(),
        squad: "eu".into(),
        size,
        uses_ports: true,
        env_yaml: "COLOUR: blue\n".into(),
        pool: Some(pool.into()),
        balancer: Some("edge".into()),
        ..SwarmSpec::default()
    }
}

/// nginx on the balancer host with upstreams `web` and `other`, on `ports[0]` and `ports[1]`.
struct Edge(NginxEdge);

impl Edge {
    fn start() -> Edge {
        Edge(NginxEdge::start(&[
            ("vr-pool-web.conf", "web"),
            ("vr-pool-other.conf", "other"),
        ]))
    }

    fn pool_file(&self, pool: &str) -> String {
        self.0.read(&format!("vr-pool-{pool}.conf"))
    }
}

impl std::ops::Deref for Edge {
    type Target = NginxEdge;

    fn deref(&self) -> &NginxEdge {
        &self.0
    }
}

async fn balancer(api: &ApiClient) -> Balancer {
    api.get(&bpaths::balancer("edge")).await.expect_ok().json()
}

/// The builder and `web2` in squad `eu`, the web app built, and `lb1` (no squad) to run the
/// balancer. Keep what it returns alive.
async fn routed_setup() -> (
    super::builds::Setup,
    vr_tests::harness::git::GitRepo,
    vr_tests::harness::TestHost,
    vr_tests::harness::TestHost,
) {
    let s = swarm_setup().await;
    let (repo, _build) = web_built(&s).await;
    add_squad(&s.api).await;
    let mut more = super::fleet::hosts_for(&s.api, 2).await;
    let lb = more.pop().expect("lb host");
    let web2 = more.pop().expect("web2 host");
    add_host(&s.api, &web2, "web2", Some("eu")).await;
    add_host(&s.api, &lb, "lb1", None).await;
    for h in ["web2", "lb1"] {
        wait_health(
            &s.api,
            h,
            vr_app::fleet::Health::Ok,
            Duration::from_secs(15),
        )
        .await;
    }
    give_ports(&s.api, "builder1", 8).await;
    give_ports(&s.api, "web2", 8).await;
    (s, repo, web2, lb)
}

/// Sets swarm `id` to `spec` with COLOUR `colour` and dispatches it under a request loop
/// through `port`: no request may fail, and afterwards every answer is the new colour.
async fn rollout_under_load(
    api: &ApiClient,
    id: i64,
    spec: &mut SwarmSpec,
    colour: &str,
    port: u16,
) {
    let load = Load::start(port);
    tokio::time::sleep(Duration::from_millis(200)).await;
    spec.env_yaml = format!("COLOUR: {colour}\n");
    api.put(&paths::swarm(id), &*spec).await.expect_ok();
    succeeded(api, id, &keep_version()).await;
    let (n, failures, answers) = load.stop().await;
    eprintln!(
        "rollout to {colour}: {n} requests, {} failed",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {n} requests failed: {failures:?}",
        failures.len()
    );
    assert!(answers.iter().any(|a| a == colour), "{answers:?}");
    assert!(n > 50, "only {n} requests during the rollout");
    wait_answers(port, colour).await;
}

#[tokio::test]
async fn nginx_pools_follow_swarms_without_dropping_a_request() {
    let (s, _repo, _web2, lb) = routed_setup().await;
    let edge = Edge::start();

    // A balancer is an admin's to add; its hosts must be hosts vr knows.
    let mut spec = edge.balancer("edge", &["lb9"], 300);
    let r = s
        .api
        .post(bpaths::BALANCERS, &spec)
        .await
        .expect_status(400);
    assert_eq!(r.value()["error"]["field"], "hosts", "{}", r.value());
    spec.hosts = vec!["lb1".into()];
    s.api
        .post(bpaths::BALANCERS, &spec)
        .await
        .expect_status(201);

    // A pool needs a balancer that exists.
    let mut bad = echo_swarm("prod", 4, "web");
    bad.balancer = Some("nowhere".into());
    let r = s.api.post(paths::SWARMS, &bad).await.expect_status(400);
    assert_eq!(r.value()["error"]["field"], "balancer", "{}", r.value());

    // v1: four procs over two hosts, routed.
    let swarm = super::swarms::create_swarm(&s.api, &echo_swarm("prod", 4, "web")).await;
    let d = succeeded(&s.api, swarm.id, &DispatchRequest::default()).await;
    let route = super::swarms::route_step(&d);
    assert!(route.ok && route.message.contains("4 node(s)"), "{route:?}");
    // The reload is only done once nginx's old workers (the old pool) are gone.
    assert!(
        route.message.contains("lb1: reloaded, old workers done"),
        "{route:?}"
    );
    assert_eq!(
        edge.pool_file("web")
            .matches("    server 127.0.0.1:")
            .count(),
        4
    );
    wait_answers(edge.ports[0], "blue").await;

    // A second swarm cannot take the pool.
    let r = s
        .api
        .post(paths::SWARMS, &echo_swarm("canary", 1, "web"))
        .await
        .expect_status(400);
    assert_eq!(r.value()["error"]["field"], "pool", "{}", r.value());
    assert!(
        r.value()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("web-prod-echo")),
        "{}",
        r.value()
    );

    // v1 → v2 under load: no failed request, and afterwards only v2 answers and no v1 proc is
    // left in the pool.
    let v1 = procs_of(&s.api, swarm.id).await;
    let mut v2 = echo_swarm("prod", 4, "web");
    rollout_under_load(&s.api, swarm.id, &mut v2, "green", edge.ports[0]).await;
    let file = edge.pool_file("web");
    assert!(v1.iter().all(|p| !file.contains(&p.name)), "{file}");
    assert_eq!(file.matches("    server 127.0.0.1:").count(), 4, "{file}");

    // A routed proc destroyed by hand leaves the pool before it stops.
    let load = Load::start(edge.ports[0]);
    let victim = procs_of(&s.api, swarm.id).await.remove(0);
    let report: ProcActionReport = s
        .api
        .post(
            fleet_paths::PROC_ACTIONS,
            &ProcActionRequest {
                action: ProcAction::Destroy,
                procs: vec![ProcRef {
                    host: victim.host.clone(),
                    name: victim.name.clone(),
                }],
                filter: None,
            },
        )
        .await
        .expect_ok()
        .json();
    assert!(report.results[0].ok, "{report:?}");
    assert!(
        report.results[0].message.contains("left its pool first"),
        "{report:?}"
    );
    let (n, failures, _) = load.stop().await;
    assert!(
        failures.is_empty(),
        "{} of {n} failed: {failures:?}",
        failures.len()
    );
    assert!(!edge.pool_file("web").contains(&victim.name));
    assert_eq!(
        edge.pool_file("web")
            .matches("    server 127.0.0.1:")
            .count(),
        3
    );

    // A routed proc stopped by hand leaves the pool first; started again, it returns only
    // once its uptests pass.
    let act = |action: ProcAction, p: &vr_app::fleet::Proc| ProcActionRequest {
        action,
        procs: vec![ProcRef {
            host: p.host.clone(),
            name: p.name.clone(),
        }],
        filter: None,
    };
    let paused = procs_of(&s.api, swarm.id).await.remove(0);
    let load = Load::start(edge.ports[0]);
    let report: ProcActionReport = s
        .api
        .post(fleet_paths::PROC_ACTIONS, &act(ProcAction::Stop, &paused))
        .await
        .expect_ok()
        .json();
    assert!(report.results[0].ok, "{report:?}");
    let (n, failures, _) = load.stop().await;
    assert!(
        failures.is_empty(),
        "{} of {n} failed: {failures:?}",
        failures.len()
    );
    assert!(!edge.pool_file("web").contains(&paused.name));
    let report: ProcActionReport = s
        .api
        .post(fleet_paths::PROC_ACTIONS, &act(ProcAction::Start, &paused))
        .await
        .expect_ok()
        .json();
    assert!(
        report.results[0].ok
            && report.results[0]
                .message
                .contains("uptests passed; back in its pool"),
        "{report:?}"
    );
    assert!(edge.pool_file("web").contains(&paused.name));
    // A dispatch routes the procs the snapshot shows RUNNING: let it catch up with the start.
    let t = std::time::Instant::now();
    let seen = vr_tests::harness::wait_until_async(Duration::from_secs(10), || {
        let (api, name) = (&s.api, paused.name.clone());
        async move {
            procs_of(api, swarm.id)
                .await
                .iter()
                .any(|p| p.name == name && p.state == vr_app::supervisor::ProcState::Running)
        }
    })
    .await;
    eprintln!(
        "the snapshot showed the restarted proc RUNNING after {:?}",
        t.elapsed()
    );
    assert!(
        seen,
        "the snapshot never showed {} RUNNING again",
        paused.name
    );

    // A broken include: validation fails, the previous file is back, nginx still serves.
    let broken = edge.pools().join("zz-broken.conf");
    std::fs::write(&broken, "this is not nginx;\n").expect("broken include");
    let before = edge.pool_file("web");
    let d = dispatch(&s.api, swarm.id, &keep_version()).await;
    assert_eq!(d.status, DispatchStatus::Failed, "{d:#?}");
    let route = super::swarms::route_step(&d);
    assert!(!route.ok, "{route:?}");
    assert!(
        route.message.contains("validation failed"),
        "{}",
        route.message
    );
    assert!(
        route.message.contains("zz-broken.conf"),
        "{}",
        route.message
    );
    assert_eq!(edge.pool_file("web"), before);
    wait_answers(edge.ports[0], "green").await;
    std::fs::remove_file(&broken).expect("fix the include");
    let b = balancer(&s.api).await;
    assert!(
        b.pools.iter().any(|p| p.pool == "web" && p.drift()),
        "{b:#?}"
    );
    let b: Balancer = s
        .api
        .post(&bpaths::reapply("edge", "web"), &serde_json::json!({}))
        .await
        .expect_ok()
        .json();
    let web = b.pools.iter().find(|p| p.pool == "web").expect("pool web");
    assert!(!web.drift(), "{web:#?}");
    assert_eq!(web.swarm.as_deref(), Some("web-prod-echo"));
    assert_eq!(
        edge.pool_file("web")
            .matches("    server 127.0.0.1:")
            .count(),
        4
    );

    // The balancer host down during a dispatch: the pool drifts until re-applied.
    lb.kill_sshd();
    let mut v3 = v2.clone();
    v3.env_yaml = "COLOUR: red\n".into();
    s.api.put(&paths::swarm(swarm.id), &v3).await.expect_ok();
    let d = succeeded(&s.api, swarm.id, &keep_version()).await;
    let route = super::swarms::route_step(&d);
    assert!(route.message.contains("lb1: behind"), "{}", route.message);
    assert!(
        balancer(&s.api)
            .await
            .pools
            .iter()
            .any(|p| p.pool == "web" && p.drift())
    );
    lb.start_sshd();
    wait_health(
        &s.api,
        "lb1",
        vr_app::fleet::Health::Ok,
        Duration::from_secs(20),
    )
    .await;
    let b: Balancer = s
        .api
        .post(&bpaths::reapply("edge", "web"), &serde_json::json!({}))
        .await
        .expect_ok()
        .json();
    assert!(b.pools.iter().all(|p| !p.drift()), "{b:#?}");
    wait_answers(edge.ports[0], "red").await;

    // Two swarms on one balancer host dispatched at once: both pools right afterwards.
    let other = super::swarms::create_swarm(&s.api, &echo_swarm("other", 2, "other")).await;
    let mut v4 = v3.clone();
    v4.env_yaml = "COLOUR: yellow\n".into();
    s.api.put(&paths::swarm(swarm.id), &v4).await.expect_ok();
    let (keep, first) = (keep_version(), DispatchRequest::default());
    let (a, b) = tokio::join!(
        dispatch(&s.api, swarm.id, &keep),
        dispatch(&s.api, other.id, &first)
    );
    assert_eq!(a.status, DispatchStatus::Succeeded, "{a:#?}");
    assert_eq!(b.status, DispatchStatus::Succeeded, "{b:#?}");
    wait_answers(edge.ports[0], "yellow").await;
    wait_answers(edge.ports[1], "blue").await;
    assert_eq!(
        edge.pool_file("web")
            .matches("    server 127.0.0.1:")
            .count(),
        4
    );
    assert_eq!(
        edge.pool_file("other")
            .matches("    server 127.0.0.1:")
            .count(),
        2
    );

    // The CLI.
    let cli = super::fleet::cli_token(&s.api).await;
    let vr = |args: &[&str]| super::fleet::vr(&s.server, &cli, args);
    let (ok, out) = vr(&["balancers"]);
    assert!(
        ok && out.starts_with("edge") && out.contains("nginx") && out.contains("2 pool(s)"),
        "{out}"
    );
    let (ok, out) = vr(&["balancer", "show", "edge"]);
    assert!(
        ok && out.contains("pool web — 4 node(s), routed by swarm web-prod-echo"),
        "{out}"
    );
    let (ok, out) = vr(&["balancer", "rm", "edge"]);
    assert!(!ok && out.contains("routes pool"), "{out}");
    let (ok, out) = vr(&["balancer", "apply", "edge", "other"]);
    assert!(ok && out.contains("on lb1: holds it"), "{out}");
    let (ok, out) = vr(&["balancer", "edit", "edge", "--drain-ms", "250"]);
    assert!(ok && out.contains("drain:     250 ms"), "{out}");
    let pid = edge.path().join("nginx.pid").display().to_string();
    assert!(out.contains(&format!("pid file:  {pid}")), "{out}");
    let (ok, out) = vr(&["balancer", "edit", "edge", "--pid-file", "run/x.pid"]);
    assert!(!ok && out.contains("pid_file"), "{out}");

    // Size 0 empties the pool; nginx still validates and reloads.
    let mut empty = v4.clone();
    empty.size = 0;
    s.api.put(&paths::swarm(swarm.id), &empty).await.expect_ok();
    succeeded(&s.api, swarm.id, &keep_version()).await;
    assert!(procs_of(&s.api, swarm.id).await.is_empty());
    let file = edge.pool_file("web");
    assert!(
        file.contains("server 127.0.0.1:9 down;") && file.contains("(0 node(s))"),
        "{file}"
    );
    let check = std::process::Command::new("sh")
        .args(["-c", &edge.nginx("-t")])
        .output()
        .expect("nginx -t");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    // Taking the pool over from the CLI needs `--take-pool`.
    let create = [
        "swarm",
        "create",
        "--app",
        "web",
        "--version",
        "main",
        "--proc",
        "echo",
        "--config",
        "canary",
        "--squad",
        "eu",
        "--pool",
        "web",
        "--balancer",
        "edge",
    ];
    let (ok, out) = vr(&create);
    assert!(!ok && out.contains("already routes pool web"), "{out}");
    let (ok, out) = vr(&[&create[..], &["--take-pool"]].concat());
    assert!(ok, "{out}");
    let old: Swarm = s.api.get(&paths::swarm(swarm.id)).await.expect_ok().json();
    assert_eq!(old.spec.pool, None);
    let (ok, out) = vr(&["swarm", "web-canary-echo", "-"]);
    assert!(ok, "{out}");
    // The canary sets no COLOUR: its procs answer "?".
    wait_answers(edge.ports[0], "?").await;
    assert_eq!(
        edge.pool_file("web")
            .matches("    server 127.0.0.1:")
            .count(),
        1
    );
}

/// haproxy in master-worker mode with `pools` as a second config folder; a reload is USR2 to
/// the master (new workers, old ones finish their requests).
struct Haproxy {
    dir: tempfile::TempDir,
    port: u16,
    child: std::process::Child,
}

impl Haproxy {
    fn start() -> Haproxy {
        use std::os::unix::process::CommandExt;
        let dir = tempfile::tempdir().expect("tmp");
        let pools = dir.path().join("pools");
        std::fs::create_dir_all(&pools).expect("pools dir");
        std::fs::write(pools.join("vr-pool-web.cfg"), "backend web\n").expect("placeholder");
        let port = free_port();
        // No retry: a request sent to a proc that stopped before it left the pool fails, so
        // the loop sees any ordering mistake.
        std::fs::write(
            dir.path().join("haproxy.cfg"),
            format!(
                "defaults\n    mode http\n    retries 0\n    timeout connect 2s\n\
                 \x20   timeout client 10s\n    timeout server 10s\n\
                 frontend f\n    bind 127.0.0.1:{port}\n    default_backend web\n"
            ),
        )
        .expect("haproxy.cfg");
        let d = dir.path();
        let child = std::process::Command::new("/usr/sbin/haproxy")
            .arg("-W")
            .arg("-f")
            .arg(d.join("haproxy.cfg"))
            .arg("-f")
            .arg(&pools)
            .arg("-p")
            .arg(d.join("haproxy.pid"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .expect("starting haproxy");
        Haproxy { dir, port, child }
    }

    fn validate(&self) -> String {
        let d = self.dir.path().display();
        format!("/usr/sbin/haproxy -c -q -f {d}/haproxy.cfg -f {d}/pools")
    }

    fn reload(&self) -> String {
        format!(
            "kill -USR2 \"$(cat {}/haproxy.pid)\"",
            self.dir.path().display()
        )
    }

    fn pool_file(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pools/vr-pool-web.cfg")).unwrap_or_default()
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        vr_tests::harness::procs::destroy(&mut self.child, true);
    }
}

#[tokio::test]
async fn haproxy_pools_follow_swarms_without_dropping_a_request() {
    let (s, _repo, _web2, _lb) = routed_setup().await;
    let hap = Haproxy::start();
    s.api
        .post(
            bpaths::BALANCERS,
            &BalancerSpec {
                name: "edge".into(),
                kind: BalancerKind::Haproxy,
                hosts: vec!["lb1".into()],
                pool_dir: hap.dir.path().join("pools").display().to_string(),
                validate_cmd: hap.validate(),
                reload_cmd: hap.reload(),
                pid_file: hap.dir.path().join("haproxy.pid").display().to_string(),
                drain_ms: 300,
            },
        )
        .await
        .expect_status(201);
    let mut spec = echo_swarm("prod", 4, "web");
    let swarm = super::swarms::create_swarm(&s.api, &spec).await;
    let d = succeeded(&s.api, swarm.id, &DispatchRequest::default()).await;
    let route = super::swarms::route_step(&d);
    // haproxy's old worker (the old backend) has left before the reload counts as done.
    assert!(
        route.message.contains("reloaded, old workers done"),
        "{route:?}"
    );
    let file = hap.pool_file();
    assert_eq!(file.matches(" check # web-").count(), 4, "{file}");
    wait_answers(hap.port, "blue").await;
    rollout_under_load(&s.api, swarm.id, &mut spec, "green", hap.port).await;

    // Size 0 empties the backend; the config still validates.
    spec.size = 0;
    s.api.put(&paths::swarm(swarm.id), &spec).await.expect_ok();
    succeeded(&s.api, swarm.id, &keep_version()).await;
    let file = hap.pool_file();
    assert!(
        file.contains("(0 node(s))") && !file.contains(" server "),
        "{file}"
    );
    let check = std::process::Command::new("sh")
        .args(["-c", &hap.validate()])
        .output()
        .expect("haproxy -c");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

/// The Balancers page in Chromium: an admin adds a balancer with the form (a bad host named
/// next to its field), a dispatch fills its pool, a balancer host that was down shows the pool
/// as drift, and Re-apply brings it back.
#[tokio::test]
async fn the_balancers_page_adds_a_balancer_and_reapplies_a_drifting_pool() {
    use vr_tests::harness::Browser;
    let (s, _repo, _web2, lb) = routed_setup().await;
    let edge = Edge::start();
    let browser = Browser::start().await;
    browser
        .sign_in(&s.server.base_url(), "admin", super::fleet::PW)
        .await;
    browser.goto(&s.server.url("/balancers")).await;
    browser.wait_for("[data-test=balancers-empty]").await;
    let pools = edge.pools().display().to_string();
    for (field, value) in [
        ("#balancer-name", "edge".to_string()),
        ("#balancer-hosts", "lb9".to_string()),
        ("#balancer-pool-dir", pools),
        ("#balancer-validate", edge.nginx("-t")),
        ("#balancer-reload", edge.nginx("-s reload")),
        ("#balancer-drain", "200".to_string()),
    ] {
        browser.fill(field, &value).await;
    }
    browser.click("#balancer-save").await;
    browser.wait_for_text("#balancer-hosts-error", "lb9").await;
    browser.fill("#balancer-hosts", "lb1").await;
    browser.click("#balancer-save").await;
    browser
        .wait_for_text("[data-test=balancer][data-name=edge]", "nginx -p")
        .await;

    let mut spec = echo_swarm("prod", 2, "web");
    let swarm = super::swarms::create_swarm(&s.api, &spec).await;
    succeeded(&s.api, swarm.id, &DispatchRequest::default()).await;
    let row = "[data-test=pool-row][data-name=web]";
    browser.wait_for_text(row, "web-prod-echo").await;
    browser.wait_for(&format!("{row}[data-drift=false]")).await;

    // lb1 down during a dispatch: the row turns to drift, live; Re-apply fixes it.
    lb.kill_sshd();
    spec.env_yaml = "COLOUR: green\n".into();
    s.api.put(&paths::swarm(swarm.id), &spec).await.expect_ok();
    succeeded(&s.api, swarm.id, &keep_version()).await;
    browser.wait_for(&format!("{row}[data-drift=true]")).await;
    browser.screenshot("ui-balancer-drift").await;
    lb.start_sshd();
    wait_health(
        &s.api,
        "lb1",
        vr_app::fleet::Health::Ok,
        Duration::from_secs(20),
    )
    .await;
    browser
        .click(&format!("{row} [data-test=pool-reapply]"))
        .await;
    browser.wait_for(&format!("{row}[data-drift=false]")).await;
    wait_answers(edge.ports[0], "green").await;

    // The squad page dispatches every swarm on the squad in one action (typed count).
    let before: Vec<vr_app::swarm::Dispatch> = s
        .api
        .get(&format!("{}?swarm={}", paths::DISPATCHES, swarm.id))
        .await
        .expect_ok()
        .json();
    browser.goto(&s.server.url("/squads/eu")).await;
    browser
        .wait_for_text(
            "#swarms-dispatch-shown",
            "Dispatch every swarm on squad eu (1)",
        )
        .await;
    browser.click("#swarms-dispatch-shown").await;
    browser.fill("#confirm-typed", "1").await;
    browser.click("#confirm-ok").await;
    let queued = vr_tests::harness::wait_until_async(Duration::from_secs(20), || {
        let api = &s.api;
        let n = before.len();
        async move {
            let now: Vec<vr_app::swarm::Dispatch> = api
                .get(&format!("{}?swarm={}", paths::DISPATCHES, swarm.id))
                .await
                .expect_ok()
                .json();
            now.len() > n && !now[0].status.in_flight()
        }
    })
    .await;
    assert!(queued, "the squad page's dispatch never ran");

    // A new swarm naming the pool is refused, naming its owner, until the takeover is
    // confirmed; then the owner routes nowhere.
    browser.goto(&s.server.url("/swarms/new")).await;
    for (field, value) in [
        ("#swarm-app", "web"),
        ("#swarm-version", "main"),
        ("#swarm-proc", "echo"),
        ("#swarm-config", "canary"),
        ("#swarm-squad", "eu"),
        ("#swarm-size", "1"),
        ("#swarm-tab-routing", ""),
        ("#swarm-pool", "web"),
        ("#swarm-balancer", "edge"),
    ] {
        if value.is_empty() {
            browser.click(field).await;
        } else {
            browser.fill(field, value).await;
        }
    }
    browser.click("#swarm-save").await;
    browser
        .wait_for_text("#swarm-pool-error", "web-prod-echo")
        .await;
    browser.click("#swarm-take-pool").await;
    browser.click("#swarm-save").await;
    browser
        .wait_for_text("#swarm-title", "web-canary-echo")
        .await;
    let old: Swarm = s.api.get(&paths::swarm(swarm.id)).await.expect_ok().json();
    assert_eq!((old.spec.pool, old.spec.balancer), (None, None));
    browser.goto(&s.server.url("/balancers")).await;

    // Edit fills the form with the balancer's settings.
    browser.click("[data-test=balancer-edit]").await;
    browser
        .wait_for_text("#balancer-form-section h2", "Edit balancer edge")
        .await;
    let drain = browser
        .eval(
            "return document.querySelector('#balancer-drain').value",
            vec![],
        )
        .await;
    assert_eq!(drain, "200");
    browser.close().await;
}
