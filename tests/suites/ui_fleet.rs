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
    browser.sign_in(&server.base_url(), "admin", PW).await;
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
    // "Test connection" on its page says what it offers for isolation too.
    browser.goto(&server.url("/hosts/web1")).await;
    browser.click("#host-test").await;
    browser
        .wait_for_text("[data-test=test-isolation]", "sandbox: bubblewrap")
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
    let facts = browser
        .wait_for_text("[data-test=\"proc-facts\"]", "Last seen")
        .await;
    assert!(
        facts.contains("web_app") && facts.contains("STOPPED"),
        "{facts}"
    );
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

    // The open proc is in the URL: a reload opens it again; Escape closes it and gives focus
    // back to its row.
    let url = browser.current_url().await;
    assert!(url.contains("proc=web1%2Fweb_app"), "{url}");
    browser.reload().await;
    browser
        .wait_for("#proc-detail[data-host=\"web1\"][data-name=\"web_app\"]")
        .await;
    browser.press_escape().await;
    let closed = vr_tests::harness::wait_until_async(Duration::from_secs(5), || async {
        !browser.exists("#proc-detail").await
    })
    .await;
    assert!(closed, "Escape did not close the proc panel");
    let focused = browser
        .eval(
            "const a = document.activeElement; \
             return a ? (a.getAttribute('data-host') + '/' + a.getAttribute('data-name')) : '';",
            vec![],
        )
        .await;
    assert_eq!(
        focused.as_str(),
        Some("web1/web_app"),
        "focus did not return to the row"
    );
    assert!(!browser.current_url().await.contains("proc="));

    // The filter box narrows the list, and the filter survives a reload.
    browser.fill("#fleet-filter", "worker").await;
    browser
        .wait_for(&row("other", "worker_app", "RUNNING"))
        .await;
    let gone = vr_tests::harness::wait_until_async(Duration::from_secs(5), || async {
        !browser.exists(&row("web1", "web_app", "RUNNING")).await
    })
    .await;
    assert!(gone, "the filter did not hide web_app");
    let kept = vr_tests::harness::wait_until_async(Duration::from_secs(5), || async {
        browser.current_url().await.contains("q=worker")
    })
    .await;
    assert!(kept, "the filter is not in the URL");
    browser.reload().await;
    browser
        .wait_for(&row("other", "worker_app", "RUNNING"))
        .await;
    let value = browser
        .eval(
            "return document.querySelector('#fleet-filter').value;",
            vec![],
        )
        .await;
    assert_eq!(value.as_str(), Some("worker"));
    assert!(!browser.exists(&row("web1", "web_app", "RUNNING")).await);

    // A host that dies is flagged on its page and the hosts list.
    hosts[1].kill_sshd();
    browser.goto(&server.url("/hosts")).await;
    browser
        .wait_for("tr[data-test=\"host-row\"][data-name=\"other\"][data-health=\"unreachable\"]")
        .await;
    browser.screenshot("ui-hosts").await;
    // The hosts table sorts: a second click on Name sorts descending, web1 before other.
    let name_header = "[data-test=\"hosts-table\"] th:nth-child(1) button";
    let first_row = || async {
        browser
            .eval(
                "const r = document.querySelector('[data-test=\"hosts-table\"] tbody tr'); \
                 return r ? r.getAttribute('data-name') : null;",
                vec![],
            )
            .await
            .as_str()
            .map(str::to_string)
    };
    assert_eq!(first_row().await.as_deref(), Some("other"));
    browser.click(name_header).await;
    browser.click(name_header).await;
    let sorted = vr_tests::harness::wait_until_async(Duration::from_secs(5), || async {
        first_row().await.as_deref() == Some("web1")
    })
    .await;
    assert!(sorted, "the hosts table did not sort by name descending");
    browser
        .wait_for("[data-test=\"hosts-table\"] th[aria-sort=\"descending\"]")
        .await;

    // Its procs are not shown RUNNING any more: STALE, counted apart, with when they were
    // last seen; their clocks stop while the "last seen" age goes on.
    browser.goto(&server.url("/")).await;
    let stale_row = row("other", "worker_app", "STALE");
    browser.wait_for(&stale_row).await;
    assert!(!browser.exists(&row("other", "worker_app", "RUNNING")).await);
    browser
        .wait_for("button[data-test=\"state-count\"][data-state=\"STALE\"]")
        .await;
    let cells = |_: ()| async {
        let v = browser
            .eval(
                "const r = document.querySelector(arguments[0]); \
                 return r ? [r.querySelector('[data-test=stale]').textContent, r.cells[4].textContent] : null;",
                vec![stale_row.clone().into()],
            )
            .await;
        (
            v[0].as_str().unwrap_or_default().to_string(),
            v[1].as_str().unwrap_or_default().to_string(),
        )
    };
    let (seen_before, uptime_before) = cells(()).await;
    assert!(seen_before.contains("last seen"), "{seen_before}");
    let moved = vr_tests::harness::wait_until_async(Duration::from_secs(10), || async {
        cells(()).await.0 != seen_before
    })
    .await;
    assert!(moved, "the last-seen age does not tick: {seen_before}");
    assert_eq!(
        cells(()).await.1,
        uptime_before,
        "a stale proc's uptime kept counting"
    );
    browser.screenshot("ui-dashboard-stale").await;

    // The deploy form says which hosts do not answer before one is chosen.
    browser.goto(&server.url("/deploy")).await;
    browser
        .wait_for("#deploy-host option[value=\"other\"][data-health=\"unreachable\"]")
        .await;
    let label = browser.text("#deploy-host option[value=\"other\"]").await;
    assert!(label.contains("unreachable"), "{label}");
    browser.goto(&server.url("/")).await;
    browser.wait_for(&stale_row).await;

    // At 800 px the navigation folds behind Menu, and the proc panel opens on screen with its
    // log one tab away, saying the host does not answer instead of polling it.
    browser.set_window_size(800, 800).await;
    let nav_hidden = browser
        .eval(
            "return getComputedStyle(document.querySelector('#sidenav')).display === 'none';",
            vec![],
        )
        .await;
    assert_eq!(
        nav_hidden.as_bool(),
        Some(true),
        "the sidebar is not folded at 800 px"
    );
    browser.click("#nav-toggle").await;
    browser.wait_for("#sidenav a[href=\"/hosts\"]").await;
    browser.click("#nav-toggle").await;
    browser.click(&stale_row).await;
    browser.wait_for("#proc-detail").await;
    let rect = browser
        .eval(
            "const r = document.querySelector('#proc-detail').getBoundingClientRect(); \
             return [r.left, r.right, window.innerWidth];",
            vec![],
        )
        .await;
    let (left, right, width) = (
        rect[0].as_f64().unwrap_or(-1.0),
        rect[1].as_f64().unwrap_or(-1.0),
        rect[2].as_f64().unwrap_or(0.0),
    );
    assert!(
        left >= 0.0 && right <= width + 0.5 && right > left,
        "panel off screen: {rect}"
    );
    browser.click("#proc-tab-log").await;
    browser.wait_for("[data-test=\"log-unreachable\"]").await;
    browser.screenshot("ui-proc-panel-800").await;
    browser.close().await;
}
