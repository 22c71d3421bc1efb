//! Headless Chromium driven through chromedriver (WebDriver, via fantoccini), for UI tests.
//!
//! chromedriver runs in its own process group so dropping a [`Browser`] kills chromedriver and
//! every Chromium process with it; otherwise Chromium outlives a panicking test. When a test
//! panics, the browser first saves a screenshot to `<repo>/test-artifacts/` so the failure can be
//! seen, not guessed.

use base64::Engine as _;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::ports::{free_port, tcp_connects, wait_until, wait_until_async};
use super::procs;

/// How long chromedriver and Chromium may take to come up.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Default wait for an element or a text to appear.
pub const WAIT: Duration = Duration::from_secs(10);

/// Where screenshots go: `VR_TEST_ARTIFACTS`, else `test-artifacts/` at the repository root.
pub fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("VR_TEST_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("the tests crate is inside the repository")
                .join("test-artifacts")
        });
    std::fs::create_dir_all(&dir).expect("creating the test artifacts dir");
    dir
}

/// A headless Chromium session.
#[derive(Debug)]
pub struct Browser {
    client: Client,
    session_id: String,
    driver: Child,
    driver_port: u16,
    /// Processes of this browser outside chromedriver's process group (crash handlers).
    helpers: BTreeSet<i32>,
    // Last: the profile and driver log are removed after the processes are dead.
    dir: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile.
    pub async fn start() -> Browser {
        procs::become_subreaper();
        let dir = tempfile::Builder::new()
            .prefix("vr-test-browser")
            .tempdir()
            .expect("creating the browser temp dir");
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("chromedriver.log"))
            .expect("creating chromedriver.log");
        // Chromium writes crash reports and caches under $HOME and starts crash handlers that
        // leave its process group; with HOME in our temp dir their command lines name that dir,
        // which is how Drop finds them, and nothing is written to the real home.
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("creating the browser's HOME");
        let mut driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("cloning the log handle"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("starting chromedriver (apt install chromium-driver)");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut exited = None;
        let up = wait_until(START_TIMEOUT, || {
            exited = driver.try_wait().ok().flatten();
            exited.is_some() || tcp_connects(addr, Duration::from_millis(500))
        });
        if !up || exited.is_some() {
            procs::destroy_marked(
                &mut driver,
                true,
                Some(&format!("{}/", dir.path().display())),
            );
            panic!(
                "chromedriver did not listen on {addr} (exit: {exited:?}): {}",
                std::fs::read_to_string(dir.path().join("chromedriver.log")).unwrap_or_default()
            );
        }
        let profile = dir.path().join("profile");
        let options = serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                format!("--user-data-dir={}", profile.display()),
                "--window-size=1280,800",
            ],
        });
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".to_string(), options);
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(caps);
        let url = format!("http://{addr}");
        // A Chromium that cannot start would otherwise leave the session request waiting forever.
        let connected = tokio::time::timeout(START_TIMEOUT, builder.connect(&url))
            .await
            .map_err(|_| format!("no session within {START_TIMEOUT:?}"))
            .and_then(|r| r.map_err(|e| e.to_string()));
        let client = match connected {
            Ok(c) => c,
            Err(e) => {
                procs::destroy_marked(
                    &mut driver,
                    true,
                    Some(&format!("{}/", dir.path().display())),
                );
                panic!(
                    "starting a Chromium session failed: {e}\n{}",
                    std::fs::read_to_string(dir.path().join("chromedriver.log"))
                        .unwrap_or_default()
                );
            }
        };
        let session_id = client
            .session_id()
            .await
            .ok()
            .flatten()
            .expect("a new WebDriver session has an id");
        // Chromium is up now, and so are its crash handlers outside the process group.
        let helpers = procs::marked(&format!("{}/", dir.path().display()));
        Browser {
            client,
            session_id,
            driver,
            driver_port: port,
            helpers,
            dir,
        }
    }

    /// The fantoccini client, for anything the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("navigating to {url}: {e}"));
    }

    /// The address of the current page.
    pub async fn current_url(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("reading the current URL")
            .to_string()
    }

    /// Waits up to [`WAIT`] for an element matching `css` and returns it.
    pub async fn wait_for(&self, css: &str) -> Element {
        self.wait_for_within(css, WAIT).await
    }

    /// Waits up to `timeout` for an element matching `css` and returns it.
    pub async fn wait_for_within(&self, css: &str, timeout: Duration) -> Element {
        self.client
            .wait()
            .at_most(timeout)
            .every(Duration::from_millis(50))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element matches {css:?} within {timeout:?}: {e}"))
    }

    /// True if an element matches `css` right now (no waiting).
    pub async fn exists(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// Waits for `css` and clicks it.
    pub async fn click(&self, css: &str) {
        self.wait_for(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css:?}: {e}"));
    }

    /// Waits for the input `css`, clears it and types `text`.
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.wait_for(css).await;
        el.clear()
            .await
            .unwrap_or_else(|e| panic!("clearing {css:?}: {e}"));
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {css:?}: {e}"));
    }

    /// Waits until the `<select>` `css` has an option with `value`, picks it and fires the
    /// `input` and `change` events a person's choice would.
    pub async fn select(&self, css: &str, value: &str) {
        let option = format!("{css} option[value=\"{value}\"]");
        self.wait_for(&option).await;
        // The value is read back before the events: a handler may reset the select on purpose
        // (an "add item" picker does).
        let script = "const el = document.querySelector(arguments[0]); el.value = arguments[1]; \
                      const taken = el.value; \
                      el.dispatchEvent(new Event('input', {bubbles: true})); \
                      el.dispatchEvent(new Event('change', {bubbles: true})); return taken;";
        let got = self
            .client
            .execute(script, vec![css.into(), value.into()])
            .await
            .unwrap_or_else(|e| panic!("selecting {value:?} in {css:?}: {e}"));
        assert_eq!(
            got.as_str(),
            Some(value),
            "select {css:?} did not take {value:?}"
        );
    }

    /// Waits for `css` and returns its visible text.
    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("reading the text of {css:?}: {e}"))
    }

    /// Waits up to [`WAIT`] until an element matching `css` shows text containing `needle` (for
    /// live pages that update after load), and returns the whole text.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        // A Mutex rather than a plain `&mut`: each poll's future borrows it, and futures that
        // hold a `RefCell` borrow would not be `Send`.
        let last = std::sync::Mutex::new(String::new());
        let seen = wait_until_async(WAIT, || {
            let client = &self.client;
            let last = &last;
            async move {
                // The element may be replaced while we read it (stale element): just try again.
                let text = match client.find(Locator::Css(css)).await {
                    Ok(el) => el.text().await.ok(),
                    Err(_) => None,
                };
                let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(t) = text {
                    *last = t;
                }
                last.contains(needle)
            }
        })
        .await;
        let last = last.into_inner().unwrap_or_else(|p| p.into_inner());
        assert!(
            seen,
            "{css:?} never showed {needle:?} within {WAIT:?}; last text: {last:?}"
        );
        last
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page and returns what
    /// it returned.
    pub async fn eval(&self, script: &str, args: Vec<serde_json::Value>) -> serde_json::Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("running {script:?}: {e}"))
    }

    /// Resizes the window (the page's layout follows).
    pub async fn set_window_size(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|e| panic!("resizing the window to {width}x{height}: {e}"));
    }

    /// Presses Escape in the element that has focus, as a person would.
    pub async fn press_escape(&self) {
        let el = self
            .client
            .active_element()
            .await
            .expect("the focused element");
        el.send_keys("\u{E00C}")
            .await
            .unwrap_or_else(|e| panic!("pressing Escape: {e}"));
    }

    /// Reloads the page.
    pub async fn reload(&self) {
        self.client
            .refresh()
            .await
            .unwrap_or_else(|e| panic!("reloading: {e}"));
    }

    /// Saves a PNG of the page as `test-artifacts/NAME.png` and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("taking a screenshot");
        let path = artifacts_dir().join(format!("{}.png", sanitize(name)));
        std::fs::write(&path, png).expect("writing a screenshot");
        path
    }

    /// Signs in at `base_url` (the server's address) as `user` and waits until the frame
    /// shows the user.
    pub async fn sign_in(&self, base_url: &str, user: &str, password: &str) {
        self.goto(&format!("{}/login", base_url.trim_end_matches('/')))
            .await;
        self.wait_for("#username").await;
        self.fill("#username", user).await;
        self.fill("#password", password).await;
        self.click("#login-submit").await;
        self.wait_for_text("#current-user", user).await;
    }

    /// Ends the session cleanly; dropping does the same, more abruptly.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// Takes a screenshot without the async runtime (which may be the very thing blocked in the
    /// panicking test): a plain HTTP/1.1 request to chromedriver.
    fn screenshot_blocking(&self, name: &str) -> Result<PathBuf, String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.driver_port));
        let mut s =
            TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(15)))
            .map_err(|e| e.to_string())?;
        write!(
            s,
            "GET /session/{}/screenshot HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n",
            self.session_id
        )
        .map_err(|e| e.to_string())?;
        let body = read_http_body(&mut s)?;
        let json: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
        let b64 = json["value"]
            .as_str()
            .ok_or_else(|| format!("no screenshot in reply: {body:.200}"))?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| e.to_string())?;
        let path = artifacts_dir().join(format!("{}.png", sanitize(name)));
        std::fs::write(&path, png).map_err(|e| e.to_string())?;
        Ok(path)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // libtest names each test's thread after the test.
            let test = std::thread::current()
                .name()
                .unwrap_or("unnamed-test")
                .to_string();
            match self.screenshot_blocking(&format!("panic-{test}")) {
                Ok(path) => eprintln!(
                    "vr-tests: screenshot of the failed page: {}",
                    path.display()
                ),
                Err(e) => eprintln!("vr-tests: could not take a failure screenshot: {e}"),
            }
        }
        let marker = format!("{}/", self.dir.path().display());
        procs::destroy_marked(&mut self.driver, true, Some(&marker));
        // Helpers that exited on their own when Chromium did are zombies without a command line
        // now: only the pids recorded at start find them.
        procs::destroy_recorded(&self.helpers, &marker);
    }
}

