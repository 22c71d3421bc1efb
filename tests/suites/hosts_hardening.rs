//! What an app can and cannot do on a real harness host: its user never owns anything root
//! reads or runs, builds lose their owners and setuid bits, root reads `proc.json` only as a
//! plain file, hygiene never follows links or races a deploy, each app builds as its own
//! unprivileged uid; and host keys are pinned on every first contact.

use super::builds::{add_app, build, setup, upload_raw};
use super::deploys::deploy;
use super::fleet::{fleet_server_with, hosts_for, make_user};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use vr_app::build::{Build, BuildStatus, paths as build_paths};
use vr_app::deploy::DeployStatus;
use vr_app::fleet::{ConnectionReport, Health, Host, HostPatch, TrustKey, paths};
use vr_app::release::{NewRelease, Release};
use vr_tests::harness::fleet::{add_host, wait_health, wait_procs};
use vr_tests::harness::git::GitRepo;
use vr_tests::harness::{HostOptions, TestHost};

const WAIT: Duration = Duration::from_secs(20);

fn owner_mode(path: &Path) -> (u32, u32, u32) {
    let m = std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (m.uid(), m.gid(), m.permissions().mode() & 0o7777)
}

fn id_of(flag: &str, user: &str) -> u32 {
    let out = Command::new("id").args([flag, user]).output().expect("id");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("numeric id")
}

/// The uid an app builds as, as the API tells it after its first build.
async fn build_uid_of(api: &vr_tests::harness::ApiClient, app: &str) -> u32 {
    let a: vr_app::build::App = api.get(&build_paths::app(app)).await.expect_ok().json();
    let uid = a.build_uid.expect("given at the first build");
    assert!(uid >= vr_app::build::BUILD_UID_BASE, "{uid}");
    uid
}

/// Runs `script` with `sh -c` as `user`; true when it exits 0.
fn as_user(user: &str, script: &str) -> bool {
    Command::new("runuser")
        .args(["-u", user, "--", "sh", "-c", script])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("runuser")
        .success()
}

#[tokio::test]
async fn a_procs_user_cannot_change_what_root_reads_or_runs() {
    let s = setup().await;
    let (_repo, b) = super::deploys::web_built(&s).await;
    let r: Release = s
        .api
        .post(
            vr_app::release::paths::RELEASES,
            &NewRelease {
                build_id: b.id,
                env_yaml: "TRICKY: \"secret-ish\"\n".into(),
                run_as: Some("nobody".into()),
                ..Default::default()
            },
        )
        .await
        .expect_status(201)
        .json();
    let worker = deploy(&s.api, r.id, "worker", "prod", 0).await;
    assert_eq!(worker.status, DeployStatus::Succeeded, "{worker:#?}");

    let nobody = id_of("-u", "nobody");
    let nogroup = id_of("-g", "nobody");
    let dir = s.host.apps_root().join("procs").join(&worker.program);
    let conf = s
        .host
        .include_dir()
        .join(format!("{}.conf", worker.program));
    assert_eq!(owner_mode(&conf), (0, 0, 0o644), "program file");
    assert_eq!(owner_mode(&dir), (0, 0, 0o755), "proc folder");
    assert_eq!(owner_mode(&dir.join("run")), (0, 0, 0o755), "run");
    assert_eq!(
        owner_mode(&dir.join("proc.json")),
        (0, 0, 0o644),
        "proc.json"
    );
    // Readable by the proc's user alone (not its group, which others may share); the folder
    // is root's, so the user cannot replace them.
    assert_eq!(owner_mode(&dir.join("env")), (nobody, 0, 0o400), "env");
    assert_eq!(
        owner_mode(&dir.join("settings.yaml")),
        (nobody, 0, 0o400),
        "settings.yaml"
    );
    assert_eq!(
        owner_mode(&dir.join("home")),
        (nobody, nogroup, 0o700),
        "home"
    );
    let stdout_log = dir.join("stdout.log");
    assert!(stdout_log.exists(), "Supervisor logs into the proc folder");
    assert_eq!(owner_mode(&stdout_log).0, 0, "the log is root's");

    // What the proc's user can try: none of it works, except reading its own env.
    let d = dir.display();
    for attempt in [
        format!("echo 'user=root' >> {}", conf.display()),
        format!("touch {d}/planted"),
        format!("ln -s /etc/shadow {d}/stdout.log.1"),
        format!("echo evil > {d}/run"),
        format!("echo '{{}}' > {d}/proc.json"),
    ] {
        assert!(!as_user("nobody", &attempt), "nobody could: {attempt}");
    }
    assert!(as_user("nobody", &format!("grep -q secret-ish {d}/env")));
    // Nobody else can read it.
    assert!(
        !as_user("daemon", &format!("cat {d}/env")),
        "env is not world-readable"
    );
    // The proc's own writes went to its home.
    assert_eq!(
        std::fs::read_to_string(dir.join("home/tricky.out")).expect("tricky.out"),
        "secret-ish"
    );
}

