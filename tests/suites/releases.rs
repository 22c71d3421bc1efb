//! Releases and ingredients through the real server: layered merge with provenance, one release
//! per identical configuration, YAML errors with line and column, compare, the CLI, and the
//! env a real build's buildpack declared as the first layer.

use super::builds::{add_app, build, setup, tarball, upload_raw};
use super::fleet::fleet_server;
use vr_app::build::{Build, BuildStatus};
use vr_app::release::{
    Ingredient, Layer, NewIngredient, NewRelease, Release, ReleaseDiff, ReleasePreview, Volume,
    paths,
};
use vr_tests::harness::ApiClient;
use vr_tests::harness::git::shell_app;

async fn upload(server: &vr_tests::harness::VrServer, api: &ApiClient, version: &str) -> Build {
    let resp = upload_raw(
        server,
        api,
        "shop",
        version.to_string(),
        tarball(&[
            (
                "Procfile",
                "web: ./run
",
            ),
            ("run", version),
        ]),
    )
    .await;
    assert_eq!(resp.status(), 201);
    resp.json().await.expect("build")
}

async fn ingredient(api: &ApiClient, name: &str, settings: &str, env: &str) -> Ingredient {
    api.post(
        paths::INGREDIENTS,
        &NewIngredient {
            name: name.into(),
            settings_yaml: settings.into(),
            env_yaml: env.into(),
            notes: String::new(),
            ..Default::default()
        },
    )
    .await
    .expect_status(201)
    .json()
}

