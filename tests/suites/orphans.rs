//! The seed's "Defunct Procs", end to end on two real harness hosts: a swarm's config name
//! changed, then a host taken out of its squad — each time the procs made before are orphans
//! until the next dispatch replaces them, and none is left after it; a swarm deleted keeping
//! its procs — `vr orphans` lists them and the Orphans page (Chromium) cleans them up; another
//! cleaned with `vr orphans --clean --yes`; and `vr swarm delete --take-down` leaves nothing.
//! Checked on the hosts through Supervisor itself.

use super::swarms::{keep_version, procs_of, succeeded, two_hosts, web_swarm};
use vr_app::fleet::{HostPatch, paths as fleet_paths};
use vr_app::orphans::{Orphan, paths as opaths};
use vr_app::swarm::{DispatchRequest, Swarm, paths};
use vr_tests::harness::{ApiClient, TestHost};

async fn orphans(api: &ApiClient) -> Vec<Orphan> {
    api.get(opaths::ORPHANS).await.expect_ok().json()
}

/// Programs on the hosts whose names contain `part`, as Supervisor lists them.
fn on_hosts(hosts: &[&TestHost], part: &str) -> Vec<String> {
    hosts
        .iter()
        .flat_map(|h| h.program_states())
        .map(|(name, _)| name)
        .filter(|n| n.contains(part))
        .collect()
}

#[tokio::test]
async fn defunct_procs_never_outlive_their_swarm() {
    let (s, _repo, web2) = two_hosts().await;
    let hosts = [&s.host, &web2];
    let mut spec = web_swarm(2);
    let swarm = super::swarms::create_swarm(&s.api, &spec).await;
    succeeded(&s.api, swarm.id, &DispatchRequest::default()).await;
    assert!(orphans(&s.api).await.is_empty());

    // The config name changes: the procs made as `prod` are orphans until the next dispatch,
    // which starts `canary` ones, passes their uptests and retires the `prod` ones.
    spec.config = "canary".into();
    s.api.put(&paths::swarm(swarm.id), &spec).await.expect_ok();
    let found = orphans(&s.api).await;
    assert_eq!(found.len(), 2, "{found:#?}");
    let now: Swarm = s.api.get(&paths::swarm(swarm.id)).await.expect_ok().json();
    assert_eq!(now.status.orphaned, 2, "{:?}", now.status);
    assert!(
        found
            .iter()
            .all(|o| o.why == format!("swarm #{} changed: config prod → canary", swarm.id)),
        "{found:#?}"
    );
    succeeded(&s.api, swarm.id, &keep_version()).await;
    assert!(orphans(&s.api).await.is_empty());
    assert!(
        on_hosts(&hosts, "-prod-").is_empty(),
        "{:?}",
        on_hosts(&hosts, "")
    );
    assert_eq!(on_hosts(&hosts, "-canary-").len(), 2);

    // web2 leaves the squad: its proc is an orphan, and the next dispatch moves it.
    s.api
        .patch(
            &fleet_paths::host("web2"),
            &HostPatch {
                squad: Some(None),
                ..Default::default()
            },
        )
        .await
        .expect_ok();
    let found = orphans(&s.api).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].why.contains("host web2 is not in squad eu"),
        "{found:#?}"
    );
    succeeded(&s.api, swarm.id, &keep_version()).await;
    assert!(orphans(&s.api).await.is_empty());
    assert!(on_hosts(&[&web2], "-canary-").is_empty());
    assert_eq!(on_hosts(&[&s.host], "-canary-").len(), 2);
    assert!(
        procs_of(&s.api, swarm.id)
            .await
            .iter()
            .all(|p| p.host == "builder1")
    );

    // Deleted, keeping its procs: listed by the CLI, cleaned up from the Orphans page.
    let cli = super::fleet::cli_token(&s.api).await;
    let vr = |args: &[&str]| super::fleet::vr(&s.server, &cli, args);
    let (ok, out) = vr(&["swarm", "delete", "web-canary-web"]);
    assert!(ok && out.contains("see `vr orphans`"), "{out}");
    let (ok, out) = vr(&["orphans"]);
    assert!(ok, "{out}");
    assert_eq!(out.matches(" was deleted").count(), 2, "{out}");
    assert!(out.contains("from web-canary-web"), "{out}");
    {
        use vr_tests::harness::Browser;
        let browser = Browser::start().await;
        browser
            .sign_in(&s.server.base_url(), "admin", super::fleet::PW)
            .await;
        browser.goto(&s.server.url("/orphans")).await;
        browser
            .wait_for_text("[data-test=orphans-table]", "was deleted")
            .await;
        browser.click("#orphans-clean").await;
        browser.click("#confirm-ok").await;
        browser
            .wait_for_text("[data-test=orphans-table]", "No orphans.")
            .await;
        browser.close().await;
    }
    assert!(on_hosts(&hosts, "-canary-").is_empty());

    // Another, cleaned from the CLI; naming a proc that is no orphan is refused.
    spec.config = "blue".into();
    let second = super::swarms::create_swarm(&s.api, &spec).await;
    succeeded(&s.api, second.id, &DispatchRequest::default()).await;
    let owned = procs_of(&s.api, second.id).await.remove(0);
    let r = s
        .api
        .post(
            opaths::CLEAN,
            &serde_json::json!({ "procs": [{ "host": owned.host, "name": owned.name }] }),
        )
        .await
        .expect_status(409);
    assert_eq!(r.value()["error"]["field"], "procs", "{}", r.value());
    assert_eq!(
        on_hosts(&hosts, "-blue-").len(),
        2,
        "a refused clean touched a proc"
    );
    let (ok, out) = vr(&["swarm", "delete", "web-blue-web"]);
    assert!(ok, "{out}");
    let (ok, out) = vr(&["orphans", "--clean", "--yes"]);
    assert!(ok, "{out}");
    assert_eq!(out.matches("ok   ").count(), 2, "{out}");
    assert!(on_hosts(&hosts, "-blue-").is_empty());
    let (ok, out) = vr(&["orphans"]);
    assert!(ok && out.trim() == "no orphans", "{out}");

    // Deleted with --take-down: nothing is left, nothing is an orphan.
    spec.config = "gone".into();
    let third = super::swarms::create_swarm(&s.api, &spec).await;
    succeeded(&s.api, third.id, &DispatchRequest::default()).await;
    assert_eq!(on_hosts(&hosts, "-gone-").len(), 2);
    let (ok, out) = vr(&["swarm", "delete", "web-gone-web", "--take-down"]);
    assert!(ok && out.contains("drained and destroyed"), "{out}");
    assert!(on_hosts(&hosts, "-gone-").is_empty());
    assert!(orphans(&s.api).await.is_empty());
}

