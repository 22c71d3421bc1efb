//! The real `vr` server as a child process, and an HTTP client for its API.
//!
//! [`VrServer`] runs `vr serve` on a free loopback port with a fresh data dir, captures its log
//! in a file (tests read the setup token from it, and it is printed when a test fails), and can
//! be stopped gracefully, killed mid-work, and restarted on the same data dir and port.
//! [`ApiClient`] speaks the API the way the web UI (cookie + CSRF header) or the CLI (bearer
//! token) does.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use nix::sys::signal::Signal;
use vr_app::api::{CSRF_HEADER, LoginRequest, paths};

use super::ports::{free_port, wait_until, wait_until_async};
use super::procs;

/// How long a fresh server may take to answer /api/health (it creates its database, SSH key…).
const HEALTHY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a SIGTERMed server may take to shut down.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);
/// Lines of server log printed when a test panics.
const LOG_TAIL_LINES: usize = 80;

/// How to start the server.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// `VR_ADMIN_PASSWORD`: creates user `admin` with this password on first start.
    pub admin_password: Option<String>,
    /// The `vr` binary; default: `VR_BIN`, else `target/debug/vr` beside the test executable.
    pub binary: Option<PathBuf>,
    /// Data dir to use instead of a fresh temp dir (e.g. one prepared by the test).
    pub data_dir: Option<PathBuf>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Extra arguments after `serve …`.
    pub args: Vec<String>,
    /// Where to serve instead of `127.0.0.1:FREE_PORT`, e.g. `0.0.0.0:8000` inside a sandbox.
    pub listen: Option<std::net::SocketAddr>,
    /// The address tests reach the server at, when it is not 127.0.0.1 (a sandbox's).
    pub reach_at: Option<std::net::IpAddr>,
    /// Words run before the binary, e.g. `ip netns exec NS` to start it inside a sandbox.
    pub command_prefix: Vec<String>,
}

/// A running `vr serve`. Dropping it kills the server and everything it started.
#[derive(Debug)]
pub struct VrServer {
    opts: ServerOptions,
    binary: PathBuf,
    port: u16,
    data_dir: PathBuf,
    log_path: PathBuf,
    /// Length of the log when the current run started, so waits for a log line ignore earlier
    /// runs of the same server.
    run_start: u64,
    child: Option<Child>,
    // Last: removed after the process is dead.
    temp: tempfile::TempDir,
}

impl VrServer {
    /// Starts the server and waits until `/api/health` answers 200.
    pub async fn start(opts: ServerOptions) -> VrServer {
        let mut server = VrServer::spawn(opts);
        // The port was free when picked; another process may have taken it since. Then the
        // server exits at once and gets another port (only on a first start: a restart must
        // keep its port).
        for _ in 0..3 {
            match server.healthy_or_exit().await {
                Ok(()) => return server,
                Err(status) if server.log_since_start().contains("in use") => {
                    eprintln!(
                        "vr-tests: port {} was taken ({status}); retrying",
                        server.port
                    );
                    if let Some(mut dead) = server.child.take() {
                        procs::destroy(&mut dead, true);
                    }
                    server.port = free_port();
                    server.spawn_child();
                }
                Err(status) => server.fail(&format!("vr exited at start-up ({status})")),
            }
        }
        server.fail("vr could not find a free port in 3 attempts")
    }

    /// Starts the server without waiting for it: for tests of start-up itself.
    pub fn spawn(opts: ServerOptions) -> VrServer {
        procs::become_subreaper();
        let binary = vr_binary(&opts);
        let temp = tempfile::Builder::new()
            .prefix("vr-test-server")
            .tempdir()
            .expect("creating the server's temp dir");
        let data_dir = opts
            .data_dir
            .clone()
            .unwrap_or_else(|| temp.path().join("data"));
        std::fs::create_dir_all(&data_dir).expect("creating the data dir");
        let port = opts.listen.map_or_else(free_port, |l| l.port());
        let mut server = VrServer {
            opts,
            binary,
            port,
            data_dir,
            log_path: temp.path().join("vr.log"),
            run_start: 0,
            child: None,
            temp,
        };
        server.spawn_child();
        server
    }

