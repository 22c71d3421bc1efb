//! The command line against a real server: login (interactive-free), whoami, events, logout.

use super::server_process::vr_cmd;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::Duration;
use vr_app::api::paths;
use vr_tests::harness::{ServerOptions, VrServer};

const PW: &str = "admin-password-1";

fn login(server: &VrServer, password: &str) -> std::process::Output {
    let mut child = vr_cmd(server)
        .args([
            "login",
            "--url",
            &server.base_url(),
            "--user",
            "admin",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn vr login");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write password");
    child.wait_with_output().expect("vr login")
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test]
async fn login_whoami_events_and_logout() {
    let server = VrServer::start(ServerOptions {
        admin_password: Some(PW.into()),
        ..Default::default()
    })
    .await;

    let out = login(&server, "wrong-password");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("wrong username or password"),
        "{}",
        text(&out)
    );

    let out = login(&server, PW);
    assert!(out.status.success(), "{}", text(&out));
    let creds = server.temp_dir().join("credentials.toml");
    let mode = std::fs::metadata(&creds)
        .expect("credentials saved")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let saved = std::fs::read_to_string(&creds).expect("read credentials");
    let secret = saved
        .lines()
        .find_map(|l| l.strip_prefix("token = \""))
        .and_then(|s| s.strip_suffix('"'))
        .expect("token line")
        .to_string();

    let out = vr_cmd(&server).arg("whoami").output().expect("whoami");
    assert_eq!(
        text(&out).trim(),
        format!("admin (admin) on {}", server.base_url())
    );

    let out = vr_cmd(&server)
        .args(["events", "--limit", "10"])
        .output()
        .expect("events");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("token.create"), "{}", text(&out));
    let out = vr_cmd(&server)
        .args(["events", "--json", "--action", "user.login"])
        .output()
        .expect("events --json");
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let e: vr_app::api::Event = serde_json::from_str(line).expect("one event per line");
        assert_eq!(e.action, "user.login");
    }

    let out = vr_cmd(&server).arg("logout").output().expect("logout");
    assert!(text(&out).contains("token revoked"), "{}", text(&out));
    assert!(!creds.exists());
    // The token no longer works anywhere.
    server
        .client()
        .with_token(&secret)
        .get(paths::ME)
        .await
        .expect_status(401);
    let out = vr_cmd(&server).arg("whoami").output().expect("whoami");
    assert!(!out.status.success());
    assert!(text(&out).contains("not signed in"), "{}", text(&out));
}

#[tokio::test]
async fn a_missing_server_and_a_bad_url_get_clear_messages() {
    let server = VrServer::start(ServerOptions {
        admin_password: Some(PW.into()),
        ..Default::default()
    })
    .await;
    let out = vr_cmd(&server)
        .args(["whoami", "--url", "http://127.0.0.1:9", "--token", "vrt_x"])
        .output()
        .expect("whoami");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("cannot reach the vr server"),
        "{}",
        text(&out)
    );
    let out = vr_cmd(&server)
        .args(["whoami", "--url", "ftp://x", "--token", "vrt_x"])
        .output()
        .expect("whoami");
    assert!(
        text(&out).contains("must start with http://"),
        "{}",
        text(&out)
    );
    let out = vr_cmd(&server)
        .args([
            "whoami",
            "--url",
            &server.base_url(),
            "--token",
            "vrt_forged",
        ])
        .output()
        .expect("whoami");
    assert!(
        text(&out).contains("unknown or revoked API token"),
        "{}",
        text(&out)
    );
}

