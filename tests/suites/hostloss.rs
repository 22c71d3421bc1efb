//! The seed's "When a Squad Loses a Host", end to end with a pool: two squad hosts in network
//! namespaces of their own and nginx routing the swarm's pool. One host's link is cut: vr
//! flags it unreachable while the API keeps answering, `vr swarm '.*' - --squad eu` re-creates
//! its procs on the other host and the pool points at those only — without the dead host being
//! removed first; meanwhile the squad page (Chromium) says what far held and the dashboard
//! counts it apart. The host comes back with its proc, one beyond the size: the next dispatch
//! keeps the oldest procs one per host (far's, after its uptests pass again, back in the pool)
//! and drains and retires the replacement. Checked on the hosts through Supervisor itself.

use std::time::Duration;

use super::swarms::{netns_squad, procs_of, web_swarm};
use vr_app::balancer::paths as bpaths;
use vr_app::fleet::Health;
use vr_app::swarm::{Swarm, SwarmState, paths};
use vr_tests::harness::TestHost;
use vr_tests::harness::balancer::NginxEdge;
use vr_tests::harness::fleet::{add_host, wait_health};
use vr_tests::harness::load::{answer, client};

/// The pool file's `server` lines' addresses.
fn routed(edge: &NginxEdge) -> Vec<String> {
    edge.read("vr-pool-web.conf")
        .lines()
        .filter_map(|l| l.trim().strip_prefix("server "))
        .filter_map(|l| l.split(':').next())
        .map(str::to_string)
        .collect()
}

/// The swarm's programs on `host`, as its Supervisor lists them.
fn programs(host: &TestHost) -> Vec<String> {
    host.program_states()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|n| n.contains("-netweb-"))
        .collect()
}

#[tokio::test]
async fn a_squad_that_loses_a_host_is_redispatched_and_its_pool_follows() {
    let (s, _repo, near, far) = netns_squad().await;
    // nginx here routes pool `web`; `lb1`, a host outside the squad, is its balancer host.
    let lb = super::fleet::hosts_for(&s.api, 1).await.remove(0);
    add_host(&s.api, &lb, "lb1", None).await;
    wait_health(&s.api, "lb1", Health::Ok, Duration::from_secs(15)).await;
    let edge = NginxEdge::start(&[("vr-pool-web.conf", "web")]);
    s.api
        .post(bpaths::BALANCERS, &edge.balancer("edge", &["lb1"], 200))
        .await
        .expect_status(201);
    let mut spec = web_swarm(2);
    spec.proc_type = "netweb".into();
    spec.pool = Some("web".into());
    spec.balancer = Some("edge".into());
    let swarm = super::swarms::create_swarm(&s.api, &spec).await;
    let cli = super::fleet::cli_token(&s.api).await;
    let vr = |args: &[&str]| super::fleet::vr(&s.server, &cli, args);
    let (ok, out) = vr(&["swarm", ".*", "main", "--squad", "eu"]);
    assert!(ok, "{out}");
    let (near_ip, far_ip) = (near.address(), far.address());
    let mut pool = routed(&edge);
    pool.sort();
    let mut both = vec![near_ip.clone(), far_ip.clone()];
    both.sort();
    assert_eq!(pool, both, "one proc per host, both routed");
    let lost = programs(&far);
    assert_eq!(lost.len(), 1, "{lost:?}");

    // The link is cut: far is flagged unreachable, the API answers from the snapshot, and the
    // swarm shows what it lost.
    far.cut();
    wait_health(&s.api, "far", Health::Unreachable, Duration::from_secs(20)).await;
    let now: Swarm = s.api.get(&paths::swarm(swarm.id)).await.expect_ok().json();
    assert_eq!(
        (now.status.state, now.status.running, now.status.unknown),
        (SwarmState::Degraded, 1, 1),
        "{:?}",
        now.status
    );
    // The squad page says what far held; the dashboard's swarm heading counts it apart.
    {
        use vr_tests::harness::Browser;
        let browser = Browser::start().await;
        browser
            .sign_in(&s.server.base_url(), "admin", super::fleet::PW)
            .await;
        browser.goto(&s.server.url("/squads/eu")).await;
        browser
            .wait_for_text(
                "[data-test=lost-host][data-name=far][data-procs=\"1\"]",
                &format!("web · prod · netweb · swarm #{} (1)", swarm.id),
            )
            .await;
        browser.goto(&s.server.url("/")).await;
        browser
            .wait_for_text(
                &format!(
                    "tr[data-test=proc-swarm][data-group=swarm-{}] [data-test=swarm-counts]",
                    swarm.id
                ),
                "1 of 2 running, 1 missing, 1 unknown",
            )
            .await;
        browser.close().await;
    }
    // Redispatching the squad needs no clean-up of the dead host first.
    let (ok, out) = vr(&["swarm", ".*", "-", "--squad", "eu"]);
    assert!(ok && out.contains("succeeded"), "{out}");
    assert_eq!(routed(&edge), [near_ip.clone(), near_ip.clone()]);
    assert_eq!(programs(&near).len(), 2);
    let c = client();
    for _ in 0..20 {
        answer(&c, edge.ports[0]).await.expect("the pool answers");
    }

    // far returns with its proc still there, one more than the size beside its replacement.
    // The next dispatch keeps the oldest procs one per host — far's, once it has passed its
    // uptests again, since it was out of the pool — and drains and retires the replacement.
    far.restore();
    wait_health(&s.api, "far", Health::Ok, Duration::from_secs(30)).await;
    assert_eq!(
        programs(&far),
        lost,
        "far's proc was not touched while it was away"
    );
    let now: Swarm = s.api.get(&paths::swarm(swarm.id)).await.expect_ok().json();
    assert_eq!(
        (now.status.running, now.status.extra),
        (3, 1),
        "{:?}",
        now.status
    );
    let (ok, out) = vr(&["swarm", ".*", "-", "--squad", "eu"]);
    assert!(ok && out.contains("succeeded"), "{out}");
    assert_eq!(programs(&far), lost);
    assert_eq!(programs(&near).len(), 1, "{:?}", programs(&near));
    let mut pool = routed(&edge);
    pool.sort();
    assert_eq!(pool, both, "far's proc is routed again");
    assert_eq!(procs_of(&s.api, swarm.id).await.len(), 2);
    let history: Vec<vr_app::swarm::Dispatch> = s
        .api
        .get(&format!("{}?swarm={}", paths::DISPATCHES, swarm.id))
        .await
        .expect_ok()
        .json();
    let route = super::swarms::route_step(&history[0]);
    assert!(
        route.message.contains(&format!(
            "{} on far: was out of the pool; its uptests passed again, routed",
            lost[0]
        )) && route
            .message
            .contains("draining 1 proc(s) for 200 ms before they stop (")
            && route
                .message
                .contains(" ms of it while the old workers finished)"),
        "{}",
        route.message
    );
}
