//! The web UI in headless Chromium: first-run setup, the shell, logout and login.
//! A failing test leaves a screenshot in `test-artifacts/`.

use vr_tests::harness::{Browser, ServerOptions, VrServer};

#[tokio::test]
async fn first_run_setup_then_shell_logout_and_login() {
    let server = VrServer::start(ServerOptions::default()).await;
    let token = server.setup_token().await;
    let browser = Browser::start().await;

    browser
        .goto(&server.url(&format!("/setup#token={token}")))
        .await;
    browser.wait_for("#setup-username").await;
    browser.fill("#setup-username", "root").await;
    browser.fill("#setup-password", "correct-horse-1").await;
    browser.fill("#setup-password2", "correct-horse-1").await;
    browser.click("#setup-submit").await;

    browser.wait_for_text("#current-user", "root").await;
    for page in ["/activity", "/settings", "/users", "/hosts", "/swarms"] {
        assert!(
            browser.exists(&format!("a[href=\"{page}\"]")).await,
            "nav link to {page}"
        );
    }
    browser.wait_for_text("#live-status", "live").await;
    browser.screenshot("ui-shell").await;

    // A cold load of the dashboard asks who is signed in without a 401 (no console error) and
    // reads the fleet and the events once each, after the live channel opened.
    browser.goto(&server.url("/")).await;
    browser.wait_for_text("#live-status", "live").await;
    browser.wait_for("[data-test=\"recent-events\"] li").await;
    let count = |part: &'static str| {
        let browser = &browser;
        async move {
            browser
                .eval(
                    "return performance.getEntriesByType('resource') \
                       .filter(e => new URL(e.name).pathname === arguments[0]).length;",
                    vec![part.into()],
                )
                .await
                .as_u64()
                .unwrap_or(99)
        }
    };
    let fetched =
        vr_tests::harness::wait_until_async(std::time::Duration::from_secs(10), || async {
            count("/api/fleet").await >= 1 && count("/api/events").await >= 1
        })
        .await;
    assert!(
        fetched,
        "the dashboard did not read the fleet and the events"
    );
    assert_eq!(
        count("/api/fleet").await,
        1,
        "/api/fleet fetched more than once"
    );
    assert_eq!(
        count("/api/events").await,
        1,
        "/api/events fetched more than once"
    );
    assert_eq!(
        count("/api/auth/me").await,
        0,
        "the cold load asked /api/auth/me"
    );
    assert_eq!(count("/api/auth/session").await, 1);
    let title = browser.eval("return document.title;", vec![]).await;
    assert_eq!(title.as_str(), Some("Dashboard · vr"));

    // A hidden page (a background tab) lets go of its stream, so tabs do not use up the
    // browser's six connections to the server; shown again, it reconnects and refetches.
    let set_hidden = |hidden: bool| {
        let browser = &browser;
        async move {
            browser
                .eval(
                    "Object.defineProperty(document, 'hidden', {value: arguments[0], configurable: true});
                     Object.defineProperty(document, 'visibilityState',
                       {value: arguments[0] ? 'hidden' : 'visible', configurable: true});
                     document.dispatchEvent(new Event('visibilitychange'));
                     return 1;",
                    vec![hidden.into()],
                )
                .await;
        }
    };
    let streams_ended = || count("/api/stream");
    let ended_before = streams_ended().await;
    set_hidden(true).await;
    browser.wait_for_text("#live-status", "paused").await;
    let closed = vr_tests::harness::wait_until_async(std::time::Duration::from_secs(5), || async {
        streams_ended().await > ended_before
    })
    .await;
    assert!(closed, "the hidden page kept its stream open");
    set_hidden(false).await;
    browser.wait_for_text("#live-status", "live").await;
    let refetched =
        vr_tests::harness::wait_until_async(std::time::Duration::from_secs(5), || async {
            count("/api/fleet").await >= 2
        })
        .await;
    assert!(refetched, "the page shown again did not refetch the fleet");

    // The activity page shows the setup event. A link click is handled in the page (a marker
    // set in it survives) and the navigation marks where the user is.
    browser
        .eval("window.__vr_no_reload = 7; return 1;", vec![])
        .await;
    browser.click("a[href=\"/activity\"]").await;
    browser.wait_for_text("main", "setup.admin_create").await;
    let marker = browser
        .eval("return window.__vr_no_reload || 0;", vec![])
        .await;
    assert_eq!(
        marker.as_i64(),
        Some(7),
        "following a link reloaded the page"
    );
    let current = browser
        .eval(
            "return [...document.querySelectorAll('#sidenav a[aria-current=page]')] \
               .map(a => a.textContent).join(',');",
            vec![],
        )
        .await;
    assert_eq!(current.as_str(), Some("Activity"));
    // Its filters live in the URL and survive a reload; objects link to their pages.
    browser.fill("#filter-action", "setup.").await;
    browser.click("#filter-apply").await;
    let filtered =
        vr_tests::harness::wait_until_async(std::time::Duration::from_secs(5), || async {
            browser.current_url().await.contains("action=setup.")
        })
        .await;
    assert!(filtered, "{}", browser.current_url().await);
    browser.reload().await;
    browser.wait_for_text("main", "setup.admin_create").await;
    let value = browser
        .eval(
            "return document.querySelector('#filter-action').value;",
            vec![],
        )
        .await;
    assert_eq!(value.as_str(), Some("setup."));
    assert!(
        browser
            .exists("[data-test=\"events-table\"] a[href=\"/users\"]")
            .await,
        "the event's object user:root is not a link"
    );
    // Back walks the history the UI pushed: the unfiltered list, then the dashboard.
    browser.eval("history.back(); return 1;", vec![]).await;
    let unfiltered =
        vr_tests::harness::wait_until_async(std::time::Duration::from_secs(5), || async {
            browser.current_url().await.ends_with("/activity")
                && browser
                    .eval(
                        "return document.querySelector('#filter-action')?.value;",
                        vec![],
                    )
                    .await
                    .as_str()
                    == Some("")
        })
        .await;
    assert!(
        unfiltered,
        "Back did not return to the unfiltered activity page"
    );
    browser.eval("history.back(); return 1;", vec![]).await;
    browser.wait_for("[data-test=\"recent-events\"]").await;
    let title = browser.eval("return document.title;", vec![]).await;
    assert_eq!(title.as_str(), Some("Dashboard · vr"));
    // A path the UI does not know says so, inside the frame.
    browser.goto(&server.url("/no/such/page")).await;
    browser
        .wait_for_text("[data-test=\"not-found\"]", "/no/such/page")
        .await;

    browser.click("#logout").await;
    browser.wait_for("#username").await;
    // Signed out for real: the API refuses the old session.
    assert!(
        browser.current_url().await.contains("/login"),
        "{}",
        browser.current_url().await
    );

    browser.fill("#username", "root").await;
    browser.fill("#password", "wrong-password").await;
    browser.click("#login-submit").await;
    browser
        .wait_for_text("body", "wrong username or password")
        .await;
    browser.fill("#password", "correct-horse-1").await;
    browser.click("#login-submit").await;
    browser.wait_for_text("#current-user", "root").await;
    browser.close().await;
}

