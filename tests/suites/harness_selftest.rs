//! Tests of the test harness itself: if these fail, no other suite's result means anything.
//!
//! They prove that simulated hosts really behave like SSH + Supervisor hosts (key login,
//! `supervisorctl` locally and over SSH, programs added by hand), that the failure modes later
//! suites rely on are real (a cut namespace black-holes packets, a frozen sshd accepts TCP but
//! never speaks), and that the server and browser drivers work.

use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use vr_tests::harness::{
    Browser, ClientKey, HostOptions, NetnsHost, ServerOptions, TestHost, VrServer, tcp_connects,
    wait_for, wait_until,
};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Error kind of a TCP connect to `addr` with a 1 s timeout (None if it connected).
fn connect_error(addr: std::net::SocketAddr) -> Option<ErrorKind> {
    TcpStream::connect_timeout(&addr, Duration::from_secs(1))
        .err()
        .map(|e| e.kind())
}

#[test]
fn three_hosts_start_concurrently_and_run_programs() {
    let t = Instant::now();
    let hosts = TestHost::start_many(3, HostOptions::default());
    let started = t.elapsed();
    eprintln!("3 hosts started in {started:?}");
    assert!(
        started < Duration::from_secs(10),
        "starting 3 hosts took {started:?}"
    );

    let ports: std::collections::BTreeSet<u16> = hosts.iter().map(TestHost::ssh_port).collect();
    assert_eq!(ports.len(), 3, "each host has its own port");

    // Checked in parallel: each `supervisorctl` run is a Python start-up.
    std::thread::scope(|s| {
        for (i, host) in hosts.iter().enumerate() {
            s.spawn(move || {
                host.add_program("sleeper", "sleep 1000");
                assert_eq!(host.program_state("sleeper").as_deref(), Some("RUNNING"));
                assert_eq!(
                    host.program_states(),
                    vec![("sleeper".to_string(), "RUNNING".to_string())]
                );
                let status = host.ctl(&["status"]);
                // supervisorctl exits 3 when some program is not running; 0 when all are.
                assert_eq!(status.status.code(), Some(0), "host {i}: {status:?}");
                let text = stdout(&status);
                assert!(
                    text.contains("sleeper") && text.contains("RUNNING"),
                    "host {i}: {text}"
                );
            });
        }
    });

    // Removing by hand leaves the host as it was.
    hosts[0].remove_program("sleeper");
    assert_eq!(hosts[0].program_state("sleeper"), None);
    assert!(!hosts[0].include_dir().join("sleeper.conf").exists());
}

#[test]
fn ssh_key_login_sees_the_hosts_supervisor() {
    let key = ClientKey::generate();
    let host = TestHost::start(HostOptions {
        authorized_keys: vec![key.public_line().to_string()],
        ..HostOptions::default()
    });
    host.add_program("web_1", "sleep 1000");

    let out = host.ssh(&key, &format!("{} status", host.supervisorctl()));
    let text = stdout(&out);
    assert!(
        text.contains("web_1") && text.contains("RUNNING"),
        "over ssh: {out:?}"
    );

    // A key that was not installed is refused; installing it later lets it in.
    let other = ClientKey::generate();
    assert!(!host.ssh(&other, "true").status.success());
    host.authorize_key(other.public_line());
    let out = host.ssh(&other, "echo hi");
    assert_eq!(stdout(&out).trim(), "hi", "{out:?}");

    assert!(host.host_key_public().starts_with("ssh-ed25519 "));
    assert!(
        host.known_hosts_line()
            .starts_with(&format!("[127.0.0.1]:{} ssh-ed25519 ", host.ssh_port()))
    );
}

#[test]
fn netns_host_is_reachable_until_cut() {
    let key = ClientKey::generate();
    let host = NetnsHost::start(HostOptions {
        authorized_keys: vec![key.public_line().to_string()],
        ..HostOptions::default()
    });
    assert!(host.address().starts_with("10.201."), "{}", host.address());
    assert_eq!(host.ssh_port(), 22);
    assert_eq!(host.supervisorctl(), "supervisorctl");
    host.add_program("worker", "sleep 1000");

    // Plain `supervisorctl` over SSH finds the host's own config, as on a real host, and the
    // program runs inside the namespace.
    let out = host.ssh(
        &key,
        "supervisorctl status; ls /etc/supervisor/conf.d; ip -o -4 addr show",
    );
    let text = stdout(&out);
    assert!(
        text.contains("worker") && text.contains("RUNNING") && text.contains("worker.conf"),
        "over ssh: {out:?}"
    );
    assert!(
        text.contains(&format!("{}/24", host.address())),
        "the host's own address: {out:?}"
    );

    let addr = host.ssh_addr();
    assert_eq!(connect_error(addr), None);

    host.cut();
    let t = Instant::now();
    let err = connect_error(addr);
    // A black hole, not a refusal: the connect runs into its timeout.
    assert!(
        matches!(err, Some(ErrorKind::TimedOut | ErrorKind::WouldBlock)),
        "connect to a cut host: {err:?}"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );

    host.restore();
    wait_for(
        "the restored host to accept TCP",
        Duration::from_secs(10),
        || tcp_connects(addr, Duration::from_secs(1)),
    );
    let out = host.ssh(&key, "echo back");
    assert_eq!(stdout(&out).trim(), "back", "{out:?}");
}

