//! retention: the database of a busy 50-host fleet (1,000 procs) over a year, under vr's
//! default retention. vr makes the schema; the bench then writes the activity straight into its
//! SQLite file in the shapes vr writes — activity events, proc state changes, deploys with their
//! steps, dispatches with plan, steps and spec — spread over the days, restarts vr (which prunes
//! at start), and reports the live database size of a month, of a year with nothing pruned, and
//! of the year once pruned, how long the prune took, and the latency of writes through the API
//! while it ran.

use super::{PW, ms, percentile};
use std::path::Path;
use std::time::{Duration, Instant};
use vr_tests::harness::{ServerOptions, VrServer};

/// Per day, for a busy fleet: deploys and dispatches as a team shipping all day, each writing
/// events and state changes; restarts and crashes add state changes.
const EVENTS_PER_DAY: usize = 1_200;
const STATE_CHANGES_PER_DAY: usize = 6_000;
const DEPLOYS_PER_DAY: usize = 300;
const DISPATCHES_PER_DAY: usize = 60;
const DAY_MS: i64 = 86_400_000;

/// Bytes the database's pages hold (its file, less free pages).
fn live_bytes(c: &rusqlite::Connection) -> u64 {
    let q = |p: &str| -> i64 {
        c.query_row(&format!("PRAGMA {p}"), [], |r| r.get(0))
            .unwrap_or(0)
    };
    ((q("page_count") - q("freelist_count")) * q("page_size")).max(0) as u64
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / 1_048_576.0)
}

/// Writes days `from..to` ago of activity.
fn fill(c: &mut rusqlite::Connection, now: i64, from: usize, to: usize) {
    let steps: String = serde_json::to_string(
        &(0..7)
            .map(|i| serde_json::json!({"name": format!("step-{i}"), "ok": true, "message": "copied the build (4.2 MiB) in 310 ms; wrote the proc folder; reread + add", "ms": 120 + i}))
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    let plan = serde_json::json!({"keep": (0..4).map(|i| serde_json::json!({"host": format!("web{i}"), "name": format!("shop-v1_2_3-prod-abcdef123456-web-50{i:02}")})).collect::<Vec<_>>(), "start": [], "retire": [], "short": 0}).to_string();
    let spec = serde_json::json!({"app": "shop", "version": "v1.2.3", "proc_type": "web", "config": "prod", "squad": "eu", "size": 4, "settings_yaml": "db:\n  host: db1\n  port: 5432\nfeatures: [a, b, c]\n", "env_yaml": "LOG_LEVEL: info\nWORKERS: \"4\"\n"}).to_string();
    let tx = c.transaction().expect("tx");
    for day in from..to {
        let base = now - (day as i64 + 1) * DAY_MS;
        let at = |i: usize, n: usize| base + (i as i64 * DAY_MS) / n as i64;
        for i in 0..EVENTS_PER_DAY {
            tx.execute(
                "INSERT INTO events (at, actor, action, object, outcome, detail) VALUES (?1, 'alice', 'deploy.finish', ?2, 'ok', 'release #412 web on port 5012')",
                rusqlite::params![at(i, EVENTS_PER_DAY), format!("proc:web{}/shop-v1_2_3-prod-abcdef123456-web-50{:02}", i % 50, i % 100)],
            )
            .expect("event");
        }
        for i in 0..STATE_CHANGES_PER_DAY {
            tx.execute(
                "INSERT INTO proc_history (host_id, name, state, description, at) VALUES (?1, ?2, 'RUNNING', 'pid 48213', ?3)",
                rusqlite::params![(i % 50) as i64 + 1, format!("shop-v1_2_3-prod-abcdef123456-web-50{:02}", i % 20), at(i, STATE_CHANGES_PER_DAY)],
            )
            .expect("history");
        }
        for i in 0..DEPLOYS_PER_DAY {
            let t = at(i, DEPLOYS_PER_DAY);
            tx.execute(
                "INSERT INTO deploys (release_id, proc_type, config, host, port, program, status, steps, requested_by, created_at, finished_at) \
                 VALUES (412, 'web', 'prod', ?1, 5012, 'shop-v1_2_3-prod-abcdef123456-web-5012', 'succeeded', ?2, 'alice', ?3, ?4)",
                rusqlite::params![format!("web{}", i % 50), steps, t, t + 2_500],
            )
            .expect("deploy");
        }
        for i in 0..DISPATCHES_PER_DAY {
            let t = at(i, DISPATCHES_PER_DAY);
            tx.execute(
                "INSERT INTO dispatches (swarm_id, version, dry_run, status, plan, steps, deploys, spec, changes, requested_by, created_at, started_at, finished_at) \
                 VALUES (?1, 'v1.2.3', 0, 'succeeded', ?2, ?3, '[1,2,3,4]', ?4, '[]', 'alice', ?5, ?5, ?6)",
                rusqlite::params![(i % 50) as i64 + 1, plan, steps, spec, t, t + 6_000],
            )
            .expect("dispatch");
        }
    }
    tx.commit().expect("commit");
}

pub async fn run(vr: &Path) {
    let data = tempfile::tempdir().expect("data dir");
    let opts = ServerOptions {
        admin_password: Some(PW.into()),
        binary: Some(vr.to_path_buf()),
        data_dir: Some(data.path().to_path_buf()),
        ..Default::default()
    };
    let mut server = VrServer::start(opts).await;
    server.stop();
    let db = data.path().join("vr.db");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let mut c = rusqlite::Connection::open(&db).expect("db");
    c.execute_batch("PRAGMA foreign_keys = OFF")
        .expect("pragma");
    println!(
        "retention: a busy 50-host fleet per day: {EVENTS_PER_DAY} events, {STATE_CHANGES_PER_DAY} proc state changes, {DEPLOYS_PER_DAY} deploys, {DISPATCHES_PER_DAY} dispatches"
    );
    let t = Instant::now();
    fill(&mut c, now, 0, 30);
    println!(
        "a busy month: {} live ({} to write)",
        mib(live_bytes(&c)),
        ms(t.elapsed())
    );
    fill(&mut c, now, 30, 365);
    let year = live_bytes(&c);
    println!("a busy year, nothing pruned: {}", mib(year));
    drop(c);

    // vr prunes at start; writes through the API go on meanwhile.
    let started = Instant::now();
    server.restart().await;
    let api = server.admin().await;
    let mut writes = Vec::new();
    let mut n = 0;
    let pruned = loop {
        let t = Instant::now();
        api.post(
            "/api/squads",
            &serde_json::json!({"name": format!("bench{n}"), "description": ""}),
        )
        .await
        .expect_status(201);
        writes.push(t.elapsed());
        n += 1;
        let events: Vec<vr_app::api::Event> = api
            .get("/api/events?limit=5&action=retention.prune")
            .await
            .expect_ok()
            .json();
        if let Some(e) = events.iter().find(|e| e.action == "retention.prune") {
            break e.detail.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "no prune in 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let took = started.elapsed();
    server.stop();
    writes.sort();
    let c = rusqlite::Connection::open(&db).expect("db");
    let after = live_bytes(&c);
    let file = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    println!(
        "pruned at start ({pruned}) within {} of the restart",
        ms(took)
    );
    println!(
        "API writes meanwhile: {} (p50 {}, p99 {}, max {})",
        writes.len(),
        ms(percentile(&writes, 0.5)),
        ms(percentile(&writes, 0.99)),
        ms(percentile(&writes, 1.0))
    );
    println!(
        "a busy year under default retention: {} live (the file stays {} until SQLite reuses the freed pages; hourly pruning keeps it there)",
        mib(after),
        mib(file)
    );
}
