//! Fleet benchmarks (issue 3, SPEC §6): a full refresh of many harness hosts × procs, p95 delay
//! from a state change on a host to the browser's live stream, API latency while a share of the
//! hosts is black-holed, and the server's memory and CPU while polling.

use super::{ms, percentile, rss_kib};
use futures_util::StreamExt;
use std::path::Path;
use std::time::{Duration, Instant};
use vr_app::api::{LiveMessage, paths};
use vr_app::fleet::{Fleet, Health};
use vr_tests::harness::fleet::{add_host, fleet, server_key};
use vr_tests::harness::host::xml_string;
use vr_tests::harness::{ApiClient, HostOptions, NetnsHost, TestHost};

pub struct FleetArgs {
    pub hosts: usize,
    pub procs: usize,
    pub dead: usize,
    pub samples: usize,
}

/// Adds `n` programs at once: all files, one `reloadConfig`, then one `addProcessGroup` each.
fn add_programs(host: &TestHost, n: usize) {
    for i in 0..n {
        let name = format!("p{i:02}");
        std::fs::write(
            host.include_dir().join(format!("{name}.conf")),
            format!(
                "[program:{name}]\ncommand=sleep 100000\nautostart=true\nstartsecs=0\nstopwaitsecs=1\n\
                 stdout_logfile=NONE\nstderr_logfile=NONE\n"
            ),
        )
        .expect("program file");
    }
    host.rpc_ok("supervisor.reloadConfig", &[]);
    for i in 0..n {
        host.rpc_ok("supervisor.addProcessGroup", &[&format!("p{i:02}")]);
    }
}

/// A pseudo-random number below `max` from the clock's nanoseconds (no RNG crate needed).
fn jitter_ms(max: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    u64::from(nanos.wrapping_mul(2_654_435_761) >> 8) % max
}

pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is 14th, stime 15th.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let f: Vec<u64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)
}

async fn all_ok(api: &ApiClient, names: &[String], procs: usize) -> bool {
    let f: Fleet = fleet(api).await;
    names.iter().all(|n| {
        f.hosts
            .iter()
            .any(|h| &h.settings.name == n && h.status.health == Health::Ok)
            && f.procs.iter().filter(|p| &p.host == n).count() == procs
    })
}

/// Waits for the next live message saying `proc` on `host` is in `state`.
async fn wait_live<B: AsRef<[u8]>>(
    lines: &mut (impl futures_util::Stream<Item = reqwest::Result<B>> + Unpin),
    buf: &mut String,
    host: &str,
    proc: &str,
    state: &str,
) {
    loop {
        while let Some(i) = buf.find("\n\n") {
            let frame: String = buf.drain(..i + 2).collect();
            for line in frame.lines() {
                let Some(data) = line.strip_prefix("data:") else {
                    continue;
                };
                if let Ok(LiveMessage::Host { host: h, procs }) =
                    serde_json::from_str::<LiveMessage>(data.trim())
                    && h.settings.name == host
                    && procs
                        .iter()
                        .any(|p| p.name == proc && p.state.as_str() == state)
                {
                    return;
                }
            }
        }
        match tokio::time::timeout(Duration::from_secs(30), lines.next()).await {
            Ok(Some(Ok(chunk))) => buf.push_str(&String::from_utf8_lossy(chunk.as_ref())),
            Ok(Some(Err(e))) => panic!("live stream failed: {e}"),
            Ok(None) => panic!("live stream ended"),
            Err(_) => panic!("no live message for {proc} on {host} within 30 s"),
        }
    }
}

