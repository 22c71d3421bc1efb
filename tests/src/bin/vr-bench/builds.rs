//! Build benchmarks (issue 4): a small app built end to end on a harness builder host from a
//! local git repo (cold: repo and buildpack not cached; warm: forced rebuild with caches), and
//! the time a reuse hit takes (same commit, nothing compiled).

use super::{ms, percentile};
use std::path::Path;
use std::time::{Duration, Instant};
use vr_app::build::{Build, BuildRequest, BuildStatus, NewApp, NewBuildpack, paths};
use vr_app::fleet::{Health, HostPatch};
use vr_tests::harness::fleet::{add_host, server_key, wait_health};
use vr_tests::harness::git::{shell_app, shell_buildpack};
use vr_tests::harness::{ApiClient, HostOptions, TestHost};

async fn build_once(api: &ApiClient, app: &str, version: &str, force: bool) -> (Build, Duration) {
    let t = Instant::now();
    let b: Build = api
        .post(
            paths::BUILDS,
            &BuildRequest {
                app: app.into(),
                version: version.into(),
                force,
                stack: None,
            },
        )
        .await
        .json();
    loop {
        let now: Build = api.get(&paths::build(b.id)).await.expect_ok().json();
        if !now.status.in_progress() {
            assert_eq!(now.status, BuildStatus::Succeeded, "{now:?}");
            return (now, t.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub async fn run(vr: &Path, runs: usize) {
    let server = super::bench_server(vr).await;
    let api = server.admin().await;
    let key = server_key(&api).await;
    let host = TestHost::start(HostOptions {
        authorized_keys: vec![key],
        ..Default::default()
    });
    add_host(&api, &host, "builder", None).await;
    api.patch(
        &vr_app::fleet::paths::host("builder"),
        &HostPatch {
            builder: Some(true),
            ..Default::default()
        },
    )
    .await
    .expect_ok();
    wait_health(&api, "builder", Health::Ok, Duration::from_secs(15)).await;
    let bp = shell_buildpack();
    api.post(
        paths::BUILDPACKS,
        &NewBuildpack {
            url: bp.url(),
            order: None,
            description: String::new(),
        },
    )
    .await
    .expect_status(201);
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    let mut reuse = Vec::new();
    for i in 0..runs {
        // A new app each round, so the first build clones its repo (cold); the buildpack's
        // cache is shared after the first round, as on a real builder.
        let repo = shell_app();
        let name = format!("app{i}");
        api.post(
            paths::APPS,
            &NewApp {
                name: name.clone(),
                repo_url: repo.url(),
                ..Default::default()
            },
        )
        .await
        .expect_status(201);
        cold.push(build_once(&api, &name, "main", false).await.1);
        warm.push(build_once(&api, &name, "main", true).await.1);
        let (b, t) = build_once(&api, &name, "main", false).await;
        assert!(b.reused_from.is_some());
        reuse.push(t);
    }
    // Deploys of one proc (a worker, port 0) of the last app: the first copies the build to the
    // host, the next ones find it there. Supervisor's startsecs=1 is part of every figure.
    let last_app = format!("app{}", runs - 1);
    let builds: Vec<Build> = api
        .get(&format!("{}?app={last_app}", paths::BUILDS))
        .await
        .expect_ok()
        .json();
    let build_id = builds.first().map(|b| b.id).unwrap_or(0);
    let release: vr_app::release::Release = api
        .post(
            vr_app::release::paths::RELEASES,
            &vr_app::release::NewRelease {
                build_id,
                ..Default::default()
            },
        )
        .await
        .json();
    let mut deploy_times = Vec::new();
    for i in 0..runs {
        let t = Instant::now();
        let d: vr_app::deploy::Deployment = api
            .post(
                vr_app::deploy::paths::DEPLOYS,
                &vr_app::deploy::DeployRequest {
                    release_id: release.id,
                    proc_type: "worker".into(),
                    config: format!("c{i}"),
                    host: "builder".into(),
                    port: 0,
                },
            )
            .await
            .expect_status(202)
            .json();
        loop {
            let now: vr_app::deploy::Deployment = api
                .get(&vr_app::deploy::paths::deploy(d.id))
                .await
                .expect_ok()
                .json();
            if now.status != vr_app::deploy::DeployStatus::Running {
                assert_eq!(
                    now.status,
                    vr_app::deploy::DeployStatus::Succeeded,
                    "{now:?}"
                );
                let copy = now
                    .steps
                    .first()
                    .map(|s| s.message.clone())
                    .unwrap_or_default();
                deploy_times.push((t.elapsed(), copy.contains("copied")));
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let mut cached: Vec<Duration> = deploy_times
        .iter()
        .filter(|(_, c)| !c)
        .map(|(t, _)| *t)
        .collect();
    let uncached: Vec<Duration> = deploy_times
        .iter()
        .filter(|(_, c)| *c)
        .map(|(t, _)| *t)
        .collect();
    cached.sort();
    println!(
        "deploy one proc, build not yet on the host (copy + unpack), {} run(s): {}",
        uncached.len(),
        uncached
            .iter()
            .map(|d| ms(*d))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !cached.is_empty() {
        println!(
            "deploy one proc, build already on the host, {} runs: median {}, max {}",
            cached.len(),
            ms(percentile(&cached, 0.5)),
            ms(percentile(&cached, 1.0))
        );
    }
    for (label, v) in [
        (
            "first build of a new app (clone repo, detect, compile, pack, copy back)",
            &mut cold,
        ),
        ("forced rebuild (repo and buildpack cached)", &mut warm),
        (
            "reuse hit (same commit: fetch + resolve, nothing compiled)",
            &mut reuse,
        ),
    ] {
        v.sort();
        println!(
            "build, {label}, {runs} runs: median {}, max {}",
            ms(percentile(v, 0.5)),
            ms(percentile(v, 1.0))
        );
    }
}
