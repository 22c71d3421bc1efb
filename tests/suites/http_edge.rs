//! The HTTP edge of the real `vr` process under hostile clients: connections that never send
//! their headers, one address holding every connection, a stalled upload, a server that never
//! answers the CLI, HTTPS between the CLI and a TLS proxy, and the start-up warning about
//! listening beyond loopback without secure cookies; also hostile input on the CLI and the API.

use super::fleet::{PW, fleet_server, vr};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vr_app::fleet::{Host, HostPatch, NewHost, paths};
use vr_tests::harness::tls::{Nginx, test_certificates};
use vr_tests::harness::{ServerOptions, VrServer, free_port};

/// Reads until the other side closes; the time it took, or `None` if it stayed open `limit`.
async fn closed_within(stream: &mut tokio::net::TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(
            tokio::time::Instant::from_std(started + limit),
            stream.read(&mut buf),
        )
        .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
            Err(_) => return None,
        }
    }
}

async fn raw_get(from: [u8; 4], port: u16, path: &str) -> String {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(std::net::SocketAddr::from((from, 0)))
        .expect("bind the source address");
    let mut s = socket
        .connect(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .expect("connect");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .expect("send");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn slow_and_greedy_clients_cannot_take_the_server() {
    let server = VrServer::start(ServerOptions {
        admin_password: Some(PW.into()),
        ..Default::default()
    })
    .await;
    let port = server.port();
    // A client that starts a request and never finishes its headers is cut off.
    let mut slow = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    slow.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("send");
    // One address holding as many connections as it may: the next is closed at once, while
    // another address is served.
    let mut held = Vec::new();
    for _ in 0..64 {
        held.push(
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connect"),
        );
    }
    let mut one_more = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("the kernel accepts it");
    let took = closed_within(&mut one_more, Duration::from_secs(5)).await;
    assert!(
        took.is_some(),
        "the 66th connection of one address stayed open"
    );
    let answer = raw_get([127, 0, 0, 2], port, "/api/health").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(held);
    let took = closed_within(&mut slow, Duration::from_secs(20))
        .await
        .expect("the slow client was never cut off");
    assert!(
        took >= Duration::from_secs(5),
        "cut off too early: {took:?}"
    );
    // And the server still answers everyone.
    let answer = raw_get([127, 0, 0, 1], port, "/api/health").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_stalled_upload_is_refused_and_leaves_no_file() {
    let server = fleet_server().await;
    let api = server.admin().await;
    let repo = vr_tests::harness::git::shell_app();
    super::builds::add_app(&api, "shop", &repo).await;
    // One piece, then nothing, while the connection stays open.
    use futures_util::StreamExt;
    let body = futures_util::stream::once(async {
        Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"\x1f\x8b partial"))
    })
    .chain(futures_util::stream::pending());
    let started = Instant::now();
    let resp = api
        .http()
        .post(server.url("/api/apps/shop/builds?version=v1"))
        .header("x-vr-csrf", api.csrf_token().unwrap_or_default())
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .expect("an answer");
    assert_eq!(resp.status(), 408, "after {:?}", started.elapsed());
    let text = resp.text().await.unwrap_or_default();
    assert!(text.contains("stalled"), "{text}");
    let leftovers: Vec<_> = std::fs::read_dir(server.data_dir().join("artifacts"))
        .expect("artifacts")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn the_cli_gives_up_on_a_server_that_never_answers() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    // Accepts, reads, never answers.
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        for s in listener.incoming().flatten() {
            kept.push(s);
        }
    });
    let started = Instant::now();
    let out = Command::new(vr_tests::harness::server::default_vr_binary())
        .args([
            "whoami",
            "--url",
            &format!("http://127.0.0.1:{port}"),
            "--timeout",
            "2",
        ])
        .env("VR_TOKEN", "vrt_nothing")
        .env("VR_CREDENTIALS", "/nonexistent/credentials.toml")
        .stdin(Stdio::null())
        .output()
        .expect("vr");
    let took = started.elapsed();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("did not answer within 2 s"), "{text}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[tokio::test]