#[tokio::test]
async fn events_follow_prints_new_events_as_they_happen() {
    let server = VrServer::start(ServerOptions {
        admin_password: Some(PW.into()),
        ..Default::default()
    })
    .await;
    assert!(login(&server, PW).status.success());
    let mut child = vr_cmd(&server)
        .args([
            "events",
            "--follow",
            "--limit",
            "1",
            "--action",
            "user.create",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("events --follow");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let admin = server.admin().await;
    // The follower may subscribe after our first change; keep making users until one shows.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut lines = Vec::new();
    for n in 0.. {
        let body = serde_json::json!({"username": format!("u{n}"), "password": "password-123", "role": "viewer"});
        admin.post(paths::USERS, &body).await.expect_status(201);
        tokio::time::sleep(Duration::from_millis(200)).await;
        lines.extend(rx.try_iter());
        if lines
            .iter()
            .any(|l| l.contains("user.create") && l.contains("user:u"))
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no user.create line from vr events --follow; got {lines:?}"
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `vr completions SHELL`'s script, which must succeed.
fn completions(shell: &str) -> String {
    let out = std::process::Command::new(vr_tests::harness::server::default_vr_binary())
        .args(["completions", shell])
        .output()
        .expect("vr completions");
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn completion_scripts_complete_commands_and_flags_in_bash_and_name_them_for_zsh_and_fish() {
    let dir = tempfile::tempdir().expect("dir");
    let script = dir.path().join("vr.bash");
    std::fs::write(&script, completions("bash")).expect("write");
    // Bash itself runs the completion function as it would on Tab.
    let complete = |words: &str, cword: usize| {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source {}; COMP_WORDS=({words}); COMP_CWORD={cword}; \
                 _vr vr \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; \
                 printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                script.display()
            ))
            .output()
            .expect("bash");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(complete("vr list-s", 1).trim(), "list-swarms");
    assert_eq!(complete("vr swarm --dr", 2).trim(), "--dry-run");
    assert!(complete("vr comp", 1).contains("completions"));
    let zsh = completions("zsh");
    assert!(
        zsh.starts_with("#compdef vr"),
        "{}",
        &zsh[..80.min(zsh.len())]
    );
    assert!(zsh.contains("list-swarms"));
    let fish = completions("fish");
    assert!(fish.contains("complete -c vr") && fish.contains("list-swarms"));
    // An unknown shell is refused, naming the ones there are.
    let out = std::process::Command::new(vr_tests::harness::server::default_vr_binary())
        .args(["completions", "tcsh"])
        .output()
        .expect("vr completions");
    assert!(!out.status.success());
    assert!(text(&out).contains("bash"), "{}", text(&out));
}

#[tokio::test]
async fn a_dispatch_shows_a_progress_bar_on_a_terminal_and_plain_lines_in_a_pipe() {
    let server = super::fleet::fleet_server().await;
    let api = server.admin().await;
    let repo = super::deploys::web_app();
    super::builds::add_app(&api, "web", &repo).await;
    super::swarms::add_squad(&api).await;
    super::swarms::create_swarm(&api, &super::swarms::web_swarm(1)).await;
    let token = super::fleet::cli_token(&api).await;
    // A dry run with no build of the version ends at once (failed): enough to draw the bar.
    let args = ["swarm", "web-prod-web", "-", "--dry-run"];
    let piped = vr_cmd(&server)
        .env("VR_URL", server.base_url())
        .env("VR_TOKEN", &token)
        .args(args)
        .output()
        .expect("vr swarm");
    let plain = text(&piped);
    assert!(plain.contains("web-prod-web"), "{plain}");
    assert!(!plain.contains("\x1b[2K"), "{plain:?}");
    // Under a terminal (script(1) gives it one) the bar is drawn, full at the end.
    let line = format!(
        "{} {}",
        vr_tests::harness::server::default_vr_binary().display(),
        args.join(" ")
    );
    let tty = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("VR_URL", server.base_url())
        .env("VR_TOKEN", &token)
        .env("VR_CREDENTIALS", server.temp_dir().join("credentials.toml"))
        .stdin(Stdio::null())
        .output()
        .expect("script");
    let drawn = text(&tty);
    assert!(drawn.contains("\x1b[2K["), "{drawn:?}");
    assert!(
        drawn.contains(&format!("[{}] 1/1", "#".repeat(24))),
        "{drawn:?}"
    );
}
