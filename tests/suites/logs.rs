//! Merged live logs (`GET /api/logs`, `vr logs`) on real sshd + supervisord hosts: history then
//! new lines of every matching proc on every host, labelled; stream, host and text filters;
//! markers when a proc restarts and when a host hangs and comes back, while the other host's
//! lines go on; procs joining and leaving the selection; the CLI ending non-zero when the server
//! ends the stream.

use super::fleet::{cli_token, fleet_server, hosts_for, vr};
use futures_util::StreamExt;
use std::cell::Cell;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use vr_app::api::paths;
use vr_app::fleet::{Health, ProcMeta};
use vr_app::logs::LogEvent;
use vr_tests::harness::fleet::{new_host, wait_health};
use vr_tests::harness::ports::wait_until_async;
use vr_tests::harness::{ApiClient, Browser, TestHost, VrServer};

const WAIT: Duration = Duration::from_secs(20);

fn meta(app: &str, port: u16, swarm_id: Option<i64>) -> ProcMeta {
    ProcMeta {
        app: app.into(),
        version: "1".into(),
        config: "prod".into(),
        proc_type: "web".into(),
        port,
        release_id: None,
        release_hash: String::new(),
        swarm_id,
        deployed_by: "test".into(),
        deployed_at: 0,
    }
}

/// A program that writes a numbered line to stdout and to stderr every 100 ms.
fn chatter(tag: &str) -> String {
    format!(
        "sh -c 'i=0; while :; do echo \"{tag} out $i\"; echo \"{tag} err $i\" >&2; i=$((i+1)); sleep 0.1; done'"
    )
}

async fn setup() -> (VrServer, ApiClient, Vec<TestHost>) {
    let server = fleet_server().await;
    let api = server.admin().await;
    let hosts = hosts_for(&api, 2).await;
    hosts[0].add_managed_program(
        "shop-1-prod-x-web-5001",
        &chatter("one"),
        &meta("shop", 5001, Some(7)),
    );
    hosts[1].add_managed_program(
        "shop-1-prod-x-web-5002",
        &chatter("two"),
        &meta("shop", 5002, Some(7)),
    );
    hosts[1].add_program("noise", &chatter("noise"));
    for (i, h) in hosts.iter().enumerate() {
        api.post(
            vr_app::fleet::paths::HOSTS,
            &new_host(h, &format!("h{i}"), None),
        )
        .await
        .expect_status(201);
    }
    for i in 0..2 {
        wait_health(&api, &format!("h{i}"), Health::Ok, WAIT).await;
    }
    // Enough lines written for every history asked for below.
    for (h, name, tag) in [
        (&hosts[0], "shop-1-prod-x-web-5001", "one"),
        (&hosts[1], "shop-1-prod-x-web-5002", "two"),
    ] {
        let err = h.dir().join("logs").join(format!("{name}.err"));
        let written = vr_tests::harness::ports::wait_until(WAIT, || {
            std::fs::read_to_string(&err).is_ok_and(|t| t.contains(&format!("{tag} err 9\n")))
        });
        assert!(written, "{name} wrote too little");
    }
    (server, api, hosts)
}

/// `vr logs ARGS --follow`, its stdout lines arriving on a channel.
fn follow(server: &VrServer, token: &str, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = super::server_process::vr_cmd(server)
        .env("VR_URL", server.base_url())
        .env("VR_TOKEN", token)
        .arg("logs")
        .args(args)
        .arg("--follow")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn vr logs");
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Reads lines until one satisfies `want`; every line read is returned.
fn read_until(rx: &mpsc::Receiver<String>, what: &str, want: impl Fn(&str) -> bool) -> Vec<String> {
    let until = Instant::now() + WAIT;
    let mut seen = Vec::new();
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let done = want(&line);
                seen.push(line);
                if done {
                    return seen;
                }
            }
            Err(_) => break,
        }
    }
    panic!("never saw {what}; got:\n{}", seen.join("\n"));
}

