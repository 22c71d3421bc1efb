//! Secrets: env keys marked secret are masked in every answer (ingredients with their YAML,
//! releases, previews, compares, events, the CLI, the server log), revealed to a deployer on
//! purpose as an event, never to a viewer, and still reach the proc. Credentials in git URLs are
//! masked wherever a URL is shown, and kept when a masked URL is sent back.

use super::builds::setup;
use super::deploys::deploy;
use super::fleet::{make_user, vr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vr_app::build::{App, AppPatch, BuildRequest, BuildStatus, NewApp, paths as build_paths};
use vr_app::deploy::DeployStatus;
use vr_app::release::{
    Ingredient, IngredientPatch, NewIngredient, NewRelease, Release, ReleaseDiff, paths,
};
use vr_app::secret::{MASK, RevealRequest, Revealed, paths as secret_paths};
use vr_tests::harness::ApiClient;

const ING_SECRET: &str = "ingredient-secret-1";
const OWN_SECRET: &str = "own-secret-22";
const NEXT_SECRET: &str = "next-secret-333";

/// Every JSON answer of these paths, as text: none may hold a secret value.
async fn bodies(api: &ApiClient, paths: &[String]) -> String {
    let mut all = String::new();
    for p in paths {
        let r = api.get(p).await;
        assert!(r.ok(), "{p}: {}", r.value());
        all.push_str(&r.value().to_string());
    }
    all
}

/// The proc's stdout as the API serves it, once it holds `needle`.
async fn wait_for_log(api: &ApiClient, program: &str, needle: &str) -> String {
    let until = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let r = api
            .get(&format!(
                "{}?stream=stdout",
                vr_app::fleet::paths::proc_log("builder1", program)
            ))
            .await;
        if r.ok() {
            let chunk: vr_app::fleet::LogChunk = r.json();
            if chunk.text.contains(needle) {
                return chunk.text;
            }
        }
        assert!(
            std::time::Instant::now() < until,
            "no {needle:?} in {program}'s log"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn assert_clean(text: &str, what: &str) {
    for s in [ING_SECRET, OWN_SECRET, NEXT_SECRET] {
        assert!(!text.contains(s), "{what} shows a secret value: {text}");
    }
}

#[tokio::test]
async fn secret_values_are_masked_everywhere_and_revealed_on_purpose() {
    let s = setup().await;
    let (_repo, b) = super::deploys::web_built(&s).await;

    // An ingredient with a secret: its answers mask it, YAML text included.
    let ing: Ingredient = s
        .api
        .post(
            paths::INGREDIENTS,
            &NewIngredient {
                name: "db".into(),
                env_yaml: format!("# the database\nDB_PASSWORD: {ING_SECRET}\nDB_HOST: db1\n"),
                secret_keys: vec!["DB_PASSWORD".into()],
                ..Default::default()
            },
        )
        .await
        .expect_status(201)
        .json();
    assert_eq!(ing.env["DB_PASSWORD"], MASK);
    assert!(ing.env_yaml.contains(MASK), "{}", ing.env_yaml);
    // Sent back as shown, with a change: the secret keeps its value.
    let edited: Ingredient = s
        .api
        .patch(
            &paths::ingredient("db"),
            &IngredientPatch {
                env_yaml: Some(format!("{}DB_PORT: \"5432\"\n", ing.env_yaml)),
                ..Default::default()
            },
        )
        .await
        .expect_ok()
        .json();
    assert_eq!(edited.env["DB_PORT"], "5432");
    let revealed: Revealed = s
        .api
        .post(
            &secret_paths::ingredient_reveal("db"),
            &RevealRequest {
                key: "DB_PASSWORD".into(),
            },
        )
        .await
        .expect_ok()
        .json();
    assert_eq!(revealed.value, ING_SECRET);

    // A release with its own secret on top; the proc reads it as TRICKY.
    let new = NewRelease {
        build_id: b.id,
        env_yaml: format!("TRICKY: {OWN_SECRET}\n"),
        secret_keys: vec!["TRICKY".into()],
        ingredients: vec!["db".into()],
        ..Default::default()
    };
    let preview = s.api.post(paths::RELEASE_PREVIEW, &new).await.expect_ok();
    assert_clean(&preview.value().to_string(), "the preview");
    let r1: Release = s
        .api
        .post(paths::RELEASES, &new)
        .await
        .expect_status(201)
        .json();
    assert_eq!(r1.config.env["TRICKY"], MASK);
    assert_eq!(
        r1.config.env["DB_PASSWORD"], MASK,
        "an ingredient's secret stays secret"
    );
    assert_eq!(r1.config.env["DB_HOST"], "db1");
    // A new release made from the masked one keeps the values it does not change.
    let r2: Release = s
        .api
        .post(
            paths::RELEASES,
            &NewRelease {
                build_id: b.id,
                env_yaml: format!("TRICKY: {MASK}\nEXTRA: \"1\"\n"),
                secret_keys: vec!["TRICKY".into()],
                ingredients: vec!["db".into()],
                secrets_from: Some(r1.id),
                ..Default::default()
            },
        )
        .await
        .expect_status(201)
        .json();
    let r3: Release = s
        .api
        .post(
            paths::RELEASES,
            &NewRelease {
                build_id: b.id,
                env_yaml: format!("TRICKY: {NEXT_SECRET}\n"),
                secret_keys: vec!["TRICKY".into()],
                ingredients: vec!["db".into()],
                ..Default::default()
            },
        )
        .await
        .expect_status(201)
        .json();
    // A value taken from another release's secret stays secret, marked or not; and the same
    // inputs are the same release (the hash covers secrets through the server's own key).
    let unmarked: Release = s
        .api
        .post(
            paths::RELEASES,
            &NewRelease {
                build_id: b.id,
                env_yaml: format!("TRICKY: {MASK}\nOTHER: \"2\"\n"),
                ingredients: vec!["db".into()],
                secrets_from: Some(r1.id),
                ..Default::default()
            },
        )
        .await
        .expect_status(201)
        .json();
    assert_eq!(unmarked.config.env["TRICKY"], MASK);
    assert!(unmarked.config.secret_keys.contains("TRICKY"));
    let again = s
        .api
        .post(paths::RELEASES, &new)
        .await
        .expect_status(200)
        .json::<Release>();
    assert_eq!(again.id, r1.id);
    // A mask with nothing behind it is refused.
    let err = s
        .api
        .post(
            paths::RELEASES,
            &NewRelease {
                build_id: b.id,
                env_yaml: format!("TRICKY: {MASK}\n"),
                ..Default::default()
            },
        )
        .await
        .expect_status(400)
        .error();
    assert_eq!(err.field.as_deref(), Some("env_yaml"), "{err:?}");

    let diff: ReleaseDiff = s
        .api
        .get(&format!(
            "{}?a={}&b={}",
            paths::RELEASE_COMPARE,
            r1.id,
            r3.id
        ))
        .await
        .expect_ok()
        .json();
    let changed = diff
        .differences
        .iter()
        .find(|d| d.key == "TRICKY")
        .expect("the secret changed");
    assert!(changed.secret, "{changed:?}");
    let same: ReleaseDiff = s
        .api
        .get(&format!(
            "{}?a={}&b={}",
            paths::RELEASE_COMPARE,
            r1.id,
            r2.id
        ))
        .await
        .expect_ok()
        .json();
    assert!(
        !same.differences.iter().any(|d| d.key == "TRICKY"),
        "kept from r1: {same:?}"
    );

    // The proc gets the real value; its deploy record does not show it.
    let worker = deploy(&s.api, r1.id, "worker", "prod", 0).await;
    assert_eq!(worker.status, DeployStatus::Succeeded, "{worker:#?}");
    let home = s
        .host
        .apps_root()
        .join("procs")
        .join(&worker.program)
        .join("home");
    assert_eq!(
        std::fs::read_to_string(home.join("tricky.out")).expect("tricky.out"),
        OWN_SECRET
    );

    let every = bodies(
        &s.api,
        &[
            paths::INGREDIENTS.to_string(),
            paths::ingredient("db"),
            paths::RELEASES.to_string(),
            paths::release(r1.id),
            paths::release(r3.id),
            format!("{}?a={}&b={}", paths::RELEASE_COMPARE, r1.id, r3.id),
            vr_app::deploy::paths::DEPLOYS.to_string(),
            vr_app::deploy::paths::deploy(worker.id),
            "/api/events?limit=500".to_string(),
            "/api/uptests".to_string(),
        ],
    )
    .await;
    assert_clean(&every, "the API");

    // A proc that prints its secret: its log shows the mask.
    let talker = deploy(&s.api, r1.id, "talker", "prod", 0).await;
    assert_eq!(talker.status, DeployStatus::Succeeded, "{talker:#?}");
    let log = wait_for_log(&s.api, &talker.program, "token=").await;
    assert!(log.contains(&format!("token={MASK}")), "{log}");
    assert_clean(&log, "a proc's log");
    // And in the merged live log.
    let token = super::fleet::cli_token(&s.api).await;
    let (ok, merged) = super::fleet::vr(&s.server, &token, &["logs", "talker", "-n", "50"]);
    assert!(ok && merged.contains(&format!("token={MASK}")), "{merged}");
    assert_clean(&merged, "the merged log");

    // Reveals: a deployer may, as an event; a viewer may not.
    let deployer = make_user(&s.server, &s.api, "dep", "deployer").await;
    let viewer = make_user(&s.server, &s.api, "val", "viewer").await;
    let seen: Revealed = deployer
        .post(
            &secret_paths::release_reveal(r1.id),
            &RevealRequest {
                key: "TRICKY".into(),
            },
        )
        .await
        .expect_ok()
        .json();
    assert_eq!(seen.value, OWN_SECRET);
    viewer
        .post(
            &secret_paths::release_reveal(r1.id),
            &RevealRequest {
                key: "TRICKY".into(),
            },
        )
        .await
        .expect_status(403);
    assert_clean(
        &bodies(&viewer, &[paths::release(r1.id), paths::ingredient("db")]).await,
        "a viewer's view",
    );
    let not_secret = deployer
        .post(
            &secret_paths::release_reveal(r1.id),
            &RevealRequest {
                key: "DB_HOST".into(),
            },
        )
        .await
        .expect_status(400)
        .error();
    assert_eq!(not_secret.field.as_deref(), Some("key"));
    let events: Vec<vr_app::api::Event> = s
        .api
        .get("/api/events?action=secret.reveal")
        .await
        .expect_ok()
        .json();
    assert!(
        events
            .iter()
            .any(|e| e.actor == "dep" && e.detail == "revealed TRICKY"),
        "{events:?}"
    );

    // Un-marking a secret is as good as revealing it: the event says so.
    s.api
        .patch(
            &paths::ingredient("db"),
            &IngredientPatch {
                secret_keys: Some(vec![]),
                ..Default::default()
            },
        )
        .await
        .expect_ok();
    let events: Vec<vr_app::api::Event> = s
        .api
        .get("/api/events?action=ingredient.update")
        .await
        .expect_ok()
        .json();
    assert!(
        events
            .iter()
            .any(|e| e.detail.contains("no longer secret: DB_PASSWORD")),
        "{events:?}"
    );

    // The CLI shows masks, and reveals on request.
    let cli = super::fleet::cli_token(&s.api).await;
    let (ok, shown) = vr(&s.server, &cli, &["release", "show", &r1.id.to_string()]);
    assert!(
        ok && shown.contains(MASK) && shown.contains("(secret"),
        "{shown}"
    );
    assert_clean(&shown, "vr release show");
    let (ok, compared) = vr(
        &s.server,
        &cli,
        &["compare-releases", &r1.id.to_string(), &r3.id.to_string()],
    );
    assert!(ok && compared.contains("secret: changed"), "{compared}");
    assert_clean(&compared, "vr compare-releases");
    let (ok, value) = vr(
        &s.server,
        &cli,
        &["release", "reveal", &r3.id.to_string(), "TRICKY"],
    );
    assert!(ok && value.trim() == NEXT_SECRET, "{value}");

    // Nothing of it in the server's own log but the revealing.
    let server_log = s.server.log();
    for secret in [ING_SECRET, OWN_SECRET] {
        assert!(
            !server_log.contains(secret),
            "the server log shows {secret}"
        );
    }
}

/// A git "server" on loopback that answers every request with 401 until it gets credentials,
/// and reports the first `Authorization` header it sees.
async fn credential_catcher() -> (u16, tokio::sync::oneshot::Receiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut tx = Some(tx);
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 16 * 1024];
            let n = sock.read(&mut buf).await.unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            if let Some(auth) = req
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(auth.to_string());
            }
            let _ = sock
                .write_all(
                    b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
        }
    });
    (port, rx)
}

