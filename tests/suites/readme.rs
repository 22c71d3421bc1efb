//! The README's commands, run exactly as it writes them, in its order, in a sandbox that has
//! what they talk about: the server on 127.0.0.1:8000, hosts web1 (10.0.0.5), web2 (10.0.0.6)
//! and build1 (10.0.0.9) with vr's default layout, git.example.com and github.com serving the
//! app and the buildpack over HTTPS, a `shop` user, and the files the commands name. A command
//! the README adds or changes without this test knowing what it should do fails the test, so
//! the README cannot drift from what vr does.

use std::net::Ipv4Addr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vr_app::fleet::{Health, Host};
use vr_tests::harness::git::GitRepo;
use vr_tests::harness::sandbox::Sandbox;
use vr_tests::harness::tls::{Nginx, test_certificates};
use vr_tests::harness::{ApiClient, HostOptions, ServerOptions, TestHost, VrServer};

const ADMIN_PW: &str = "readme-admin-pw";
const ALICE_PW: &str = "alice-password-1";
const DB_PASSWORD: &str = "s3cret-db-pass";

/// The commands of the README's `sh` blocks, in order, without their trailing comments.
fn readme_commands(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in readme.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_sh = !in_sh && t == "```sh";
            continue;
        }
        if !in_sh || t.is_empty() || t.starts_with('#') {
            continue;
        }
        // A comment starts after two spaces (a `#` inside a URL is not one).
        let cmd = t.split_once("  #").map_or(t, |(c, _)| c).trim_end();
        out.push(cmd.to_string());
    }
    out
}

/// Inline `scripts/…` commands in the README's prose.
fn inline_scripts(readme: &str) -> Vec<String> {
    readme
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|code| code.starts_with("scripts/"))
        .map(str::to_string)
        .collect()
}

/// What a command must do.
enum Expect {
    /// Exit 0, printing all of these.
    Prints(&'static [&'static str]),
    /// Keeps running (a follower): printing all of these within the time given, then stopped.
    Follows(&'static [&'static str]),
    /// Run by `scripts/readme-scripts.sh` (from `scripts/test.sh`) or by CI itself.
    Script,
}

