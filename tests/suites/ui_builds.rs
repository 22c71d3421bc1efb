//! Apps, builds, ingredients and releases in headless Chromium against a real builder host:
//! an app made in the UI is built from its page, the build page follows the log live, and a
//! release is previewed (layers shown) and made from the releases page.

use super::builds::setup;
use super::fleet::PW;
use vr_tests::harness::Browser;
use vr_tests::harness::git::shell_app;

#[tokio::test]
async fn an_app_is_built_and_released_from_the_ui() {
    let s = setup().await;
    let repo = shell_app();
    let browser = Browser::start().await;
    browser.sign_in(&s.server.base_url(), "admin", PW).await;

    // An app, made in the UI; a bad name is refused next to its field first.
    browser.click("a[href=\"/apps\"]").await;
    browser.fill("#app-name", "Bad-Name").await;
    browser.fill("#app-repo", &repo.url()).await;
    browser.click("#app-create").await;
    browser.wait_for_text("body", "lowercase letters").await;
    browser.fill("#app-name", "shop").await;
    browser.click("#app-create").await;
    browser
        .click("tr[data-test=\"app-row\"][data-name=\"shop\"] a")
        .await;

    // Build it from its page: the build page follows the log to the end.
    browser.fill("#build-version", "main").await;
    browser.click("#build-start").await;
    browser
        .wait_for("#build-status[data-status=\"succeeded\"]")
        .await;
    browser
        .wait_for_text("#build-log", "Shell app detected")
        .await;
    browser.wait_for_text("#build-log", "Build succeeded").await;
    assert!(browser.exists("#build-artifact").await);
    browser.screenshot("ui-build").await;

    // An ingredient, then a release that merges it, previewed first.
    browser.goto(&s.server.url("/ingredients")).await;
    browser.fill("#ingredient-name", "db").await;
    browser
        .fill("#ingredient-settings", "db: from-ingredient")
        .await;
    browser
        .fill(
            "#ingredient-env",
            "DB_ENV: \"1\"\nDB_PASS: \"hunter-ui-22\"",
        )
        .await;
    browser.fill("#ingredient-secret-keys", "DB_PASS").await;
    browser.click("#ingredient-create").await;
    browser
        .wait_for("tr[data-test=\"ingredient-row\"][data-name=\"db\"]")
        .await;

    browser.goto(&s.server.url("/releases")).await;
    browser.select("#release-app", "shop").await;
    browser
        .wait_for("#release-build option[value]:not([value=\"\"])")
        .await;
    browser.select("#release-ingredient-add", "db").await;
    browser
        .wait_for("li[data-test=\"release-ingredient\"][data-name=\"db\"]")
        .await;
    browser.fill("#release-env", "MINE: \"yes\"").await;
    browser.fill("#release-cpu", "50").await;
    browser.click("#release-preview").await;
    browser.wait_for("[data-test=\"release-preview\"]").await;
    browser
        .wait_for("[data-test=\"preview-env\"] [data-key=\"GREETING\"][data-from=\"build\"]")
        .await;
    browser
        .wait_for("[data-test=\"preview-env\"] [data-key=\"DB_ENV\"][data-from=\"ingredient db\"]")
        .await;
    browser
        .wait_for("[data-test=\"preview-env\"] [data-key=\"MINE\"][data-from=\"own\"]")
        .await;
    let hash = browser.text("#release-preview-hash").await;
    browser.click("#release-create").await;
    browser.wait_for_text("#release-hash", hash.trim()).await;
    browser
        .wait_for("[data-test=\"release-env\"] [data-key=\"MINE\"]")
        .await;
    browser
        .wait_for_text("[data-test=\"release-cpu\"]", "50")
        .await;
    // The ingredient's secret is masked on the release page until a deployer reveals it.
    let secret_row = "[data-test=\"release-env\"] [data-key=\"DB_PASS\"]";
    browser
        .wait_for(&format!("{secret_row} [data-secret=\"true\"]"))
        .await;
    assert!(
        !browser.text("body").await.contains("hunter-ui-22"),
        "the secret is on the page before anyone revealed it"
    );
    browser
        .click(&format!("{secret_row} [data-test=\"secret-reveal\"]"))
        .await;
    browser
        .wait_for_text(
            &format!("{secret_row} [data-test=\"secret-revealed\"]"),
            "hunter-ui-22",
        )
        .await;
    browser.screenshot("ui-release").await;
    // The app's page lists its builds and releases.
    browser.goto(&s.server.url("/apps/shop")).await;
    browser
        .wait_for(&format!(
            "[data-test=\"app-releases\"] tr[data-test=\"release-row\"][data-hash=\"{}\"]",
            hash.trim()
        ))
        .await;
    browser
        .wait_for(
            "[data-test=\"app-builds\"] tr[data-test=\"build-row\"][data-status=\"succeeded\"]",
        )
        .await;

    // A new release starts from the newest one: its own values and ingredients are filled in
    // (not the build's or the ingredient's), its secrets kept, and the preview of the same
    // build is that very release, with no difference from it.
    browser.goto(&s.server.url("/releases?app=shop")).await;
    browser
        .wait_for("[data-test=\"release-started-from\"]")
        .await;
    browser
        .wait_for("li[data-test=\"release-ingredient\"][data-name=\"db\"]")
        .await;
    let env = browser
        .eval(
            "return document.querySelector('#release-env').value;",
            vec![],
        )
        .await;
    let env = env.as_str().unwrap_or_default();
    assert!(env.contains("MINE"), "{env}");
    assert!(
        !env.contains("DB_ENV") && !env.contains("GREETING"),
        "{env}"
    );
    browser
        .wait_for("#release-build option[value]:not([value=\"\"])")
        .await;
    browser.click("#release-preview").await;
    browser
        .wait_for_text("[data-test=\"preview-compare-heading\"]", "newest release")
        .await;
    browser
        .wait_for_text(
            "[data-test=\"release-preview\"] [data-test=\"release-diff\"]",
            "No differences.",
        )
        .await;
    assert_eq!(
        browser.text("#release-preview-hash").await.trim(),
        hash.trim()
    );

    let releases: Vec<vr_app::release::Release> = s
        .api
        .get(vr_app::release::paths::RELEASES)
        .await
        .expect_ok()
        .json();
    assert_eq!(releases.len(), 1);
    assert_eq!(releases[0].hash, hash.trim());
    assert_eq!(releases[0].ingredients, ["db"]);

    // The compared release is in the URL: a reload shows the same diff.
    let other = super::deploys::release(&s.api, releases[0].build_id, "MINE: \"no\"\n").await;
    browser
        .goto(&s.server.url(&format!("/releases/{}", other.id)))
        .await;
    browser
        .select("#release-compare", &releases[0].id.to_string())
        .await;
    let row = "[data-test=\"release-diff\"] tr[data-test=\"diff-row\"][data-key=\"MINE\"]";
    browser.wait_for(row).await;
    let url = browser.current_url().await;
    assert!(
        url.contains(&format!("compare={}", releases[0].id)),
        "{url}"
    );
    browser.reload().await;
    browser.wait_for(row).await;

    // Deleting from an app's page (the flow every delete button shares): an app with builds is
    // refused — the server's reason under the title and in a toast, the app kept; one without
    // builds is deleted, the page goes back to the list and says so.
    browser.goto(&s.server.url("/apps/shop")).await;
    browser.click("#app-delete").await;
    browser.click("#confirm-ok").await;
    browser
        .wait_for_text(
            "[data-test=\"app-error\"]",
            "build(s); it cannot be deleted",
        )
        .await;
    browser
        .wait_for_text("[data-test=\"toasts\"]", "Could not delete shop")
        .await;
    s.api
        .get(&vr_app::build::paths::app("shop"))
        .await
        .expect_ok();
    super::builds::add_app(&s.api, "spare", &repo).await;
    browser.goto(&s.server.url("/apps/spare")).await;
    browser.click("#app-delete").await;
    browser.click("#confirm-ok").await;
    browser
        .wait_for_text("[data-test=\"toasts\"]", "App spare deleted.")
        .await;
    browser
        .wait_for("tr[data-test=\"app-row\"][data-name=\"shop\"]")
        .await;
    assert!(
        !browser
            .exists("tr[data-test=\"app-row\"][data-name=\"spare\"]")
            .await,
        "the deleted app is still listed"
    );
    s.api
        .get(&vr_app::build::paths::app("spare"))
        .await
        .expect_status(404);
    browser.close().await;
}

