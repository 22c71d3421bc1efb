//! Stacks (issue 16): an image the test makes (a few of this machine's programs and their
//! libraries) uploaded with the CLI, an app naming it, its build compiled inside it on the
//! builder, and its sandboxed proc running with it as `/` on a real harness host.

use super::builds::{build, setup};
use super::deploys::deploy;
use super::fleet::{PW, cli_token, vr};
use std::time::Duration;
use vr_app::build::{App, BuildStatus, NewApp};
use vr_app::deploy::DeployStatus;
use vr_app::release::{NewRelease, Release, Runner};
use vr_app::stack::{NewStackBuild, StackImage};
use vr_app::swarm::{DispatchRequest, SwarmSpec};
use vr_tests::harness::Browser;
use vr_tests::harness::git::GitRepo;
use vr_tests::harness::stack::{PROGRAMS, tarball, tiny_root};

/// A buildpack that says which OS its compile ran in (`/etc/vr-stack` exists only in the
/// test's stacks), and an app whose proc says which OS it runs on.
fn stacked_app() -> (GitRepo, GitRepo) {
    let bp = GitRepo::new();
    bp.commit(
        &[
            ("bin/detect", "#!/bin/sh\n[ -f \"$1/app.sh\" ] && echo Stacked\n"),
            (
                "bin/compile",
                "#!/bin/sh\nset -e\n{ cat /etc/vr-stack 2>/dev/null || { command -v python3 >/dev/null && echo the builder || echo an OS without python; }; } > \"$1/BUILT_IN\"\n\
                 echo \"compiled in: $(cat \"$1/BUILT_IN\")\"\n",
            ),
        ],
        "stack-aware buildpack",
    );
    let app = GitRepo::new();
    app.commit(
        &[
            ("app.sh", "#!/bin/sh\n"),
            (
                "Procfile",
                "stacked: echo \"runs on: $(cat /etc/vr-stack)\"; echo \"built in: $(cat BUILT_IN)\"; \
                 [ -e /usr/bin/python3 ] && echo python:host || echo python:absent; exec sleep 1000\n\
                 debian: echo \"built in: $(cat BUILT_IN)\"; echo \"debian $(cat /etc/debian_version)\"; \
                 [ -e /usr/bin/python3 ] && echo python:host || echo python:absent; exec sleep 1000\n",
            ),
            (
                "uptests/stacked/01_os.sh",
                "#!/bin/sh\ngrep -q '^tiny stack' /etc/vr-stack || { echo \"not on the stack\"; exit 1; }\n",
            ),
        ],
        "app on a stack",
    );
    (bp, app)
}

/// `vr stack upload tiny` of a root the test makes in `dir/name` with `programs`.
fn upload(
    s: &super::builds::Setup,
    token: &str,
    dir: &std::path::Path,
    name: &str,
    programs: &[&str],
    marker: &str,
) -> (bool, String) {
    let root = dir.join(name);
    tiny_root(&root, programs, marker);
    vr(
        &s.server,
        token,
        &[
            "stack",
            "upload",
            "tiny",
            &tarball(&root).display().to_string(),
        ],
    )
}

/// A release of build `build_id` with the sandbox runner (and nothing else).
/// Every stack image, as `GET /api/stacks` lists them.
async fn list_images(api: &vr_tests::harness::ApiClient) -> Vec<StackImage> {
    api.get(vr_app::stack::paths::STACKS)
        .await
        .expect_ok()
        .json()
}

async fn sandbox_release(api: &vr_tests::harness::ApiClient, build_id: i64) -> Release {
    api.post(
        vr_app::release::paths::RELEASES,
        &NewRelease {
            build_id,
            runner: Runner::Sandbox,
            ..Default::default()
        },
    )
    .await
    .expect_status(201)
    .json()
}

/// Deploys `proc_type` of release `release` (port 0) and waits until its output, which ends
/// with its `python:` line, says each of `wants`.
async fn deployed_says(s: &super::builds::Setup, release: i64, proc_type: &str, wants: &[&str]) {
    let d = deploy(&s.api, release, proc_type, "prod", 0).await;
    assert_eq!(d.status, DeployStatus::Succeeded, "{d:#?}");
    let proc_dir = s.host.apps_root().join("procs").join(&d.program);
    let said = vr_tests::harness::ports::wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(proc_dir.join("stdout.log")).is_ok_and(|t| t.contains("python:"))
    });
    let out = std::fs::read_to_string(proc_dir.join("stdout.log")).unwrap_or_default();
    assert!(said, "{out}");
    for want in wants {
        assert!(out.contains(want), "{want} in {out}");
    }
}