async fn listening_beyond_loopback_without_secure_cookies_is_warned_about() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(vr_tests::harness::server::default_vr_binary())
        .args([
            "serve",
            "--no-browser",
            "--listen",
            &format!("0.0.0.0:{}", free_port()),
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .env("VR_ADMIN_PASSWORD", PW)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("log")).expect("log"))
        .spawn()
        .expect("vr serve");
    let until = Instant::now() + Duration::from_secs(20);
    let log = loop {
        let log = std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
        // The warning comes before the line saying it listens.
        if log.contains("listening on") {
            break log;
        }
        assert!(Instant::now() < until, "no start-up line: {log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(log.contains("without secure cookies"), "{log}");
}

#[tokio::test]
async fn the_cli_speaks_https_to_a_tls_proxy() {
    let server = fleet_server().await;
    let api = server.admin().await;
    let cli = super::fleet::cli_token(&api).await;
    let dir = tempfile::tempdir().expect("tempdir");
    test_certificates(dir.path(), &["IP:127.0.0.1"]);
    let tls_port = free_port();
    let d = dir.path().display();
    let nginx = Nginx::start(
        Command::new("nginx"),
        dir.path(),
        &format!(
            "server {{ listen 127.0.0.1:{tls_port} ssl; ssl_certificate {d}/server.pem;\n\
             ssl_certificate_key {d}/server.key; location / {{ proxy_pass {}; }} }}",
            server.base_url()
        ),
    );
    let until = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", tls_port)).is_err() {
        assert!(Instant::now() < until, "nginx did not listen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let url = format!("https://127.0.0.1:{tls_port}");
    let whoami = |ca: Option<&std::path::Path>| {
        let mut cmd = super::server_process::vr_cmd(&server);
        cmd.args(["whoami", "--url", &url]).env("VR_TOKEN", &cli);
        if let Some(ca) = ca {
            cmd.env("SSL_CERT_FILE", ca);
        } else {
            cmd.env("SSL_CERT_FILE", dir.path().join("none.pem"));
        }
        cmd.output().expect("vr whoami")
    };
    let ok = whoami(Some(&dir.path().join("ca.pem")));
    drop(nginx);
    assert!(
        ok.status.success(),
        "{}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("admin"));
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_by_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    test_certificates(dir.path(), &["IP:127.0.0.1"]);
    // A TLS server whose CA the CLI does not know.
    let port = free_port();
    let mut server = Command::new("openssl")
        .args(["s_server", "-quiet", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-cert", "server.pem", "-key", "server.key"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server");
    let until = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "s_server did not listen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let out = Command::new(vr_tests::harness::server::default_vr_binary())
        .args([
            "whoami",
            "--url",
            &format!("https://127.0.0.1:{port}"),
            "--timeout",
            "5",
        ])
        .env("VR_TOKEN", "vrt_x")
        .env("VR_CREDENTIALS", "/nonexistent/credentials.toml")
        .env("SSL_CERT_FILE", dir.path().join("none.pem"))
        .stdin(Stdio::null())
        .output()
        .expect("vr");
    let _ = server.kill();
    let _ = server.wait();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(
        text.contains("certificate") || text.contains("issuer"),
        "{text}"
    );
}

#[tokio::test]
async fn hostile_input_on_the_cli_and_the_api_gets_clear_errors() {
    let server = fleet_server().await;
    let api = server.admin().await;
    let cli = super::fleet::cli_token(&api).await;
    // Files that never end and volumes with two colons are refused before anything is sent.
    let (ok, text) = vr(
        &server,
        &cli,
        &["release", "create", "1", "--settings", "/dev/zero"],
    );
    assert!(!ok && text.contains("larger than"), "{text}");
    let (ok, text) = vr(
        &server,
        &cli,
        &["release", "create", "1", "--volume", "/a:/b:/c"],
    );
    assert!(!ok && text.contains("HOST_DIR:MOUNT_DIR"), "{text}");
    // Addresses that are no addresses name the address field, not the name.
    for bad in [":::::", "a..b", "1.1.1.1.1.1", "1.2.3.4:22", "300.0.0.1"] {
        let err = api
            .post(
                paths::HOSTS,
                &NewHost {
                    address: bad.into(),
                    ..Default::default()
                },
            )
            .await
            .expect_status(400)
            .error();
        assert_eq!(err.field.as_deref(), Some("address"), "{bad}: {err:?}");
    }
    // The README's own buildpack example, exactly as written there.
    let (ok, text) = vr(
        &server,
        &cli,
        &[
            "buildpack",
            "add",
            "https://github.com/org/buildpack-python.git#v3",
            "--description",
            "python",
        ],
    );
    assert!(ok, "{text}");
    let bps: Vec<vr_app::build::Buildpack> = api.get("/api/buildpacks").await.expect_ok().json();
    assert_eq!(bps.len(), 1);
    assert_eq!(bps[0].url, "https://github.com/org/buildpack-python.git#v3");
    // And its URL can be edited.
    let (ok, text) = vr(
        &server,
        &cli,
        &[
            "buildpack",
            "edit",
            &bps[0].id.to_string(),
            "--git-url",
            "https://github.com/org/buildpack-python.git#v4",
        ],
    );
    assert!(ok, "{text}");
    let bps: Vec<vr_app::build::Buildpack> = api.get("/api/buildpacks").await.expect_ok().json();
    assert_eq!(bps[0].url, "https://github.com/org/buildpack-python.git#v4");
}

#[tokio::test]
async fn parallel_edits_of_one_host_lose_nothing_and_renames_tell_the_truth() {
    let server = fleet_server().await;
    let api = std::sync::Arc::new(server.admin().await);
    let _: Host = api
        .post(
            paths::HOSTS,
            &NewHost {
                address: "db-1.invalid".into(),
                name: Some("h".into()),
                active: Some(false),
                ..Default::default()
            },
        )
        .await
        .expect_status(201)
        .json();
    // Twenty renames at once: one wins, the others find no host of that name any more.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let api = std::sync::Arc::clone(&api);
        tasks.push(tokio::spawn(async move {
            api.patch(
                &paths::host("h"),
                &HostPatch {
                    name: Some(format!("h{i}")),
                    ..Default::default()
                },
            )
            .await
            .status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("join"));
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| matches!(s, 200 | 404)),
        "{statuses:?}"
    );
    let events: Vec<vr_app::api::Event> = api
        .get("/api/events?action=host.update")
        .await
        .expect_ok()
        .json();
    assert_eq!(events.len(), 1, "{events:?}");
    let hosts: Vec<Host> = api.get(paths::HOSTS).await.expect_ok().json();
    assert_eq!(hosts.len(), 1);
    assert!(
        events[0].detail.contains(&hosts[0].settings.name),
        "{events:?}"
    );
    // Edits of different fields at once all land.
    let name = hosts[0].settings.name.clone();
    let mut tasks = Vec::new();
    for i in 0..10u16 {
        let api = std::sync::Arc::clone(&api);
        let name = name.clone();
        tasks.push(tokio::spawn(async move {
            let patch = if i % 2 == 0 {
                HostPatch {
                    notes: Some(format!("note {i}")),
                    ..Default::default()
                }
            } else {
                HostPatch {
                    port: Some(2200 + i),
                    ..Default::default()
                }
            };
            api.patch(&paths::host(&name), &patch).await.status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("join"), 200);
    }
    let h: Host = api.get(&paths::host(&name)).await.expect_ok().json();
    assert!(h.settings.notes.starts_with("note "), "{h:?}");
    assert!(h.settings.port > 2200, "{h:?}");
    let events: Vec<vr_app::api::Event> = api
        .get("/api/events?action=host.update&limit=100")
        .await
        .expect_ok()
        .json();
    // Each event says what it changed from what it really was.
    for e in &events {
        assert!(e.detail.contains('→'), "{e:?}");
    }
}