fn script() -> Vec<(&'static str, Expect)> {
    use Expect::*;
    vec![
        ("scripts/run.sh", Script),
        ("scripts/test.sh", Script),
        (
            "vr login --url http://127.0.0.1:8000",
            Prints(&["signed in to http://127.0.0.1:8000 as admin"]),
        ),
        (
            "echo \"$PW\" | vr login --user alice --password-stdin --expires-days 90",
            Prints(&["as alice", "it expires"]),
        ),
        ("vr whoami", Prints(&["alice"])),
        ("vr events --follow", Follows(&["user.login", "alice"])),
        ("vr logout", Prints(&["revoked"])),
        ("vr pubkey", Prints(&["ssh-ed25519 "])),
        ("vr backup vr-backup.db", Prints(&["vr-backup.db"])),
        ("vr completions bash > ~/.vr.bash", Prints(&[])),
        (
            "vr squad add web --description \"front end\"",
            Prints(&["created squad web"]),
        ),
        (
            "vr squad add jobs --description \"workers\"",
            Prints(&["created squad jobs"]),
        ),
        (
            "vr host add 10.0.0.5 --name web1 --squad web",
            Prints(&["added host web1"]),
        ),
        (
            "vr host add 10.0.0.6 --name web2 --squad web",
            Prints(&["added host web2"]),
        ),
        (
            "vr host add 10.0.0.9 --name build1 --builder",
            Prints(&["added host build1"]),
        ),
        ("vr host test web1", Prints(&["ok in", "supervisor 4.2.5"])),
        ("vr hosts", Prints(&["web1", "web2", "build1", "[builder]"])),
        (
            "vr host edit web2 --squad jobs",
            Prints(&["updated host web2: squad jobs"]),
        ),
        (
            "vr host trust web1 SHA256:ZcxKTE6n0UXP6bpLkiF9+5fvLOgqvHamSLsRKzx2LfE",
            Prints(&["web1"]),
        ),
        ("vr host rm web2", Prints(&["deleted host web2"])),
        (
            "vr buildpack add https://github.com/org/buildpack-python.git#v3 --description python",
            Prints(&["added buildpack #1"]),
        ),
        (
            "vr app add shop https://git.example.com/shop.git",
            Prints(&["shop"]),
        ),
        (
            "vr build shop v1.2.0 --follow",
            Prints(&["Python app detected", "Build succeeded"]),
        ),
        ("vr build shop main --force", Prints(&["#2"])),
        (
            "vr build upload shop ci-1234 shop.tar.gz",
            Prints(&["uploaded build"]),
        ),
        ("vr builds shop", Prints(&["v1.2.0", "ci-1234"])),
        (
            "vr ingredient add postgres --settings db.yaml --env db-env.yaml --secret DB_PASSWORD",
            Prints(&["added ingredient postgres"]),
        ),
        (
            "vr release create 1 --ingredient postgres --env own.yaml --volume /srv/shop:/data --run-as shop",
            Prints(&[
                "release #1",
                "volume: /srv/shop → /data",
                "DB_PASSWORD=••••••••",
            ]),
        ),
        (
            "vr release create 2 --ingredient postgres --env own.yaml --run-as shop",
            Prints(&["release #2"]),
        ),
        (
            "vr release show 1",
            Prints(&["DB_PASSWORD=••••••••", "(secret"]),
        ),
        ("vr release reveal 1 DB_PASSWORD", Prints(&[DB_PASSWORD])),
        ("vr compare-releases 1 2", Prints(&["build", "volumes"])),
        (
            "vr deploy 1 web1 5001 web -c prod",
            Prints(&["RUNNING", "1 uptest(s) passed"]),
        ),
        ("vr deploy 1 web1 0 worker -c prod", Prints(&["RUNNING"])),
        ("vr deploys", Prints(&["web1", "succeeded"])),
        ("vr uptests --host web1", Prints(&["passed"])),
        (
            "vr procs list 'shop-prod-web|blog' --host '^web'",
            Prints(&["shop-v1.2.0-prod-", "-web-5001"]),
        ),
        ("vr procs restart shop-prod-web", Prints(&["started"])),
        (
            "vr procs stop shop-prod-worker --host web1 && vr procs destroy shop-prod-worker --host web1 --yes",
            Prints(&["destroyed"]),
        ),
        ("vr host clean web1 --days 7", Prints(&["web1: "])),
        (
            "vr swarm create --app shop --version v1.2.0 --proc web --config prod --squad web --size 2",
            Prints(&["swarm #1 shop-prod-web created"]),
        ),
        ("vr list-swarms", Prints(&["shop-prod-web"])),
        (
            "vr swarm 'shop-prod-.*' - --dry-run",
            Prints(&[
                "planning 1 swarm(s) at -: shop-prod-web",
                "start on web1 port",
                "succeeded shop-prod-web",
            ]),
        ),
        (
            "vr swarm 'shop-prod-.*' -",
            Prints(&["uptests passed", "succeeded shop-prod-web"]),
        ),
        (
            "vr swarm shop-prod-web - --size 1 -x 'blog-.*'",
            Prints(&["retired", "succeeded shop-prod-web"]),
        ),
        (
            "vr swarm show shop-prod-web",
            Prints(&["matches", "1 of 1 running"]),
        ),
        (
            "vr swarm history shop-prod-web",
            Prints(&["size: 2 → 1", "(dry run)"]),
        ),
        (
            "vr logs shop-prod-web -n 5",
            Prints(&["procs on 1 host", "out| Serving HTTP on 0.0.0.0 port"]),
        ),
        (
            "vr logs shop-prod-web --stdout --follow",
            Follows(&["out| Serving HTTP on 0.0.0.0 port"]),
        ),
        (
            "vr webhook add ops http://127.0.0.1:9000/vr --events dispatch.failed,host.unreachable,host.recovered",
            Prints(&["ops", "signing secret (shown once): "]),
        ),
        (
            "vr webhooks",
            Prints(&[
                "ops",
                "http://127.0.0.1:9000/…",
                "dispatch.failed, host.unreachable, host.recovered",
            ]),
        ),
        (
            "vr balancer add edge --host web1 --drain-ms 2000",
            Prints(&[
                "balancer edge (nginx)",
                "/etc/nginx/conf.d",
                "nginx -s reload",
                "2000 ms",
            ]),
        ),
        (
            "vr swarm edit shop-prod-web --pool shop --balancer edge",
            Prints(&["swarm #1 shop-prod-web saved"]),
        ),
        ("vr balancers", Prints(&["edge", "nginx", "web1"])),
        (
            "export VELOCIRAPTOR_URL=http://127.0.0.1:8000/ VELOCIRAPTOR_USERNAME=admin VELOCIRAPTOR_PASSWORD=\"$VR_TOKEN\"",
            Prints(&[]),
        ),
        (
            "vr.cli list-swarms '.*'",
            Prints(&["Loaded 1 swarms", "shop-prod-web"]),
        ),
        (
            "vr.cli swarm 'shop-prod-web|blog-prod-web' -",
            Prints(&["Matched 1 apps", "shop-prod-web"]),
        ),
        (
            "vr.cli procs list shop-prod-web",
            Prints(&["shop-prod-web [v1.2.0]", "web1", "RUNNING"]),
        ),
        ("vr orphans", Prints(&["no orphans"])),
        ("vr orphans --clean --yes", Prints(&["no orphans to clean"])),
        (
            "vr swarm delete shop-prod-web --take-down",
            Prints(&["swarm #1 shop-prod-web deleted; its procs were drained and destroyed"]),
        ),
        ("scripts/build-static.sh", Script),
    ]
}