    fn spawn_child(&mut self) {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("opening the server log");
        self.run_start = log.metadata().expect("server log metadata").len();
        let mut cmd = match self.opts.command_prefix.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(&self.binary);
                c
            }
            None => Command::new(&self.binary),
        };
        let listen = self
            .opts
            .listen
            .map_or_else(|| format!("127.0.0.1:{}", self.port), |l| l.to_string());
        cmd.arg("serve")
            .arg("--listen")
            .arg(listen)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--no-browser")
            .args(&self.opts.args)
            .env("RUST_LOG", "info")
            // Settings from the developer's shell must not leak into the server under test.
            .env_remove("VR_ADMIN_PASSWORD")
            .env_remove("VR_ADMIN_USER")
            .env_remove("VR_DATA_DIR")
            .env_remove("VR_URL")
            .env_remove("VR_TOKEN")
            .envs(self.opts.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("cloning the log handle"))
            .stderr(log)
            // Its own process group, so a kill takes whatever it started along with it.
            .process_group(0);
        if let Some(pw) = &self.opts.admin_password {
            cmd.env("VR_ADMIN_PASSWORD", pw);
        }
        self.child = Some(cmd.spawn().unwrap_or_else(|e| {
            panic!("starting {}: {e}", self.binary.display());
        }));
    }

    /// `http://127.0.0.1:PORT` (no trailing slash), or the sandbox address it is reached at.
    pub fn base_url(&self) -> String {
        let host = self
            .opts
            .reach_at
            .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
        format!("http://{host}:{}", self.port)
    }

    /// `base_url()` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The file holding the server's stdout and stderr over all its runs.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The whole log, all runs.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The log of the current run only.
    pub fn log_since_start(&self) -> String {
        let all = std::fs::read(&self.log_path).unwrap_or_default();
        let start = usize::try_from(self.run_start)
            .unwrap_or(usize::MAX)
            .min(all.len());
        String::from_utf8_lossy(&all[start..]).into_owned()
    }

    /// The pid of the server process, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Waits until `/api/health` answers 200, panicking with the log if the server exits or the
    /// deadline passes.
    pub async fn wait_healthy(&mut self) {
        if let Err(status) = self.healthy_or_exit().await {
            self.fail(&format!("vr exited ({status}) before it was healthy"));
        }
    }

    /// Ok once healthy; Err with the exit status if the process ended first. Panics at the
    /// deadline.
    async fn healthy_or_exit(&mut self) -> Result<(), ExitStatus> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("building an HTTP client");
        let url = self.url(paths::HEALTH);
        let mut exited = None;
        let ok = wait_until_async(HEALTHY_TIMEOUT, || {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                exited = Some(status);
            }
            let done = exited.is_some();
            let req = http.get(&url);
            async move {
                done || req
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == reqwest::StatusCode::OK)
            }
        })
        .await;
        match exited {
            Some(status) => Err(status),
            None if ok => Ok(()),
            None => self.fail(&format!(
                "vr did not answer {url} with 200 within {HEALTHY_TIMEOUT:?}"
            )),
        }
    }

    /// Waits for a line of the current run's log containing `needle`, and returns it.
    pub async fn wait_for_log(&self, needle: &str, timeout: Duration) -> String {
        let mut found = None;
        wait_until_async(timeout, || {
            found = self
                .log_since_start()
                .lines()
                .find(|l| l.contains(needle))
                .map(str::to_string);
            let done = found.is_some();
            async move { done }
        })
        .await;
        match found {
            Some(line) => line,
            None => self.fail(&format!(
                "no log line containing {needle:?} within {timeout:?}"
            )),
        }
    }

    /// The one-time setup token printed at first start, from the line
    /// `… http://127.0.0.1:PORT/setup#token=TOKEN`.
    pub async fn setup_token(&self) -> String {
        let line = self
            .wait_for_log("/setup#token=", Duration::from_secs(30))
            .await;
        let (_, rest) = line
            .split_once("/setup#token=")
            .expect("the line contains the marker");
        let token: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        assert!(!token.is_empty(), "empty setup token in log line: {line}");
        token
    }

    /// A fresh client (no session) for this server.
    pub fn client(&self) -> ApiClient {
        ApiClient::new(&self.base_url())
    }

    /// A client logged in as `admin` with [`ServerOptions::admin_password`].
    pub async fn admin(&self) -> ApiClient {
        let pw = self
            .opts
            .admin_password
            .as_deref()
            .expect("VrServer::admin needs ServerOptions::admin_password");
        let client = self.client();
        client.login("admin", pw).await;
        client
    }

    /// SIGKILLs the server and everything it started, as a crash or `kill -9` would. Use
    /// [`VrServer::restart`] to bring it back on the same data dir.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            procs::destroy(&mut child, true);
        }
    }

    /// Stops the server with SIGTERM and waits for it to exit; returns its exit status. Panics
    /// (after killing it) if it does not exit within the grace period.
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the server is not running");
        procs::signal(child.id() as i32, Signal::SIGTERM);
        let mut status = None;
        wait_until(STOP_TIMEOUT, || {
            status = child.try_wait().ok().flatten();
            status.is_some()
        });
        // Whatever it started and left behind goes too (and a server that hung is killed).
        procs::destroy(&mut child, true);
        match status {
            Some(s) => s,
            None => self.fail(&format!(
                "vr did not exit within {STOP_TIMEOUT:?} of SIGTERM"
            )),
        }
    }

    /// Stops the server if it runs, starts it again on the same port and data dir, and waits
    /// until it is healthy.
    pub async fn restart(&mut self) {
        if self.child.is_some() {
            self.stop();
        }
        self.spawn_child();
        self.wait_healthy().await;
    }

    /// Panics with `msg` and the tail of the current run's log (Drop then kills the server).
    fn fail(&self, msg: &str) -> ! {
        panic!(
            "{msg}\n--- vr log ({}) ---\n{}",
            self.log_path.display(),
            tail(&self.log_since_start(), LOG_TAIL_LINES)
        );
    }

    /// The temp dir holding the log and (by default) the data dir.
    pub fn temp_dir(&self) -> &Path {
        self.temp.path()
    }
}

