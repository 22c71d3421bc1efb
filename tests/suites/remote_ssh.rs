//! The server's own SSH layer against real harness hosts: its generated key gets in, reads
//! `supervisorctl status`, and a dead or hanging host costs one deadline.

use std::time::{Duration, Instant};
use vr_server::keys::{SshIdentity, load_or_create};
use vr_server::remote::RemoteError;
use vr_server::remote::ssh::{Connection, SshTarget};
use vr_tests::harness::{HostOptions, NetnsHost, TestHost};

fn identity(dir: &tempfile::TempDir) -> SshIdentity {
    load_or_create(&dir.path().join("ssh")).expect("server key")
}

fn target(host: &TestHost) -> SshTarget {
    SshTarget {
        address: host.address(),
        port: host.ssh_port(),
        user: host.user().to_string(),
    }
}

#[test]
fn the_server_key_reads_supervisorctl_status_on_a_harness_host() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = identity(&dir);
    let host = TestHost::start(HostOptions {
        authorized_keys: vec![id.public_key.clone()],
        ..Default::default()
    });
    host.add_program("hello_web", "sleep 1000");
    host.wait_program_state("hello_web", "RUNNING", Duration::from_secs(10));

    let mut conn = Connection::connect(
        &target(&host),
        &id.private_key_path,
        None,
        Duration::from_secs(5),
    )
    .expect("connect with the server's key");
    assert!(conn.host_key_fingerprint().starts_with("SHA256:"));
    // The pinned fingerprint equals what ssh-keygen says of the host's key.
    let keygen = std::process::Command::new("ssh-keygen")
        .arg("-lf")
        .arg(host.dir().join("ssh_host_ed25519_key.pub"))
        .output()
        .expect("ssh-keygen -lf");
    let listed = String::from_utf8_lossy(&keygen.stdout);
    assert!(
        listed.contains(conn.host_key_fingerprint()),
        "{listed} vs {}",
        conn.host_key_fingerprint()
    );

    let out = conn
        .exec(&format!("{} status", host.supervisorctl()))
        .expect("supervisorctl status");
    assert_eq!(out.status, 0, "{out:?}");
    // The shared parser reads the live output the same way as the captured samples.
    let parsed = vr_app::supervisor::parse_status(&out.stdout);
    let row = parsed
        .rows
        .iter()
        .find(|r| r.name == "hello_web")
        .unwrap_or_else(|| panic!("no hello_web in {out:?}"));
    assert_eq!(row.state, vr_app::supervisor::ProcState::Running, "{row:?}");
    assert!(row.pid.is_some_and(|p| p > 0), "{row:?}");
    assert!(row.uptime_secs.is_some(), "{row:?}");

    // The session is reusable, and a failing command reports its status and stderr.
    let out = conn
        .exec(&format!("{} status no_such_program", host.supervisorctl()))
        .expect("exec");
    assert_ne!(out.status, 0);
    assert!(format!("{}{}", out.stdout, out.stderr).contains("no_such_program"));
}

#[test]
fn a_key_the_host_does_not_know_is_refused_as_an_auth_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = identity(&dir);
    let host = TestHost::start(HostOptions::default());
    let err = Connection::connect(
        &target(&host),
        &id.private_key_path,
        None,
        Duration::from_secs(5),
    )
    .err()
    .expect("must be refused");
    assert!(matches!(err, RemoteError::Auth { .. }), "{err}");
    assert!(
        err.to_string().contains("refused the server's key"),
        "{err}"
    );
}

#[test]
fn a_hanging_sshd_costs_one_deadline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = identity(&dir);
    let host = TestHost::start(HostOptions {
        authorized_keys: vec![id.public_key.clone()],
        ..Default::default()
    });
    host.stop_sshd_hanging();
    let started = Instant::now();
    let err = Connection::connect(
        &target(&host),
        &id.private_key_path,
        None,
        Duration::from_secs(1),
    )
    .err()
    .expect("must time out");
    let took = started.elapsed();
    assert!(matches!(err, RemoteError::Timeout { .. }), "{err}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    host.resume_sshd();
    Connection::connect(
        &target(&host),
        &id.private_key_path,
        None,
        Duration::from_secs(5),
    )
    .expect("back after resume");
}

#[test]
fn a_host_cut_off_by_its_namespace_link_times_out_then_recovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = identity(&dir);
    let host = NetnsHost::start(HostOptions {
        authorized_keys: vec![id.public_key.clone()],
        ..Default::default()
    });
    let t = target(host.host());
    let mut conn = Connection::connect(&t, &id.private_key_path, None, Duration::from_secs(5))
        .expect("reachable before the cut");
    // In a namespace plain `supervisorctl` works, as on a real host.
    let out = conn.exec("supervisorctl status").expect("status");
    assert!(out.status == 0 || out.status == 3, "{out:?}");

    host.cut();
    let started = Instant::now();
    let err = conn
        .exec("supervisorctl status")
        .expect_err("an open session times out");
    assert!(matches!(err, RemoteError::Timeout { .. }), "{err}");
    let err = Connection::connect(&t, &id.private_key_path, None, Duration::from_secs(1))
        .err()
        .expect("a new connection times out");
    assert!(matches!(err, RemoteError::Timeout { .. }), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );

    host.restore();
    Connection::connect(&t, &id.private_key_path, None, Duration::from_secs(5))
        .expect("back after restore");
}

#[test]
fn exec_drains_both_streams_and_bounds_the_whole_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = identity(&dir);
    let host = TestHost::start(HostOptions {
        authorized_keys: vec![id.public_key.clone()],
        ..Default::default()
    });
    let mut conn = Connection::connect(
        &target(&host),
        &id.private_key_path,
        None,
        Duration::from_secs(10),
    )
    .expect("connect");
    // 4 MiB on stderr while stdout waits: far more than one SSH window.
    let out = conn
        .exec("head -c 4194304 /dev/zero | tr '\\0' e >&2; echo done")
        .expect("exec");
    assert_eq!(out.status, 0);
    assert_eq!(out.stdout, "done\n");
    assert_eq!(out.stderr.len(), 4 * 1024 * 1024);
    // Output that keeps trickling does not stretch the deadline.
    let started = Instant::now();
    let err = conn
        .exec_within(
            "while :; do echo tick; sleep 0.2; done",
            Duration::from_secs(1),
        )
        .expect_err("must time out");
    assert!(matches!(err, RemoteError::Timeout { .. }), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}