#[tokio::test]
async fn a_proc_is_deployed_from_the_ui() {
    let s = setup().await;
    let repo = super::deploys::web_app();
    super::builds::add_app(&s.api, "web", &repo).await;
    let (b, log) = super::builds::build(&s.api, "web", "main", false).await;
    assert_eq!(b.status, vr_app::build::BuildStatus::Succeeded, "{log}");
    // The worker's uptest wants TRICKY set.
    let r = super::deploys::release(&s.api, b.id, "TRICKY: \"ui\"\n").await;

    let browser = Browser::start().await;
    browser.sign_in(&s.server.base_url(), "admin", PW).await;
    browser
        .goto(&s.server.url(&format!("/releases/{}", r.id)))
        .await;
    browser.click("#release-deploy").await;
    browser.select("#deploy-proc", "worker").await;
    browser.fill("#deploy-config", "ui").await;
    browser.select("#deploy-host", "builder1").await;
    // Numbers are taken as typed or refused, never reread: 5e3 is not 5000, -5 is not 5.
    browser.fill("#deploy-port", "5e3").await;
    browser.click("#deploy-submit").await;
    browser
        .wait_for_text("#deploy-port-error", "digits only")
        .await;
    browser.fill("#deploy-port", "-5").await;
    browser.click("#deploy-submit").await;
    browser
        .wait_for_text("#deploy-port-error", "negative")
        .await;
    browser.fill("#deploy-port", "0").await;
    browser.click("#deploy-submit").await;
    browser
        .wait_for("#deploy-status[data-status=\"succeeded\"]")
        .await;
    browser
        .wait_for("li[data-test=\"deploy-step\"][data-name=\"wait for RUNNING\"][data-ok=\"true\"]")
        .await;
    browser
        .wait_for("[data-test=\"deploy-uptests\"] [data-test=\"uptest-result\"][data-name=\"01_env.sh\"][data-passed=\"true\"]")
        .await;
    browser.screenshot("ui-deploy").await;
    let deploys: Vec<vr_app::deploy::Deployment> = s
        .api
        .get(vr_app::deploy::paths::DEPLOYS)
        .await
        .expect_ok()
        .json();
    assert_eq!(deploys.len(), 1);
    assert_eq!(
        s.host.program_state(&deploys[0].program).as_deref(),
        Some("RUNNING")
    );

    // The app's page answers "what runs where": its proc, and the release marked running on
    // builder1, with version and commit, and a Deploy action.
    browser.goto(&s.server.url("/apps/web")).await;
    browser
        .wait_for(&format!(
            "[data-test=\"app-procs\"] tr[data-test=\"proc-row\"][data-name=\"{}\"][data-state=\"RUNNING\"]",
            deploys[0].program
        ))
        .await;
    let running_row = format!(
        "[data-test=\"app-releases\"] tr[data-test=\"release-row\"][data-id=\"{}\"]",
        r.id
    );
    browser
        .wait_for_text(
            &format!("{running_row} [data-test=\"release-runs\"][data-running=\"true\"]"),
            "builder1",
        )
        .await;
    let row_text = browser.text(&running_row).await;
    assert!(row_text.contains(&b.version), "{row_text}");
    assert!(row_text.contains("1 running"), "{row_text}");
    assert!(
        browser
            .exists(&format!(
                "{running_row} a[data-test=\"release-deploy\"][href=\"/deploy?release={}\"]",
                r.id
            ))
            .await
    );
    browser.screenshot("ui-app").await;

    // Every main page at 1280×800, with a deployed proc in it, kept as test artifacts.
    for (path, name) in [
        ("/", "dashboard"),
        ("/apps", "apps"),
        ("/buildpacks", "buildpacks"),
        ("/builds", "builds"),
        ("/releases", "releases"),
        (&*format!("/releases/{}", r.id), "release"),
        ("/deploy", "deploy-form"),
        ("/deploys", "deploys"),
        ("/hosts", "hosts"),
        ("/hosts/builder1", "host"),
        ("/squads", "squads"),
        ("/ingredients", "ingredients"),
        ("/activity", "activity"),
        ("/settings", "settings"),
        ("/users", "users"),
    ] {
        browser.goto(&s.server.url(path)).await;
        browser.wait_for("main section.page").await;
        browser.wait_for_text("#live-status", "live").await;
        browser.screenshot(&format!("page-{name}")).await;
        if name == "buildpacks" {
            // Moving the second buildpack up swaps the detection order, as the API then says.
            let urls = "return [...document.querySelectorAll('[data-test=buildpack-row]')] \
                          .map(r => r.dataset.url).join(' ');";
            browser
                .wait_for("[data-test=\"buildpack-row\"] + [data-test=\"buildpack-row\"]")
                .await;
            let before = browser.eval(urls, vec![]).await;
            let before: Vec<String> = before
                .as_str()
                .unwrap_or_default()
                .split(' ')
                .map(str::to_string)
                .collect();
            assert_eq!(before.len(), 2, "{before:?}");
            browser
                .eval(
                    "document.querySelectorAll('[data-test=buildpack-row]')[1] \
                       .querySelector('[data-test=buildpack-up]').click(); return 1;",
                    vec![],
                )
                .await;
            let swapped = format!("{} {}", before[1], before[0]);
            let shown =
                vr_tests::harness::wait_until_async(std::time::Duration::from_secs(10), || async {
                    browser.eval(urls, vec![]).await.as_str() == Some(swapped.as_str())
                })
                .await;
            assert!(
                shown,
                "the rows did not swap: {}",
                browser.eval(urls, vec![]).await
            );
            let mut listed: Vec<vr_app::build::Buildpack> =
                s.api.get("/api/buildpacks").await.expect_ok().json();
            listed.sort_by_key(|b| b.order);
            assert_eq!(listed[0].url, before[1], "{listed:?}");
        }
    }
    browser.goto(&s.server.url("/apps/web")).await;
    browser.wait_for("[data-test=\"app-procs\"]").await;

    // Destroying several procs at once asks for the number typed out.
    the_ui_reads_real_answers_like_serde(&s.api, r.id).await;

    // An ingredient's page follows the releases made with it, live.
    s.api
        .post(
            vr_app::release::paths::INGREDIENTS,
            &vr_app::release::NewIngredient {
                name: "ui-db".into(),
                settings_yaml: "db: main\n".into(),
                ..Default::default()
            },
        )
        .await
        .expect_status(201);
    browser.goto(&s.server.url("/ingredients/ui-db")).await;
    browser.wait_for_text("#ingredient-title", "ui-db").await;
    browser.wait_for("[data-test=\"ingredient-used-by\"]").await;
    let with_it: vr_app::release::Release = s
        .api
        .post(
            vr_app::release::paths::RELEASES,
            &vr_app::release::NewRelease {
                build_id: r.build_id,
                ingredients: vec!["ui-db".into()],
                ..Default::default()
            },
        )
        .await
        .expect_status(201)
        .json();
    browser
        .wait_for_text(
            "[data-test=\"ingredient-used-by\"]",
            &format!("#{}", with_it.id),
        )
        .await;
    browser.goto(&s.server.url("/apps/web")).await;
    browser.wait_for("[data-test=\"app-procs\"]").await;
    let second = super::deploys::deploy(&s.api, r.id, "worker", "ui2", 0).await;
    assert_eq!(
        second.status,
        vr_app::deploy::DeployStatus::Succeeded,
        "{second:#?}"
    );
    browser
        .wait_for_text(
            "[data-test=\"app-procs\"] [data-test=\"proc-count\"]",
            "2 procs",
        )
        .await;
    browser
        .click("[data-test=\"app-procs\"] #bulk-destroy")
        .await;
    browser.wait_for("#confirm-typed").await;
    let disabled = browser
        .eval(
            "return document.querySelector('#confirm-ok').disabled;",
            vec![],
        )
        .await;
    assert_eq!(
        disabled.as_bool(),
        Some(true),
        "destroy 2 confirmed without typing"
    );
    browser.fill("#confirm-typed", "destroy 2").await;
    browser.click("#confirm-ok").await;
    let gone = vr_tests::harness::wait_until_async(std::time::Duration::from_secs(30), || async {
        s.host.program_state(&deploys[0].program).is_none()
            && s.host.program_state(&second.program).is_none()
    })
    .await;
    assert!(gone, "the two procs were not destroyed");
    browser.close().await;
}

