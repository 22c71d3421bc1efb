//! Builds on a real harness builder host from real git repos made by the tests: detection order,
//! compile with a persistent cache, release env, the artifact and its sha256, reuse and forced
//! rebuilds, moving branches, bad refs, failures, shared in-flight builds, uploads, restarts.

use super::fleet::{PW, fleet_server, hosts_for};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::time::{Duration, Instant};
use vr_app::build::{
    App, Build, BuildLog, BuildRequest, BuildStatus, Buildpack, NewApp, NewBuildpack, paths,
};
use vr_app::fleet::{Health, HostPatch};
use vr_tests::harness::fleet::{add_host, wait_health};
use vr_tests::harness::git::{GitRepo, never_buildpack, shell_app, shell_buildpack};
use vr_tests::harness::{ApiClient, TestHost, VrServer};

const BUILD_WAIT: Duration = Duration::from_secs(60);

/// A server with one builder host and the two test buildpacks (the one that never detects
/// first, so detection must skip it).
pub struct Setup {
    pub server: VrServer,
    pub api: ApiClient,
    pub host: TestHost,
    _buildpacks: (GitRepo, GitRepo),
    pub shell_bp: String,
}

pub async fn setup() -> Setup {
    setup_with(Vec::new()).await
}

/// [`setup`] with more server environment variables.
pub async fn setup_with(extra: Vec<(String, String)>) -> Setup {
    let server = super::fleet::fleet_server_with(extra).await;
    let api = server.admin().await;
    let mut hosts = hosts_for(&api, 1).await;
    let host = hosts.remove(0);
    add_host(&api, &host, "builder1", None).await;
    api.patch(
        &vr_app::fleet::paths::host("builder1"),
        &HostPatch {
            builder: Some(true),
            ..Default::default()
        },
    )
    .await
    .expect_ok();
    wait_health(&api, "builder1", Health::Ok, Duration::from_secs(15)).await;
    let never = never_buildpack();
    let shell = shell_buildpack();
    for bp in [&never, &shell] {
        let _: Buildpack = api
            .post(
                paths::BUILDPACKS,
                &NewBuildpack {
                    url: bp.url(),
                    order: None,
                    description: String::new(),
                },
            )
            .await
            .expect_status(201)
            .json();
    }
    let shell_bp = shell.url();
    Setup {
        server,
        api,
        host,
        _buildpacks: (never, shell),
        shell_bp,
    }
}

pub async fn add_app(api: &ApiClient, name: &str, repo: &GitRepo) -> App {
    api.post(
        paths::APPS,
        &NewApp {
            name: name.into(),
            repo_url: repo.url(),
            buildpack: None,
            notes: String::new(),
            stack: None,
        },
    )
    .await
    .expect_status(201)
    .json()
}

/// An app pinned to the buildpack at `buildpack` (no detection).
pub async fn add_pinned_app(api: &ApiClient, name: &str, repo: &GitRepo, buildpack: &str) -> App {
    api.post(
        paths::APPS,
        &NewApp {
            name: name.into(),
            repo_url: repo.url(),
            buildpack: Some(buildpack.into()),
            notes: String::new(),
            stack: None,
        },
    )
    .await
    .expect_status(201)
    .json()
}

async fn start(api: &ApiClient, app: &str, version: &str, force: bool) -> Build {
    let reply = api
        .post(
            paths::BUILDS,
            &BuildRequest {
                app: app.into(),
                version: version.into(),
                force,
                stack: None,
            },
        )
        .await;
    assert!(matches!(reply.status, 200 | 202), "{}", reply.value());
    reply.json()
}

