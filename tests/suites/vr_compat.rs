//! Velociraptor's `/api/v1/` as its users meet it: the original Python client `vr.cli` 4.2
//! (installed by the bootstrap into `.tools/vrcli`) run against a real vr with real harness
//! hosts — `list-swarms`, `swarm PATTERN -|TAG` (the seed's alternation included), `--squad`,
//! `build`, `deploy` (the seed's worker at port 0), `compare-releases`, `uptests`, `procs list`
//! — each checked by what it changed in vr and in Supervisor on the hosts; and the API's shapes,
//! paging, filters, errors and authentication with plain HTTP.

use super::builds::{add_app, wait_done};
use super::deploys::web_built;
use super::fleet::{PW, cli_token, fleet_server};
use super::swarms::{finished, swarm_setup};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use vr_app::build::{Build, BuildStatus};
use vr_app::deploy::{DeployStatus, Deployment};
use vr_app::fleet::{Health, HostPatch, NewSquad, Squad, paths as fleet_paths};
use vr_app::swarm::{Dispatch, DispatchStatus, Swarm, paths};
use vr_tests::harness::fleet::{add_host, wait_health};
use vr_tests::harness::{ApiClient, TestHost, VrServer};

fn vrcli_path() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/vrcli/bin/vr.cli");
    assert!(
        p.exists(),
        "{} is missing: run scripts/bootstrap.sh test (it installs vr.cli 4.2 from PyPI)",
        p.display()
    );
    p
}

