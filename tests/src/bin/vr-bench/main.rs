//! Benchmarks of a `vr` binary, run by `scripts/bench.sh` (which builds the static release binary
//! first); figures go into BENCHMARKS.md.
//!
//! Usage: `vr-bench [--vr PATH] [--suite all|foundation|fleet|builds|swarms|balancers|hostloss|logs|retention] [--runs N]
//! [--hosts 50] [--procs 20] [--dead 10] [--samples 60]`.
//! - foundation: start-up time, idle memory, binary size and UI bundle size;
//! - fleet: see [`fleet`];
//! - builds: see [`builds`];
//! - swarms: see [`swarms`];
//! - balancers: see [`balancers`] (vr against Ansible);
//! - hostloss: see [`hostloss`];
//! - logs: see [`logs`];
//! - retention: see [`retention`].

mod balancers;
mod builds;
mod fleet;
mod hostloss;
mod logs;
mod retention;
mod swarms;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use vr_app::api::paths;
use vr_tests::harness::{ServerOptions, VrServer};

const PW: &str = "bench-password-1";

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn gzip_size(path: &Path) -> u64 {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("gzip -9c '{}' | wc -c", path.display()))
        .output()
        .expect("gzip");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

/// A server on the binary under test, as the test harness starts one, with the bench's admin.
async fn bench_server(vr: &Path) -> VrServer {
    VrServer::start(ServerOptions {
        admin_password: Some(PW.into()),
        binary: Some(vr.to_path_buf()),
        ..Default::default()
    })
    .await
}

fn num(name: &str, default: usize) -> usize {
    arg(name).and_then(|s| s.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let vr = PathBuf::from(arg("--vr").unwrap_or_else(|| "target/release/vr".into()));
    let vr = std::fs::canonicalize(&vr).unwrap_or_else(|_| panic!("no binary at {}", vr.display()));
    let suite = arg("--suite").unwrap_or_else(|| "all".into());
    if suite == "all" || suite == "foundation" {
        foundation(&vr, num("--runs", 10)).await;
    }
    if suite == "all" || suite == "fleet" {
        let args = fleet::FleetArgs {
            hosts: num("--hosts", 50),
            procs: num("--procs", 20),
            dead: num("--dead", 10),
            samples: num("--samples", 60),
        };
        fleet::run(&vr, args).await;
    }
    if suite == "all" || suite == "builds" {
        builds::run(&vr, num("--runs", 10)).await;
    }
    if suite == "all" || suite == "swarms" {
        swarms::run(&vr).await;
    }
    if suite == "all" || suite == "balancers" {
        balancers::run(&vr).await;
    }
    if suite == "all" || suite == "hostloss" {
        hostloss::run(&vr, num("--samples", 8).min(20)).await;
    }
    if suite == "all" || suite == "logs" {
        logs::run(&vr).await;
    }
    if suite == "all" || suite == "retention" {
        retention::run(&vr).await;
    }
}

async fn foundation(vr: &Path, runs: usize) {
    let vr = vr.to_path_buf();
    let opts = || ServerOptions {
        admin_password: Some(PW.into()),
        binary: Some(vr.clone()),
        ..Default::default()
    };
    println!("binary: {}", vr.display());
    let size = std::fs::metadata(&vr).map(|m| m.len()).unwrap_or(0);
    println!(
        "binary size: {:.1} MiB ({size} bytes)",
        size as f64 / 1_048_576.0
    );

    // Cold: fresh data dir each time (creates the database, runs migrations, makes the SSH key,
    // hashes the admin password). Warm: the same data dir again.
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let mut server = VrServer::start(opts()).await;
        cold.push(t.elapsed());
        server.stop();
        let t = Instant::now();
        server.restart().await;
        warm.push(t.elapsed());
    }
    cold.sort();
    warm.sort();
    println!(
        "start to healthy, cold (new data dir), {runs} runs: median {}, max {}",
        ms(percentile(&cold, 0.5)),
        ms(percentile(&cold, 1.0))
    );
    println!(
        "start to healthy, warm (existing data dir), {runs} runs: median {}, max {}",
        ms(percentile(&warm, 0.5)),
        ms(percentile(&warm, 1.0))
    );

    // Idle memory with a signed-in browser-like client holding the live stream open.
    let server = VrServer::start(opts()).await;
    let admin = server.admin().await;
    let _stream = admin
        .http()
        .get(server.url(paths::STREAM))
        .send()
        .await
        .expect("open stream");
    for _ in 0..20 {
        admin.get(paths::EVENTS).await.expect_ok();
    }
    let pid = server.pid().expect("running");
    let settle = Instant::now() + Duration::from_secs(3);
    while Instant::now() < settle {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "idle memory (1 live stream open, after 20 API calls): RSS {} KiB, peak RSS {} KiB",
        rss_kib(pid, "VmRSS:"),
        rss_kib(pid, "VmHWM:")
    );

    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../frontend/dist");
    let mut total = (0, 0);
    let mut entries: Vec<_> = std::fs::read_dir(&dist)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for p in entries {
        let raw = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        let gz = gzip_size(&p);
        total = (total.0 + raw, total.1 + gz);
        println!(
            "ui {}: {raw} bytes, {gz} gzipped",
            p.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
    }
    println!("ui total: {} bytes, {} gzipped", total.0, total.1);
}
