//! Notifications against receivers this test runs on loopback: webhooks added from the CLI and
//! the API, a host lost and back on a real harness host as the events, vr's JSON body signed
//! with HMAC-SHA256 (checked here with an HMAC written apart from vr's), retries with backoff
//! after 500s under one delivery id, a receiver that hangs costing only its own deliveries, a
//! Slack body, a test notification, deliveries listed, disabling, and bad input by field.

use super::fleet::{cli_token, fleet_server_with, hosts_for, make_user, vr};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use vr_app::fleet::Health;
use vr_app::notify::{NewWebhook, NotifyEvent, WebhookFormat, WebhookSecret, paths};
use vr_tests::harness::fleet::{add_host, wait_health};
use vr_tests::harness::ports::wait_until_async;

const WAIT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> String {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

/// A loopback HTTP receiver: answers its requests with `statuses` in turn (the last one
/// repeats), or never answers (`statuses` empty), and keeps what it got.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(statuses: &'static [u16]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let kept = Arc::clone(&got);
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let kept = Arc::clone(&kept);
                tokio::spawn(async move {
                    let Some(r) = read_request(&mut sock).await else {
                        return;
                    };
                    let n = {
                        let mut all = kept.lock().unwrap_or_else(|p| p.into_inner());
                        all.push(r);
                        all.len()
                    };
                    let Some(status) = statuses.get((n - 1).min(statuses.len().saturating_sub(1)))
                    else {
                        // Hang: hold the connection, answer nothing.
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        return;
                    };
                    let answer = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: 4\r\nconnection: close\r\n\r\nnope"
                    );
                    let _ = sock.write_all(answer.as_bytes()).await;
                });
            }
        });
        Receiver { url, got }
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    async fn wait(&self, what: &str, ok: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let seen = wait_until_async(WAIT, || async { ok(&self.got()) }).await;
        assert!(seen, "the receiver never got {what}; got {:#?}", self.got());
        self.got()
    }
}

async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Received {
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    })
}

/// HMAC-SHA256 (RFC 2104), written here apart from the server's.
fn hmac_sha256(key: &[u8], message: &[u8]) -> String {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| k.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    format!("sha256={}", hex::encode(outer))
}