/// File-name-safe version of a test or screenshot name.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Reads one HTTP/1.1 response and returns its body. chromedriver answers `Connection: close`
/// but keeps the socket open, so the body is delimited by `Content-Length` (or chunking), never
/// by end of stream.
fn read_http_body(s: &mut TcpStream) -> Result<String, String> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    let header_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before the HTTP header ended".into());
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..header_end]).to_ascii_lowercase();
    let length = head.lines().find_map(|l| {
        l.strip_prefix("content-length:")
            .and_then(|v| v.trim().parse::<usize>().ok())
    });
    let chunked =
        head.contains("transfer-encoding: chunked") || head.contains("transfer-encoding:chunked");
    loop {
        let body = &raw[header_end..];
        let complete = match length {
            Some(len) => body.len() >= len,
            None if chunked => body.windows(5).any(|w| w == b"0\r\n\r\n"),
            None => false,
        };
        if complete {
            break;
        }
        let n = s.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let body = String::from_utf8_lossy(&raw[header_end..]).into_owned();
    match length {
        Some(len) => Ok(body.get(..len).unwrap_or(&body).to_string()),
        None if chunked => dechunk(&body).ok_or_else(|| "bad chunked body".to_string()),
        None => Ok(body),
    }
}

/// Decodes an HTTP/1.1 chunked body.
fn dechunk(mut body: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size_line, rest) = body.split_once("\r\n")?;
        let size = usize::from_str_radix(size_line.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..size)?);
        body = rest.get(size..)?.strip_prefix("\r\n")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunk_joins_chunks() {
        assert_eq!(
            dechunk("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").as_deref(),
            Some("abcde")
        );
        assert_eq!(sanitize("a::b c"), "a__b_c");
    }
}
