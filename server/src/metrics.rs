//! `GET /metrics`: what an operator's Prometheus scrapes. HTTP requests are counted as they
//! happen (by route template, method and status, with latencies); everything else is read at
//! scrape time — hosts and procs from the snapshot, swarms' status, jobs from the store, polls
//! from the fleet service, SSH connections from `remote` — so the figures are the API's own.

use crate::state::AppState;
use crate::store::{JobTable, StoreError};
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use vr_app::fleet::Health;
use vr_app::fleet_view::shown;
use vr_app::metrics::{Histogram, JOB_BUCKETS, Kind, LATENCY_BUCKETS, Text};

/// Per (route template, method): answers by status, and latencies.
type HttpStats = BTreeMap<(String, String), (BTreeMap<u16, u64>, Histogram)>;

#[derive(Default)]
pub struct Metrics {
    http: Mutex<HttpStats>,
}

impl Metrics {
    fn observe(&self, route: String, method: String, status: u16, secs: f64) {
        let mut http = self.http.lock().unwrap_or_else(|p| p.into_inner());
        let (by_status, h) = http
            .entry((route, method))
            .or_insert_with(|| (BTreeMap::new(), Histogram::new(&LATENCY_BUCKETS)));
        *by_status.entry(status).or_default() += 1;
        h.observe(secs);
    }