#[tokio::test]
async fn settings_and_users_pages_work_against_the_real_api() {
    let server = VrServer::start(ServerOptions {
        admin_password: Some("admin-password-1".into()),
        ..Default::default()
    })
    .await;
    let browser = Browser::start().await;
    browser
        .sign_in(&server.base_url(), "admin", "admin-password-1")
        .await;

    // Settings: the server's real public key, and an API token made in the UI that works.
    browser.click("a[href=\"/settings\"]").await;
    let admin = server.admin().await;
    let key: vr_app::api::SshKey = admin
        .get(vr_app::api::paths::SSH_KEY)
        .await
        .expect_ok()
        .json();
    browser
        .wait_for_text("#ssh-key-section", &key.public_key)
        .await;
    // The API's OpenAPI document is one click away (a full page load, not a client route).
    browser.click("#openapi-link").await;
    browser.wait_for_text("body", "\"openapi\":\"3.1.0\"").await;
    assert!(browser.current_url().await.ends_with("/api/openapi.json"));
    browser
        .goto(&format!("{}/settings", server.base_url()))
        .await;
    browser.wait_for("#token-name").await;
    browser.fill("#token-name", "from the ui").await;
    browser.select("#token-expiry", "30").await;
    browser.click("#token-create").await;
    let secret = browser.wait_for_text("#token-secret", "vrt_").await;
    admin
        .with_token(secret.trim())
        .get(vr_app::api::paths::ME)
        .await
        .expect_ok();
    browser
        .wait_for_text("[data-test=\"tokens-table\"]", "from the ui")
        .await;
    let tokens: Vec<vr_app::api::ApiToken> = admin.get("/api/tokens").await.expect_ok().json();
    let made = tokens
        .iter()
        .find(|t| t.name == "from the ui")
        .expect("the token");
    let days = (made.expires_at.expect("it expires") - made.created_at) / 86_400_000;
    assert_eq!(days, 30, "{made:?}");

    // A password change that also revokes the tokens: the one just made stops working.
    browser.fill("#current-password", "admin-password-1").await;
    browser.fill("#new-password", "admin-password-2").await;
    browser.fill("#new-password2", "admin-password-2").await;
    browser.click("#password-revoke-tokens").await;
    browser.click("#password-submit").await;
    browser
        .wait_for_text("body", "API tokens were revoked")
        .await;
    admin
        .with_token(secret.trim())
        .get(vr_app::api::paths::ME)
        .await
        .expect_status(401);
    // The change ended the test's other session too.
    admin.login("admin", "admin-password-2").await;

    // Users: create a deployer in the UI; the API sees it.
    browser.click("a[href=\"/users\"]").await;
    browser.wait_for("#new-user-username").await;
    browser.fill("#new-user-username", "erin").await;
    browser.fill("#new-user-password", "erin-password-1").await;
    browser.click("#new-user-submit").await;
    browser
        .wait_for_text("[data-test=\"users-table\"]", "erin")
        .await;
    let users: Vec<vr_app::api::User> = admin
        .get(vr_app::api::paths::USERS)
        .await
        .expect_ok()
        .json();
    assert!(users.iter().any(|u| u.username == "erin"), "{users:?}");
    browser.screenshot("ui-users").await;

    // A live list shows a message that arrives while its first fetch is under way. The page's
    // fetch of /api/events is let through to the server but its answer is held in the page;
    // once that answer exists, a squad is created (an event the answer lacks), and only after
    // the event reached the browser on the live stream is the stale answer handed over.
    browser
        .eval(
            r#"const orig = window.fetch.bind(window);
               window.__gate = new Promise(r => { window.__open_gate = r; });
               window.__answered = 0; window.__calls = 0; window.__seen = '';
               window.fetch = (input, init) => {
                 const url = typeof input === 'string' ? input : input.url;
                 const answer = orig(input, init);
                 if (!new URL(url, location.href).pathname.startsWith('/api/events')) return answer;
                 window.__calls += 1;
                 return answer.then(r => { window.__answered += 1; return window.__gate.then(() => r); });
               };
               const es = new EventSource('/api/stream');
               es.onmessage = e => { window.__seen += e.data; };
               window.__es_open = false; es.onopen = () => { window.__es_open = true; };
               return 1;"#,
            vec![],
        )
        .await;
    let js_true = |script: &'static str| {
        let browser = &browser;
        async move { browser.eval(script, vec![]).await.as_bool() == Some(true) }
    };
    let wait = |script: &'static str| async move {
        let ok = vr_tests::harness::wait_until_async(std::time::Duration::from_secs(10), || {
            js_true(script)
        })
        .await;
        assert!(ok, "timed out waiting for: {script}");
    };
    wait("return window.__es_open;").await;
    browser.click("#sidenav a[href=\"/\"]").await;
    wait("return window.__answered === 1;").await;
    admin
        .post(
            "/api/squads",
            &vr_app::fleet::NewSquad {
                name: "race-squad".into(),
                description: String::new(),
            },
        )
        .await
        .expect_status(201);
    wait("return window.__seen.includes('race-squad');").await;
    // One more round trip to the server: the page's own stream has had its copy by then.
    browser
        .eval("return fetch('/api/health').then(() => true);", vec![])
        .await;
    browser
        .eval("window.__open_gate(); return 1;", vec![])
        .await;
    browser
        .wait_for_text("[data-test=\"recent-events\"]", "race-squad")
        .await;
    let calls = browser.eval("return window.__calls;", vec![]).await;
    assert_eq!(
        calls.as_i64(),
        Some(1),
        "the list fetched again instead of replaying"
    );
    browser.close().await;
}