#[tokio::test]
async fn releases_merge_layers_hash_once_and_compare() {
    let server = fleet_server().await;
    let api = server.admin().await;
    add_app(&api, "shop", &shell_app()).await;
    let b = upload(&server, &api, "ci-1").await;
    ingredient(
        &api,
        "db",
        "db:\n  host: x\n  port: 5432\ndebug: false\n",
        "A: \"1\"\n",
    )
    .await;
    ingredient(&api, "cache", "cache: on\n", "A: \"2\"\nC: cache\n").await;

    let new = NewRelease {
        build_id: b.id,
        settings_yaml: "db:\n  host: y\n".into(),
        env_yaml: "B: 'x; rm -rf / $(id) \"q\"'\n".into(),
        ingredients: vec!["db".into(), "cache".into()],
        volumes: vec![Volume {
            host_dir: "/srv/data".into(),
            mount_dir: "/data".into(),
        }],
        run_as: Some("nobody".into()),
        mem_limit_mb: Some(256),
        ..Default::default()
    };
    let preview: ReleasePreview = api
        .post(paths::RELEASE_PREVIEW, &new)
        .await
        .expect_ok()
        .json();
    let s = &preview.config.settings;
    // Shallow per top-level key: own `db` replaces the ingredient's whole `db`.
    assert_eq!(s["db"], serde_json::json!({"host": "y"}));
    assert_eq!(s["debug"], false);
    // YAML 1.2: `on` is a string, not a boolean.
    assert_eq!(s["cache"], "on");
    let from = |list: &[vr_app::release::Sourced], k: &str| {
        list.iter().find(|x| x.key == k).map(|x| x.from.clone())
    };
    assert_eq!(from(&preview.settings_from, "db"), Some(Layer::Own));
    assert_eq!(
        from(&preview.settings_from, "debug"),
        Some(Layer::Ingredient("db".into()))
    );
    assert_eq!(
        from(&preview.env_from, "A"),
        Some(Layer::Ingredient("cache".into()))
    );
    assert_eq!(preview.config.env["A"], "2");
    assert_eq!(preview.config.env["B"], "x; rm -rf / $(id) \"q\"");

    let created = api
        .post(paths::RELEASES, &new)
        .await
        .expect_status(201)
        .json::<Release>();
    assert_eq!(created.hash, preview.hash);
    assert_eq!(created.ingredients, ["db", "cache"]);
    // The same inputs written differently are the same release.
    let mut same = new.clone();
    same.settings_yaml = "db: {host: y}\n".into();
    let again = api
        .post(paths::RELEASES, &same)
        .await
        .expect_status(200)
        .json::<Release>();
    assert_eq!(again.id, created.id);
    let used: Ingredient = api.get(&paths::ingredient("db")).await.expect_ok().json();
    assert_eq!(used.used_by_releases, [created.id]);

    // Another env value is another release; compare names what differs.
    let mut other = new.clone();
    other.env_yaml = "B: changed\n".into();
    other.mem_limit_mb = None;
    let second = api
        .post(paths::RELEASES, &other)
        .await
        .expect_status(201)
        .json::<Release>();
    assert_ne!(second.hash, created.hash);
    let d: ReleaseDiff = api
        .get(&format!(
            "{}?a={}&b={}",
            paths::RELEASE_COMPARE,
            created.id,
            second.id
        ))
        .await
        .expect_ok()
        .json();
    let what: Vec<(String, String)> = d
        .differences
        .iter()
        .map(|x| (x.section.clone(), x.key.clone()))
        .collect();
    assert_eq!(
        what,
        [
            ("env".into(), "B".into()),
            ("mem_limit_mb".into(), String::new())
        ]
    );

    // Bad input names the field (and the YAML's line and column), and stores nothing.
    for (patch, field, needle) in [
        (
            NewRelease {
                settings_yaml: "a: 1\nb: [oops\n".into(),
                ..new.clone()
            },
            "settings_yaml",
            "line ",
        ),
        (
            NewRelease {
                env_yaml: "WORKERS: 2\n".into(),
                ..new.clone()
            },
            "env_yaml",
            "must be a string",
        ),
        (
            NewRelease {
                ingredients: vec!["nope".into()],
                ..new.clone()
            },
            "ingredients",
            "no ingredient named nope",
        ),
        (
            NewRelease {
                run_as: Some("root;id".into()),
                ..new.clone()
            },
            "run_as",
            "",
        ),
        (
            NewRelease {
                volumes: vec![Volume {
                    host_dir: "rel".into(),
                    mount_dir: "/x".into(),
                }],
                ..new.clone()
            },
            "volumes",
            "absolute",
        ),
        (
            NewRelease {
                build_id: 999,
                ..new.clone()
            },
            "",
            "not found",
        ),
    ] {
        let reply = api.post(paths::RELEASES, &patch).await;
        assert!(reply.status >= 400, "{patch:?}");
        let e = reply.error();
        if !field.is_empty() {
            assert_eq!(e.field.as_deref(), Some(field), "{e:?}");
        }
        assert!(e.message.contains(needle), "{e:?}");
    }
    let list: Vec<Release> = api
        .get(&format!("{}?app=shop", paths::RELEASES))
        .await
        .expect_ok()
        .json();
    assert_eq!(list.len(), 2);
    let bad_ingredient = api
        .post(
            paths::INGREDIENTS,
            &NewIngredient {
                name: "broken".into(),
                settings_yaml: "x: [".into(),
                ..Default::default()
            },
        )
        .await
        .expect_status(400)
        .error();
    assert_eq!(bad_ingredient.field.as_deref(), Some("settings_yaml"));

    // The CLI: compare and list.
    let cli = super::fleet::cli_token(&api).await;
    let run = |args: &[&str]| super::fleet::vr(&server, &cli, args);
    let (ok, out) = run(&[
        "compare-releases",
        &created.id.to_string(),
        &second.id.to_string(),
    ]);
    assert!(
        ok && out.contains("env.B") && out.contains("changed"),
        "{out}"
    );
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("env.yaml"), "B: from-cli\n").expect("write");
    let env_file = dir.path().join("env.yaml").display().to_string();
    let (ok, out) = run(&[
        "release",
        "create",
        &b.id.to_string(),
        "--env",
        &env_file,
        "--ingredient",
        "db",
        "--volume",
        "/srv/a:/a",
    ]);
    assert!(
        ok && out.contains("B=from-cli") && out.contains("/srv/a → /a"),
        "{out}"
    );
    let (ok, out) = run(&["releases", "shop"]);
    assert!(ok && out.lines().count() == 3, "{out}");
    let (ok, out) = run(&[
        "release",
        "create",
        &b.id.to_string(),
        "--volume",
        "nocolon",
    ]);
    assert!(!ok && out.contains("HOST_DIR:MOUNT_DIR"), "{out}");

    // `vr ingredient add` as the README shows it: YAML files named where it runs, a secret key.
    std::fs::write(dir.path().join("db.yaml"), "db:\n  host: db1\n").expect("write");
    std::fs::write(
        dir.path().join("db-env.yaml"),
        "DB_PASSWORD: hunter2-secret\n",
    )
    .expect("write");
    let (ok, out) = super::fleet::vr_in(
        &server,
        &cli,
        Some(dir.path()),
        &[
            "ingredient",
            "add",
            "postgres",
            "--settings",
            "db.yaml",
            "--env",
            "db-env.yaml",
            "--secret",
            "DB_PASSWORD",
        ],
    );
    assert!(ok && out.contains("added ingredient postgres"), "{out}");
    let made: Ingredient = api
        .get(&paths::ingredient("postgres"))
        .await
        .expect_ok()
        .json();
    assert_eq!(made.settings["db"]["host"], "db1", "{made:?}");
    assert!(made.secret_keys.contains("DB_PASSWORD"), "{made:?}");
    assert_eq!(
        made.env.get("DB_PASSWORD").map(String::as_str),
        Some(vr_app::secret::MASK),
        "{made:?}"
    );
}