    fn http(&self) -> HttpStats {
        self.http.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The method as a label: the ones HTTP defines, else `OTHER` (a client inventing methods must
/// not grow the table without bound).
fn method_label(m: &axum::http::Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .iter()
        .find(|k| **k == m.as_str())
        .copied()
        .unwrap_or("OTHER")
}

/// Middleware on every route: counts the request under its route template (`(ui)` for the
/// embedded UI, `(none)` for an API path nothing serves).
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method()).to_string();
    let route = match req.extensions().get::<MatchedPath>() {
        Some(p) => p.as_str().to_string(),
        None if req.uri().path().starts_with("/api/") => "(none)".to_string(),
        None => "(ui)".to_string(),
    };
    let resp = next.run(req).await;
    metrics.observe(
        route,
        method,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    resp
}

/// `plural` counted by status (`vr_{plural}_total`) and how long the finished ones took
/// (`vr_{singular}_duration_seconds`).
fn jobs(t: &mut Text, singular: &str, plural: &str, stats: &[crate::store::JobStats]) {
    let total = format!("vr_{plural}_total");
    t.family(
        &total,
        Kind::Counter,
        &format!("{plural} recorded, by status."),
    );
    for s in stats {
        t.sample(&total, &[("status", &s.status)], s.count as f64);
    }
    let metric = format!("vr_{singular}_duration_seconds");
    t.family(
        &metric,
        Kind::Histogram,
        &format!("How long finished {plural} took, by status."),
    );
    for s in stats.iter().filter(|s| s.finished > 0) {
        let h = Histogram::from_cumulative(&JOB_BUCKETS, &s.within, s.seconds, s.finished);
        t.histogram(&metric, &[("status", &s.status)], &h);
    }
}

/// The whole scrape.
pub async fn render(state: &AppState) -> Result<String, StoreError> {
    let mut t = Text::new();
    t.family("vr_build_info", Kind::Gauge, "The running vr's version.")
        .sample(
            "vr_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))],
            1.0,
        );

    let fleet = state.store.fleet().await?;
    t.family("vr_hosts", Kind::Gauge, "Hosts by health as last polled.");
    for health in Health::ALL {
        let n = fleet
            .hosts
            .iter()
            .filter(|h| h.status.health == health)
            .count();
        t.sample("vr_hosts", &[("health", health.as_str())], n as f64);
    }
    t.family(
        "vr_host_up",
        Kind::Gauge,
        "1 when the host answered its last poll.",
    );
    for h in &fleet.hosts {
        let up = if h.status.health == Health::Ok {
            1.0
        } else {
            0.0
        };
        t.sample("vr_host_up", &[("host", &h.settings.name)], up);
    }

    let swarms = state.store.list_swarms().await?;
    let names: BTreeMap<i64, String> = swarms.iter().map(|s| (s.id, s.spec.name())).collect();
    let mut procs: BTreeMap<(String, String), u64> = BTreeMap::new();
    for p in &fleet.procs {
        let host = fleet.hosts.iter().find(|h| h.settings.name == p.host);
        let swarm = match &p.meta {
            None => "(unmanaged)".to_string(),
            Some(m) => m
                .swarm_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| "(none)".to_string()),
        };
        let state_label = shown(p, host).label().to_string();
        *procs.entry((swarm, state_label)).or_default() += 1;
    }
    t.family(
        "vr_procs",
        Kind::Gauge,
        "Supervisor programs by swarm and state; STALE: on a host that does not answer.",
    );
    for ((swarm, st), n) in &procs {
        t.sample("vr_procs", &[("swarm", swarm), ("state", st)], *n as f64);
    }

    t.family(
        "vr_swarm_status",
        Kind::Gauge,
        "1 for each swarm's current status.",
    );
    // Only the status is wanted: `assess` straight from the row, without parsing the swarm's
    // settings as its API view does.
    let statuses: Vec<(String, vr_app::swarm::SwarmStatus)> = swarms
        .iter()
        .map(|row| {
            let status = vr_app::swarm::assess(
                row.id,
                &row.spec,
                row.release_hash.as_deref(),
                row.last,
                &fleet.hosts,
                &fleet.procs,
            );
            (names.get(&row.id).cloned().unwrap_or_default(), status)
        })
        .collect();
    for (name, status) in &statuses {
        t.sample(
            "vr_swarm_status",
            &[("swarm", name), ("status", status.state.as_str())],
            1.0,
        );
    }
    t.family(
        "vr_swarm_procs",
        Kind::Gauge,
        "Each swarm's procs: wanted, running, missing, extra, stale, unknown, orphaned.",
    );
    for (name, st) in &statuses {
        for (kind, n) in [
            ("wanted", st.wanted),
            ("running", st.running),
            ("missing", st.missing),
            ("extra", st.extra),
            ("stale", st.stale),
            ("unknown", st.unknown),
            ("orphaned", st.orphaned),
        ] {
            t.sample(
                "vr_swarm_procs",
                &[("swarm", name), ("kind", kind)],
                f64::from(n),
            );
        }
    }

    let polls = state.fleet.poll_stats();
    t.family(
        "vr_poll_duration_seconds",
        Kind::Histogram,
        "How long each host's polls took since start.",
    );
    for (host, h, _) in &polls {
        t.histogram("vr_poll_duration_seconds", &[("host", host)], h);
    }
    t.family(
        "vr_poll_errors_total",
        Kind::Counter,
        "Polls of each host that failed since start.",
    );
    for (host, _, errors) in &polls {
        t.sample("vr_poll_errors_total", &[("host", host)], *errors as f64);
    }
    t.family(
        "vr_ssh_connects_total",
        Kind::Counter,
        "SSH connections opened (outcome ok) or not (failed) per target since start.",
    );
    for (target, ok, n) in crate::remote::ssh::connect_counts() {
        let outcome = if ok { "ok" } else { "failed" };
        t.sample(
            "vr_ssh_connects_total",
            &[("target", &target), ("outcome", outcome)],
            n as f64,
        );
    }

    for (table, name, what) in [
        (JobTable::Dispatches, "dispatch", "dispatches"),
        (JobTable::Deploys, "deploy", "deploys"),
        (JobTable::Builds, "build", "builds"),
    ] {
        let stats = state.store.job_stats(table, &JOB_BUCKETS).await?;
        jobs(&mut t, name, what, &stats);
    }

    t.family(
        "vr_http_requests_total",
        Kind::Counter,
        "HTTP requests answered, by route template, method and status.",
    );
    let http = state.metrics.http();
    for ((route, method), (by_status, _)) in &http {
        for (status, n) in by_status {
            t.sample(
                "vr_http_requests_total",
                &[
                    ("route", route),
                    ("method", method),
                    ("status", &status.to_string()),
                ],
                *n as f64,
            );
        }
    }
    t.family(
        "vr_http_request_duration_seconds",
        Kind::Histogram,
        "How long HTTP requests took to answer (a live stream: until its headers).",
    );
    for ((route, method), (_, h)) in &http {
        t.histogram(
            "vr_http_request_duration_seconds",
            &[("route", route), ("method", method)],
            h,
        );
    }
    t.family(
        "vr_live_streams",
        Kind::Gauge,
        "Live event streams open now.",
    )
    .sample("vr_live_streams", &[], state.streams.total() as f64);
    t.family(
        "vr_log_followed_hosts",
        Kind::Gauge,
        "Hosts whose procs' logs are being followed now (one reader each, however many streams).",
    )
    .sample(
        "vr_log_followed_hosts",
        &[],
        state.fleet.followed_hosts() as f64,
    );
    Ok(t.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_share_one_label() {
        let m = Metrics::default();
        for name in ["BREW", "WHEN", "GET"] {
            let method = axum::http::Method::from_bytes(name.as_bytes()).expect("method");
            m.observe("(ui)".into(), method_label(&method).into(), 405, 0.001);
        }
        let keys: Vec<String> = m.http().into_keys().map(|(_, method)| method).collect();
        assert_eq!(keys, ["GET", "OTHER"]);
    }
}