/// The rest of a swarm's identity, driven by the CLI: its proc type, its app, then its squad
/// change in turn. Each time the procs made before are orphans, saying what changed, until the
/// next dispatch — after which none of them is left on any host, as Supervisor lists them.
#[tokio::test]
async fn changing_a_swarms_proc_app_or_squad_leaves_no_orphan() {
    let (s, repo, web2) = two_hosts().await;
    let hosts = [&s.host, &web2];
    super::builds::add_app(&s.api, "shop", &repo).await;
    let cli = super::fleet::cli_token(&s.api).await;
    let vr = |args: &[&str]| super::fleet::vr(&s.server, &cli, args);
    let (ok, out) = vr(&[
        "swarm",
        "create",
        "--app",
        "web",
        "--version",
        "main",
        "--proc",
        "web",
        "--config",
        "prod",
        "--squad",
        "eu",
        "--size",
        "2",
    ]);
    assert!(ok, "{out}");
    let (ok, out) = vr(&["swarm", "web-prod-web", "-"]);
    assert!(ok, "{out}");
    assert_eq!(on_hosts(&hosts, "-web-").len(), 2);

    // The proc type.
    let (ok, out) = vr(&["swarm", "edit", "web-prod-web", "--proc", "echo"]);
    assert!(ok, "{out}");
    let (ok, out) = vr(&["orphans"]);
    assert!(ok && out.matches("proc web → echo").count() == 2, "{out}");
    let (ok, out) = vr(&["swarm", "web-prod-echo", "-"]);
    assert!(ok, "{out}");
    assert!(orphans(&s.api).await.is_empty());
    assert!(
        on_hosts(&hosts, "-web-").is_empty(),
        "{:?}",
        on_hosts(&hosts, "")
    );
    assert_eq!(on_hosts(&hosts, "-echo-").len(), 2);

    // The app (the dispatch builds it).
    let (ok, out) = vr(&["swarm", "edit", "web-prod-echo", "--app", "shop"]);
    assert!(ok, "{out}");
    let (ok, out) = vr(&["orphans"]);
    assert!(ok && out.matches("app web → shop").count() == 2, "{out}");
    let (ok, out) = vr(&["swarm", "shop-prod-echo", "-"]);
    assert!(ok, "{out}");
    assert!(orphans(&s.api).await.is_empty());
    let names = on_hosts(&hosts, "");
    assert!(names.iter().all(|n| n.starts_with("shop-")), "{names:?}");
    assert_eq!(names.len(), 2, "{names:?}");

    // The squad: web2 moves to squad us, then the swarm follows it there.
    s.api
        .post(
            fleet_paths::SQUADS,
            &vr_app::fleet::NewSquad {
                name: "us".into(),
                description: String::new(),
            },
        )
        .await
        .expect_status(201);
    s.api
        .patch(
            &fleet_paths::host("web2"),
            &HostPatch {
                squad: Some(Some("us".into())),
                ..Default::default()
            },
        )
        .await
        .expect_ok();
    let (ok, out) = vr(&["swarm", "edit", "shop-prod-echo", "--squad", "us"]);
    assert!(ok, "{out}");
    let found = orphans(&s.api).await;
    assert!(
        found.len() == 1 && found[0].host == "builder1",
        "{found:#?}"
    );
    assert!(
        found[0].why.contains("host builder1 is not in squad us"),
        "{found:#?}"
    );
    let (ok, out) = vr(&["swarm", "shop-prod-echo", "-"]);
    assert!(ok, "{out}");
    assert!(orphans(&s.api).await.is_empty());
    assert!(
        on_hosts(&[&s.host], "shop-").is_empty(),
        "{:?}",
        on_hosts(&hosts, "")
    );
    assert_eq!(on_hosts(&[&web2], "shop-").len(), 2);
}

/// A host deleted after a dispatch used it: vr closes every SSH session it held there (the
/// poller's and the dispatches' shared one) instead of keeping them open for nothing.
#[tokio::test]
async fn a_deleted_host_keeps_no_session_open() {
    let (s, _repo, web2) = two_hosts().await;
    let swarm = super::swarms::create_swarm(&s.api, &web_swarm(2)).await;
    succeeded(&s.api, swarm.id, &DispatchRequest::default()).await;
    // The dispatch's session at least (the poller's may be between connections).
    assert!(web2.open_ssh_connections() >= 1, "no session open");
    s.api
        .delete(&fleet_paths::host("web2"))
        .await
        .expect_status(204);
    let closed = vr_tests::harness::wait_until(std::time::Duration::from_secs(10), || {
        web2.open_ssh_connections() == 0
    });
    assert!(
        closed,
        "{} session(s) still open",
        web2.open_ssh_connections()
    );
}