#[tokio::test]
async fn a_builds_release_env_is_the_first_layer() {
    let s = setup().await;
    let repo = shell_app();
    add_app(&s.api, "shop", &repo).await;
    let (b, log) = build(&s.api, "shop", "main", false).await;
    assert_eq!(b.status, BuildStatus::Succeeded, "{log}");
    let preview: ReleasePreview = s
        .api
        .post(
            paths::RELEASE_PREVIEW,
            &NewRelease {
                build_id: b.id,
                env_yaml: "WORKERS: \"8\"\n".into(),
                ..Default::default()
            },
        )
        .await
        .expect_ok()
        .json();
    assert_eq!(preview.config.env["GREETING"], "hello world");
    assert_eq!(preview.config.env["WORKERS"], "8");
    let src = |k: &str| {
        preview
            .env_from
            .iter()
            .find(|x| x.key == k)
            .map(|x| x.from.clone())
    };
    assert_eq!(src("GREETING"), Some(Layer::Build));
    assert_eq!(src("WORKERS"), Some(Layer::Own));
}

#[tokio::test]
async fn hostile_yaml_is_refused_at_once() {
    let server = fleet_server().await;
    let api = server.admin().await;
    add_app(&api, "shop", &shell_app()).await;
    let b = upload(&server, &api, "ci-1").await;
    let deep = format!("x: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let items = vec!["x"; 1000].join(",");
    let aliases = vec!["*a"; 1000].join(",");
    let bomb = format!("a: &a [{items}]\nb: [{aliases}]\n");
    for (name, text) in [("deep", deep), ("aliases", bomb)] {
        let started = std::time::Instant::now();
        let err = api
            .post(
                paths::RELEASE_PREVIEW,
                &NewRelease {
                    build_id: b.id,
                    settings_yaml: text.clone(),
                    ..Default::default()
                },
            )
            .await
            .expect_status(400)
            .error();
        assert_eq!(
            err.field.as_deref(),
            Some("settings_yaml"),
            "{name}: {err:?}"
        );
        // The server stayed responsive meanwhile.
        api.get("/api/health").await.expect_ok();
        eprintln!("{name} refused in {:?}: {}", started.elapsed(), err.message);
        let err = api
            .post(
                paths::INGREDIENTS,
                &NewIngredient {
                    name: format!("i{name}"),
                    settings_yaml: text,
                    ..Default::default()
                },
            )
            .await
            .expect_status(400)
            .error();
        assert_eq!(
            err.field.as_deref(),
            Some("settings_yaml"),
            "{name}: {err:?}"
        );
    }
    // Env names that are not shell identifiers never reach a host.
    let err = api
        .post(
            paths::RELEASE_PREVIEW,
            &NewRelease {
                build_id: b.id,
                env_yaml: "\"A;curl x|sh;B\": v\n".into(),
                ..Default::default()
            },
        )
        .await
        .expect_status(400)
        .error();
    assert_eq!(err.field.as_deref(), Some("env_yaml"), "{err:?}");
    assert!(
        err.message.contains("not an environment variable name"),
        "{err:?}"
    );
}