#[tokio::test]
async fn vr_logs_merges_matching_procs_across_hosts_with_history_filters_and_markers() {
    let (mut server, api, hosts) = setup().await;
    let token = cli_token(&api).await;
    let t = token.as_str();

    // History: the last lines of each stream of each matching proc, labelled; not the others.
    let (ok, out) = vr(&server, t, &["logs", "shop-prod-web", "-n", "3"]);
    assert!(ok, "{out}");
    for want in [
        "h0 shop-1-prod-x-web-5001 out| one out",
        "h0 shop-1-prod-x-web-5001 err| one err",
        "h1 shop-1-prod-x-web-5002 out| two out",
        "h1 shop-1-prod-x-web-5002 err| two err",
        "showing 2 procs on 2 hosts",
    ] {
        assert!(out.contains(want), "{want} in:\n{out}");
    }
    assert!(!out.contains("noise"), "{out}");
    let lines = out.lines().filter(|l| l.contains("| ")).count();
    assert_eq!(lines, 12, "3 lines × 2 streams × 2 procs:\n{out}");

    // One stream, one host, a text filter (case-insensitive).
    let (ok, out) = vr(
        &server,
        t,
        &[
            "logs", "shop", "--host", "^h1$", "--stderr", "--grep", "TWO ERR", "-n", "5",
        ],
    );
    assert!(ok, "{out}");
    let shown: Vec<&str> = out.lines().filter(|l| l.contains("| ")).collect();
    assert_eq!(shown.len(), 5, "{out}");
    assert!(
        shown
            .iter()
            .all(|l| l.contains("h1 shop-1-prod-x-web-5002 err| two err")),
        "{out}"
    );

    // Bad input is named; nothing matching is an error without --follow.
    let (ok, out) = vr(&server, t, &["logs", "("]);
    assert!(!ok && out.contains("field pattern"), "{out}");
    let (ok, out) = vr(&server, t, &["logs", "nothing-here"]);
    assert!(!ok && out.contains("no proc matches"), "{out}");
    let (ok, out) = vr(&server, t, &["logs", "shop", "-n", "5000"]);
    assert!(!ok && out.contains("field lines"), "{out}");

    // The API by swarm: only that swarm's procs; a viewer of the JSON sees the event kinds.
    let resp = api
        .http()
        .get(server.url(&format!("{}?swarm=7&lines=1&stream=stdout", paths::LOGS)))
        .send()
        .await
        .expect("open log stream");
    assert_eq!(resp.status(), 200);
    let mut body = resp.bytes_stream();
    let mut text = String::new();
    let started = Instant::now();
    while !text.contains("\"kind\":\"caught_up\"") && started.elapsed() < WAIT {
        match tokio::time::timeout(WAIT, body.next()).await {
            Ok(Some(Ok(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            _ => break,
        }
    }
    let events: Vec<LogEvent> = text
        .split("\n\n")
        .filter_map(|m| m.strip_prefix("data: "))
        .map(|d| LogEvent::from_json(d).expect("a log event"))
        .collect();
    let Some(LogEvent::Following { procs }) = events.first() else {
        panic!("no following first: {text}");
    };
    assert_eq!(procs.len(), 2, "{procs:?}");
    let lines: Vec<&LogEvent> = events
        .iter()
        .filter(|e| matches!(e, LogEvent::Line { .. }))
        .collect();
    assert_eq!(lines.len(), 2, "one stdout line per proc: {text}");
    drop(body);
    let r = api
        .get(&format!("{}?swarm=7&colour=red", paths::LOGS))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);

    // Following: new lines of both hosts arrive; a restart is marked; a host that hangs is
    // marked lost while the other's lines go on, and marked back when it returns.
    let (mut child, rx) = follow(&server, t, &["shop-prod-web", "--stdout", "-n", "0"]);
    let (h0, h1) = (Cell::new(false), Cell::new(false));
    read_until(&rx, "new lines of both hosts", |l| {
        h0.set(h0.get() || l.contains("h0 shop-1-prod-x-web-5001 out| one out"));
        h1.set(h1.get() || l.contains("h1 shop-1-prod-x-web-5002 out| two out"));
        h0.get() && h1.get()
    });
    // One reader per followed host, whatever the number of streams: /metrics says so.
    let metrics = api
        .http()
        .get(server.url(vr_app::api::paths::METRICS))
        .bearer_auth(t)
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .unwrap_or_default();
    assert!(metrics.contains("\nvr_log_followed_hosts 2\n"), "{metrics}");
    hosts[0].ctl_ok(&["restart", "shop-1-prod-x-web-5001"]);
    read_until(&rx, "the restart marker", |l| {
        l.contains("--- h0 shop-1-prod-x-web-5001 restarted")
    });
    // A proc that starts matching is followed from then on; one that goes is said to.
    hosts[0].add_program("shop-prod-web-extra", &chatter("extra"));
    read_until(&rx, "the new proc joining", |l| {
        l.contains("--- h0 shop-prod-web-extra now followed")
    });
    read_until(&rx, "its lines", |l| {
        l.contains("h0 shop-prod-web-extra out| extra out")
    });
    hosts[0].remove_program("shop-prod-web-extra");
    read_until(&rx, "it leaving", |l| {
        l.contains("--- h0 shop-prod-web-extra no longer followed")
    });
    hosts[1].stop_sshd_hanging();
    read_until(&rx, "h1 marked lost", |l| {
        l.contains("--- h1 h1 stopped answering")
    });
    let mut after = read_until(&rx, "h0 going on", |l| {
        l.contains("h0 shop-1-prod-x-web-5001 out| one out")
    });
    hosts[1].resume_sshd();
    after.extend(read_until(&rx, "h1 back", |l| {
        l.contains("--- h1 h1 answers again")
    }));
    read_until(&rx, "h1's lines again", |l| {
        l.contains("h1 shop-1-prod-x-web-5002 out| two out")
    });
    assert!(
        after.iter().all(|l| !l.contains("err|")),
        "stdout only:\n{}",
        after.join("\n")
    );

    // The server ends the stream: the CLI says so and exits non-zero.
    server.stop();
    let status = child.wait().expect("vr logs exits");
    assert!(!status.success());
}

/// The text of the log page's lines now.
async fn page_lines(browser: &Browser) -> String {
    browser
        .eval(
            "return document.querySelector('#logs-lines')?.innerText ?? '';",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Waits until the page's lines satisfy `ok`.
async fn wait_lines(browser: &Browser, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let last = std::sync::Mutex::new(String::new());
    let seen = wait_until_async(WAIT, || async {
        let text = page_lines(browser).await;
        let good = ok(&text);
        *last.lock().unwrap_or_else(|p| p.into_inner()) = text;
        good
    })
    .await;
    let last = last.into_inner().unwrap_or_else(|p| p.into_inner());
    assert!(seen, "the log page never showed {what}; last:\n{last}");
    last
}

#[tokio::test]
async fn the_log_page_follows_a_filtered_set_with_search_toggles_pause_and_markers() {
    let (server, _api, hosts) = setup().await;
    let browser = Browser::start().await;
    browser
        .sign_in(&server.base_url(), "admin", super::fleet::PW)
        .await;

    // From the dashboard's filtered set to its live log.
    browser.goto(&server.url("/")).await;
    browser.fill("#fleet-filter", "shop").await;
    browser
        .wait_for_text("[data-test=proc-count]", "2 of 3 procs")
        .await;
    browser.click("#fleet-logs").await;
    browser
        .wait_for_text("#logs-summary", "2 procs on 2 hosts")
        .await;
    wait_lines(&browser, "both hosts' stdout and stderr", |t| {
        [
            "h0 shop-1-prod-x-web-5001 out| one out",
            "h0 shop-1-prod-x-web-5001 err| one err",
            "h1 shop-1-prod-x-web-5002 out| two out",
        ]
        .iter()
        .all(|w| t.contains(w))
            && !t.contains("noise")
    })
    .await;

    // Stream and host toggles.
    browser.click("[data-test=logs-show-stderr]").await;
    browser.click("[data-test=logs-host-h1]").await;
    wait_lines(&browser, "h0's stdout only", |t| {
        t.contains("one out") && !t.contains(" err| ") && !t.contains("h1 ")
    })
    .await;

    browser.click("[data-test=logs-show-stderr]").await;
    browser.click("[data-test=logs-host-h1]").await;
    // The search box filters what is shown, live.
    browser.fill("#logs-search", "TWO ERR").await;
    wait_lines(&browser, "only h1's stderr", |t| {
        t.contains("two err") && !t.contains("one out") && !t.contains("two out")
    })
    .await;

    browser.fill("#logs-search", "one out").await;
    // Paused, nothing new is drawn while arrivals are counted; resumed, they come.
    browser.click("#logs-pause").await;
    browser.wait_for_text("#logs-status", "paused").await;
    let frozen = page_lines(&browser).await;
    // Twenty arrivals take several draw intervals.
    let counted = wait_until_async(WAIT, || async {
        let status = browser.text("#logs-status").await;
        status
            .trim_start_matches("paused, ")
            .trim_end_matches(" new")
            .parse::<usize>()
            .is_ok_and(|n| n >= 20)
    })
    .await;
    assert!(counted, "{}", browser.text("#logs-status").await);
    assert_eq!(page_lines(&browser).await, frozen, "drawn while paused");
    browser.click("#logs-pause").await;
    wait_lines(&browser, "new lines after resuming", |t| t != frozen).await;

    // A restart is marked in the stream.
    hosts[0].ctl_ok(&["restart", "shop-1-prod-x-web-5001"]);
    wait_lines(&browser, "the restart marker", |t| {
        t.contains("--- h0 shop-1-prod-x-web-5001 restarted")
    })
    .await;

    // A swarm's log from its own selection.
    browser.goto(&server.url("/logs?swarm=7")).await;
    browser
        .wait_for_text("#logs-summary", "swarm 7: 2 procs on 2 hosts")
        .await;
    browser.close().await;
}
