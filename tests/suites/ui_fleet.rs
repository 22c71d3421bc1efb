//! The fleet UI in headless Chromium against real harness hosts: adding a host from
//! `/hosts/new`, the dashboard following a state change live (no reload), and a proc action
//! from the detail panel.

use super::fleet::{PW, fleet_server, hosts_for};
use std::time::Duration;
use vr_app::fleet::Health;
use vr_tests::harness::Browser;
use vr_tests::harness::fleet::{add_host, wait_health, wait_procs};

fn row(host: &str, name: &str, state: &str) -> String {
    format!(
        "tr[data-test=\"proc-row\"][data-host=\"{host}\"][data-name=\"{name}\"][data-state=\"{state}\"]"
    )
}

async fn sign_in(browser: &Browser, server: &vr_tests::harness::VrServer) {
    browser.goto(&server.url("/login")).await;
    browser.wait_for("#username").await;
    browser.fill("#username", "admin").await;
    browser.fill("#password", PW).await;
    browser.click("#login-submit").await;
    browser.wait_for_text("#current-user", "admin").await;
}

#[tokio::test]
async fn the_dashboard_follows_the_fleet_live_and_acts_on_procs() {
    let server = fleet_server().await;
    let api = server.admin().await;
    let hosts = hosts_for(&api, 2).await;
    hosts[0].add_program("web_app", "sleep 1000");
    hosts[1].add_program("worker_app", "sleep 1000");
    add_host(&api, &hosts[1], "other", None).await;

    let browser = Browser::start().await;
    sign_in(&browser, &server).await;

    // Add a host from the UI, with the harness host's own Supervisor layout.
    browser.goto(&server.url("/hosts/new")).await;
    browser.wait_for("#host-address").await;
    browser.fill("#host-address", &hosts[0].address()).await;
    browser.fill("#host-name", "web1").await;
    browser
        .fill("#host-port", &hosts[0].ssh_port().to_string())
        .await;
    browser
        .fill("#host-supervisorctl", &hosts[0].supervisorctl())
        .await;
    browser
        .fill(
            "#host-supervisor-socket",
            &hosts[0].supervisor_socket().display().to_string(),
        )
        .await;
    browser
        .fill(
            "#host-include-dir",
            &hosts[0].include_dir().display().to_string(),
        )
        .await;
    browser
        .fill(
            "#host-apps-root",
            &hosts[0].apps_root().display().to_string(),
        )
        .await;
    browser.click("#host-submit").await;
    wait_health(&api, "web1", Health::Ok, Duration::from_secs(15)).await;
    wait_procs(&api, "web1", "show web_app", Duration::from_secs(15), |p| {
        !p.is_empty()
    })
    .await;

    // The dashboard shows both hosts' procs; a change made by hand on a host shows up without a
    // reload (a marker set in the page survives).
    browser.goto(&server.url("/")).await;
    browser.wait_for(&row("web1", "web_app", "RUNNING")).await;
    browser
        .wait_for(&row("other", "worker_app", "RUNNING"))
        .await;
    browser
        .client()
        .execute("window.__vr_no_reload = 42; return 1;", vec![])
        .await
        .expect("set marker");
    hosts[0].ctl_ok(&["stop", "web_app"]);
    browser.wait_for(&row("web1", "web_app", "STOPPED")).await;
    let marker = browser
        .client()
        .execute("return window.__vr_no_reload || 0;", vec![])
        .await
        .expect("read marker");
    assert_eq!(marker.as_i64(), Some(42), "the page was reloaded");
    browser.screenshot("ui-dashboard").await;

    // Start it again from the detail panel, with confirmation; the host runs it and the row follows.
    browser.click(&row("web1", "web_app", "STOPPED")).await;
    browser.wait_for("#proc-detail").await;
    browser.click("#proc-start").await;
    browser.click("#confirm-ok").await;
    browser.wait_for(&row("web1", "web_app", "RUNNING")).await;
    assert_eq!(
        hosts[0].program_state("web_app").as_deref(),
        Some("RUNNING")
    );
    let events: Vec<vr_app::api::Event> = api
        .get("/api/events?action=proc.start")
        .await
        .expect_ok()
        .json();
    assert!(
        events
            .iter()
            .any(|e| e.object == "proc:web1/web_app" && e.actor == "admin")
    );

    // The filter box narrows the list.
    browser.fill("#fleet-filter", "worker").await;
    browser
        .wait_for(&row("other", "worker_app", "RUNNING"))
        .await;
    let gone = vr_tests::harness::wait_until_async(Duration::from_secs(5), || async {
        !browser.exists(&row("web1", "web_app", "RUNNING")).await
    })
    .await;
    assert!(gone, "the filter did not hide web_app");

    // A host that dies is flagged on its page and the hosts list.
    hosts[1].kill_sshd();
    browser.goto(&server.url("/hosts")).await;
    browser
        .wait_for("tr[data-test=\"host-row\"][data-name=\"other\"][data-health=\"unreachable\"]")
        .await;
    browser.screenshot("ui-hosts").await;
    browser.close().await;
}