#[tokio::test]
async fn an_app_builds_in_its_stack_and_its_sandboxed_proc_runs_on_it() {
    let s = setup().await;
    let token = cli_token(&s.api).await;
    let dir = tempfile::tempdir().expect("tempdir");

    // An image without setpriv is refused, naming what it lacks; nothing is stored.
    let (ok, out) = upload(&s, &token, dir.path(), "lacking", &["sh", "cat"], "lacking");
    assert!(!ok, "{out}");
    assert!(out.contains("has no setpriv (util-linux)"), "{out}");

    let (ok, out) = upload(&s, &token, dir.path(), "one", &PROGRAMS, "tiny stack one");
    assert!(ok, "{out}");
    assert!(
        out.contains("uploaded image #") && out.contains("of stack tiny"),
        "{out}"
    );
    let images = list_images(&s.api).await;
    assert_eq!(images.len(), 1, "{images:?}");
    let image = images[0].clone();
    assert!(image.current);
    let image_sha = image.sha256.clone().expect("a stored image has its sha256");
    let (ok, out) = vr(&s.server, &token, &["stacks"]);
    assert!(
        ok && out.contains("tiny") && out.contains("current"),
        "{out}"
    );

    // An app names its stack; a stack that does not exist is refused by field.
    let (bp, repo) = stacked_app();
    let new = |stack: &str| NewApp {
        name: "boxed".into(),
        repo_url: repo.url(),
        buildpack: Some(bp.url()),
        notes: String::new(),
        stack: Some(stack.into()),
    };
    let bad = s.api.post(vr_app::build::paths::APPS, &new("nope")).await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert!(
        bad.text.contains("\"stack\"") && bad.text.contains("vr stack upload nope"),
        "{}",
        bad.text
    );
    let app: App = s
        .api
        .post(vr_app::build::paths::APPS, &new("tiny"))
        .await
        .expect_status(201)
        .json();
    assert_eq!(app.stack.as_deref(), Some("tiny"));

    // Its build compiles inside the image, which the builder got once.
    let (b, log) = build(&s.api, "boxed", "main", false).await;
    assert_eq!(b.status, BuildStatus::Succeeded, "{log}");
    assert_eq!(
        b.stack.as_ref().map(|s| s.sha256.as_str()),
        Some(image_sha.as_str())
    );
    assert!(log.contains("copied to the builder and unpacked"), "{log}");
    assert!(log.contains("compiled in: tiny stack one"), "{log}");
    let unpacked = s.host.apps_root().join("stacks").join(&image_sha);
    assert!(unpacked.join(".vr-complete").exists());
    // Its /dev node stayed out: the sandbox makes its own /dev.
    assert!(!unpacked.join("dev/null").exists());

    // Its releases carry the image; only the sandbox runner can run them.
    let plain = s
        .api
        .post(
            vr_app::release::paths::RELEASES,
            &NewRelease {
                build_id: b.id,
                ..Default::default()
            },
        )
        .await;
    assert_eq!(plain.status, 400, "{}", plain.text);
    assert!(plain.text.contains("\"runner\""), "{}", plain.text);
    let r = sandbox_release(&s.api, b.id).await;
    assert_eq!(r.config.stack, b.stack);
    let (ok, out) = vr(&s.server, &token, &["release", "show", &r.id.to_string()]);
    assert!(
        ok && out.contains(&format!("stack: tiny (sha256 {image_sha})")),
        "{out}"
    );
    let (ok, out) = vr(&s.server, &token, &["builds", "boxed"]);
    assert!(
        ok && out.contains(&format!("in tiny@{}", &image_sha[..12])),
        "{out}"
    );

    // The proc and its uptest run with the image as `/`: its files, none of the host's.
    deployed_says(
        &s,
        r.id,
        "stacked",
        &[
            "runs on: tiny stack one",
            "built in: tiny stack one",
            "python:absent",
        ],
    )
    .await;

    // A new image becomes current for new builds; the one a release runs on stays stored.
    let (ok, out) = upload(&s, &token, dir.path(), "two", &PROGRAMS, "tiny stack two");
    assert!(ok, "{out}");
    let images = list_images(&s.api).await;
    let first = images
        .iter()
        .find(|i| i.id == image.id)
        .expect("first image");
    assert_eq!(first.status, BuildStatus::Succeeded);
    assert!(!first.current);
    assert_eq!(first.used_by_releases, 1);
    let stored = s
        .server
        .data_dir()
        .join("stacks")
        .join(format!("{image_sha}.tar.gz"));
    assert!(stored.exists());
    let (b2, log) = build(&s.api, "boxed", "main", false).await;
    assert_eq!(b2.status, BuildStatus::Succeeded, "{log}");
    assert!(log.contains("compiled in: tiny stack two"), "{log}");
    assert_ne!(b2.id, b.id);

    // A swarm naming the stack dispatches a build in its newest image and runs its procs on
    // it; one that names a stack without the sandbox runner is refused by field.
    super::swarms::add_squad(&s.api).await;
    super::swarms::give_ports(&s.api, "builder1", 4).await;
    let spec = SwarmSpec {
        app: "boxed".into(),
        version: "main".into(),
        proc_type: "stacked".into(),
        config: "prod".into(),
        squad: "eu".into(),
        size: 1,
        uses_ports: false,
        runner: Runner::Sandbox,
        stack: Some("tiny".into()),
        ..SwarmSpec::default()
    };
    let plain = s
        .api
        .post(
            vr_app::swarm::paths::SWARMS,
            &SwarmSpec {
                runner: Runner::Plain,
                ..spec.clone()
            },
        )
        .await;
    assert_eq!(plain.status, 400, "{}", plain.text);
    assert!(plain.text.contains("\"runner\""), "{}", plain.text);
    let swarm = super::swarms::create_swarm(&s.api, &spec).await;
    let d = super::swarms::succeeded(&s.api, swarm.id, &DispatchRequest::default()).await;
    let procs = super::swarms::procs_of(&s.api, swarm.id).await;
    assert_eq!(procs.len(), 1, "{d:#?}");
    let swarm_dir = s.host.apps_root().join("procs").join(&procs[0].name);
    let said = vr_tests::harness::ports::wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(swarm_dir.join("stdout.log"))
            .is_ok_and(|t| t.contains("runs on: tiny stack two"))
    });
    assert!(said, "{d:#?}");
    let (ok, out) = vr(&s.server, &token, &["swarm", "show", "boxed-prod-stacked"]);
    assert!(ok && out.contains("stack      tiny"), "{out}");

    // The UI lists the images and says which stack an app, a build and a release use.
    let browser = Browser::start().await;
    browser.sign_in(&s.server.base_url(), "admin", PW).await;
    browser.goto(&s.server.url("/stacks")).await;
    browser
        .wait_for("tr[data-test=\"stack-row\"][data-stack=\"tiny\"][data-current=\"true\"]")
        .await;
    browser
        .wait_for("tr[data-test=\"stack-row\"][data-stack=\"tiny\"][data-current=\"false\"]")
        .await;
    browser.goto(&s.server.url("/apps/boxed")).await;
    browser.wait_for("#app-edit-stack").await;
    let shown = browser
        .eval(
            "return document.querySelector('#app-edit-stack').value;",
            vec![],
        )
        .await;
    assert_eq!(shown, "tiny");
    // A stack that does not exist is refused next to its field.
    browser.fill("#app-edit-stack", "nope").await;
    browser.click("#app-save").await;
    browser
        .wait_for_text("[data-field=\"stack\"]", "there is no stack nope")
        .await;
    browser
        .goto(&s.server.url(&format!("/releases/{}", r.id)))
        .await;
    browser
        .wait_for_text("[data-test=\"release-stack\"]", &image_sha[..12])
        .await;

    // An image nothing used, once another is newer, expires and its tarball goes.
    let mut uploaded = Vec::new();
    for marker in ["tiny stack three", "tiny stack four"] {
        let name = marker.replace(' ', "-");
        let (ok, out) = upload(&s, &token, dir.path(), &name, &["sh", "setpriv"], marker);
        assert!(ok, "{out}");
        let images = list_images(&s.api).await;
        uploaded.push(images[0].clone());
    }
    let images = list_images(&s.api).await;
    let three = images
        .iter()
        .find(|i| i.id == uploaded[0].id)
        .expect("image three");
    assert_eq!(three.status, BuildStatus::Expired, "{images:#?}");
    let gone = s.server.data_dir().join("stacks").join(format!(
        "{}.tar.gz",
        three.sha256.clone().unwrap_or_default()
    ));
    assert!(!gone.exists());
    // Image one (a release runs on it) and two (a kept build and the swarm's) stay.
    assert!(
        images
            .iter()
            .filter(|i| i.status == BuildStatus::Succeeded)
            .count()
            >= 3
    );
}

