//! `GET /metrics` scraped after a real build, dispatch and deploy on a harness host: its
//! figures match what the API says (hosts by health, procs by swarm and state, the swarm's
//! status, dispatches, deploys and builds by status with their durations, polls, SSH
//! connections), HTTP requests are counted under their route templates, and it needs a
//! signed-in role.

use super::fleet::cli_token;
use super::swarms::{give_ports, keep_version, succeeded, swarm_setup, web_swarm};
use std::collections::BTreeMap;
use vr_app::build::{Build, BuildStatus};
use vr_app::deploy::{DeployStatus, Deployment};
use vr_app::swarm::{Dispatch, DispatchStatus, Swarm};

/// Each sample line's `name{labels}` and value.
fn parse(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

async fn scrape(s: &super::builds::Setup, token: &str) -> BTreeMap<String, f64> {
    let r = reqwest::Client::new()
        .get(s.server.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .expect("scrape");
    assert_eq!(r.status().as_u16(), 200);
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    parse(&r.text().await.expect("text"))
}

fn value(m: &BTreeMap<String, f64>, key: &str) -> f64 {
    *m.get(key)
        .unwrap_or_else(|| panic!("no sample {key} in {:#?}", m.keys().collect::<Vec<_>>()))
}

#[tokio::test]
async fn metrics_agree_with_the_api_after_a_real_dispatch() {
    let s = swarm_setup().await;
    let (_repo, _build) = super::deploys::web_built(&s).await;
    super::swarms::add_squad(&s.api).await;
    give_ports(&s.api, "builder1", 4).await;
    let swarm = super::swarms::create_swarm(&s.api, &web_swarm(1)).await;
    succeeded(&s.api, swarm.id, &keep_version()).await;
    let token = cli_token(&s.api).await;

    // Without credentials: refused.
    let r = reqwest::get(s.server.url("/metrics")).await.expect("get");
    assert_eq!(r.status().as_u16(), 401);

    let before = scrape(&s, &token).await;
    for _ in 0..3 {
        s.api.get("/api/swarms").await.expect_ok();
    }
    s.api
        .get(&format!("/api/swarms/{}", swarm.id))
        .await
        .expect_ok();
    let m = scrape(&s, &token).await;

    // HTTP requests under their route templates.
    let key = "vr_http_requests_total{route=\"/api/swarms\",method=\"GET\",status=\"200\"}";
    assert_eq!(
        value(&m, key) - before.get(key).copied().unwrap_or(0.0),
        3.0
    );
    assert!(
        value(
            &m,
            "vr_http_requests_total{route=\"/api/swarms/{id}\",method=\"GET\",status=\"200\"}"
        ) >= 1.0
    );
    assert!(
        value(
            &m,
            "vr_http_request_duration_seconds_count{route=\"/api/swarms\",method=\"GET\"}"
        ) >= 3.0
    );

    // Hosts and procs as the API has them.
    let hosts: Vec<vr_app::fleet::Host> = s.api.get("/api/hosts").await.expect_ok().json();
    let ok = hosts
        .iter()
        .filter(|h| h.status.health == vr_app::fleet::Health::Ok)
        .count();
    assert_eq!(value(&m, "vr_hosts{health=\"ok\"}"), ok as f64);
    assert_eq!(value(&m, "vr_host_up{host=\"builder1\"}"), 1.0);
    let running = super::swarms::procs_of(&s.api, swarm.id).await.len();
    assert_eq!(running, 1);
    assert_eq!(
        value(&m, "vr_procs{swarm=\"web-prod-web\",state=\"RUNNING\"}"),
        running as f64
    );
    let now: Swarm = s
        .api
        .get(&format!("/api/swarms/{}", swarm.id))
        .await
        .expect_ok()
        .json();
    let status_key = format!(
        "vr_swarm_status{{swarm=\"web-prod-web\",status=\"{}\"}}",
        now.status.state.as_str()
    );
    assert_eq!(value(&m, &status_key), 1.0);
    assert_eq!(
        value(
            &m,
            "vr_swarm_procs{swarm=\"web-prod-web\",kind=\"running\"}"
        ),
        f64::from(now.status.running)
    );

    // Jobs by status, as the API lists them.
    let dispatches: Vec<Dispatch> = s.api.get("/api/dispatches").await.expect_ok().json();
    let ok_dispatches = dispatches
        .iter()
        .filter(|d| d.status == DispatchStatus::Succeeded)
        .count() as f64;
    assert_eq!(
        value(&m, "vr_dispatches_total{status=\"succeeded\"}"),
        ok_dispatches
    );
    assert_eq!(
        value(
            &m,
            "vr_dispatch_duration_seconds_count{status=\"succeeded\"}"
        ),
        ok_dispatches
    );
    assert!(value(&m, "vr_dispatch_duration_seconds_sum{status=\"succeeded\"}") > 0.0);
    let deploys: Vec<Deployment> = s.api.get("/api/deploys").await.expect_ok().json();
    let ok_deploys = deploys
        .iter()
        .filter(|d| d.status == DeployStatus::Succeeded)
        .count() as f64;
    assert_eq!(
        value(&m, "vr_deploys_total{status=\"succeeded\"}"),
        ok_deploys
    );
    let builds: Vec<Build> = s.api.get("/api/builds").await.expect_ok().json();
    let ok_builds = builds
        .iter()
        .filter(|b| b.status == BuildStatus::Succeeded)
        .count() as f64;
    assert_eq!(
        value(&m, "vr_builds_total{status=\"succeeded\"}"),
        ok_builds
    );
    assert_eq!(
        value(
            &m,
            "vr_build_duration_seconds_bucket{status=\"succeeded\",le=\"+Inf\"}"
        ),
        ok_builds
    );

    // Polls and SSH connections of the harness host.
    assert!(value(&m, "vr_poll_duration_seconds_count{host=\"builder1\"}") >= 1.0);
    assert_eq!(value(&m, "vr_poll_errors_total{host=\"builder1\"}"), 0.0);
    let opened: f64 = m
        .iter()
        .filter(|(k, _)| k.starts_with("vr_ssh_connects_total{") && k.contains("outcome=\"ok\""))
        .map(|(_, v)| v)
        .sum();
    assert!(opened >= 1.0, "{m:#?}");
    assert!(m.contains_key("vr_live_streams"));
}
