//! The server's own SSH layer against real harness hosts: its generated key gets in, reads
//! `supervisorctl status`, and a dead or hanging host costs one deadline.

use std::time::{Duration, Instant};
use vr_server::keys::{SshIdentity, load_or_create};
use vr_server::remote::RemoteError;
use vr_server::remote::ssh::{Connection, MemoryPin, SshTarget};
use vr_tests::harness::{HostOptions, NetnsHost, TestHost};

fn identity(dir: &tempfile::TempDir) -> SshIdentity {
    load_or_create(&dir.path().join("ssh")).expect("server key")
}

/// A first connection: trust on first use, modern algorithms.
fn connect(
    t: &SshTarget,
    key: &std::path::Path,
    deadline: Duration,
) -> Result<Connection, RemoteError> {
    Connection::connect(t, key, &MemoryPin::default(), deadline)
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

    let mut conn = connect(&target(&host), &id.private_key_path, Duration::from_secs(5))
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
    let err = connect(&target(&host), &id.private_key_path, Duration::from_secs(5))
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
    let err = connect(&target(&host), &id.private_key_path, Duration::from_secs(1))
        .err()
        .expect("must time out");
    let took = started.elapsed();
    assert!(matches!(err, RemoteError::Timeout { .. }), "{err}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    host.resume_sshd();
    connect(&target(&host), &id.private_key_path, Duration::from_secs(5))
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
    let mut conn = connect(&t, &id.private_key_path, Duration::from_secs(5))
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
    let err = connect(&t, &id.private_key_path, Duration::from_secs(1))
        .err()
        .expect("a new connection times out");
    assert!(matches!(err, RemoteError::Timeout { .. }), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );

    host.restore();
    connect(&t, &id.private_key_path, Duration::from_secs(5)).expect("back after restore");
}

#[test]
fn exec_drains_both_streams_and_bounds_the_whole_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = identity(&dir);
    let host = TestHost::start(HostOptions {
        authorized_keys: vec![id.public_key.clone()],
        ..Default::default()
    });
    let mut conn = connect(
        &target(&host),
        &id.private_key_path,
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
    // A command that prints without end is stopped at the output limit, not read into memory.
    let err = conn
        .exec("head -c 40000000 /dev/zero")
        .expect_err("too much output");
    assert!(matches!(err, RemoteError::OutputTooLarge { .. }), "{err}");
    let mut conn = connect(
        &target(&host),
        &id.private_key_path,
        Duration::from_secs(10),
    )
    .expect("connect again");
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

#[test]
fn the_supervisor_driver_runs_every_action_on_a_real_host() {
    use vr_server::remote::link::{HostAccess, HostLink};
    use vr_server::remote::supervisor::{Layout, Via};
    let dir = tempfile::tempdir().expect("tempdir");
    let id = identity(&dir);
    let host = TestHost::start(HostOptions {
        authorized_keys: vec![id.public_key.clone()],
        ..Default::default()
    });
    let layout = Layout {
        supervisorctl: host
            .supervisorctl()
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        socket: host.supervisor_socket().display().to_string(),
        include_dir: host.include_dir().display().to_string(),
        apps_root: host.apps_root().display().to_string(),
        sudo: false,
    };
    let access = HostAccess {
        target: target(&host),
        layout,
        host_keys: std::sync::Arc::new(MemoryPin::default()),
        private_key: id.private_key_path.clone(),
        deadline: Duration::from_secs(5),
    };
    let link = HostLink::default();
    let name = "odd.name-1_x";
    std::fs::write(
        host.include_dir().join(format!("{name}.conf")),
        format!("[program:{name}]\ncommand=sleep 1000\nautostart=false\nstartsecs=0\n"),
    )
    .expect("program file");
    std::fs::write(
        host.include_dir().join("grp.conf"),
        "[group:grp]\nprograms=m1\n[program:m1]\ncommand=sleep 1000\nautostart=false\nstartsecs=0\n",
    )
    .expect("group file");

    let first = link.run(&access, |s| s.reread()).expect("reread");
    assert!(first.pinned_now, "the first contact pins the key");
    assert!(
        first.value.ok && first.value.message.contains(&format!("{name}: available")),
        "{:?}",
        first.value
    );
    let pinned = access.host_keys.pinned().expect("pinned");
    assert!(pinned.starts_with("SHA256:"), "{pinned}");
    let run = |f: &mut dyn FnMut(
        &mut vr_server::remote::supervisor::Supervisor<'_>,
    ) -> Result<vr_app::supervisor::CtlVerdict, RemoteError>| {
        let w = link.run(&access, |s| f(s)).expect("run");
        assert!(
            !w.pinned_now,
            "the session is reused and the key was pinned"
        );
        w.value
    };
    for v in [
        run(&mut |s| s.add(name)),
        run(&mut |s| s.add(name)),
        run(&mut |s| s.add("grp")),
        run(&mut |s| s.start(name)),
        run(&mut |s| s.start(name)),
        run(&mut |s| s.start("grp:m1")),
        run(&mut |s| s.restart(name)),
        run(&mut |s| s.stop(name)),
        run(&mut |s| s.stop(name)),
    ] {
        assert!(v.ok, "{v:?}");
    }
    let bad = run(&mut |s| s.start("no_such_program"));
    assert!(
        !bad.ok && bad.message.contains("no such process"),
        "{bad:?}"
    );

    // XML-RPC and supervisorctl see the same programs and states.
    let via_rpc = link.run(&access, |s| s.status()).expect("status").value;
    assert_eq!(via_rpc.via, Via::XmlRpc);
    let mut ctl_access = access.clone();
    ctl_access.layout.socket = "/nonexistent.sock".into();
    let via_ctl = link.run(&ctl_access, |s| s.status()).expect("status").value;
    assert_eq!(via_ctl.via, Via::Supervisorctl);
    let summary = |st: &vr_server::remote::supervisor::Status| {
        let mut v: Vec<(String, vr_app::supervisor::ProcState, bool)> = st
            .procs
            .iter()
            .map(|p| (p.name.clone(), p.state, p.pid.is_some()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    assert_eq!(summary(&via_rpc), summary(&via_ctl));
    assert!(summary(&via_rpc).contains(&(
        "grp:m1".into(),
        vr_app::supervisor::ProcState::Running,
        true
    )));
    assert_eq!(via_rpc.version.as_deref(), Some("4.2.5"));
    assert_eq!(via_ctl.version.as_deref(), Some("4.2.5"));

    // Remove (twice: idempotent) and it is gone.
    assert!(run(&mut |s| s.remove(name)).ok);
    assert!(run(&mut |s| s.remove(name)).ok);
    assert_eq!(host.program_state(name), None);
}