impl Drop for VrServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- vr log tail ({}) ---\n{}",
                self.log_path.display(),
                tail(&self.log(), LOG_TAIL_LINES)
            );
        }
        self.kill();
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Where the `vr` binary is: `opts.binary`, `VR_BIN`, or `target/debug/vr` beside this test
/// executable (which lives in `target/debug/deps/`).
fn vr_binary(opts: &ServerOptions) -> PathBuf {
    let path = opts.binary.clone().unwrap_or_else(default_vr_binary);
    assert!(
        path.is_file(),
        "no vr binary at {}: build it first: cargo build -p vr-server",
        path.display()
    );
    path
}

/// `VR_BIN`, else `target/PROFILE/vr` beside this test executable (in `target/PROFILE/deps/`):
/// the binary that CLI tests run too.
pub fn default_vr_binary() -> PathBuf {
    std::env::var_os("VR_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().expect("path of the test executable");
            exe.parent()
                .and_then(Path::parent)
                .expect("the test executable is in target/PROFILE/deps")
                .join("vr")
        })
}

/// One HTTP response, read whole: tests assert on status and body without more awaiting.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    /// True for 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Panics with the body unless the status is `status`.
    #[track_caller]
    pub fn expect_status(self, status: u16) -> Reply {
        assert_eq!(
            self.status, status,
            "expected HTTP {status}, got {}: {}",
            self.status, self.text
        );
        self
    }

    /// Panics with the body unless the status is 2xx.
    #[track_caller]
    pub fn expect_ok(self) -> Reply {
        assert!(
            self.ok(),
            "expected HTTP 2xx, got {}: {}",
            self.status,
            self.text
        );
        self
    }

    /// The body as `T`, panicking with the body if it does not parse.
    #[track_caller]
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.text).unwrap_or_else(|e| {
            panic!(
                "HTTP {} body is not a {}: {e}: {}",
                self.status,
                std::any::type_name::<T>(),
                self.text
            )
        })
    }

    /// The body as `T`, decoded both by serde and by the UI's decoder (`vr_app::json`), which
    /// must agree: every answer the UI reads is checked on real server output this way.
    #[track_caller]
    pub fn decoded<T>(&self) -> T
    where
        T: DeserializeOwned + vr_app::json::FromJson + PartialEq + std::fmt::Debug,
    {
        let by_serde: T = self.json();
        let by_ui: T = vr_app::json::decode(&self.text).unwrap_or_else(|e| {
            panic!(
                "the UI cannot decode a {}: {e}: {}",
                std::any::type_name::<T>(),
                self.text
            )
        });
        assert_eq!(by_ui, by_serde, "{}", self.text);
        by_serde
    }

    /// The body as untyped JSON.
    #[track_caller]
    pub fn value(&self) -> serde_json::Value {
        self.json()
    }

    /// The API error in the body (`{ "error": { code, message, field } }`).
    #[track_caller]
    pub fn error(&self) -> vr_app::ErrorDetail {
        self.json::<vr_app::ErrorBody>().error
    }
}

