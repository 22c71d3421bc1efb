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

    // The activity page shows the setup event.
    browser.click("a[href=\"/activity\"]").await;
    browser.wait_for_text("main", "setup.admin_create").await;

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