pub async fn wait_done(api: &ApiClient, id: i64) -> Build {
    let until = Instant::now() + BUILD_WAIT;
    loop {
        let b: Build = api.get(&paths::build(id)).await.expect_ok().json();
        if !b.status.in_progress() {
            return b;
        }
        assert!(
            Instant::now() < until,
            "build {id} still {:?} after {BUILD_WAIT:?}",
            b.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn log(api: &ApiClient, id: i64) -> String {
    let l: BuildLog = api
        .get(&format!("{}?offset=0", paths::build_log(id)))
        .await
        .expect_ok()
        .json();
    l.text
}

pub async fn build(api: &ApiClient, app: &str, version: &str, force: bool) -> (Build, String) {
    let b = start(api, app, version, force).await;
    let done = wait_done(api, b.id).await;
    let text = log(api, b.id).await;
    (done, text)
}

#[tokio::test]
async fn builds_detect_compile_reuse_and_follow_branches() {
    let s = setup().await;
    let repo = shell_app();
    let v1 = repo.head();
    repo.tag("v1.0");
    add_app(&s.api, "shop", &repo).await;

    // A tag: detection skips the first buildpack, the shell one compiles.
    let (b1, text) = build(&s.api, "shop", "v1.0", false).await;
    assert_eq!(b1.status, BuildStatus::Succeeded, "{b1:?}\n{text}");
    assert_eq!(b1.commit.as_deref(), Some(v1.as_str()));
    assert_eq!(b1.buildpack.as_deref(), Some(s.shell_bp.as_str()));
    assert!(
        b1.buildpack_commit
            .as_deref()
            .is_some_and(|c| c.len() == 40)
    );
    assert_eq!(b1.host.as_deref(), Some("builder1"));
    assert_eq!(b1.procfile.get("web").map(String::as_str), Some("./app.sh"));
    assert_eq!(
        b1.procfile.get("worker").map(String::as_str),
        Some("./app.sh worker")
    );
    assert_eq!(
        b1.env.get("GREETING").map(String::as_str),
        Some("hello world")
    );
    assert_eq!(b1.env.get("WORKERS").map(String::as_str), Some("2"));
    assert!(text.contains("does not detect this app"), "{text}");
    assert!(text.contains("Shell app detected"), "{text}");
    assert!(text.contains("cache uses: 1"), "{text}");

    // The artifact is what the builder packed: same sha256, the compiled tree inside.
    let resp = s
        .api
        .http()
        .get(s.server.url(&paths::build_artifact(b1.id)))
        .send()
        .await
        .expect("download");
    assert_eq!(resp.status(), 200);
    let bytes = resp.bytes().await.expect("artifact");
    assert_eq!(bytes.len() as u64, b1.size.unwrap_or(0));
    assert_eq!(Some(hex::encode(Sha256::digest(&bytes))), b1.sha256);
    let mut names = Vec::new();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    for e in archive.entries().expect("tar") {
        let mut e = e.expect("entry");
        let name = e.path().expect("path").to_string_lossy().into_owned();
        if name.ends_with("BUILT") {
            let mut body = String::new();
            e.read_to_string(&mut body).expect("read");
            assert_eq!(body, "built\n");
        }
        names.push(name);
    }
    assert!(names.iter().any(|n| n.ends_with("Procfile")), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("BUILT")), "{names:?}");
    assert!(!names.iter().any(|n| n.contains(".git/")), "{names:?}");

    // The same commit again is reused (shares the artifact); forced, it compiles again with the
    // cache kept from last time.
    let (again, text) = build(&s.api, "shop", "v1.0", false).await;
    assert_eq!(again.reused_from, Some(b1.id), "{again:?}\n{text}");
    assert_eq!(again.sha256, b1.sha256);
    assert!(text.contains("Reusing build"), "{text}");
    let (forced, text) = build(&s.api, "shop", "v1.0", true).await;
    assert_eq!(forced.status, BuildStatus::Succeeded, "{text}");
    assert_eq!(forced.reused_from, None);
    assert!(text.contains("cache uses: 2"), "{text}");

    // A branch: a new commit on it means a new build.
    let (main1, _) = build(&s.api, "shop", "main", false).await;
    assert_eq!(
        main1.reused_from,
        Some(forced.id),
        "main is still v1.0's commit"
    );
    let v2 = repo.commit(&[("README", "second\n")], "second");
    let (main2, text) = build(&s.api, "shop", "main", false).await;
    assert_eq!(main2.commit.as_deref(), Some(v2.as_str()), "{text}");
    assert_eq!(main2.reused_from, None);
    assert_ne!(main2.sha256, b1.sha256);
    // A commit id works too.
    let (by_sha, _) = build(&s.api, "shop", &v1[..12], false).await;
    assert_eq!(by_sha.commit.as_deref(), Some(v1.as_str()));

    // A ref that does not exist fails with the reason and leaves no artifact.
    let (bad, text) = build(&s.api, "shop", "no-such-tag", false).await;
    assert_eq!(bad.status, BuildStatus::Failed);
    assert!(
        bad.error
            .as_deref()
            .unwrap_or_default()
            .contains("no branch, tag or commit named no-such-tag"),
        "{bad:?}\n{text}"
    );
    assert!(bad.sha256.is_none());
    s.api
        .get(&paths::build_artifact(bad.id))
        .await
        .expect_status(409);

    // A compile error: failed with the buildpack's words.
    repo.commit(&[("fail", "x")], "breaks the build");
    let (broken, text) = build(&s.api, "shop", "main", false).await;
    assert_eq!(broken.status, BuildStatus::Failed);
    assert!(text.contains("compile error: asked to fail"), "{text}");
    assert!(
        broken
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("bin/compile failed"),
        "{broken:?}"
    );

    // An app no buildpack detects.
    let other = GitRepo::new();
    other.commit(&[("Procfile", "web: ./run\n"), ("run", "x")], "no app.sh");
    add_app(&s.api, "other", &other).await;
    let (undetected, _) = build(&s.api, "other", "main", false).await;
    assert!(
        undetected
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("no buildpack detects this app (tried 2)"),
        "{undetected:?}"
    );

    // History, newest first, and the events.
    let list: Vec<Build> = s
        .api
        .get(&format!("{}?app=shop", paths::BUILDS))
        .await
        .expect_ok()
        .json();
    assert_eq!(list.first().map(|b| b.id), Some(broken.id));
    let events: Vec<vr_app::api::Event> = s
        .api
        .get("/api/events?action=build.")
        .await
        .expect_ok()
        .json();
    assert!(
        events
            .iter()
            .any(|e| e.action == "build.finish" && e.outcome == vr_app::api::Outcome::Failed)
    );
    assert!(
        events
            .iter()
            .any(|e| e.action == "build.start" && e.actor == "admin")
    );
}

#[tokio::test]
async fn requests_are_validated_shared_and_need_a_builder() {
    let s = setup().await;
    let repo = shell_app();
    repo.commit(&[("slow", "x")], "slow to build");
    add_app(&s.api, "shop", &repo).await;
    for (body, field) in [
        (
            serde_json::json!({"name": "Shop-1", "repo_url": repo.url()}),
            "name",
        ),
        (
            serde_json::json!({"name": "x", "repo_url": "--upload-pack=touch /tmp/x"}),
            "repo_url",
        ),
        (
            serde_json::json!({"name": "x", "repo_url": "/no/scheme"}),
            "repo_url",
        ),
    ] {
        let err = s
            .api
            .post(paths::APPS, &body)
            .await
            .expect_status(400)
            .error();
        assert_eq!(err.field.as_deref(), Some(field), "{body}");
    }
    let err = s
        .api
        .post(
            paths::BUILDS,
            &serde_json::json!({"app": "shop", "version": "-x"}),
        )
        .await
        .expect_status(400)
        .error();
    assert_eq!(err.field.as_deref(), Some("version"));
    s.api
        .post(
            paths::BUILDS,
            &serde_json::json!({"app": "nope", "version": "main"}),
        )
        .await
        .expect_status(404);

    // Two requests for the same app and version while it builds share one build.
    let first = s
        .api
        .post(
            paths::BUILDS,
            &BuildRequest {
                app: "shop".into(),
                version: "main".into(),
                force: false,
                stack: None,
            },
        )
        .await
        .expect_status(202)
        .json::<Build>();
    let second = s
        .api
        .post(
            paths::BUILDS,
            &BuildRequest {
                app: "shop".into(),
                version: "main".into(),
                force: false,
                stack: None,
            },
        )
        .await
        .expect_status(200)
        .json::<Build>();
    assert_eq!(first.id, second.id);

    // A server killed mid-build: after the restart the build is failed, not "running".
    let until = Instant::now() + BUILD_WAIT;
    loop {
        if log(&s.api, first.id).await.contains("cache uses") {
            break;
        }
        assert!(
            Instant::now() < until,
            "the slow build never started compiling"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut server = s.server;
    server.kill();
    server.restart().await;
    let api = server.admin().await;
    let b: Build = api.get(&paths::build(first.id)).await.expect_ok().json();
    assert_eq!(b.status, BuildStatus::Failed);
    assert!(
        b.error
            .as_deref()
            .unwrap_or_default()
            .contains("server stopped"),
        "{b:?}"
    );
    assert!(
        log(&api, first.id)
            .await
            .contains("The server stopped during this build")
    );

    // No builder: refused with a way out.
    api.patch(
        &vr_app::fleet::paths::host("builder1"),
        &HostPatch {
            builder: Some(false),
            ..Default::default()
        },
    )
    .await
    .expect_ok();
    let err = api
        .post(
            paths::BUILDS,
            &BuildRequest {
                app: "shop".into(),
                version: "main".into(),
                force: false,
                stack: None,
            },
        )
        .await
        .expect_status(409)
        .error();
    assert!(
        err.message.contains("no active builder host"),
        "{}",
        err.message
    );
    let _ = PW;
}

/// POSTs `body` as a prebuilt build of `app` at `version` with the session of `api`.
pub async fn upload_raw(
    server: &VrServer,
    api: &ApiClient,
    app: &str,
    version: String,
    body: Vec<u8>,
) -> reqwest::Response {
    let url = server.url(&format!("{}?version={version}", paths::build_upload(app)));
    api.http()
        .post(url)
        .header("x-vr-csrf", api.csrf_token().unwrap_or_default())
        .body(body)
        .send()
        .await
        .expect("upload")
}

pub fn tarball(files: &[(&str, &str)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (name, body) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o755);
        h.set_cksum();
        tar.append_data(&mut h, name, body.as_bytes())
            .expect("append");
    }
    tar.into_inner().expect("tar").finish().expect("gzip")
}

#[tokio::test]
async fn prebuilt_uploads_are_checked_and_stored() {
    let server = fleet_server().await;
    let api = server.admin().await;
    let repo = shell_app();
    add_app(&api, "shop", &repo).await;
    let upload =
        |body: Vec<u8>, version: &str| upload_raw(&server, &api, "shop", version.to_string(), body);
    let good = tarball(&[("Procfile", "web: ./run\n"), ("run", "#!/bin/sh\n")]);
    let resp = upload(good.clone(), "ci-42").await;
    assert_eq!(resp.status(), 201);
    let b: Build = resp.json().await.expect("build");
    assert!(b.prebuilt && b.status == BuildStatus::Succeeded);
    assert_eq!(b.sha256, Some(hex::encode(Sha256::digest(&good))));
    assert_eq!(b.procfile.get("web").map(String::as_str), Some("./run"));
    let back = api
        .http()
        .get(server.url(&paths::build_artifact(b.id)))
        .send()
        .await
        .expect("download")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(&back[..], &good[..]);

    for (body, why) in [
        (b"definitely not gzip".to_vec(), "not a gzip tar"),
        (tarball(&[("run", "x")]), "no Procfile"),
        (tarball(&[("Procfile", "web ./run")]), "Procfile line 1"),
    ] {
        let resp = upload(body, "bad").await;
        assert_eq!(resp.status(), 400);
        let v: serde_json::Value = resp.json().await.expect("json");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains(why),
            "{v}"
        );
    }
    // Nothing half-stored: only the good upload is listed.
    let list: Vec<Build> = api.get(paths::BUILDS).await.expect_ok().json();
    assert_eq!(list.len(), 1);
    let leftovers: Vec<_> = std::fs::read_dir(server.data_dir().join("artifacts"))
        .expect("artifacts dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

use super::fleet::vr;

#[tokio::test]
async fn the_cli_adds_apps_and_buildpacks_and_follows_builds() {
    let s = setup().await;
    let cli = super::fleet::cli_token(&s.api).await;
    let t = cli.as_str();
    let repo = shell_app();
    repo.tag("v1");
    let url = repo.url();
    let (ok, out) = vr(&s.server, t, &["app", "add", "shop", &url]);
    assert!(ok && out.contains("added app shop"), "{out}");
    let (ok, out) = vr(&s.server, t, &["app", "add", "bad-name", &url]);
    assert!(!ok && out.contains("field name"), "{out}");
    let (ok, out) = vr(&s.server, t, &["buildpacks"]);
    assert!(ok && out.contains(&s.shell_bp), "{out}");
    let (ok, out) = vr(&s.server, t, &["build", "shop", "v1", "--follow"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("Shell app detected") && out.contains("-----> Build succeeded"),
        "{out}"
    );
    // Under a terminal (script(1) gives it one) a bar of the build's steps, full at the end,
    // under the log's lines.
    let line = format!(
        "{} build shop v1 --force --follow",
        vr_tests::harness::server::default_vr_binary().display()
    );
    let tty = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("VR_URL", s.server.base_url())
        .env("VR_TOKEN", t)
        .env(
            "VR_CREDENTIALS",
            s.server.temp_dir().join("credentials.toml"),
        )
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script");
    let drawn = String::from_utf8_lossy(&tty.stdout).to_string();
    assert!(tty.status.success(), "{drawn:?}");
    assert!(
        drawn.contains("\x1b[2K[") && drawn.contains("Shell app detected"),
        "{drawn:?}"
    );
    assert!(
        drawn.contains(&format!("[{}] 6/6 succeeded", "#".repeat(24))),
        "{drawn:?}"
    );
    let (ok, out) = vr(&s.server, t, &["build", "shop", "nope", "--follow"]);
    assert!(
        !ok && out.contains("no branch, tag or commit named nope"),
        "{out}"
    );
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(file.path(), tarball(&[("Procfile", "web: ./run\n")])).expect("write");
    let (ok, out) = vr(
        &s.server,
        t,
        &[
            "build",
            "upload",
            "shop",
            "ci-1",
            &file.path().display().to_string(),
        ],
    );
    assert!(ok && out.contains("uploaded build"), "{out}");
    let (ok, out) = vr(&s.server, t, &["builds", "shop"]);
    assert!(
        ok && out.contains("uploaded") && out.contains("succeeded") && out.contains("failed"),
        "{out}"
    );
    let (ok, out) = vr(&s.server, t, &["app", "rm", "shop"]);
    assert!(!ok && out.contains("has 4 build(s)"), "{out}");
}

#[tokio::test]
async fn a_lost_builder_fails_the_build_with_the_reason() {
    let s = setup().await;
    let repo = shell_app();
    add_app(&s.api, "shop", &repo).await;
    // Known unreachable: refused at once.
    s.host.kill_sshd();
    wait_health(
        &s.api,
        "builder1",
        Health::Unreachable,
        Duration::from_secs(15),
    )
    .await;
    let err = s
        .api
        .post(
            paths::BUILDS,
            &BuildRequest {
                app: "shop".into(),
                version: "main".into(),
                force: false,
                stack: None,
            },
        )
        .await
        .expect_status(409)
        .error();
    assert!(err.message.contains("unreachable"), "{}", err.message);
    // Lost in the middle of a compile: the build fails, saying why; nothing stays running.
    s.host.start_sshd();
    wait_health(&s.api, "builder1", Health::Ok, Duration::from_secs(20)).await;
    repo.commit(&[("slow", "x")], "slow");
    let b = start(&s.api, "shop", "main", false).await;
    let until = Instant::now() + BUILD_WAIT;
    while !log(&s.api, b.id).await.contains("cache uses") {
        assert!(Instant::now() < until, "the build never started compiling");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.host.kill_sshd();
    let done = wait_done(&s.api, b.id).await;
    assert_eq!(done.status, BuildStatus::Failed);
    assert!(
        done.error.as_deref().is_some_and(|e| !e.is_empty()),
        "{done:?}"
    );
    assert!(done.sha256.is_none());
}

#[tokio::test]
async fn uploads_have_a_size_limit_and_old_builds_expire() {
    let server = vr_tests::harness::VrServer::start(vr_tests::harness::ServerOptions {
        admin_password: Some(PW.into()),
        env: vec![
            ("VR_MAX_UPLOAD_MB".into(), "1".into()),
            ("VR_KEEP_BUILDS".into(), "2".into()),
        ],
        ..Default::default()
    })
    .await;
    let api = server.admin().await;
    add_app(&api, "shop", &shell_app()).await;
    let post = |body: Vec<u8>, version: String| upload_raw(&server, &api, "shop", version, body);
    let mut ids = Vec::new();
    for i in 0..3 {
        let resp = post(
            tarball(&[("Procfile", "web: ./run\n"), ("v", &i.to_string())]),
            format!("v{i}"),
        )
        .await;
        assert_eq!(resp.status(), 201);
        ids.push(resp.json::<Build>().await.expect("build"));
    }
    let first: Build = api.get(&paths::build(ids[0].id)).await.expect_ok().json();
    assert_eq!(first.status, BuildStatus::Expired);
    api.get(&paths::build_artifact(first.id))
        .await
        .expect_status(409);
    let sha = first.sha256.clone().unwrap_or_default();
    assert!(
        !server
            .data_dir()
            .join("artifacts")
            .join(format!("{sha}.tar.gz"))
            .exists()
    );
    let last: Build = api.get(&paths::build(ids[2].id)).await.expect_ok().json();
    assert_eq!(last.status, BuildStatus::Succeeded);
    // Too big: refused (the server closes that connection, so this goes last).
    let resp = post(vec![7u8; 2 * 1024 * 1024], "big".into()).await;
    assert_eq!(resp.status(), 413);
    let v: serde_json::Value = resp.json().await.expect("json");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("limit"),
        "{v}"
    );
}

#[tokio::test]
async fn a_pinned_buildpack_ref_builds_with_that_version() {
    let s = setup().await;
    let repo = shell_app();
    // Tag the buildpack, then change it: an app pinned to `#v1` keeps building with v1.
    let bp = shell_buildpack();
    let v1 = bp.head();
    bp.tag("v1");
    bp.commit(
        &[(
            "bin/release",
            "#!/bin/sh\necho 'config_vars: {GREETING: newer}'\n",
        )],
        "newer",
    );
    let pinned = format!("{}#v1", bp.url());
    s.api
        .post(
            paths::APPS,
            &NewApp {
                name: "pinned".into(),
                repo_url: repo.url(),
                buildpack: Some(pinned.clone()),
                notes: String::new(),
                stack: None,
            },
        )
        .await
        .expect_status(201);
    let (b, text) = build(&s.api, "pinned", "main", false).await;
    assert_eq!(b.status, BuildStatus::Succeeded, "{text}");
    assert!(text.contains("Using pinned buildpack"), "{text}");
    assert_eq!(b.buildpack_commit.as_deref(), Some(v1.as_str()));
    assert_eq!(
        b.env.get("GREETING").map(String::as_str),
        Some("hello world")
    );
    // Unpinned (the newest commit of the same buildpack): the newer release env.
    s.api
        .patch(
            &paths::app("pinned"),
            &serde_json::json!({ "buildpack": bp.url() }),
        )
        .await
        .expect_ok();
    let (b, text) = build(&s.api, "pinned", "main", true).await;
    assert_eq!(
        b.env.get("GREETING").map(String::as_str),
        Some("newer"),
        "{text}"
    );
}

#[tokio::test]
async fn a_build_that_prints_without_end_has_its_log_cut_with_a_marker() {
    let s = setup_with(vec![("VR_MAX_BUILD_LOG_MB".into(), "1".into())]).await;
    let loud = GitRepo::new();
    loud.commit(
        &[
            ("bin/detect", "#!/bin/sh\necho loud\n"),
            (
                "bin/compile",
                "#!/bin/sh\nhead -c 3000000 /dev/zero | tr '\\0' x\necho\necho compile done\n",
            ),
        ],
        "loud",
    );
    let repo = shell_app();
    add_pinned_app(&s.api, "loud", &repo, &loud.url()).await;
    let (b, _) = build(&s.api, "loud", "main", false).await;
    // Read it all, piece by piece, as a client follows it.
    let mut text = String::new();
    let mut offset = 0;
    loop {
        let l: BuildLog = s
            .api
            .get(&format!("{}?offset={offset}", paths::build_log(b.id)))
            .await
            .expect_ok()
            .json();
        text.push_str(&l.text);
        offset = l.offset;
        if l.complete {
            break;
        }
    }
    assert_eq!(
        b.status,
        BuildStatus::Succeeded,
        "{}",
        &text[text.len().saturating_sub(500)..]
    );
    assert!(text.len() < 1024 * 1024 + 4096, "{} bytes kept", text.len());
    assert!(text.contains("[log truncated"), "no marker");
    assert!(!text.contains("compile done"), "the rest is dropped");
    // The end of the build is still told.
    assert!(
        text.trim_end().ends_with("Build succeeded"),
        "{}",
        &text[text.len() - 300..]
    );
}