/// Runs one README command inside the sandbox with `sh -c`, exactly as written.
fn shell(sandbox: &Sandbox, env: &[(String, String)], cwd: &Path, cmd: &str) -> Command {
    let mut c = sandbox.command("/usr/bin/env");
    c.arg("-i");
    for (k, v) in env {
        c.arg(format!("{k}={v}"));
    }
    c.args(["sh", "-c", cmd]).current_dir(cwd);
    c
}

/// Output of a command that had to run under a terminal (it asks for a password).
fn with_terminal(mut c: Command, input: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script");
    if let Some(mut i) = child.stdin.take() {
        i.write_all(input.as_bytes()).expect("answers");
    }
    child.wait_with_output().expect("output")
}

/// The app as its repo on git.example.com holds it.
fn shop_repo() -> GitRepo {
    let repo = GitRepo::new();
    repo.commit(
        &[
            ("requirements.txt", ""),
            ("index.html", "the shop\n"),
            (
                "Procfile",
                "web: python3 -m http.server $PORT --bind 0.0.0.0\nworker: exec sleep 100000\n",
            ),
            (
                "uptests/web/01_http.sh",
                "#!/bin/sh\nexec python3 -c 'import sys, urllib.request; urllib.request.urlopen(\"http://%s:%s/index.html\" % (sys.argv[1], sys.argv[2]), timeout=5)' \"$1\" \"$2\"\n",
            ),
        ],
        "the shop",
    );
    repo.tag("v1.2.0");
    repo
}

fn python_buildpack() -> GitRepo {
    let bp = GitRepo::new();
    bp.commit(
        &[
            (
                "bin/detect",
                "#!/bin/sh\n[ -f \"$1/requirements.txt\" ] && echo Python && exit 0\nexit 1\n",
            ),
            (
                "bin/compile",
                "#!/bin/sh\necho \"-----> Installing requirements.txt (nothing to install)\"\n",
            ),
            (
                "bin/release",
                "#!/bin/sh\nprintf -- '---\\nconfig_vars:\\n  PYTHONUNBUFFERED: \"1\"\\n'\n",
            ),
        ],
        "python",
    );
    bp.tag("v3");
    bp
}