#[test]
fn several_netns_hosts_get_distinct_subnets() {
    let hosts = NetnsHost::start_many(2, HostOptions::default());
    assert_ne!(hosts[0].address(), hosts[1].address());
    assert_ne!(hosts[0].namespace(), hosts[1].namespace());
    for h in &hosts {
        assert!(tcp_connects(h.ssh_addr(), Duration::from_secs(1)));
    }
}

#[test]
fn frozen_sshd_accepts_tcp_but_never_speaks() {
    let host = TestHost::start(HostOptions::default());
    host.stop_sshd_hanging();

    let mut s = TcpStream::connect_timeout(&host.ssh_addr(), Duration::from_secs(1))
        .expect("the kernel still completes the handshake");
    s.set_read_timeout(Some(Duration::from_secs(1)))
        .expect("setting a read timeout");
    let mut buf = [0u8; 64];
    let read = s.read(&mut buf);
    assert!(
        matches!(&read, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "expected no banner within 1 s, got {read:?}"
    );

    // Thawed, it answers the waiting connection.
    host.resume_sshd();
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("setting a read timeout");
    let n = s.read(&mut buf).expect("reading the banner");
    assert!(
        buf[..n].starts_with(b"SSH-2.0-"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
}

#[test]
fn daemons_can_be_killed_stopped_and_brought_back() {
    let key = ClientKey::generate();
    let host = TestHost::start(HostOptions {
        authorized_keys: vec![key.public_line().to_string()],
        ..HostOptions::default()
    });
    host.add_program("sleeper", "sleep 1000");

    host.kill_sshd();
    assert_eq!(
        connect_error(host.ssh_addr()),
        Some(ErrorKind::ConnectionRefused)
    );
    host.start_sshd();
    assert!(host.ssh(&key, "true").status.success());

    host.stop_supervisord();
    assert_eq!(host.program_state("sleeper"), None);
    let down = host.ctl(&["status"]);
    assert!(
        !matches!(down.status.code(), Some(0 | 3)),
        "status with supervisord down: {down:?}"
    );
    host.start_supervisord();
    // `autostart=true`: the program comes back with supervisord.
    host.wait_program_state("sleeper", "RUNNING", Duration::from_secs(10));

    let old_key = host.host_key_public();
    let old_pid = host.sshd_pid();
    host.regenerate_host_key();
    assert_ne!(host.host_key_public(), old_key);
    assert_ne!(host.sshd_pid(), old_pid);
    assert!(host.ssh(&key, "true").status.success());
}

/// A stand-in for `vr serve` with just enough API to exercise [`VrServer`] and the API client:
/// the real server may not exist yet when the harness is tested.
const FAKE_VR: &str = r#"#!/usr/bin/env python3
import json, os, secrets, signal, sys
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

args = sys.argv[1:]
assert args[0] == "serve" and "--no-browser" in args, args
listen = args[args.index("--listen") + 1]
data = args[args.index("--data-dir") + 1]
runs_file = os.path.join(data, "runs")
runs = int(open(runs_file).read()) + 1 if os.path.exists(runs_file) else 1
open(runs_file, "w").write(str(runs))
password = os.environ.get("VR_ADMIN_PASSWORD")
session, csrf = secrets.token_hex(8), secrets.token_hex(8)
user = {"id": 1, "username": "admin", "role": "admin", "disabled": False,
        "created_at": 0, "last_login_at": None}

def err(code, message):
    return {"error": {"code": code, "message": message}}

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, status, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def who(self):
        if self.headers.get("Authorization") == "Bearer sekrit":
            return "token"
        if ("vr_session=" + session) in (self.headers.get("Cookie") or ""):
            return "cookie"
        return None

    def do_GET(self):
        if self.path == "/api/health":
            return self.reply(200, {"status": "ok"})
        if self.path == "/api/runs":
            return self.reply(200, {"runs": runs})
        self.reply(404, err("not_found", "no such route"))

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n) or b"null")
        if self.path == "/api/auth/login":
            if password and body == {"username": "admin", "password": password}:
                cookie = "vr_session=%s; HttpOnly; SameSite=Strict; Path=/" % session
                return self.reply(200, {"user": user, "csrf_token": csrf}, [("Set-Cookie", cookie)])
            return self.reply(401, err("unauthorized", "wrong username or password"))
        if self.path == "/api/echo":
            how = self.who()
            if how is None:
                return self.reply(401, err("unauthorized", "log in first"))
            if how == "cookie" and self.headers.get("x-vr-csrf") != csrf:
                return self.reply(403, err("csrf", "missing or wrong CSRF token"))
            return self.reply(200, {"via": how, "body": body})
        self.reply(404, err("not_found", "no such route"))

signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
host, port = listen.rsplit(":", 1)
server = ThreadingHTTPServer((host, int(port)), Handler)
print("INFO vr::serve: first start: open http://%s/setup#token=%s" % (listen, secrets.token_urlsafe(16)), flush=True)
server.serve_forever()
"#;

fn fake_vr() -> (tempfile::TempDir, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir for the fake vr");
    let path = dir.path().join("vr");
    std::fs::write(&path, FAKE_VR).expect("writing the fake vr");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .expect("making the fake vr executable");
    (dir, path)
}

#[tokio::test]
async fn server_driver_and_api_client_work_against_a_stand_in() {
    let (_keep, binary) = fake_vr();
    let mut server = VrServer::start(ServerOptions {
        admin_password: Some("correct horse".into()),
        binary: Some(binary),
        ..ServerOptions::default()
    })
    .await;
    let token = server.setup_token().await;
    assert!(token.len() >= 16, "{token}");
    assert!(server.data_dir().join("runs").exists());

    // Cookie session: changes need the CSRF token the login returned.
    let api = server.admin().await;
    assert!(api.csrf_token().is_some());
    let reply = api
        .post("/api/echo", &serde_json::json!({"x": 1}))
        .await
        .expect_ok();
    assert_eq!(reply.value()["via"], "cookie");
    api.set_csrf_token(None);
    let refused = api.post("/api/echo", &serde_json::json!({})).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.error().code, "csrf");

    // Bearer token: no cookie, no CSRF.
    let cli = api.with_token("sekrit");
    let reply = cli
        .post("/api/echo", &serde_json::json!({}))
        .await
        .expect_status(200);
    assert_eq!(reply.value()["via"], "token");
    assert_eq!(
        server
            .client()
            .try_login("admin", "wrong")
            .await
            .error()
            .code,
        "unauthorized"
    );

    // Graceful stop, restart on the same port and data dir (a fresh log for the new run).
    let port = server.port();
    let status = server.stop();
    assert!(status.success(), "{status}");
    server.restart().await;
    assert_eq!(server.port(), port);
    assert_ne!(server.setup_token().await, token);
    let runs = server.client().get("/api/runs").await.expect_ok();
    assert_eq!(runs.value()["runs"], 2);

    // kill -9 mid-work: the port goes dead at once; restart brings it back.
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    server.kill();
    assert!(!tcp_connects(addr, Duration::from_secs(1)));
    server.restart().await;
    assert!(server.log().contains("/setup#token="));
}

#[tokio::test]
async fn browser_reads_a_page() {
    let t = Instant::now();
    let browser = Browser::start().await;
    eprintln!("browser started in {:?}", t.elapsed());
    browser
        .goto("data:text/html,<h1 id=x>hi</h1><input id=i>")
        .await;
    assert_eq!(browser.text("#x").await, "hi");
    browser.fill("#i", "typed").await;
    let value = browser
        .wait_for("#i")
        .await
        .prop("value")
        .await
        .expect("reading the input's value");
    assert_eq!(value.as_deref(), Some("typed"));
    let shot = browser.screenshot("harness-selftest-browser").await;
    assert!(std::fs::metadata(&shot).expect("screenshot file").len() > 100);
    std::fs::remove_file(shot).expect("removing the screenshot");
    browser.close().await;
}

#[test]
fn wait_until_returns_as_soon_as_the_condition_holds() {
    let t = Instant::now();
    let mut n = 0;
    assert!(wait_until(Duration::from_secs(5), || {
        n += 1;
        n == 3
    }));
    assert!(t.elapsed() < Duration::from_secs(1));
    assert!(!wait_until(Duration::from_millis(20), || false));
}