#[tokio::test]
async fn builds_are_unpacked_without_their_owners_setuid_bits_or_shared_writes() {
    let s = setup().await;
    add_app(&s.api, "prebuilt", &GitRepo::new()).await;
    // A tarball as a hostile CI could make it: a setuid file owned by someone, a file and a
    // directory anyone may write.
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let mut add = |name: &str, body: &str, mode: u32, kind: tar::EntryType| {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(mode);
        h.set_uid(4242);
        h.set_gid(4242);
        h.set_entry_type(kind);
        h.set_cksum();
        tar.append_data(&mut h, name, body.as_bytes())
            .expect("append");
    };
    add(
        "Procfile",
        "worker: exec sleep 1000\n",
        0o644,
        tar::EntryType::Regular,
    );
    add("suid", "#!/bin/sh\nid\n", 0o4755, tar::EntryType::Regular);
    add(
        "shared",
        "anyone writes here\n",
        0o666,
        tar::EntryType::Regular,
    );
    add("open", "", 0o777, tar::EntryType::Directory);
    // A link where vr writes its completion marker: root must not write through it.
    let victim = tempfile::tempdir().expect("victim");
    let target = victim.path().join("made-by-root");
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_size(0);
    link.set_mode(0o777);
    link.set_cksum();
    tar.append_link(&mut link, ".vr-complete", &target)
        .expect("append link");
    let body = tar.into_inner().expect("tar").finish().expect("gzip");
    let resp = upload_raw(&s.server, &s.api, "prebuilt", "ci-1".into(), body).await;
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    let b: Build = resp.json().await.expect("build");
    let r: Release = s
        .api
        .post(
            vr_app::release::paths::RELEASES,
            &NewRelease {
                build_id: b.id,
                ..Default::default()
            },
        )
        .await
        .expect_status(201)
        .json();
    let d = deploy(&s.api, r.id, "worker", "prod", 0).await;
    assert_eq!(d.status, DeployStatus::Succeeded, "{d:#?}");
    let root = s
        .host
        .apps_root()
        .join("builds")
        .join(b.sha256.as_deref().expect("sha"));
    assert_eq!(
        owner_mode(&root.join("suid")),
        (0, 0, 0o755),
        "no setuid, root's"
    );
    assert_eq!(
        owner_mode(&root.join("shared")),
        (0, 0, 0o644),
        "no shared writes"
    );
    assert_eq!(
        owner_mode(&root.join("open")),
        (0, 0, 0o755),
        "no shared writes"
    );
    assert_eq!(owner_mode(&root), (0, 0, 0o755));
    assert!(!target.exists(), "root wrote through the archive's link");
    assert!(!root.join(".vr-complete").is_symlink());
    // An upload holding a device node is refused before anything is stored.
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let mut h = tar::Header::new_gnu();
    h.set_size(23);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, "Procfile", &b"worker: exec sleep 1000"[..])
        .expect("append");
    let mut dev = tar::Header::new_gnu();
    dev.set_entry_type(tar::EntryType::Block);
    dev.set_size(0);
    dev.set_mode(0o666);
    dev.set_device_major(8).expect("major");
    dev.set_device_minor(0).expect("minor");
    dev.set_cksum();
    tar.append_data(&mut dev, "sda", &b""[..]).expect("append");
    let body = tar.into_inner().expect("tar").finish().expect("gzip");
    let resp = upload_raw(&s.server, &s.api, "prebuilt", "ci-2".into(), body).await;
    assert_eq!(resp.status(), 400);
    let text = resp.text().await.unwrap_or_default();
    assert!(text.contains("device or FIFO"), "{text}");
}