/// A bare copy of `repo` at `dir/name`, fetchable over "dumb" HTTP.
fn publish(repo: &GitRepo, dir: &Path, name: &str) {
    let dest = dir.join(name);
    let run = |args: &[&str], cwd: &Path| {
        let out = Command::new("git")
            .args(args)
            .current_dir(cwd)
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::create_dir_all(dest.parent().expect("parent")).expect("dir");
    run(
        &[
            "clone",
            "-q",
            "--bare",
            &repo.url(),
            &dest.display().to_string(),
        ],
        dir,
    );
    run(&["update-server-info"], &dest);
}

async fn wait_for<T>(what: &str, timeout: Duration, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let until = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < until, "{what} within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn host_health(api: &ApiClient, name: &str) -> Option<Host> {
    let r = api.get(&vr_app::fleet::paths::host(name)).await;
    r.ok().then(|| r.json())
}

#[tokio::test]
async fn every_command_in_the_readme_runs_as_written() {
    let repo_root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(repo_root.join("README.md")).expect("README.md");
    let steps = script();
    let listed: Vec<String> = readme_commands(&readme);
    let known: Vec<&str> = steps.iter().map(|(c, _)| *c).collect();
    assert_eq!(
        listed, known,
        "the README's commands and this test's list differ: update both"
    );
    // The scripts: CI runs scripts/test.sh (.ci/run); scripts/readme-scripts.sh, which
    // scripts/test.sh runs, runs the others exactly as the README writes them.
    let ci = std::fs::read_to_string(repo_root.join(".ci/run")).expect(".ci/run");
    assert!(ci.contains("scripts/test.sh"));
    let test_sh = std::fs::read_to_string(repo_root.join("scripts/test.sh")).expect("test.sh");
    assert!(test_sh.contains("scripts/readme-scripts.sh"));
    let runner =
        std::fs::read_to_string(repo_root.join("scripts/readme-scripts.sh")).expect("runner");
    let scripts = steps
        .iter()
        .filter(|(_, e)| matches!(e, Expect::Script))
        .map(|(c, _)| c.to_string())
        .chain(inline_scripts(&readme));
    for cmd in scripts {
        if cmd == "scripts/test.sh" {
            continue;
        }
        assert!(
            runner.contains(&format!("{cmd}\n")) || runner.contains(&format!("'{cmd}'")),
            "scripts/readme-scripts.sh does not run `{cmd}`"
        );
    }

    // The sandbox and the world the README talks about.
    let sandbox = Sandbox::create();
    let work = tempfile::tempdir().expect("work dir");
    let w = work.path();
    let home = w.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let git_addr = Ipv4Addr::new(10, 0, 0, 20);
    sandbox.add_address(git_addr);
    sandbox.etc_file(
        "hosts",
        &format!("127.0.0.1 localhost\n{git_addr} git.example.com github.com\n"),
    );
    let certs = w.join("certs");
    std::fs::create_dir_all(&certs).expect("certs");
    sandbox.etc_file(
        "ssl/certs/ca-certificates.crt",
        &test_certificates(&certs, &["DNS:git.example.com", "DNS:github.com"]),
    );
    sandbox.add_user("shop", 5050);
    let published = w.join("git");
    let shop = shop_repo();
    let buildpack = python_buildpack();
    publish(&shop, &published, "shop.git");
    publish(&buildpack, &published, "org/buildpack-python.git");
    // Both git hosts, over HTTPS, "dumb" HTTP: nginx serves the bare repos as files.
    let d = certs.display();
    let _git_server = Nginx::start(
        sandbox.command("nginx"),
        &certs,
        &format!(
            "server {{ listen {git_addr}:443 ssl; server_name git.example.com github.com;\n\
             ssl_certificate {d}/server.pem; ssl_certificate_key {d}/server.key; root {}; }}",
            published.display()
        ),
    );

    let server = VrServer::start(ServerOptions {
        admin_password: Some(ADMIN_PW.into()),
        listen: Some("0.0.0.0:8000".parse().expect("addr")),
        reach_at: Some(sandbox.reach().into()),
        command_prefix: vec![
            "ip".into(),
            "netns".into(),
            "exec".into(),
            sandbox.name().into(),
        ],
        ..Default::default()
    })
    .await;
    let api = server.admin().await;
    let key = vr_tests::harness::fleet::server_key(&api).await;
    let opts = HostOptions {
        authorized_keys: vec![key],
        ..Default::default()
    };
    let web1: TestHost = sandbox.host(Ipv4Addr::new(10, 0, 0, 5), opts.clone());
    let _web2: TestHost = sandbox.host(Ipv4Addr::new(10, 0, 0, 6), opts.clone());
    let _build1: TestHost = sandbox.host(Ipv4Addr::new(10, 0, 0, 9), opts);
    api.post(
        "/api/users",
        &serde_json::json!({"username": "alice", "password": ALICE_PW, "role": "deployer"}),
    )
    .await
    .expect_status(201);
    // The files the commands name.
    std::fs::write(w.join("db.yaml"), "db:\n  host: db1\n  port: 5432\n").expect("db.yaml");
    std::fs::write(
        w.join("db-env.yaml"),
        format!("DB_HOST: db1\nDB_PASSWORD: \"{DB_PASSWORD}\"\n"),
    )
    .expect("db-env.yaml");
    std::fs::write(w.join("own.yaml"), "LOG_LEVEL: info\n").expect("own.yaml");
    std::fs::write(
        w.join("shop.tar.gz"),
        super::builds::tarball(&[("Procfile", "web: ./run\n"), ("run", "#!/bin/sh\n")]),
    )
    .expect("shop.tar.gz");

    let vr_dir = vr_tests::harness::server::default_vr_binary()
        .parent()
        .expect("bin dir")
        .display()
        .to_string();
    let mut env: Vec<(String, String)> = vec![
        (
            "PATH".into(),
            format!(
                "{vr_dir}:{}:/usr/local/bin:/usr/bin:/bin",
                repo_root.join(".tools/vrcli/bin").display()
            ),
        ),
        ("HOME".into(), home.display().to_string()),
        ("LANG".into(), "C.UTF-8".into()),
        ("PW".into(), ALICE_PW.into()),
        (
            "VR_DATA_DIR".into(),
            server.data_dir().display().to_string(),
        ),
    ];

    for (cmd, expect) in &steps {
        // What the world does between the README's lines.
        match *cmd {
            "vr pubkey" => {
                // Signed out now: the rest act as the admin, as an operator's VR_TOKEN would.
                let token: vr_app::api::CreatedToken = api
                    .post("/api/tokens", &serde_json::json!({"name": "readme"}))
                    .await
                    .expect_status(201)
                    .json();
                env.push(("VR_TOKEN".into(), token.secret));
            }
            c if c.starts_with("vr host trust web1") => {
                // web1 is reinstalled: it presents the key the README trusts.
                wait_for("web1 pinned", Duration::from_secs(20), async || {
                    host_health(&api, "web1")
                        .await
                        .filter(|h| h.host_key.is_some())
                })
                .await;
                web1.replace_host_key(&repo_root.join("tests/fixtures/reinstalled_host_key"));
                wait_for("web1's new key seen", Duration::from_secs(20), async || {
                    host_health(&api, "web1")
                        .await
                        .filter(|h| h.status.health == Health::KeyChanged)
                })
                .await;
            }
            c if c.starts_with("vr.cli list-swarms") => {
                // The `export` line before it ran in its own shell: the session now has what it
                // exported.
                let token = env
                    .iter()
                    .find(|(k, _)| k == "VR_TOKEN")
                    .map(|(_, v)| v.clone())
                    .expect("VR_TOKEN is set by now");
                env.extend([
                    ("VELOCIRAPTOR_URL".into(), "http://127.0.0.1:8000/".into()),
                    ("VELOCIRAPTOR_USERNAME".into(), "admin".into()),
                    ("VELOCIRAPTOR_PASSWORD".into(), token),
                ]);
            }
            c if c.starts_with("vr squad add web") => {
                // The completion script the line before wrote, where it said.
                let script = std::fs::read_to_string(home.join(".vr.bash")).expect("~/.vr.bash");
                assert!(script.contains("complete -F _vr"), "{script}");
            }
            "vr orphans" => {
                // vr.cli only asked for the dispatch; the delete further on waits for none.
                wait_for(
                    "vr.cli's dispatch done",
                    Duration::from_secs(60),
                    async || {
                        let all: Vec<vr_app::swarm::Dispatch> =
                            api.get("/api/dispatches").await.expect_ok().json();
                        all.iter().all(|d| !d.status.in_flight()).then_some(())
                    },
                )
                .await;
            }
            c if c.starts_with("vr release create 2") => {
                // It is made of build 2, which was started without following it.
                wait_for("build 2 done", Duration::from_secs(60), async || {
                    let b: vr_app::build::Build = api.get("/api/builds/2").await.expect_ok().json();
                    (!b.status.in_progress()).then_some(())
                })
                .await;
            }
            _ => {}
        }
        match expect {
            Expect::Script => continue,
            Expect::Prints(needles) => {
                let c = shell(&sandbox, &env, w, cmd);
                let out = if cmd.starts_with("vr login --url") {
                    // It asks at a terminal.
                    let mut t = sandbox.command("/usr/bin/env");
                    t.arg("-i");
                    for (k, v) in &env {
                        t.arg(format!("{k}={v}"));
                    }
                    t.args(["script", "-qec", cmd, "/dev/null"]).current_dir(w);
                    with_terminal(t, &format!("admin\n{ADMIN_PW}\n"))
                } else {
                    let mut c = c;
                    c.stdin(Stdio::null()).output().expect("command")
                };
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                assert!(out.status.success(), "`{cmd}` failed:\n{text}");
                for n in *needles {
                    assert!(text.contains(n), "`{cmd}` did not print {n:?}:\n{text}");
                }
            }
            Expect::Follows(needles) => {
                let mut c = shell(&sandbox, &env, w, cmd);
                let out_path = w.join("follow.out");
                let mut child = c
                    .stdin(Stdio::null())
                    .stdout(std::fs::File::create(&out_path).expect("out"))
                    .stderr(Stdio::null())
                    .process_group(0)
                    .spawn()
                    .expect("follower");
                let seen = wait_for(
                    "the follower's output",
                    Duration::from_secs(20),
                    async || {
                        let text = std::fs::read_to_string(&out_path).unwrap_or_default();
                        needles.iter().all(|n| text.contains(n)).then_some(text)
                    },
                )
                .await;
                assert!(
                    child.try_wait().ok().flatten().is_none(),
                    "`{cmd}` ended by itself: {seen}"
                );
                vr_tests::harness::procs::destroy(&mut child, true);
            }
        }
    }
}
