//! The real `vr` process: first run, persistence, the embedded UI, the live channel, backups,
//! schema refusal and graceful shutdown.

use futures_util::StreamExt;
use std::time::Duration;
use vr_app::api::{AuthSession, Event, Me, SetupStatus, SshKey, VersionInfo, paths};
use vr_tests::harness::{ApiClient, ServerOptions, VrServer};

const PW: &str = "admin-password-1";

fn admin_server_opts() -> ServerOptions {
    ServerOptions {
        admin_password: Some(PW.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn first_start_prints_a_one_time_setup_link_and_setup_creates_the_admin() {
    let mut server = VrServer::start(ServerOptions::default()).await;
    let token = server.setup_token().await;
    let client = server.client();
    let status: SetupStatus = client.get(paths::SETUP).await.expect_ok().json();
    assert!(status.needed);
    // Nothing but setup works without a user.
    client.get(paths::ME).await.expect_status(401);
    // The UI's start-up question answers 200 without a session, naming the setup step.
    let session: AuthSession = client.get(paths::SESSION).await.expect_ok().json();
    assert_eq!(session.me, None);
    assert!(session.setup_needed);

    let bad =
        serde_json::json!({"token": "guess", "username": "root", "password": "long-enough-pw"});
    client.post(paths::SETUP, &bad).await.expect_status(403);
    let good =
        serde_json::json!({"token": token, "username": "root", "password": "long-enough-pw"});
    let me: Me = client.post(paths::SETUP, &good).await.expect_ok().json();
    assert_eq!(me.user.username, "root");
    assert_eq!(me.user.role, vr_app::Role::Admin);
    // The setup response signed us in.
    client.get(paths::ME).await.expect_ok();
    let session: AuthSession = client.get(paths::SESSION).await.expect_ok().json();
    assert_eq!(session.me.map(|m| m.user.username).as_deref(), Some("root"));
    assert!(!session.setup_needed);
    // The token is spent.
    client.post(paths::SETUP, &good).await.expect_status(409);

    // After a restart the account is still there and no setup link is printed.
    server.restart().await;
    assert!(!server.log_since_start().contains("setup#token"));
    let again = server.client();
    again.login("root", "long-enough-pw").await;
    let status: SetupStatus = again.get(paths::SETUP).await.expect_ok().json();
    assert!(!status.needed);
}

#[tokio::test]
async fn admin_password_env_creates_the_admin_headless() {
    let server = VrServer::start(admin_server_opts()).await;
    assert!(!server.log().contains("setup#token"));
    let admin = server.admin().await;
    let events: Vec<Event> = admin.get(paths::EVENTS).await.expect_ok().json();
    assert!(
        events
            .iter()
            .any(|e| e.action == "setup.admin_create" && e.actor == "system"),
        "{events:?}"
    );
    let v: VersionInfo = admin.get(paths::VERSION).await.expect_ok().json();
    assert_eq!(v.version, env!("CARGO_PKG_VERSION"));
    assert!(v.schema_version >= 1);
}

#[tokio::test]
async fn the_embedded_ui_is_served_with_spa_fallback_types_caching_and_gzip() {
    let server = VrServer::start(admin_server_opts()).await;
    let http = reqwest::Client::new();
    let index = http.get(server.url("/")).send().await.expect("GET /");
    assert_eq!(index.status(), 200);
    assert_eq!(
        index.headers()["content-type"].to_str().ok(),
        Some("text/html")
    );
    assert_eq!(index.headers()["cache-control"], "no-cache");
    let html = index.text().await.expect("body");
    assert!(html.contains(".wasm"), "the UI is embedded: {html}");

    // A client-side route reloads to the same page.
    let route = http
        .get(server.url("/activity"))
        .send()
        .await
        .expect("GET /activity");
    assert_eq!(route.status(), 200);
    assert_eq!(route.text().await.expect("body"), html);

    // The hashed wasm: right type, cached for good, gzip when asked.
    let wasm_path = html
        .split(['"', '\''])
        .find(|s| s.ends_with(".wasm"))
        .expect("a .wasm reference in index.html")
        .to_string();
    let wasm_url = server.url(&format!("/{}", wasm_path.trim_start_matches('/')));
    let wasm = http
        .get(&wasm_url)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("GET wasm");
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(wasm.headers()["content-encoding"], "gzip");
    assert!(
        wasm.headers()["cache-control"]
            .to_str()
            .unwrap_or_default()
            .contains("immutable")
    );
    let etag = wasm.headers()["etag"].clone();
    let revalidated = http
        .get(&wasm_url)
        .header("if-none-match", etag)
        .send()
        .await
        .expect("conditional GET");
    assert_eq!(revalidated.status(), 304);

    let missing = http
        .get(server.url("/nothing-here.js"))
        .send()
        .await
        .expect("GET missing");
    assert_eq!(missing.status(), 404);
    let api_missing = server.client().get("/api/nothing").await.expect_status(404);
    assert_eq!(api_missing.error().code, "not_found");
}

#[tokio::test]
async fn the_live_stream_delivers_new_events() {
    let server = VrServer::start(admin_server_opts()).await;
    let admin = server.admin().await;
    let resp = open_stream(&server, &admin).await;
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut body = resp.bytes_stream();

    let new_user =
        serde_json::json!({"username": "carol", "password": "carol-password", "role": "viewer"});
    admin.post(paths::USERS, &new_user).await.expect_status(201);

    let mut seen = String::new();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(chunk)) = body.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("\"action\":\"user.create\"") && seen.contains("user:carol") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "stream so far: {seen}");
}

#[tokio::test]
async fn sigterm_shuts_down_gracefully_even_with_an_open_stream() {
    let mut server = VrServer::start(admin_server_opts()).await;
    let admin = server.admin().await;
    let _stream = open_stream(&server, &admin).await;
    let status = server.stop();
    assert!(status.success(), "exit status {status}");
    assert!(server.log().contains("stopped"));
}

#[tokio::test]
async fn a_database_newer_than_the_binary_is_refused_with_a_clear_message() {
    let mut server = VrServer::start(admin_server_opts()).await;
    let db = server.data_dir().join("vr.db");
    server.stop();
    {
        let conn = rusqlite::Connection::open(&db).expect("open db");
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        conn.pragma_update(None, "user_version", v + 1)
            .expect("bump version");
    }
    let mut refused = VrServer::spawn(ServerOptions {
        data_dir: Some(server.data_dir().to_path_buf()),
        ..admin_server_opts()
    });
    let line = refused
        .wait_for_log("newer than this vr", Duration::from_secs(20))
        .await;
    assert!(line.contains("schema"), "{line}");
    let status = refused.stop();
    assert!(
        !status.success(),
        "vr must exit with an error, got {status}"
    );
}

#[tokio::test]
async fn backup_copies_a_running_servers_database() {
    let server = VrServer::start(admin_server_opts()).await;
    let admin = server.admin().await;
    let new_user =
        serde_json::json!({"username": "dave", "password": "dave-password", "role": "deployer"});
    admin.post(paths::USERS, &new_user).await.expect_status(201);

    // As the README shows it: `vr backup vr-backup.db`, a file where it runs.
    let dest = server.temp_dir().join("vr-backup.db");
    let out = vr_cmd(&server)
        .current_dir(server.temp_dir())
        .args(["backup", "vr-backup.db"])
        .output()
        .expect("run vr backup");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = rusqlite::Connection::open(&dest).expect("open copy");
    let users: Vec<String> = copy
        .prepare("SELECT username FROM users ORDER BY username")
        .and_then(|mut st| {
            st.query_map([], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()
        })
        .expect("query copy");
    assert_eq!(users, vec!["admin".to_string(), "dave".to_string()]);

    // A second backup to the same file is refused rather than overwriting it.
    let out = vr_cmd(&server)
        .arg("backup")
        .arg(&dest)
        .output()
        .expect("run vr backup");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}

#[tokio::test]
async fn the_ssh_key_is_made_once_private_and_shown_in_api_and_cli() {
    use std::os::unix::fs::PermissionsExt;
    let mut server = VrServer::start(admin_server_opts()).await;
    let admin = server.admin().await;
    let key: SshKey = admin.get(paths::SSH_KEY).await.expect_ok().json();
    assert!(key.public_key.starts_with("ssh-ed25519 "), "{key:?}");
    assert!(key.fingerprint.starts_with("SHA256:"));
    let private = server.data_dir().join("ssh/id_ed25519");
    let mode = std::fs::metadata(&private)
        .expect("private key")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let out = vr_cmd(&server).arg("pubkey").output().expect("vr pubkey");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), key.public_key);

    server.restart().await;
    let admin = server.admin().await;
    let again: SshKey = admin.get(paths::SSH_KEY).await.expect_ok().json();
    assert_eq!(again, key, "the key survives restarts");
}