pub async fn run(vr: &Path, a: FleetArgs) {
    let server = super::bench_server(vr).await;
    let api = server.admin().await;
    let key = server_key(&api).await;
    let opts = HostOptions {
        authorized_keys: vec![key],
        ..Default::default()
    };
    let t = Instant::now();
    let live = a.hosts - a.dead;
    let hosts = TestHost::start_many(live, opts.clone());
    let cut = NetnsHost::start_many(a.dead, opts);
    std::thread::scope(|s| {
        for h in &hosts {
            s.spawn(|| add_programs(h, a.procs));
        }
        for h in &cut {
            s.spawn(|| add_programs(h, a.procs));
        }
    });
    println!(
        "fleet: {} hosts ({live} on loopback, {} in network namespaces) × {} procs, started in {:.1} s",
        a.hosts,
        a.dead,
        a.procs,
        t.elapsed().as_secs_f64()
    );

    // Cold full refresh: register every host, then wait until all are read (connect, auth,
    // first contact pins the key, status over XML-RPC, proc.json lookups).
    let mut names = Vec::new();
    let t = Instant::now();
    for (i, h) in hosts.iter().enumerate() {
        let name = format!("live{i:02}");
        add_host(&api, h, &name, None).await;
        names.push(name);
    }
    for (i, h) in cut.iter().enumerate() {
        let name = format!("cut{i:02}");
        add_host(&api, h, &name, None).await;
        names.push(name);
    }
    while !all_ok(&api, &names, a.procs).await {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "cold full refresh (register {} hosts → all {} procs in the snapshot): {}",
        a.hosts,
        a.hosts * a.procs,
        ms(t.elapsed())
    );

    // Warm full refresh: one program stopped on every host at once → all visible in the API.
    let t = Instant::now();
    std::thread::scope(|s| {
        for h in &hosts {
            s.spawn(|| h.rpc_ok("supervisor.stopProcess", &["p00"]));
        }
        for h in &cut {
            s.spawn(|| h.rpc_ok("supervisor.stopProcess", &["p00"]));
        }
    });
    loop {
        let f = fleet(&api).await;
        let stopped = f
            .procs
            .iter()
            .filter(|p| p.name == "p00" && p.state.as_str() == "STOPPED")
            .count();
        if stopped == a.hosts {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "warm full refresh (a change on every host at once → all visible in the API): {}",
        ms(t.elapsed())
    );

    // Its own client: the harness's has a 60 s request timeout, which would cut a stream.
    let token: vr_app::api::CreatedToken = api
        .post(
            paths::TOKENS,
            &serde_json::json!({ "name": "bench stream" }),
        )
        .await
        .expect_status(201)
        .json();
    let stream = reqwest::Client::new()
        .get(server.url(paths::STREAM))
        .bearer_auth(&token.secret)
        .send()
        .await
        .expect("open live stream");
    let mut body = stream.bytes_stream();
    let mut buf = String::new();
    let healthy: Vec<(&TestHost, String)> = hosts
        .iter()
        .zip(names.iter())
        .map(|(h, n)| (h, n.clone()))
        .collect();
    let phases = [
        ("all hosts up", healthy.clone()),
        ("while the namespaced hosts are black-holed", healthy),
    ];
    for (phase, (label, pool)) in phases.into_iter().enumerate() {
        if phase == 1 {
            for c in &cut {
                c.cut();
            }
            // Let every cut host be flagged first (the first poll of each hangs one deadline).
            let dead: Vec<String> = names[live..].to_vec();
            loop {
                let f = fleet(&api).await;
                if dead.iter().all(|n| {
                    f.hosts
                        .iter()
                        .any(|h| &h.settings.name == n && h.status.health == Health::Unreachable)
                }) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let mut delays = Vec::new();
        for i in 0..a.samples {
            let (host, name) = &pool[i % pool.len()];
            let program = format!("p{:02}", 1 + (i / pool.len()) % (a.procs - 1));
            let stopping = host.program_state(&program).as_deref() == Some("RUNNING");
            let (method, state) = if stopping {
                ("supervisor.stopProcess", "STOPPED")
            } else {
                ("supervisor.startProcess", "RUNNING")
            };
            // A pause of random length first: changes right after a poll would all wait a whole
            // interval, and changes right before one almost nothing; real changes land anywhere.
            tokio::time::sleep(Duration::from_millis(jitter_ms(1000))).await;
            let t = Instant::now();
            vr_tests::harness::host::xmlrpc_values(
                &host.supervisor_socket(),
                method,
                &[xml_string(&program), "<boolean>1</boolean>".into()],
            )
            .expect("change a program");
            wait_live(&mut body, &mut buf, name, &program, state).await;
            delays.push(t.elapsed());
        }
        delays.sort();
        println!(
            "freshness, {label}: change on a host → live message in the browser stream, {} samples: p50 {}, p95 {}, max {}",
            delays.len(),
            ms(percentile(&delays, 0.5)),
            ms(percentile(&delays, 0.95)),
            ms(percentile(&delays, 1.0))
        );
        let mut lat = Vec::new();
        for path in [
            paths::EVENTS,
            vr_app::fleet::paths::FLEET,
            vr_app::fleet::paths::HOSTS,
        ] {
            for _ in 0..200 {
                let t = Instant::now();
                api.get(path).await.expect_ok();
                lat.push(t.elapsed());
            }
        }
        lat.sort();
        println!(
            "API latency, {label} (600 GETs of /api/events, /api/fleet, /api/hosts): p50 {}, p99 {}, max {}",
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99)),
            ms(percentile(&lat, 1.0))
        );
    }

    let pid = server.pid().expect("running");
    let ticks0 = cpu_ticks(pid);
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let cpu = (cpu_ticks(pid) - ticks0) as f64 / 100.0 / t.elapsed().as_secs_f64();
    println!(
        "server while polling {} hosts ({} black-holed), 10 s: CPU {:.1}% of one core, RSS {} KiB, peak RSS {} KiB",
        a.hosts,
        a.dead,
        cpu * 100.0,
        rss_kib(pid, "VmRSS:"),
        rss_kib(pid, "VmHWM:")
    );
    for c in &cut {
        c.restore();
    }
}