/// An API client like the web UI (session cookie, CSRF header on changes) or the CLI (bearer
/// token).
#[derive(Debug)]
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    csrf: Mutex<Option<String>>,
    bearer: Option<String>,
}

impl ApiClient {
    /// A client with an empty cookie jar.
    pub fn new(base_url: &str) -> ApiClient {
        ApiClient::build(base_url, None)
    }

    /// A separate client that authenticates with `Authorization: Bearer SECRET` and no cookies.
    pub fn with_token(&self, secret: &str) -> ApiClient {
        ApiClient::build(&self.base, Some(secret.to_string()))
    }

    fn build(base_url: &str, bearer: Option<String>) -> ApiClient {
        let http = reqwest::Client::builder()
            .cookie_store(bearer.is_none())
            .timeout(Duration::from_secs(60))
            // The server closes a keep-alive connection idle for 10 s (its header deadline); a
            // request sent on one just then fails, so never reuse one that old.
            .pool_idle_timeout(Duration::from_secs(5))
            .build()
            .expect("building an HTTP client");
        ApiClient {
            http,
            base: base_url.trim_end_matches('/').to_string(),
            csrf: Mutex::new(None),
            bearer,
        }
    }

    /// The underlying reqwest client (its cookie jar holds the session), e.g. for streaming.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The CSRF token from the last login, if any.
    pub fn csrf_token(&self) -> Option<String> {
        self.csrf.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Overrides the CSRF token (e.g. from `GET /api/auth/me`), or clears it with `None` to test
    /// that changes without it are refused.
    pub fn set_csrf_token(&self, token: Option<String>) {
        *self.csrf.lock().unwrap_or_else(|p| p.into_inner()) = token;
    }

    /// Logs in with username and password, remembers the CSRF token, and returns the reply.
    /// Panics unless the server says 200.
    #[track_caller]
    pub fn login<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> impl std::future::Future<Output = Reply> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let reply = self.try_login(username, password).await;
            assert_eq!(
                reply.status, 200,
                "login as {username} failed (at {caller}): {}",
                reply.text
            );
            reply
        }
    }

    /// Logs in; on success remembers the CSRF token. Returns the reply whatever it is.
    pub async fn try_login(&self, username: &str, password: &str) -> Reply {
        let body = LoginRequest {
            username: username.to_string(),
            password: password.to_string(),
        };
        let reply = self.post(paths::LOGIN, &body).await;
        if reply.ok() {
            let token = serde_json::from_str::<serde_json::Value>(&reply.text)
                .ok()
                .and_then(|v| v.get("csrf_token")?.as_str().map(str::to_string));
            self.set_csrf_token(token);
        }
        reply
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send::<()>(reqwest::Method::GET, path, None).await
    }

    pub async fn post<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Reply {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// POST without a body.
    pub async fn post_empty(&self, path: &str) -> Reply {
        self.send::<()>(reqwest::Method::POST, path, None).await
    }

    pub async fn put<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Reply {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn patch<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Reply {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send::<()>(reqwest::Method::DELETE, path, None).await
    }

    /// Any request. `path` is appended to the base URL; a JSON body is sent when given; the CSRF
    /// token goes along on everything but GET and HEAD.
    pub async fn send<B: Serialize + ?Sized>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
    ) -> Reply {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method.clone(), &url);
        if method != reqwest::Method::GET
            && method != reqwest::Method::HEAD
            && let Some(token) = self.csrf_token()
        {
            req = req.header(CSRF_HEADER, token);
        }
        if let Some(secret) = &self.bearer {
            req = req.bearer_auth(secret);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url} failed: {e}"));
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp
            .text()
            .await
            .unwrap_or_else(|e| panic!("reading the body of {method} {url}: {e}"));
        Reply {
            status,
            headers,
            text,
        }
    }
}