#[tokio::test]
async fn credentials_in_git_urls_are_masked_and_kept() {
    use base64::Engine;
    let s = setup().await;
    let (port, caught) = credential_catcher().await;
    let secret = "tok3n-for-git-99";
    let url = format!("http://deploybot:{secret}@127.0.0.1:{port}/shop.git");
    let app: App = s
        .api
        .post(
            build_paths::APPS,
            &NewApp {
                name: "shop".into(),
                repo_url: url.clone(),
                ..Default::default()
            },
        )
        .await
        .expect_status(201)
        .json();
    assert_eq!(
        app.repo_url,
        format!("http://deploybot:{MASK}@127.0.0.1:{port}/shop.git")
    );
    // The edit form sends the URL back as shown: it stays what it was.
    let edited: App = s
        .api
        .patch(
            &build_paths::app("shop"),
            &AppPatch {
                repo_url: Some(app.repo_url.clone()),
                notes: Some("edited".into()),
                ..Default::default()
            },
        )
        .await
        .expect_ok()
        .json();
    assert_eq!(edited.repo_url, app.repo_url);

    let started = s
        .api
        .post(
            build_paths::BUILDS,
            &BuildRequest {
                app: "shop".into(),
                version: "main".into(),
                force: false,
                stack: None,
            },
        )
        .await
        .expect_status(202)
        .json::<vr_app::build::Build>();
    // The builder's git sent the real credentials: the stored URL kept them.
    let auth = tokio::time::timeout(Duration::from_secs(30), caught)
        .await
        .expect("git asked with credentials")
        .expect("header");
    let basic = auth.split_whitespace().last().unwrap_or_default();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(basic)
        .expect("base64");
    assert_eq!(
        String::from_utf8_lossy(&decoded),
        format!("deploybot:{secret}")
    );

    let until = std::time::Instant::now() + Duration::from_secs(60);
    let done = loop {
        let b: vr_app::build::Build = s
            .api
            .get(&build_paths::build(started.id))
            .await
            .expect_ok()
            .json();
        if !b.status.in_progress() {
            break b;
        }
        assert!(std::time::Instant::now() < until, "the build never ended");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done.status, BuildStatus::Failed);
    let everything = bodies(
        &s.api,
        &[
            build_paths::APPS.to_string(),
            build_paths::app("shop"),
            build_paths::build(started.id),
            format!("{}?offset=0", build_paths::build_log(started.id)),
            "/api/events?limit=500".to_string(),
        ],
    )
    .await;
    assert!(!everything.contains(secret), "{everything}");
    // git printed the URL, and what reached the log and the error is the masked one.
    assert!(
        done.error
            .as_deref()
            .unwrap_or_default()
            .contains(&format!("deploybot:{MASK}@127.0.0.1:{port}")),
        "{done:?}"
    );
    assert!(!s.server.log().contains(secret), "the server log shows it");
}