#[tokio::test]
async fn volumes_are_never_made_through_links_or_in_other_users_dirs() {
    let s = setup().await;
    let (_repo, b) = super::deploys::web_built(&s).await;
    // Under /run, root's alone (a path under /tmp is refused anyway: others may write /tmp).
    let place = tempfile::Builder::new()
        .prefix("vr-test-volumes")
        .tempdir_in("/run")
        .expect("place");
    std::fs::set_permissions(place.path(), std::fs::Permissions::from_mode(0o755)).expect("mode");
    // A directory the proc's user owns, and a link to somewhere else.
    let theirs = place.path().join("theirs");
    std::fs::create_dir(&theirs).expect("dir");
    let owned = Command::new("chown")
        .arg("nobody")
        .arg(&theirs)
        .status()
        .expect("chown");
    assert!(owned.success());
    let elsewhere = tempfile::tempdir().expect("elsewhere");
    std::os::unix::fs::symlink(elsewhere.path(), place.path().join("link")).expect("symlink");
    for (volume, why) in [
        (theirs.join("data"), "is not root's alone"),
        (place.path().join("link/data"), "is a link"),
    ] {
        let r: Release = s
            .api
            .post(
                vr_app::release::paths::RELEASES,
                &NewRelease {
                    build_id: b.id,
                    env_yaml: format!("TRICKY: \"{}\"\n", volume.display()),
                    run_as: Some("nobody".into()),
                    volumes: vec![vr_app::release::Volume {
                        host_dir: volume.display().to_string(),
                        mount_dir: "/data".into(),
                    }],
                    ..Default::default()
                },
            )
            .await
            .expect_status(201)
            .json();
        let d = deploy(&s.api, r.id, "worker", "prod", 0).await;
        assert_eq!(d.status, DeployStatus::Failed, "{d:#?}");
        let step = d.steps.last().expect("a step");
        assert_eq!(step.name, vr_app::deploy::DeployStepKind::WriteProc);
        assert!(step.message.contains(why), "{step:?}");
        assert!(!volume.exists(), "{} was made", volume.display());
    }
    assert!(
        std::fs::read_dir(elsewhere.path())
            .expect("read")
            .next()
            .is_none()
    );
}

#[tokio::test]
async fn a_failed_build_leaves_nothing_running_as_its_uid() {
    let s = setup().await;
    let lingering = GitRepo::new();
    lingering.commit(
        &[
            ("bin/detect", "#!/bin/sh\necho lingering\n"),
            (
                "bin/compile",
                "#!/bin/sh\nnohup sleep 1000 >/dev/null 2>&1 &\necho 'left a process behind'\nexit 3\n",
            ),
        ],
        "lingering",
    );
    let repo = vr_tests::harness::git::shell_app();
    let app = super::builds::add_pinned_app(&s.api, "lingers", &repo, &lingering.url()).await;
    let (b, log) = build(&s.api, "lingers", "main", false).await;
    assert_eq!(b.status, BuildStatus::Failed, "{log}");
    assert!(log.contains("left a process behind"), "{log}");
    let _ = app;
    let uid = build_uid_of(&s.api, "lingers").await.to_string();
    let left = Command::new("ps")
        .args(["-o", "pid=,stat=,args=", "-U", &uid])
        .output()
        .expect("ps");
    // Killed processes may stay zombies here (PID 1 of this machine does not reap): those
    // run nothing.
    let alive: Vec<String> = String::from_utf8_lossy(&left.stdout)
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|st| !st.starts_with('Z'))
        })
        .map(str::to_string)
        .collect();
    assert!(alive.is_empty(), "still running as {uid}: {alive:?}");
}

#[tokio::test]
async fn a_local_repo_only_root_may_read_is_not_built() {
    let s = setup().await;
    let repo = vr_tests::harness::git::shell_app();
    std::fs::set_permissions(repo.path(), std::fs::Permissions::from_mode(0o700))
        .expect("close the repo");
    add_app(&s.api, "private", &repo).await;
    let (b, log) = build(&s.api, "private", "main", false).await;
    assert_eq!(b.status, BuildStatus::Failed, "{log}");
    let why = b.error.unwrap_or_default();
    assert!(why.contains("unprivileged users cannot read"), "{why}");
}

