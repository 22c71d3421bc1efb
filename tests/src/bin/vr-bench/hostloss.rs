//! How fast a lost host is flagged (issue 13): a host in a network namespace, polled with the
//! server's defaults (every 1 s, 5 s SSH deadline), has its link cut at a random moment of the
//! poll cycle; the time until the API shows it unreachable, and until it is back to ok after
//! the link returns. Target: within one deadline plus one poll interval (6 s).

use super::{PW, ms, percentile};
use std::path::Path;
use std::time::{Duration, Instant};
use vr_app::fleet::{Health, Host, paths};
use vr_tests::harness::fleet::{add_host, server_key, wait_health};
use vr_tests::harness::{ApiClient, HostOptions, NetnsHost, ServerOptions, VrServer};

/// Polls the API every 20 ms until the host's health is `want`; how long that took.
async fn until(api: &ApiClient, want: Health, limit: Duration) -> Duration {
    let t = Instant::now();
    let mut last = None;
    loop {
        let h: Host = api.get(&paths::host("lost")).await.expect_ok().json();
        if std::env::var("VR_BENCH_LOG").is_ok() && last.as_ref() != Some(&h.status.health) {
            eprintln!(
                "{:?} {:?} {:?}",
                t.elapsed(),
                h.status.health,
                h.status.error
            );
            last = Some(h.status.health);
        }
        if h.status.health == want {
            return t.elapsed();
        }
        assert!(t.elapsed() < limit, "the host never became {want:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn run(vr: &Path, samples: usize) {
    let server = VrServer::start(ServerOptions {
        admin_password: Some(PW.into()),
        binary: Some(vr.to_path_buf()),
        env: vec![(
            "RUST_LOG".into(),
            std::env::var("VR_BENCH_LOG").unwrap_or_else(|_| "info".into()),
        )],
        ..Default::default()
    })
    .await;
    let api = server.admin().await;
    let host = NetnsHost::start(HostOptions {
        authorized_keys: vec![server_key(&api).await],
        ..Default::default()
    });
    add_host(&api, host.host(), "lost", None).await;
    wait_health(&api, "lost", Health::Ok, Duration::from_secs(15)).await;
    let (mut lost, mut back) = (Vec::new(), Vec::new());
    for i in 0..samples {
        // A different moment of the 1 s poll cycle each time.
        tokio::time::sleep(Duration::from_millis(1000 + (i as u64 * 137) % 1000)).await;
        host.cut();
        lost.push(until(&api, Health::Unreachable, Duration::from_secs(30)).await);
        host.restore();
        back.push(until(&api, Health::Ok, Duration::from_secs(30)).await);
    }
    if std::env::var("VR_BENCH_LOG").is_ok() {
        eprintln!("{}", server.log());
    }
    lost.sort();
    back.sort();
    println!(
        "host loss ({samples} cuts, poll 1 s, deadline 5 s): flagged unreachable after p50 {}, max {} (target ≤ 6 s); ok again after the link returns: p50 {}, max {}",
        ms(percentile(&lost, 0.5)),
        ms(lost[lost.len() - 1]),
        ms(percentile(&back, 0.5)),
        ms(back[back.len() - 1])
    );
}