/// Every kind of answer the UI reads, fetched from a server with a built, released and deployed
/// app: the UI's decoder (`vr_app::json`) reads each exactly as serde does.
async fn the_ui_reads_real_answers_like_serde(api: &vr_tests::harness::ApiClient, release_id: i64) {
    use vr_app::api::{self as a, paths};
    use vr_app::{build, deploy, fleet, release};
    let fleet: fleet::Fleet = api.get(fleet::paths::FLEET).await.expect_ok().decoded();
    let proc = fleet
        .procs
        .iter()
        .find(|p| p.meta.is_some())
        .expect("a deployed proc");
    let _: fleet::ProcDetail = api
        .get(&fleet::paths::proc(&proc.host, &proc.name))
        .await
        .expect_ok()
        .decoded();
    let _: fleet::Host = api
        .get(&fleet::paths::host(&proc.host))
        .await
        .expect_ok()
        .decoded();
    let _: fleet::LogChunk = api
        .get(&format!(
            "{}?stream=stdout",
            fleet::paths::proc_log(&proc.host, &proc.name)
        ))
        .await
        .expect_ok()
        .decoded();
    let _: fleet::ConnectionReport = api
        .post(&fleet::paths::host_test(&proc.host), &serde_json::json!({}))
        .await
        .expect_ok()
        .decoded();
    let release: release::Release = api
        .get(&format!("{}/{release_id}", release::paths::RELEASES))
        .await
        .expect_ok()
        .decoded();
    let _: build::BuildLog = api
        .get(&build::paths::build_log(release.build_id))
        .await
        .expect_ok()
        .decoded();
    let _: release::ReleasePreview = api
        .post(
            release::paths::RELEASE_PREVIEW,
            &release::NewRelease {
                build_id: release.build_id,
                settings_yaml: "a: [1, {b: null}]\n".into(),
                env_yaml: "K: v\n".into(),
                ..Default::default()
            },
        )
        .await
        .expect_ok()
        .decoded();
    let _: Vec<fleet::Squad> = api.get(fleet::paths::SQUADS).await.expect_ok().decoded();
    let _: Vec<build::App> = api.get(build::paths::APPS).await.expect_ok().decoded();
    let _: Vec<build::Buildpack> = api
        .get(build::paths::BUILDPACKS)
        .await
        .expect_ok()
        .decoded();
    let _: Vec<build::Build> = api.get(build::paths::BUILDS).await.expect_ok().decoded();
    let _: Vec<release::Release> = api
        .get(release::paths::RELEASES)
        .await
        .expect_ok()
        .decoded();
    let _: release::Release = api
        .get(&format!("{}/{release_id}", release::paths::RELEASES))
        .await
        .expect_ok()
        .decoded();
    let _: release::ReleaseDiff = api
        .get(&format!(
            "{}?a={release_id}&b={release_id}",
            release::paths::RELEASE_COMPARE
        ))
        .await
        .expect_ok()
        .decoded();
    let _: Vec<release::Ingredient> = api
        .get(release::paths::INGREDIENTS)
        .await
        .expect_ok()
        .decoded();
    let _: Vec<deploy::Deployment> = api.get(deploy::paths::DEPLOYS).await.expect_ok().decoded();
    let _: Vec<deploy::UptestResult> = api
        .get(deploy::uptest_paths::UPTESTS)
        .await
        .expect_ok()
        .decoded();
    let _: Vec<a::Event> = api.get(paths::EVENTS).await.expect_ok().decoded();
    let _: Vec<a::User> = api.get(paths::USERS).await.expect_ok().decoded();
    let _: Vec<a::ApiToken> = api.get(paths::TOKENS).await.expect_ok().decoded();
    let _: a::AuthSession = api.get(paths::SESSION).await.expect_ok().decoded();
    let _: a::Me = api.get(paths::ME).await.expect_ok().decoded();
    let _: a::VersionInfo = api.get(paths::VERSION).await.expect_ok().decoded();
    let _: a::SetupStatus = api.get(paths::SETUP).await.expect_ok().decoded();
    let _: a::SshKey = api.get(paths::SSH_KEY).await.expect_ok().decoded();
    let _: vr_app::ErrorBody = api
        .get(&format!("{}/999999", build::paths::BUILDS))
        .await
        .expect_status(404)
        .decoded();
}