#[tokio::test]
async fn root_reads_proc_json_only_as_a_plain_file() {
    let server = fleet_server_with(Vec::new()).await;
    let api = server.admin().await;
    let host = hosts_for(&api, 1).await.remove(0);
    let procs = host.apps_root().join("procs");
    // A FIFO where proc.json should be: `cat` as root would wait forever on it.
    let fifo_dir = procs.join("fifo_prog");
    std::fs::create_dir_all(&fifo_dir).expect("dir");
    let made = Command::new("mkfifo")
        .arg(fifo_dir.join("proc.json"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    // A link to a file elsewhere that looks like one.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let meta =
        serde_json::to_string(&vr_tests::harness::fleet::meta("x", "c", "web", 0)).expect("json");
    std::fs::write(elsewhere.path().join("looks.json"), &meta).expect("write");
    let link_dir = procs.join("link_prog");
    std::fs::create_dir_all(&link_dir).expect("dir");
    std::os::unix::fs::symlink(
        elsewhere.path().join("looks.json"),
        link_dir.join("proc.json"),
    )
    .expect("symlink");
    // A folder an older vr left to the proc's user: not read (its file could be swapped).
    let legacy = procs.join("legacy_prog");
    std::fs::create_dir_all(&legacy).expect("dir");
    std::fs::write(legacy.join("proc.json"), &meta).expect("write");
    let chowned = Command::new("chown")
        .arg("nobody")
        .arg(&legacy)
        .status()
        .expect("chown");
    assert!(chowned.success());
    host.add_program("legacy_prog", "sleep 1000");
    host.add_program("fifo_prog", "sleep 1000");
    host.add_program("link_prog", "sleep 1000");
    // And one real one, so reads do happen.
    host.add_managed_program(
        "real_prog",
        "sleep 1000",
        &vr_tests::harness::fleet::meta("real", "c", "worker", 0),
    );
    add_host(&api, &host, "h", None).await;
    let seen = wait_procs(&api, "h", "see all three", WAIT, |p| {
        ["fifo_prog", "link_prog", "legacy_prog", "real_prog"]
            .iter()
            .all(|n| p.iter().any(|x| &x.name == n))
    })
    .await;
    let managed = |n: &str| {
        seen.iter()
            .find(|p| p.name == n)
            .is_some_and(|p| p.meta.is_some())
    };
    assert!(managed("real_prog"));
    assert!(!managed("fifo_prog"), "a FIFO is not read");
    assert!(!managed("link_prog"), "a link is not followed");
    assert!(
        !managed("legacy_prog"),
        "a folder the user may write is not trusted"
    );
    let h: Host = api.get(&paths::host("h")).await.expect_ok().json();
    assert_eq!(h.status.health, Health::Ok, "{:?}", h.status);
}

#[tokio::test]
async fn hygiene_never_follows_links_and_leaves_what_a_deploy_may_be_writing() {
    let s = setup().await;
    let apps = s.host.apps_root();
    let old = |p: &Path| {
        let ok = Command::new("touch")
            .args(["-h", "-d", "30 days ago"])
            .arg(p)
            .status()
            .expect("touch");
        assert!(ok.success());
    };
    let victim = tempfile::tempdir().expect("victim");
    std::fs::write(victim.path().join("precious"), "keep me").expect("write");
    std::fs::create_dir_all(apps.join("procs")).expect("procs");
    std::fs::create_dir_all(apps.join("builds")).expect("builds");
    std::os::unix::fs::symlink(victim.path(), apps.join("procs/linked")).expect("symlink");
    std::os::unix::fs::symlink(victim.path(), apps.join("builds/linked")).expect("symlink");
    old(&apps.join("procs/linked"));
    old(&apps.join("builds/linked"));
    // A deploy between "write proc" and "add": its program file is there, Supervisor does not
    // know it yet; and one that has just renamed its folder into place.
    std::fs::create_dir_all(apps.join("procs/being_added")).expect("dir");
    std::fs::write(
        s.host.include_dir().join("being_added.conf"),
        "[program:being_added]\ncommand=sleep 1\nautostart=false\n",
    )
    .expect("conf");
    old(&apps.join("procs/being_added"));
    std::fs::create_dir_all(apps.join("procs/just_written")).expect("dir");
    std::fs::create_dir_all(apps.join("procs/stray")).expect("dir");
    old(&apps.join("procs/stray"));

    let removed: Vec<String> = s
        .api
        .post(&format!("{}/clean?days=7", paths::host("builder1")), &())
        .await
        .expect_ok()
        .json();
    assert_eq!(removed, ["removed proc folder stray (not in Supervisor)"]);
    assert_eq!(
        std::fs::read_to_string(victim.path().join("precious")).expect("still there"),
        "keep me"
    );
    assert!(apps.join("procs/linked").is_symlink());
    assert!(apps.join("builds/linked").is_symlink());
    assert!(apps.join("procs/being_added").exists());
    assert!(apps.join("procs/just_written").exists());
}

/// A buildpack that reports who it runs as and tries to reach outside its own app.
fn probe_buildpack(victim_cache: &Path, mirrors: &Path) -> GitRepo {
    let bp = GitRepo::new();
    let compile = format!(
        "#!/bin/sh\n\
         echo \"probe: uid=$(id -u)\"\n\
         touch \"$2/mine\" && echo 'probe: own cache ok'\n\
         if touch {victim}/poison 2>/dev/null; then echo 'probe: wrote another app cache'; else echo 'probe: other cache refused'; fi\n\
         if touch {mirrors}/poison 2>/dev/null; then echo 'probe: wrote the mirrors'; else echo 'probe: mirrors refused'; fi\n\
         exit 0\n",
        victim = victim_cache.display(),
        mirrors = mirrors.display(),
    );
    bp.commit(
        &[
            ("bin/detect", "#!/bin/sh\necho probe\n"),
            ("bin/compile", &compile),
        ],
        "probe",
    );
    bp
}

#[tokio::test]
async fn each_app_builds_as_its_own_unprivileged_uid() {
    let s = setup().await;
    let root = s.host.apps_root().join("build");
    let repo = vr_tests::harness::git::shell_app();
    let first = add_app(&s.api, "first", &repo).await;
    let (b1, log1) = build(&s.api, "first", "main", false).await;
    assert_eq!(b1.status, BuildStatus::Succeeded, "{log1}");
    let _ = first;
    let uid1 = build_uid_of(&s.api, "first").await;
    assert!(log1.contains(&format!("building as uid {uid1}")), "{log1}");
    let cache1 = root.join("cache/first");
    assert_eq!(owner_mode(&cache1), (uid1, uid1, 0o700));

    let probe = probe_buildpack(&cache1, &root.join("repos"));
    let second = super::builds::add_pinned_app(&s.api, "second", &repo, &probe.url()).await;
    let (b2, log2) = build(&s.api, "second", "main", false).await;
    assert_eq!(b2.status, BuildStatus::Succeeded, "{log2}");
    let _ = second;
    let uid2 = build_uid_of(&s.api, "second").await;
    assert_ne!(uid1, uid2);
    assert!(log2.contains(&format!("probe: uid={uid2}")), "{log2}");
    assert!(log2.contains("probe: own cache ok"), "{log2}");
    assert!(log2.contains("probe: other cache refused"), "{log2}");
    assert!(log2.contains("probe: mirrors refused"), "{log2}");
    assert!(!cache1.join("poison").exists());
    assert!(!root.join("repos/poison").exists());
}

#[tokio::test]
async fn a_first_contact_pins_the_key_even_when_supervisor_is_down() {
    let server = fleet_server_with(Vec::new()).await;
    let api = server.admin().await;
    let host = hosts_for(&api, 1).await.remove(0);
    host.stop_supervisord();
    add_host(&api, &host, "h", None).await;
    let h = wait_health(&api, "h", Health::SupervisorDown, WAIT).await;
    let key = h.host_key.clone().expect("pinned on first contact");
    assert!(key.starts_with("SHA256:"), "{key}");
    let events: Vec<vr_app::api::Event> = api
        .get("/api/events?action=host.key_pin")
        .await
        .expect_ok()
        .json();
    assert!(
        events
            .iter()
            .any(|e| e.object == "host:h" && e.detail.contains(&key)),
        "{events:?}"
    );
}

#[tokio::test]
async fn builds_pin_an_unpinned_host_and_refuse_a_changed_key() {
    // A poller that has not come round yet: the build is the first contact.
    let server = fleet_server_with(vec![("VR_POLL_INTERVAL_MS".into(), "3600000".into())]).await;
    let api = server.admin().await;
    let host = hosts_for(&api, 1).await.remove(0);
    let mut new = vr_tests::harness::fleet::new_host(&host, "b", None);
    new.builder = Some(true);
    api.post(paths::HOSTS, &new).await.expect_status(201);
    let h: Host = api.get(&paths::host("b")).await.expect_ok().json();
    assert_eq!(h.host_key, None, "not contacted yet");
    let bp = vr_tests::harness::git::shell_buildpack();
    api.post(
        build_paths::BUILDPACKS,
        &vr_app::build::NewBuildpack {
            url: bp.url(),
            order: None,
            description: String::new(),
        },
    )
    .await
    .expect_status(201);
    let repo = vr_tests::harness::git::shell_app();
    add_app(&api, "shop", &repo).await;
    let (b, log) = build(&api, "shop", "main", false).await;
    assert_eq!(b.status, BuildStatus::Succeeded, "{log}");
    let h: Host = api.get(&paths::host("b")).await.expect_ok().json();
    let pinned = h.host_key.expect("the build pinned the key");

    host.regenerate_host_key();
    let (b, log) = build(&api, "shop", "main", true).await;
    assert_eq!(b.status, BuildStatus::Failed, "{log}");
    let why = b.error.unwrap_or_default();
    assert!(why.contains(&pinned) && why.contains("refusing"), "{why}");
}

#[tokio::test]
async fn a_new_address_keeps_the_pin_and_another_machine_needs_an_admin() {
    let server = fleet_server_with(Vec::new()).await;
    let api = server.admin().await;
    let mut hosts = hosts_for(&api, 2).await;
    let other = hosts.remove(1);
    let host = hosts.remove(0);
    add_host(&api, &host, "h", None).await;
    let h = wait_health(&api, "h", Health::Ok, WAIT).await;
    let pinned = h.host_key.clone().expect("pinned");
    let deployer = make_user(&server, &api, "dep", "deployer").await;

    // The same machine under another address: still trusted.
    deployer
        .patch(
            &paths::host("h"),
            &HostPatch {
                address: Some("localhost".into()),
                ..Default::default()
            },
        )
        .await
        .expect_ok();
    let report: ConnectionReport = deployer
        .post_empty(&paths::host_test("h"))
        .await
        .expect_ok()
        .json();
    assert!(report.ok, "{report:?}");
    let h: Host = api.get(&paths::host("h")).await.expect_ok().json();
    assert_eq!(h.host_key.as_deref(), Some(pinned.as_str()));

    // Pointed at another machine: its key is refused, and only an admin can trust it.
    deployer
        .patch(
            &paths::host("h"),
            &HostPatch {
                port: Some(other.ssh_port()),
                ..Default::default()
            },
        )
        .await
        .expect_ok();
    let changed = wait_health(&api, "h", Health::KeyChanged, WAIT).await;
    assert_eq!(changed.host_key.as_deref(), Some(pinned.as_str()));
    let presented = changed.status.presented_key.clone().expect("presented");
    assert_ne!(presented, pinned);
    deployer
        .post(
            &paths::host_trust("h"),
            &TrustKey {
                fingerprint: presented.clone(),
            },
        )
        .await
        .expect_status(403);
    // An admin trusts it as the README shows: `vr host trust NAME FINGERPRINT`.
    let cli = super::fleet::cli_token(&api).await;
    let (ok, out) = super::fleet::vr(&server, &cli, &["host", "trust", "h", &presented]);
    assert!(
        ok && out.contains(&format!("host h now pinned to {presented}")),
        "{out}"
    );
    let h = wait_health(&api, "h", Health::Ok, WAIT).await;
    assert_eq!(h.host_key.as_deref(), Some(presented.as_str()));
}

#[tokio::test]
async fn hosts_that_offer_only_weak_ssh_algorithms_are_refused() {
    let server = fleet_server_with(Vec::new()).await;
    let api = server.admin().await;
    let keys = tempfile::tempdir().expect("key dir");
    let rsa = keys.path().join("rsa_host_key");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f"])
        .arg(&rsa)
        .status()
        .expect("ssh-keygen");
    assert!(made.success());
    let key = vr_tests::harness::fleet::server_key(&api).await;
    let start = |extra: String| {
        TestHost::start(HostOptions {
            authorized_keys: vec![key.clone()],
            extra_sshd_config: extra,
            ..HostOptions::default()
        })
    };
    // SHA-1 signatures only; CBC ciphers only (libssh2 itself would take those).
    let sha1 = start(format!(
        "HostKey {}\nHostKeyAlgorithms ssh-rsa\nPubkeyAcceptedAlgorithms +ssh-rsa\n",
        rsa.display()
    ));
    let cbc = start("Ciphers aes128-cbc,aes256-cbc\n".into());
    add_host(&api, &sha1, "sha1", None).await;
    add_host(&api, &cbc, "cbc", None).await;
    for name in ["sha1", "cbc"] {
        let h = wait_health(&api, name, Health::Unreachable, WAIT).await;
        let error = h.status.error.unwrap_or_default();
        assert!(error.contains("no modern algorithm"), "{name}: {error}");
        assert_eq!(
            h.host_key, None,
            "{name}: nothing is pinned from a refused handshake"
        );
    }
}