#[tokio::test]
async fn webhooks_are_signed_retried_logged_and_a_hanging_receiver_stays_apart() {
    let server = fleet_server_with(vec![
        ("VR_WEBHOOK_RETRY_MS".into(), "200".into()),
        ("VR_WEBHOOK_TIMEOUT_MS".into(), "1000".into()),
    ])
    .await;
    let api = server.admin().await;
    let token = cli_token(&api).await;
    let t = token.as_str();
    // Two failures, then accepted; never answering; a chat.
    let flaky = Receiver::start(&[500, 500, 200]).await;
    let hanging = Receiver::start(&[]).await;
    let chat = Receiver::start(&[200]).await;

    let (ok, out) = vr(
        &server,
        t,
        &[
            "webhook",
            "add",
            "ops",
            &flaky.url,
            "--events",
            "host.unreachable,host.recovered",
        ],
    );
    assert!(ok, "{out}");
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("signing secret (shown once): "))
        .expect("the secret is printed once")
        .to_string();
    for (name, url, format) in [
        ("hang", &hanging.url, WebhookFormat::Json),
        ("chat", &chat.url, WebhookFormat::Slack),
    ] {
        let made: WebhookSecret = api
            .post(
                paths::WEBHOOKS,
                &NewWebhook {
                    name: name.into(),
                    url: url.clone(),
                    events: vec![NotifyEvent::HostUnreachable],
                    format,
                    secret: None,
                },
            )
            .await
            .expect_status(201)
            .json();
        assert!(made.secret.is_some_and(|s| s.len() >= 32));
    }
    // Bad input, by field; and only admins see webhooks.
    let (ok, out) = vr(
        &server,
        t,
        &[
            "webhook",
            "add",
            "bad",
            "ftp://x/",
            "--events",
            "build.failed",
        ],
    );
    assert!(!ok && out.contains("field url"), "{out}");
    let (ok, out) = vr(
        &server,
        t,
        &["webhook", "add", "bad", &chat.url, "--events", "build.done"],
    );
    assert!(!ok && out.contains("unknown event \"build.done\""), "{out}");
    let r = api
        .post(
            paths::WEBHOOKS,
            &serde_json::json!({"name": "x", "url": chat.url, "events": []}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let viewer = make_user(&server, &api, "val", "viewer").await;
    assert_eq!(viewer.get(paths::WEBHOOKS).await.status, 403);

    // A real host goes away, then comes back.
    let hosts = hosts_for(&api, 1).await;
    add_host(&api, &hosts[0], "h0", None).await;
    wait_health(&api, "h0", Health::Ok, WAIT).await;
    hosts[0].kill_sshd();
    wait_health(&api, "h0", Health::Unreachable, WAIT).await;

    // The flaky receiver: three attempts of one delivery (backoff 200 ms, then 800 ms), each
    // signed over the exact body.
    let got = flaky
        .wait("host.unreachable three times", |g| g.len() >= 3)
        .await;
    let first = &got[0];
    assert_eq!(first.header("x-vr-event"), "host.unreachable");
    assert!(got[..3].iter().all(
        |r| r.header("x-vr-delivery") == first.header("x-vr-delivery") && r.body == first.body
    ));
    assert_eq!(
        first.header("x-vr-signature"),
        hmac_sha256(secret.as_bytes(), first.body.as_bytes())
    );
    assert_eq!(first.header("content-type"), "application/json");
    let body: serde_json::Value = serde_json::from_str(&first.body).expect("JSON body");
    assert_eq!(body["event"], "host.unreachable");
    assert_eq!(body["object"], "host:h0");
    assert_eq!(body["outcome"], "failed");

    // The chat got Slack's shape at once, while the hanging receiver held its own delivery.
    let got = chat.wait("the Slack body", |g| !g.is_empty()).await;
    let text: serde_json::Value = serde_json::from_str(&got[0].body).expect("JSON");
    let text = text["text"].as_str().unwrap_or_default();
    assert!(text.starts_with("vr: host unreachable: host:h0"), "{text}");
    hanging
        .wait("the delivery it never answers", |g| !g.is_empty())
        .await;

    hosts[0].start_sshd();
    wait_health(&api, "h0", Health::Ok, WAIT).await;
    flaky
        .wait("host.recovered", |g| {
            g.iter().any(|r| r.header("x-vr-event") == "host.recovered")
        })
        .await;

    // Every delivery and its result, from the CLI.
    let shown = wait_until_async(WAIT, || async {
        let (_, out) = vr(&server, t, &["webhook", "deliveries", "ops"]);
        out.contains("host.recovered") && out.contains("delivered after 3 attempt(s) HTTP 200")
    })
    .await;
    let (_, out) = vr(&server, t, &["webhook", "deliveries", "ops"]);
    assert!(shown, "{out}");
    let retried = wait_until_async(WAIT, || async {
        let (_, out) = vr(&server, t, &["webhook", "deliveries", "hang"]);
        out.contains("no answer within 1000 ms") && out.contains("retrying at")
    })
    .await;
    let (_, out) = vr(&server, t, &["webhook", "deliveries", "hang"]);
    assert!(retried, "{out}");
    let (ok, out) = vr(&server, t, &["webhooks"]);
    assert!(
        ok && out.contains("ops") && out.contains("http://127.0.0.1:"),
        "{out}"
    );
    assert!(
        !out.contains("/hook"),
        "the URL's path is not shown in lists: {out}"
    );

    // A test notification; then a disabled webhook gets nothing.
    let (ok, out) = vr(&server, t, &["webhook", "test", "chat"]);
    assert!(ok && out.contains("queued as delivery"), "{out}");
    chat.wait("the test", |g| {
        g.iter().any(|r| r.header("x-vr-event") == "test")
    })
    .await;
    let (ok, out) = vr(&server, t, &["webhook", "edit", "chat", "--disable"]);
    assert!(ok && out.contains("disabled"), "{out}");
    let before = chat.got().len();
    hosts[0].kill_sshd();
    wait_health(&api, "h0", Health::Unreachable, WAIT).await;
    flaky
        .wait("the second loss", |g| {
            g.iter()
                .filter(|r| r.header("x-vr-event") == "host.unreachable")
                .count()
                >= 4
        })
        .await;
    assert_eq!(chat.got().len(), before, "a disabled webhook was sent to");
    let (ok, out) = vr(&server, t, &["webhook", "rm", "hang"]);
    assert!(ok, "{out}");
}

#[tokio::test]
async fn the_webhooks_page_adds_tests_shows_deliveries_and_disables() {
    let server = super::fleet::fleet_server().await;
    let api = server.admin().await;
    let receiver = Receiver::start(&[200]).await;
    let browser = vr_tests::harness::Browser::start().await;
    browser
        .sign_in(&server.base_url(), "admin", super::fleet::PW)
        .await;
    browser.goto(&server.url("/")).await;
    browser.click("#sidenav a[href='/webhooks']").await;
    browser.fill("#webhook-name", "chat").await;
    browser.fill("#webhook-url", &receiver.url).await;
    browser
        .click("[data-test='webhook-event-build.failed']")
        .await;
    browser.click("#webhook-slack").await;
    browser.click("#webhook-submit").await;
    let secret = browser.text("#webhook-secret code").await;
    assert!(secret.len() >= 32, "{secret}");
    browser
        .wait_for_text(
            "[data-test=webhooks-table]",
            "dispatch.failed, host.unreachable, build.failed",
        )
        .await;
    let listed: Vec<vr_app::notify::Webhook> = api.get(paths::WEBHOOKS).await.expect_ok().json();
    assert_eq!(listed[0].format, WebhookFormat::Slack);

    browser.click("[data-test=webhook-test]").await;
    let got = receiver.wait("the test", |g| !g.is_empty()).await;
    assert_eq!(got[0].header("x-vr-event"), "test");
    assert_eq!(
        got[0].header("x-vr-signature"),
        hmac_sha256(secret.as_bytes(), got[0].body.as_bytes())
    );
    browser
        .wait_for_text(
            "[data-test=deliveries-table]",
            "delivered after 1 attempt(s) HTTP 200",
        )
        .await;

    browser.click("[data-test=webhook-toggle]").await;
    browser
        .wait_for_text("[data-test=webhooks-table]", "disabled")
        .await;
    browser.close().await;
}