/// `vr` pointed at this server's data dir, with no settings leaking in from the environment.
pub fn vr_cmd(server: &VrServer) -> std::process::Command {
    let mut cmd = std::process::Command::new(vr_tests::harness::server::default_vr_binary());
    cmd.env("VR_DATA_DIR", server.data_dir())
        .env_remove("VR_URL")
        .env_remove("VR_TOKEN")
        .env("VR_CREDENTIALS", server.temp_dir().join("credentials.toml"))
        .stdin(std::process::Stdio::null());
    cmd
}

#[tokio::test]
async fn the_live_stream_ends_when_its_session_is_signed_out() {
    let server = VrServer::start(admin_server_opts()).await;
    let admin = server.admin().await;
    let resp = open_stream(&server, &admin).await;
    admin.post_empty(paths::LOGOUT).await.expect_status(204);
    // The server re-checks open streams every 10 s; the stream must end soon after.
    let mut body = resp.bytes_stream();
    let ended = tokio::time::timeout(Duration::from_secs(25), async {
        while let Some(Ok(_)) = body.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream outlived its session");
}

/// Opens the live stream as `client` and checks the server accepted it.
async fn open_stream(server: &VrServer, client: &ApiClient) -> reqwest::Response {
    let resp = client
        .http()
        .get(server.url(paths::STREAM))
        .send()
        .await
        .expect("open stream");
    assert_eq!(resp.status(), 200);
    resp
}

/// The unit's `[Service]` lines as `(key, value)`.
fn unit_lines(unit: &str) -> Vec<(String, String)> {
    unit.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

#[tokio::test]
async fn the_systemd_unit_the_readme_shows_starts_vr_as_written() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let unit =
        std::fs::read_to_string(root.join("packaging/vr.service")).expect("packaging/vr.service");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    assert!(
        readme.contains(&format!("```ini\n{unit}```")),
        "the README's unit and packaging/vr.service differ"
    );
    let lines = unit_lines(&unit);
    let get = |k: &str| {
        lines
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {k}= in the unit"))
    };
    // Run its ExecStart as systemd would: its environment, its arguments (another port, a
    // temporary data dir), the binary built here.
    let exec = get("ExecStart");
    let mut words = exec.split_whitespace();
    assert_eq!(words.next(), Some("/usr/local/bin/vr"));
    let port = vr_tests::harness::free_port();
    let args: Vec<String> = words
        .map(|w| {
            if w.starts_with("127.0.0.1:") {
                format!("127.0.0.1:{port}")
            } else {
                w.to_string()
            }
        })
        .collect();
    let data = tempfile::tempdir().expect("data dir");
    let env = get("Environment");
    let (key, _) = env.split_once('=').expect("KEY=VALUE");
    let mut child = std::process::Command::new(vr_tests::harness::server::default_vr_binary())
        .args(&args)
        .env_clear()
        .env(key, data.path())
        .env("VR_ADMIN_PASSWORD", PW)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("vr serve");
    let client = ApiClient::new(&format!("http://127.0.0.1:{port}"));
    let until = std::time::Instant::now() + Duration::from_secs(20);
    let mut up = false;
    while std::time::Instant::now() < until {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}{}", paths::HEALTH)).await {
            up = r.status().is_success();
            if up {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "vr did not start as the unit runs it");
    client.login("admin", PW).await;
    // Its data went where the unit's environment says.
    assert!(data.path().join("vr.db").exists());
    // The stop signal it names ends it cleanly.
    assert_eq!(get("KillSignal"), "SIGTERM");
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("signal");
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn old_activity_and_failed_builds_logs_are_pruned_at_start_and_the_pruning_is_logged() {
    let mut server = VrServer::start(admin_server_opts()).await;
    let api = server.admin().await;
    // Activity now: a few events; and a failed build's log, as a build leaves it.
    for name in ["a", "b", "c"] {
        api.post(
            "/api/squads",
            &serde_json::json!({"name": name, "description": ""}),
        )
        .await
        .expect_status(201);
    }
    server.stop();
    // A year and a half passes for two of them; one failed build's log is as old.
    let db = server.data_dir().join("vr.db");
    let year_and_half_ms: i64 = 548 * 86_400_000;
    {
        let c = rusqlite::Connection::open(&db).expect("db");
        c.execute(
            "UPDATE events SET at = at - ?1 WHERE object IN ('squad:a', 'squad:b')",
            [year_and_half_ms],
        )
        .expect("age events");
    }
    let logs = server.data_dir().join("build-logs");
    std::fs::create_dir_all(&logs).expect("logs dir");
    let old_log = logs.join("4242.log");
    std::fs::write(&old_log, "compile error\n").expect("log");
    let old = std::time::SystemTime::now() - Duration::from_secs(548 * 86_400);
    std::fs::File::options()
        .write(true)
        .open(&old_log)
        .and_then(|f| f.set_modified(old))
        .expect("age the log");
    let fresh_log = logs.join("4243.log");
    std::fs::write(&fresh_log, "compile error\n").expect("log");

    server.restart().await;
    let api = server.admin().await;
    let until = std::time::Instant::now() + Duration::from_secs(20);
    let events = loop {
        let events: Vec<Event> = api.get("/api/events?limit=500").await.expect_ok().json();
        if events.iter().any(|e| e.action == "retention.prune") {
            break events;
        }
        assert!(
            std::time::Instant::now() < until,
            "no retention.prune event: {events:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let objects: Vec<&str> = events.iter().map(|e| e.object.as_str()).collect();
    assert!(
        !objects.contains(&"squad:a") && !objects.contains(&"squad:b"),
        "{objects:?}"
    );
    assert!(objects.contains(&"squad:c"), "{objects:?}");
    let prune = events
        .iter()
        .find(|e| e.action == "retention.prune")
        .expect("prune event");
    assert!(prune.detail.starts_with("2 event(s)"), "{}", prune.detail);
    assert!(prune.detail.ends_with("1 build log(s)"), "{}", prune.detail);
    assert!(!old_log.exists());
    assert!(fresh_log.exists());
}
