//! Merged live logs (issue 15): 10 harness hosts with 5 procs each, every proc writing a line
//! holding the time it was written (ns) twice a second; `vr logs '' --follow` (the real CLI,
//! through the server) follows all 50. Measured: the delay from a line's writing on its host to
//! the CLI printing it (p50, p95, max; goal p95 < 1 s), and the server's CPU while polling only
//! and while following, over the same length of time.

use super::fleet::cpu_ticks;
use super::{ms, percentile};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vr_app::fleet::Health;
use vr_tests::harness::fleet::{add_host, server_key, wait_health};
use vr_tests::harness::{HostOptions, TestHost};

const HOSTS: usize = 10;
const PROCS: usize = 5;
const MEASURE: Duration = Duration::from_secs(30);

fn now_ns() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

pub async fn run(vr: &Path) {
    let server = super::bench_server(vr).await;
    let api = server.admin().await;
    let key = server_key(&api).await;
    let hosts = TestHost::start_many(
        HOSTS,
        HostOptions {
            authorized_keys: vec![key],
            ..Default::default()
        },
    );
    for (i, h) in hosts.iter().enumerate() {
        for p in 0..PROCS {
            h.add_program(
                &format!("p{p}"),
                "sh -c 'while :; do date +t=%%s%%N; sleep 0.5; done'",
            );
        }
        add_host(&api, h, &format!("h{i}"), None).await;
    }
    for i in 0..HOSTS {
        wait_health(&api, &format!("h{i}"), Health::Ok, Duration::from_secs(30)).await;
    }
    let pid = server.pid().expect("running");

    // Polling only: the baseline.
    let ticks = cpu_ticks(pid);
    tokio::time::sleep(MEASURE).await;
    let polling = (cpu_ticks(pid) - ticks) as f64 / 100.0 / MEASURE.as_secs_f64();

    // Following every proc through the CLI.
    let token: vr_app::api::CreatedToken = api
        .post("/api/tokens", &serde_json::json!({ "name": "bench" }))
        .await
        .expect_status(201)
        .json();
    let mut cli = Command::new(vr)
        .args(["logs", "", "--follow", "-n", "0", "--stdout"])
        .env("VR_URL", server.base_url())
        .env("VR_TOKEN", &token.secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("vr logs");
    let out = cli.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut delays = Vec::new();
        let mut lines = BufReader::new(out).lines();
        // The first lines wait for the followers to start; measure once they flow.
        let start = Instant::now();
        while let Some(Ok(line)) = lines.next() {
            let Some(written) = line
                .rsplit_once("t=")
                .and_then(|(_, t)| t.trim().parse::<u128>().ok())
            else {
                continue;
            };
            if start.elapsed() < Duration::from_secs(3) {
                continue;
            }
            let delay = now_ns().saturating_sub(written);
            delays.push(Duration::from_nanos(
                u64::try_from(delay).unwrap_or(u64::MAX),
            ));
            if start.elapsed() > MEASURE + Duration::from_secs(3) {
                break;
            }
        }
        delays
    });
    tokio::time::sleep(Duration::from_secs(3)).await;
    let ticks = cpu_ticks(pid);
    let cli_ticks = cpu_ticks(cli.id());
    let t = Instant::now();
    let mut delays = tokio::task::spawn_blocking(move || reader.join().unwrap_or_default())
        .await
        .unwrap_or_default();
    let secs = t.elapsed().as_secs_f64();
    let following = (cpu_ticks(pid) - ticks) as f64 / 100.0 / secs;
    let cli_cpu = (cpu_ticks(cli.id()) - cli_ticks) as f64 / 100.0 / secs;
    let _ = cli.kill();
    let _ = cli.wait();
    delays.sort();
    assert!(!delays.is_empty(), "no line reached the CLI");
    println!(
        "merged logs ({HOSTS} hosts × {PROCS} procs, a line per proc every 0.5 s, {} lines over {:.0} s): written on the host → printed by `vr logs --follow`: p50 {}, p95 {}, max {} (goal p95 < 1 s)",
        delays.len(),
        secs,
        ms(percentile(&delays, 0.5)),
        ms(percentile(&delays, 0.95)),
        ms(delays[delays.len() - 1])
    );
    println!(
        "server CPU over {:.0} s: polling only {:.1}% of a core; polling and following the 50 procs {:.1}%; the CLI {:.1}%",
        MEASURE.as_secs_f64(),
        polling * 100.0,
        following * 100.0,
        cli_cpu * 100.0
    );
}
