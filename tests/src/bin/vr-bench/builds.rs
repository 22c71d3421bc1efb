//! Build benchmarks (issue 4): a small app built end to end on a harness builder host from a
//! local git repo (cold: repo and buildpack not cached; warm: forced rebuild with caches), and
//! the time a reuse hit takes (same commit, nothing compiled).

use super::{PW, ms, percentile};
use std::path::Path;
use std::time::{Duration, Instant};
use vr_app::build::{Build, BuildRequest, BuildStatus, NewApp, NewBuildpack, paths};
use vr_app::fleet::{Health, HostPatch};
use vr_tests::harness::fleet::{add_host, server_key, wait_health};
use vr_tests::harness::git::{shell_app, shell_buildpack};
use vr_tests::harness::{ApiClient, HostOptions, ServerOptions, TestHost, VrServer};

async fn build_once(api: &ApiClient, app: &str, version: &str, force: bool) -> (Build, Duration) {
    let t = Instant::now();
    let b: Build = api
        .post(
            paths::BUILDS,
            &BuildRequest {
                app: app.into(),
                version: version.into(),
                force,
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
    let server = VrServer::start(ServerOptions {
        admin_password: Some(PW.into()),
        binary: Some(vr.to_path_buf()),
        ..Default::default()
    })
    .await;
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