/// Waits until image `id` is no longer building; says whether its log grew while it was.
async fn follow_image(api: &vr_tests::harness::ApiClient, id: i64) -> (StackImage, String, bool) {
    let until = std::time::Instant::now() + Duration::from_secs(300);
    let (mut text, mut offset, mut live) = (String::new(), 0, false);
    loop {
        let piece: vr_app::build::BuildLog = api
            .get(&format!(
                "{}?offset={offset}",
                vr_app::stack::paths::image_log(id)
            ))
            .await
            .expect_ok()
            .json();
        live |= !piece.complete && !piece.text.is_empty();
        text.push_str(&piece.text);
        offset = piece.offset;
        if piece.complete {
            let image: StackImage = api
                .get(&vr_app::stack::paths::image(id))
                .await
                .expect_ok()
                .json();
            return (image, text, live);
        }
        assert!(
            std::time::Instant::now() < until,
            "image {id} still building:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn mmdebstrap_builds_an_image_on_a_builder_with_its_log_live_and_procs_run_on_it() {
    let s = setup().await;
    let mirror = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../.tools/debian-mirror")
        .canonicalize()
        .expect("the test bootstrap's Debian mirror (scripts/bootstrap.sh test)");
    let recipe = NewStackBuild {
        suite: "stable".into(),
        packages: Vec::new(),
        variant: "essential".into(),
        mirror: format!("deb [trusted=yes] copy://{} stable main", mirror.display()),
    };
    // Bad input is refused by field before anything runs.
    let bad = s
        .api
        .post(
            &vr_app::stack::paths::stack_build("deb"),
            &NewStackBuild {
                suite: "--help".into(),
                ..recipe.clone()
            },
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert!(bad.text.contains("\"suite\""), "{}", bad.text);

    // Test connection says the builder can build images.
    let token = cli_token(&s.api).await;
    let (ok, out) = vr(&s.server, &token, &["host", "test", "builder1"]);
    assert!(ok && out.contains("stack images by mmdebstrap"), "{out}");

    // From the CLI, following its log: a suite the mirror lacks fails, says why, exits non-zero,
    // and stores nothing.
    let (ok, out) = vr(
        &s.server,
        &token,
        &[
            "stack",
            "build",
            "deb",
            "--suite",
            "nosuchsuite",
            "--variant",
            "essential",
            "--mirror",
            &recipe.mirror.replace(" stable main", " nosuchsuite main"),
            "--follow",
        ],
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("-----> mmdebstrap --variant=essential"),
        "{out}"
    );
    assert!(out.contains("-----> Build failed:"), "{out}");
    assert!(out.contains("of stack deb failed"), "{out}");
    let (ok, out) = vr(&s.server, &token, &["stacks"]);
    assert!(
        ok && out.contains("failed") && !out.contains("current"),
        "{out}"
    );

    // Started from the Stacks page; the page shows its log as it comes.
    let browser = Browser::start().await;
    browser.sign_in(&s.server.base_url(), "admin", PW).await;
    browser.goto(&s.server.url("/stacks")).await;
    browser.fill("#stack-name", "deb").await;
    browser.fill("#stack-suite", "stable").await;
    browser.fill("#stack-variant", "essential").await;
    browser.fill("#stack-mirror", &recipe.mirror).await;
    browser.click("#stack-build").await;
    browser.wait_for("[data-test=\"stack-log\"]").await;
    // The form answered with the image (its log shows): it is in the list.
    let images = list_images(&s.api).await;
    let started = images.first().cloned().expect("the image being built");
    assert_eq!(started.recipe, "stable (essential)");
    let (image, log, live) = follow_image(&s.api, started.id).await;
    browser
        .wait_for_text(
            "[data-test=\"stack-log\"][data-complete=\"true\"]",
            "I: success",
        )
        .await;
    assert_eq!(image.status, BuildStatus::Succeeded, "{log}");
    assert!(live, "the log came only at the end:\n{log}");
    assert!(
        log.contains("-----> mmdebstrap --variant=essential"),
        "{log}"
    );
    assert!(log.contains("I: success"), "{log}");
    assert!(image.current && image.sha256.is_some() && image.host.as_deref() == Some("builder1"));
    let stored = s.server.data_dir().join("stacks").join(format!(
        "{}.tar.gz",
        image.sha256.clone().unwrap_or_default()
    ));
    assert!(stored.exists());

    // An app builds in it and its proc runs on it: Debian's Essential set, no python.
    let (bp, repo) = stacked_app();
    s.api
        .post(
            vr_app::build::paths::APPS,
            &NewApp {
                name: "debapp".into(),
                repo_url: repo.url(),
                buildpack: Some(bp.url()),
                notes: String::new(),
                stack: Some("deb".into()),
            },
        )
        .await
        .expect_status(201);
    let (b, log) = build(&s.api, "debapp", "main", false).await;
    assert_eq!(b.status, BuildStatus::Succeeded, "{log}");
    assert!(log.contains("compiled in: an OS without python"), "{log}");
    let r = sandbox_release(&s.api, b.id).await;
    deployed_says(
        &s,
        r.id,
        "debian",
        &[
            "built in: an OS without python",
            "debian 12",
            "python:absent",
        ],
    )
    .await;
}