/// Runs VR's client as `user` with `password`; (exit ok, stdout, stderr).
fn vrcli_as(
    server: &VrServer,
    user: &str,
    password: &str,
    args: &[&str],
) -> (bool, String, String) {
    let out = Command::new(vrcli_path())
        .env("VELOCIRAPTOR_URL", format!("{}/", server.base_url()))
        .env("VELOCIRAPTOR_USERNAME", user)
        .env("VELOCIRAPTOR_PASSWORD", password)
        // Loopback only: no proxy may take the client elsewhere.
        .env("NO_PROXY", "*")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .args(args)
        .output()
        .expect("running vr.cli");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// [`vrcli_as`] as admin; it must succeed. Its stdout.
#[track_caller]
fn vrcli(server: &VrServer, args: &[&str]) -> String {
    let (ok, out, err) = vrcli_as(server, "admin", PW, args);
    assert!(ok, "vr.cli {args:?} failed:\n{out}\n{err}");
    out
}

async fn squad_id(api: &ApiClient, name: &str) -> i64 {
    let s: Squad = api.get(&fleet_paths::squad(name)).await.expect_ok().json();
    s.id
}

async fn swarm_named(api: &ApiClient, name: &str) -> Swarm {
    let all: Vec<Swarm> = api.get(paths::SWARMS).await.expect_ok().json();
    all.into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no swarm {name}"))
}

async fn dispatches_of(api: &ApiClient, swarm: i64) -> Vec<Dispatch> {
    api.get(&format!("{}?swarm={swarm}", paths::DISPATCHES))
        .await
        .expect_ok()
        .json()
}

/// Waits until swarm `name` has `n` dispatches and the newest has ended; that one.
async fn nth_dispatch_done(api: &ApiClient, name: &str, n: usize) -> Dispatch {
    let id = swarm_named(api, name).await.id;
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let list = dispatches_of(api, id).await;
        if list.len() >= n {
            assert_eq!(list.len(), n, "{name}: {list:#?}");
            return finished(api, list[0].id).await;
        }
        assert!(
            Instant::now() < until,
            "{name} has {} dispatches",
            list.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The newest deploy once it has ended.
async fn newest_deploy_done(api: &ApiClient, after: i64) -> Deployment {
    let until = Instant::now() + Duration::from_secs(90);
    loop {
        let list: Vec<Deployment> = api.get("/api/deploys?limit=1").await.expect_ok().json();
        if let Some(d) = list
            .into_iter()
            .next()
            .filter(|d| d.id > after && d.status != DeployStatus::Running)
        {
            return d;
        }
        assert!(Instant::now() < until, "no deploy after #{after} ended");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn newest_deploy_id(api: &ApiClient) -> i64 {
    let list: Vec<Deployment> = api.get("/api/deploys?limit=1").await.expect_ok().json();
    list.first().map_or(0, |d| d.id)
}

/// Supervisor's programs on `host` whose names contain `part`, with their states.
fn programs(host: &TestHost, part: &str) -> Vec<(String, String)> {
    host.program_states()
        .into_iter()
        .filter(|(n, _)| n.contains(part))
        .collect()
}

/// A swarm of the web app made through `/api/v1/swarms/` with VR's fields; its Location.
async fn v1_swarm(server: &VrServer, config: &str, squad: i64, greeting: &str) -> String {
    let r = basic(
        server,
        reqwest::Method::POST,
        "/api/v1/swarms/",
        "admin",
        PW,
    )
    .json(&json!({
        "app": "/api/v1/apps/web/",
        "proc_name": "web",
        "config_name": config,
        "squad": format!("/api/v1/squads/{squad}/"),
        "size": 1,
        "version": "main",
        "config_yaml": format!("greeting: {greeting}\n"),
        "env_yaml": "TRICKY: yes it is\n",
    }))
    .send()
    .await
    .expect("request");
    assert_eq!(r.status().as_u16(), 201);
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a Location header")
        .to_string();
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["resource_uri"].as_str(), Some(location.as_str()));
    assert_eq!(body["shortname"], json!(format!("web-{config}-web")));
    location
}

#[tokio::test]
async fn vrs_own_client_lists_dispatches_builds_deploys_and_compares_through_vr() {
    let s = swarm_setup().await;
    let (repo, _main) = web_built(&s).await;
    for name in ["eu", "us"] {
        s.api
            .post(
                fleet_paths::SQUADS,
                &NewSquad {
                    name: name.into(),
                    description: String::new(),
                },
            )
            .await
            .expect_status(201);
    }
    let mut more = super::fleet::hosts_for(&s.api, 1).await;
    let web2 = more.remove(0);
    add_host(&s.api, &web2, "web2", None).await;
    wait_health(&s.api, "web2", Health::Ok, Duration::from_secs(15)).await;
    let mut bases = Vec::new();
    for (host, squad) in [("builder1", "eu"), ("web2", "us")] {
        let base = vr_tests::harness::proc_port_range(6);
        bases.push(base);
        s.api
            .patch(
                &fleet_paths::host(host),
                &HostPatch {
                    port_min: Some(Some(base)),
                    port_max: Some(Some(base + 5)),
                    squad: Some(Some(squad.into())),
                    ..Default::default()
                },
            )
            .await
            .expect_ok();
    }
    let (eu, us) = (squad_id(&s.api, "eu").await, squad_id(&s.api, "us").await);
    for (config, greeting) in [("prod", "hi"), ("beta", "hello"), ("gamma", "hey")] {
        v1_swarm(&s.server, config, eu, greeting).await;
    }

    // list-swarms: every swarm with '.*', one with a pattern.
    let out = vrcli(&s.server, &["list-swarms", ".*"]);
    assert!(out.contains("Loaded 3 swarms"), "{out}");
    let names: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(
        names,
        ["web-beta-web", "web-gamma-web", "web-prod-web"],
        "{out}"
    );
    let out = vrcli(&s.server, &["list-swarms", "web-beta"]);
    assert!(out.contains("Loaded 1 swarms"), "{out}");
    assert_eq!(out.lines().skip(1).collect::<Vec<_>>(), ["web-beta-web"]);

    // The seed's command: an alternation of whole names, '-' keeping each swarm's version.
    // The client sends proc_name=web|web; vr narrows nothing and the client's regex picks two.
    let out = vrcli(&s.server, &["swarm", "web-prod-web|web-beta-web", "-"]);
    assert!(out.contains("Matched 2 apps"), "{out}");
    for name in ["web-prod-web", "web-beta-web"] {
        let d = nth_dispatch_done(&s.api, name, 1).await;
        assert_eq!(d.status, DispatchStatus::Succeeded, "{d:#?}");
        assert_eq!(d.version, "main");
    }
    let gamma = swarm_named(&s.api, "web-gamma-web").await;
    assert!(dispatches_of(&s.api, gamma.id).await.is_empty());
    for config in ["prod", "beta"] {
        let running = programs(&s.host, &format!("web-main-{config}-"));
        assert_eq!(running.len(), 1, "{running:?}");
        assert_eq!(running[0].1, "RUNNING", "{running:?}");
    }

    // build APP TAG: vr builds the tag on the builder. v2 is a later commit, so its release
    // differs and the swarm really rolls over.
    repo.commit(&[("VERSION", "2\n")], "v2");
    repo.tag("v2");
    vrcli(&s.server, &["build", "web", "v2"]);
    let builds: Vec<Build> = s.api.get("/api/builds?app=web").await.expect_ok().json();
    let v2 = builds
        .iter()
        .find(|b| b.version == "v2")
        .expect("a build of v2");
    assert_eq!(
        wait_done(&s.api, v2.id).await.status,
        BuildStatus::Succeeded
    );

    // swarm NAME TAG: the client PATCHes the version, then dispatches.
    vrcli(&s.server, &["swarm", "web-prod-web", "v2"]);
    let d = nth_dispatch_done(&s.api, "web-prod-web", 2).await;
    assert_eq!(d.status, DispatchStatus::Succeeded, "{d:#?}");
    assert_eq!(swarm_named(&s.api, "web-prod-web").await.spec.version, "v2");
    let now = programs(&s.host, "-prod-");
    assert_eq!(now.len(), 1, "the main proc was retired: {now:?}");
    assert!(now[0].0.starts_with("web-v2-prod-"), "{now:?}");
    assert_eq!(now[0].1, "RUNNING");

    // A version the client passes that is no git ref: refused, nothing saved or dispatched.
    let (ok, out, err) = vrcli_as(
        &s.server,
        "admin",
        PW,
        &["swarm", "web-prod-web", "v3;rm -rf /"],
    );
    assert!(!ok, "{out}{err}");
    assert!(err.contains("400"), "{err}");
    assert_eq!(swarm_named(&s.api, "web-prod-web").await.spec.version, "v2");
    assert_eq!(dispatches_of(&s.api, d.swarm_id).await.len(), 2);

    // --squad with a squad's API path moves the swarm: its proc now runs on web2.
    let us_path = format!("/api/v1/squads/{us}/");
    vrcli(
        &s.server,
        &["swarm", "web-gamma-web", "-", "--squad", &us_path],
    );
    let d = nth_dispatch_done(&s.api, "web-gamma-web", 1).await;
    assert_eq!(d.status, DispatchStatus::Succeeded, "{d:#?}");
    assert_eq!(swarm_named(&s.api, "web-gamma-web").await.spec.squad, "us");
    let on_web2 = programs(&web2, "-gamma-");
    assert_eq!(on_web2.len(), 1, "{on_web2:?}");
    assert_eq!(on_web2[0].1, "RUNNING");
    assert!(programs(&s.host, "-gamma-").is_empty());

    // procs list: the swarm's procs with host, port and state; --host narrows to one host.
    let out = vrcli(&s.server, &["procs", "list", "web-prod-web"]);
    assert!(out.contains("web-prod-web [v2]"), "{out}");
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("builder1"))
        .unwrap_or_else(|| panic!("no proc line for builder1: {out}"));
    assert!(line.contains("RUNNING"), "{line}");
    let out = vrcli(&s.server, &["procs", "list", ".*", "--host", "web2"]);
    assert!(out.contains("web-gamma-web [main]"), "{out}");
    assert!(!out.contains("web-prod-web"), "{out}");

    // deploy RELEASE HOST PORT PROC -c CONFIG: the seed's worker, port 0, from prod's release.
    let prod = swarm_named(&s.api, "web-prod-web").await;
    let release = prod.release_id.expect("prod has a release").to_string();
    let before = newest_deploy_id(&s.api).await;
    vrcli(
        &s.server,
        &["deploy", &release, "web2", "0", "worker", "-c", "prod"],
    );
    let d = newest_deploy_done(&s.api, before).await;
    assert_eq!(d.status, DeployStatus::Succeeded, "{d:#?}");
    assert_eq!(
        (d.host.as_str(), d.port, d.proc_type.as_str()),
        ("web2", 0, "worker")
    );
    web2.wait_program_state(&d.program, "RUNNING", Duration::from_secs(10));

    // compare-releases: the settings of beta's and prod's releases, diffed by the client.
    let beta = swarm_named(&s.api, "web-beta-web").await;
    let beta_release = beta.release_id.expect("beta has a release").to_string();
    let out = vrcli(&s.server, &["compare-releases", &beta_release, &release]);
    assert!(out.contains("-'greeting': 'hello'"), "{out}");
    assert!(out.contains("+'greeting': 'hi'"), "{out}");

    // uptests: a deploy whose uptest fails shows up in the client's report with its output.
    let before = newest_deploy_id(&s.api).await;
    let port = (bases[1] + 5).to_string();
    vrcli(
        &s.server,
        &["deploy", &release, "web2", &port, "checked", "-c", "prod"],
    );
    let d = newest_deploy_done(&s.api, before).await;
    assert_eq!(d.status, DeployStatus::Failed, "{d:#?}");
    let out = vrcli(&s.server, &["uptests"]);
    assert!(out.contains(&format!("{} failed:", d.program)), "{out}");
    assert!(out.contains("checked is not ready"), "{out}");

    // Ingredients by name: --add-ingredients PATCHes the swarm's list, and the dispatch's
    // release carries the ingredient's settings; --by-ingredients finds the swarms using one.
    s.api
        .post(
            "/api/ingredients",
            &json!({ "name": "pg", "settings_yaml": "db: pg1\n" }),
        )
        .await
        .expect_status(201);
    let out = vrcli(
        &s.server,
        &["swarm", "web-beta-web", "-", "--add-ingredients", "pg"],
    );
    assert!(out.contains("Matched 1 apps"), "{out}");
    let d = nth_dispatch_done(&s.api, "web-beta-web", 2).await;
    assert_eq!(d.status, DispatchStatus::Succeeded, "{d:#?}");
    assert_eq!(
        swarm_named(&s.api, "web-beta-web").await.spec.ingredients,
        ["pg"]
    );
    let r: Value = s
        .api
        .get(&format!(
            "/api/releases/{}",
            d.release_id.expect("a release")
        ))
        .await
        .expect_ok()
        .value();
    assert_eq!(r["settings"]["db"], "pg1", "{r}");
    let out = vrcli(
        &s.server,
        &[
            "swarm",
            "nothing-matches-this",
            "-",
            "--by-ingredients",
            "pg",
        ],
    );
    assert!(out.contains("Matched 1 apps"), "{out}");
    assert!(out.contains("web-beta-web"), "{out}");
    let d = nth_dispatch_done(&s.api, "web-beta-web", 3).await;
    assert_eq!(d.status, DispatchStatus::Succeeded, "{d:#?}");

    // rebuild-all: a build of each matched swarm's version, then a dispatch of each.
    let builds_before: Vec<Build> = s.api.get("/api/builds?app=web").await.expect_ok().json();
    vrcli(&s.server, &["rebuild-all", "web-gamma-web"]);
    let d = nth_dispatch_done(&s.api, "web-gamma-web", 2).await;
    assert_eq!(d.status, DispatchStatus::Succeeded, "{d:#?}");
    let builds_after: Vec<Build> = s.api.get("/api/builds?app=web").await.expect_ok().json();
    assert_eq!(builds_after.len(), builds_before.len() + 1);
    assert_eq!(builds_after[0].version, "main");

    // A wrong password: the client fails and nothing is dispatched.
    let (ok, out, err) = vrcli_as(
        &s.server,
        "admin",
        "wrong-password",
        &["swarm", "web-beta-web", "-"],
    );
    assert!(!ok, "{out}{err}");
    assert!(err.contains("401"), "{err}");
    assert_eq!(dispatches_of(&s.api, beta.id).await.len(), 3);
}

/// A plain HTTP client with Basic credentials.
fn basic(
    server: &VrServer,
    method: reqwest::Method,
    path: &str,
    user: &str,
    pw: &str,
) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, server.url(path))
        .basic_auth(user, Some(pw))
}

/// The status of a GET of `path` as `user` with `pw`.
async fn status_of(server: &VrServer, path: &str, user: &str, pw: &str) -> u16 {
    send(basic(server, reqwest::Method::GET, path, user, pw))
        .await
        .0
}

async fn send(rb: reqwest::RequestBuilder) -> (u16, Value) {
    let r = rb.send().await.expect("request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn the_v1_api_pages_filters_patches_and_authenticates_as_vr_did() {
    let server = fleet_server().await;
    let api = server.admin().await;
    let repo = super::deploys::web_app();
    add_app(&api, "web", &repo).await;
    for name in ["eu", "us"] {
        api.post(
            fleet_paths::SQUADS,
            &NewSquad {
                name: name.into(),
                description: String::new(),
            },
        )
        .await
        .expect_status(201);
    }
    let (eu, us) = (squad_id(&api, "eu").await, squad_id(&api, "us").await);
    api.post(
        "/api/ingredients",
        &json!({ "name": "pg", "settings_yaml": "db: pg\n", "env_yaml": "PGPASS: s3cret\n", "secret_keys": ["PGPASS"] }),
    )
    .await
    .expect_status(201);
    let prod = v1_swarm(&server, "prod", eu, "hi").await;
    v1_swarm(&server, "beta", eu, "hello").await;
    let get = |path: &str| send(basic(&server, reqwest::Method::GET, path, "admin", PW));

    // Paging: meta and next/previous links a client can follow.
    let (st, first) = get("/api/v1/swarms/?limit=1").await;
    assert_eq!(st, 200, "{first}");
    assert_eq!(first["meta"]["total_count"], 2);
    assert_eq!(first["objects"][0]["shortname"], "web-beta-web");
    let next = first["meta"]["next"]
        .as_str()
        .expect("a next page")
        .to_string();
    let (_, second) = get(&next).await;
    assert_eq!(second["objects"][0]["shortname"], "web-prod-web");
    assert_eq!(second["meta"]["next"], Value::Null);
    assert!(second["meta"]["previous"].is_string());
    // Without the last slash too.
    assert_eq!(get("/api/v1/swarms").await.1["meta"]["total_count"], 2);

    // Filters: exact names narrow; regex syntax narrows nothing; a filter vr lacks is refused.
    let (_, f) = get("/api/v1/swarms/?app__name=web&config_name=prod&proc_name=web").await;
    assert_eq!(f["meta"]["total_count"], 1);
    assert_eq!(f["objects"][0]["resource_uri"], prod.as_str());
    let (_, f) = get("/api/v1/swarms/?app__name=web&config_name=prod&proc_name=web%7Cweb").await;
    assert_eq!(f["meta"]["total_count"], 2);
    let (_, f) = get(&format!("/api/v1/swarms/?squad=/api/v1/squads/{us}/")).await;
    assert_eq!(f["meta"]["total_count"], 0);
    let (st, e) = get("/api/v1/swarms/?apps__name=web").await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(e["error"]["field"], "apps__name");

    // PATCH what VR's client patches: version, squad by URI, size, ingredients by URI.
    let (_, pg) = get("/api/v1/ingredients/?name=pg").await;
    let pg_uri = pg["objects"][0]["resource_uri"]
        .as_str()
        .expect("uri")
        .to_string();
    let (st, patched) = send(
        basic(&server, reqwest::Method::PATCH, &prod, "admin", PW).json(&json!({
            "version": "v7", "squad": format!("/api/v1/squads/{us}/"), "size": 3,
            "config_ingredients": [pg_uri],
        })),
    )
    .await;
    assert_eq!(st, 202, "{patched}");
    assert_eq!(patched["squad"], format!("/api/v1/squads/{us}/"));
    assert_eq!(patched["squad_name"], "us");
    let native = swarm_named(&api, "web-prod-web").await;
    assert_eq!(native.spec.version, "v7");
    assert_eq!(native.spec.size, 3);
    assert_eq!(native.spec.ingredients, ["pg"]);
    let (_, pg) = get(&pg_uri).await;
    assert_eq!(pg["swarms"], json!([prod]));
    assert!(!pg.to_string().contains("s3cret"), "{pg}");
    // Bad input names its field and changes nothing.
    for (body, field) in [
        (json!({ "size": "many" }), "size"),
        (json!({ "squad": "/api/v1/squads/999/" }), "squad"),
        (json!({ "version": "v1 && reboot" }), "version"),
        (json!({ "colour": "blue" }), "colour"),
    ] {
        let (st, e) =
            send(basic(&server, reqwest::Method::PATCH, &prod, "admin", PW).json(&body)).await;
        assert_eq!(st, 400, "{body}: {e}");
        assert_eq!(e["error"]["field"], field, "{body}: {e}");
    }
    assert_eq!(swarm_named(&api, "web-prod-web").await.spec, native.spec);
    // A new swarm without its app is refused, naming it.
    let (st, e) = send(
        basic(
            &server,
            reqwest::Method::POST,
            "/api/v1/swarms/",
            "admin",
            PW,
        )
        .json(&json!({ "proc_name": "web", "config_name": "x", "squad": "eu", "version": "main" })),
    )
    .await;
    assert_eq!(
        (st, e["error"]["field"].as_str()),
        (400, Some("app")),
        "{e}"
    );

    // Apps, squads and hosts in VR's shapes.
    let (_, apps) = get("/api/v1/apps/").await;
    assert_eq!(apps["objects"][0]["resource_uri"], "/api/v1/apps/web/");
    let (st, sq) = get(&format!("/api/v1/squads/{eu}/")).await;
    assert_eq!((st, sq["name"].as_str()), (200, Some("eu")));
    assert_eq!(get("/api/v1/hosts/").await.1["meta"]["total_count"], 0);

    // Authentication: an API token as the password works; someone else's name with it does
    // not; a viewer reads but cannot change; changes must be JSON.
    let token = cli_token(&api).await;
    assert_eq!(
        status_of(&server, "/api/v1/swarms/", "admin", &token).await,
        200
    );
    assert_eq!(
        status_of(&server, "/api/v1/swarms/", "ann", &token).await,
        401
    );
    let vic: Value = api
        .post(
            "/api/users",
            &json!({ "username": "vic", "password": "viewer-password-1", "role": "viewer" }),
        )
        .await
        .expect_status(201)
        .value();
    let vic_id = vic["id"].as_i64().expect("id");
    assert_eq!(
        status_of(&server, &prod, "vic", "viewer-password-1").await,
        200
    );
    let (st, e) = send(
        basic(
            &server,
            reqwest::Method::PATCH,
            &prod,
            "vic",
            "viewer-password-1",
        )
        .json(&json!({ "size": 0 })),
    )
    .await;
    assert_eq!(st, 403, "{e}");
    let (st, e) = send(
        basic(
            &server,
            reqwest::Method::POST,
            &format!("{prod}swarm/"),
            "admin",
            PW,
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=b"),
    )
    .await;
    assert_eq!(st, 415, "{e}");
    let (st, _) = send(reqwest::Client::new().get(server.url("/api/v1/swarms/"))).await;
    assert_eq!(st, 401);
    // DELETE removes the swarm (its procs, had it any, would stay as orphans).
    let (st, _) = send(
        basic(&server, reqwest::Method::DELETE, &prod, "admin", &token)
            .header("content-type", "application/json"),
    )
    .await;
    assert_eq!(st, 204);
    assert_eq!(get(&prod).await.0, 404);

    // A password accepted once is remembered, but only against the password it was: a change
    // or a disabled account ends it at once.
    assert_eq!(
        status_of(&server, "/api/v1/swarms/", "vic", "viewer-password-1").await,
        200
    );
    api.patch(
        &format!("/api/users/{vic_id}"),
        &json!({ "password": "viewer-password-2" }),
    )
    .await
    .expect_ok();
    assert_eq!(
        status_of(&server, "/api/v1/swarms/", "vic", "viewer-password-1").await,
        401
    );
    assert_eq!(
        status_of(&server, "/api/v1/swarms/", "vic", "viewer-password-2").await,
        200
    );
    api.patch(
        &format!("/api/users/{vic_id}"),
        &json!({ "disabled": true }),
    )
    .await
    .expect_ok();
    assert_eq!(
        status_of(&server, "/api/v1/swarms/", "vic", "viewer-password-2").await,
        401
    );
    api.patch(
        &format!("/api/users/{vic_id}"),
        &json!({ "disabled": false }),
    )
    .await
    .expect_ok();

    // Wrong passwords are throttled like sign-ins (per name and address).
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(status_of(&server, "/api/v1/swarms/", "vic", "nope").await);
    }
    assert_eq!(statuses[0], 401, "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
}
