//! Router-level tests of authentication, roles and CSRF, with no socket (`oneshot`).

use super::router;
use crate::auth;
use crate::clock::now_ms;
use crate::state::{AppState, SetupGate};
use crate::store::{NewUserRecord, Store};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;
use vr_app::Role;
use vr_app::api::CSRF_HEADER;

struct Harness {
    app: Router,
    state: AppState,
    _dir: tempfile::TempDir,
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let ssh = crate::keys::load_or_create(&dir.path().join("ssh")).expect("key");
        let (_tx, shutdown) = tokio::sync::watch::channel(false);
        let store = Store::open_in_memory().expect("store");
        let live = tokio::sync::broadcast::channel(16).0;
        let fleet = crate::fleet::FleetService::new(
            store.clone(),
            live.clone(),
            ssh.private_key_path.clone(),
            crate::fleet::FleetConfig::default(),
        );
        let builds = crate::jobs::Builds::new(
            store.clone(),
            live.clone(),
            Arc::clone(&fleet),
            dir.path(),
            crate::jobs::BuildConfig::default(),
        )
        .expect("artifact store");
        let deploys = crate::jobs::Deploys::new(
            store.clone(),
            live.clone(),
            Arc::clone(&fleet),
            Arc::clone(&builds),
        );
        let pools = crate::jobs::Pools::new(store.clone(), live.clone(), Arc::clone(&deploys));
        let dispatches = crate::jobs::Dispatches::new(
            store.clone(),
            live.clone(),
            Arc::clone(&fleet),
            Arc::clone(&builds),
            Arc::clone(&deploys),
            Arc::clone(&pools),
        );
        let notifier = crate::notify::Notifier::start(
            store.clone(),
            live.clone(),
            crate::notify::NotifyConfig::default(),
            shutdown.clone(),
        );
        let state = AppState {
            store,
            live,
            notifier,
            fleet,
            builds,
            deploys,
            dispatches,
            pools,
            ssh: Arc::new(ssh),
            setup: Arc::new(SetupGate::default()),
            login_throttle: Arc::default(),
            cookie_secure: false,
            trusted_proxies: Arc::new(vec!["192.0.2.1".parse().expect("ip")]),
            streams: crate::slots::Slots::new(crate::state::MAX_STREAMS_PER_USER),
            session_hours: 1,
            metrics: Arc::default(),
            shutdown,
        };
        Harness {
            app: router(state.clone()),
            state,
            _dir: dir,
        }
    }

    async fn user(&self, name: &str, role: Role) {
        self.state
            .store
            .create_user(NewUserRecord {
                username: name.into(),
                password_hash: auth::hash_password("password-123").expect("hash"),
                role,
                now: now_ms(),
            })
            .await
            .expect("create user");
    }

    async fn call(&self, req: Request<Body>) -> (StatusCode, Value, Option<String>) {
        let resp = self.app.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let cookie = resp
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, body, cookie)
    }

    /// Signs in and returns (cookie header value, csrf token).
    async fn login(&self, name: &str) -> (String, String) {
        let (status, body, cookie) = self
            .call(json_req(
                Method::POST,
                "/api/auth/login",
                json!({"username": name, "password": "password-123"}),
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let cookie = cookie.expect("set-cookie");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Strict"), "{cookie}");
        let pair = cookie.split(';').next().expect("pair").to_string();
        (pair, body["csrf_token"].as_str().expect("csrf").to_string())
    }
}

fn json_req(method: Method, uri: &str, body: Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

fn with_session(mut req: Request<Body>, cookie: &str, csrf: Option<&str>) -> Request<Body> {
    req.headers_mut()
        .insert(header::COOKIE, cookie.parse().expect("cookie"));
    if let Some(csrf) = csrf {
        req.headers_mut()
            .insert(CSRF_HEADER, csrf.parse().expect("csrf"));
    }
    req
}

/// A request with no body.
fn empty(method: Method, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .expect("request")
}

fn get(uri: &str) -> Request<Body> {
    empty(Method::GET, uri)
}

fn with_bearer(mut req: Request<Body>, secret: &str) -> Request<Body> {
    req.headers_mut().insert(
        header::AUTHORIZATION,
        format!("Bearer {secret}").parse().expect("header"),
    );
    req
}

#[tokio::test]
async fn setup_works_once_with_the_right_token_only() {
    let h = Harness::new();
    let (_, body, _) = h.call(get("/api/setup")).await;
    assert_eq!(body["needed"], true);
    let token = h.state.setup.issue();

    let bad = json!({"token": "nope", "username": "root", "password": "password-123"});
    let (status, body, _) = h.call(json_req(Method::POST, "/api/setup", bad)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let weak = json!({"token": token, "username": "root", "password": "short"});
    let (status, body, _) = h.call(json_req(Method::POST, "/api/setup", weak)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "password");

    let good = json!({"token": token, "username": "root", "password": "password-123"});
    let (status, body, cookie) = h
        .call(json_req(Method::POST, "/api/setup", good.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["role"], "admin");
    assert!(cookie.is_some());

    let (status, body, _) = h.call(json_req(Method::POST, "/api/setup", good)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (_, body, _) = h.call(get("/api/setup")).await;
    assert_eq!(body["needed"], false);
}

#[tokio::test]
async fn login_logout_and_wrong_password() {
    let h = Harness::new();
    h.user("alice", Role::Deployer).await;
    let (status, body, _) = h
        .call(json_req(
            Method::POST,
            "/api/auth/login",
            json!({"username": "alice", "password": "wrong-password"}),
        ))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");
    let (status, _, _) = h
        .call(json_req(
            Method::POST,
            "/api/auth/login",
            json!({"username": "nobody", "password": "password-123"}),
        ))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (cookie, csrf) = h.login("alice").await;
    let (status, body, _) = h
        .call(with_session(get("/api/auth/me"), &cookie, None))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user"]["username"], "alice");

    let logout = empty(Method::POST, "/api/auth/logout");
    let (status, _, cleared) = h.call(with_session(logout, &cookie, Some(&csrf))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(cleared.is_some_and(|c| c.contains("Max-Age=0")));
    let (status, _, _) = h
        .call(with_session(get("/api/auth/me"), &cookie, None))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the session is gone");

    // Both failures and the successful login and logout are in the activity log.
    let events = h
        .state
        .store
        .list_events(Default::default())
        .await
        .expect("events");
    let actions: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.action.as_str(), e.outcome.as_str()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("user.logout", "ok"),
            ("user.login", "ok"),
            ("user.login", "failed"),
            ("user.login", "failed")
        ]
    );
}

#[tokio::test]
async fn every_protected_route_needs_auth() {
    let h = Harness::new();
    for (method, uri) in [
        (Method::GET, "/api/auth/me"),
        (Method::GET, "/api/users"),
        (Method::GET, "/api/tokens"),
        (Method::GET, "/api/events"),
        (Method::GET, "/api/stream"),
        (Method::GET, "/api/settings/ssh-key"),
        (Method::GET, "/api/fleet"),
        (Method::GET, "/api/procs"),
        (Method::GET, "/api/squads"),
        (Method::GET, "/api/hosts"),
        (Method::POST, "/api/hosts/h/test"),
        (Method::POST, "/api/procs/actions"),
        (Method::GET, "/api/hosts/h/procs/p/log"),
        (Method::POST, "/api/users"),
        (Method::DELETE, "/api/tokens/1"),
    ] {
        let req = json_req(method.clone(), uri, json!({}));
        let (status, body, _) = h.call(req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}: {body}");
        assert_eq!(body["error"]["code"], "unauthenticated");
    }
    let (status, body, _) = h.call(get("/api/nothing-here")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, body, _) = h
        .call(json_req(Method::PUT, "/api/health", json!({})))
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn csrf_header_is_required_for_cookie_changes() {
    let h = Harness::new();
    h.user("root", Role::Admin).await;
    let (cookie, csrf) = h.login("root").await;
    let new_user = || {
        json_req(
            Method::POST,
            "/api/users",
            json!({"username": "bob", "password": "password-123", "role": "viewer"}),
        )
    };
    let (status, body, _) = h.call(with_session(new_user(), &cookie, None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "csrf");
    let (status, _, _) = h
        .call(with_session(new_user(), &cookie, Some("wrong")))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body, _) = h.call(with_session(new_user(), &cookie, Some(&csrf))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn roles_are_enforced_server_side() {
    let h = Harness::new();
    h.user("root", Role::Admin).await;
    h.user("dep", Role::Deployer).await;
    h.user("view", Role::Viewer).await;

    let (vc, vcsrf) = h.login("view").await;
    // A viewer reads but may not change anything but its own things.
    let (status, _, _) = h.call(with_session(get("/api/events"), &vc, None)).await;
    assert_eq!(status, StatusCode::OK);
    let req = json_req(
        Method::POST,
        "/api/users",
        json!({"username": "x", "password": "password-123", "role": "admin"}),
    );
    let (status, body, _) = h.call(with_session(req, &vc, Some(&vcsrf))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    // Told the role it really needs.
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("the admin role"),
        "{body}"
    );
    let req = json_req(Method::POST, "/api/tokens", json!({"name": "mine"}));
    let (status, _, _) = h.call(with_session(req, &vc, Some(&vcsrf))).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a viewer may make its own token"
    );

    // A deployer may change things, but not users.
    let (dc, dcsrf) = h.login("dep").await;
    let (status, _, _) = h.call(with_session(get("/api/users"), &dc, None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let req = json_req(Method::PATCH, "/api/users/1", json!({"role": "viewer"}));
    let (status, _, _) = h.call(with_session(req, &dc, Some(&dcsrf))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Admin can; the last admin cannot be demoted.
    let (ac, acsrf) = h.login("root").await;
    let (status, body, _) = h.call(with_session(get("/api/users"), &ac, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_array().map(Vec::len), Some(3));
    let req = json_req(Method::PATCH, "/api/users/1", json!({"role": "viewer"}));
    let (status, body, _) = h.call(with_session(req, &ac, Some(&acsrf))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[tokio::test]
async fn api_tokens_authenticate_and_revoke() {
    let h = Harness::new();
    h.user("dep", Role::Deployer).await;
    let (status, body, _) = h
        .call(json_req(
            Method::POST,
            "/api/auth/token",
            json!({"username": "dep", "password": "password-123", "name": "cli"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let secret = body["secret"].as_str().expect("secret").to_string();
    let id = body["token"]["id"].as_i64().expect("id");
    assert!(secret.starts_with("vrt_"));

    let bearer = |req| with_bearer(req, &secret);
    let (status, body, _) = h.call(bearer(get("/api/auth/me"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["csrf_token"], Value::Null, "no CSRF for token auth");
    // Token auth needs no CSRF header for changes.
    let req = json_req(Method::POST, "/api/tokens", json!({"name": "second"}));
    let (status, _, _) = h.call(bearer(req)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, body, _) = h.call(bearer(get("/api/tokens"))).await;
    assert_eq!(body.as_array().map(Vec::len), Some(2));

    let del = empty(Method::DELETE, &format!("/api/tokens/{id}"));
    let (status, _, _) = h.call(bearer(del)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = h.call(bearer(get("/api/auth/me"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "revoked");
}

#[tokio::test]
async fn bad_json_comes_back_in_our_error_format() {
    let h = Harness::new();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .expect("request");
    let (status, body, _) = h.call(req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid");
}

/// A request as if from `ip` (the listener puts the peer address there).
fn from(mut req: Request<Body>, ip: [u8; 4]) -> Request<Body> {
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            ip, 40000,
        ))));
    req
}

#[tokio::test]
async fn repeated_wrong_passwords_slow_that_address_not_the_user() {
    let h = Harness::new();
    h.user("alice", Role::Deployer).await;
    let attempt = |pw: &str, ip: [u8; 4]| {
        from(
            json_req(
                Method::POST,
                "/api/auth/login",
                json!({"username": "alice", "password": pw}),
            ),
            ip,
        )
    };
    let guesser = [192, 0, 2, 66];
    for _ in 0..6 {
        let (status, _, _) = h.call(attempt("wrong-password", guesser)).await;
        assert!(
            matches!(
                status,
                StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS
            ),
            "{status}"
        );
    }
    // The guessing address waits, even with the right password, and is told how long.
    let (status, body, _) = h.call(attempt("password-123", guesser)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("try again in")
    );
    // Alice, from her own address, is not locked out.
    let (status, body, _) = h.call(attempt("password-123", [198, 51, 100, 7])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The log has the first failure and the start of the wait, not one row per guess.
    let events = h
        .state
        .store
        .list_events(Default::default())
        .await
        .expect("events");
    let failures: Vec<_> = events
        .iter()
        .filter(|e| e.action == "user.login" && e.outcome == vr_app::api::Outcome::Failed)
        .collect();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(
        failures
            .iter()
            .any(|e| e.detail.contains("5 failed sign-ins") && e.detail.contains("192.0.2.66")),
        "{failures:?}"
    );
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let h = Harness::new();
    for uri in ["/", "/api/health", "/api/nope"] {
        let resp = h.app.clone().oneshot(get(uri)).await.expect("call");
        let headers = resp.headers();
        for name in [
            "content-security-policy",
            "x-frame-options",
            "x-content-type-options",
            "referrer-policy",
        ] {
            assert!(headers.contains_key(name), "{uri} lacks {name}");
        }
        let csp = headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }
}

#[tokio::test]
async fn tokens_expire_and_a_password_change_may_revoke_them() {
    let h = Harness::new();
    h.user("dep", Role::Deployer).await;
    let (cookie, csrf) = h.login("dep").await;
    let make = |body: Value| {
        with_session(
            json_req(Method::POST, "/api/tokens", body),
            &cookie,
            Some(&csrf),
        )
    };
    let (status, body, _) = h
        .call(make(json!({"name": "x", "expires_in_days": 0})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["field"], "expires_in_days");
    let (status, body, _) = h
        .call(make(json!({"name": "ci", "expires_in_days": 30})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let expires = body["token"]["expires_at"].as_i64().expect("expires_at");
    assert!(
        (expires - now_ms() - 30 * 86_400_000).abs() < 60_000,
        "{body}"
    );
    let secret = body["secret"].as_str().unwrap_or_default().to_string();
    let bearer = |secret: &str| {
        let mut r = get("/api/auth/me");
        r.headers_mut().insert(
            header::AUTHORIZATION,
            format!("Bearer {secret}").parse().expect("header"),
        );
        r
    };
    let (status, _, _) = h.call(bearer(&secret)).await;
    assert_eq!(status, StatusCode::OK);
    // Past its expiry it no longer works.
    let hash = crate::auth::secret_hash(&secret);
    assert!(
        h.state
            .store
            .token_principal(hash, expires + 1)
            .await
            .expect("lookup")
            .is_none()
    );
    // A password change that asks for it revokes every token of the user.
    let (_, body, _) = h.call(make(json!({"name": "forever"}))).await;
    let forever = body["secret"].as_str().unwrap_or_default().to_string();
    let req = with_session(
        json_req(
            Method::POST,
            "/api/auth/password",
            json!({"current_password": "password-123", "new_password": "new-password-456", "revoke_tokens": true}),
        ),
        &cookie,
        Some(&csrf),
    );
    let (status, body, _) = h.call(req).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for s in [&secret, &forever] {
        let (status, _, _) = h.call(bearer(s)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn admins_cannot_disable_or_delete_themselves() {
    let h = Harness::new();
    h.user("root", Role::Admin).await;
    h.user("other", Role::Admin).await;
    let (cookie, csrf) = h.login("root").await;
    let req = json_req(Method::PATCH, "/api/users/1", json!({"disabled": true}));
    let (status, body, _) = h.call(with_session(req, &cookie, Some(&csrf))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["field"], "disabled");
    let req = empty(Method::DELETE, "/api/users/1");
    let (status, _, _) = h.call(with_session(req, &cookie, Some(&csrf))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Another admin may.
    let req = json_req(Method::PATCH, "/api/users/2", json!({"disabled": true}));
    let (status, body, _) = h.call(with_session(req, &cookie, Some(&csrf))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["disabled"], true);
}

#[tokio::test]
async fn rejected_bodies_keep_axums_status_in_our_format() {
    let h = Harness::new();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/auth/login")
        .body(Body::from(r#"{"username":"a","password":"b"}"#))
        .expect("request");
    let (status, body, _) = h.call(req).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body["error"]["code"], "invalid");
    let req = json_req(Method::POST, "/api/auth/login", json!({"username": "a"}));
    let (status, body, _) = h.call(req).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "password", "{body}");
    assert_eq!(body["error"]["message"], "password is required", "{body}");
    // A misspelt field is refused, naming it, instead of being dropped silently.
    let h2 = Harness::new();
    h2.user("root", Role::Admin).await;
    let (cookie, csrf) = h2.login("root").await;
    let req = json_req(
        Method::POST,
        "/api/squads",
        json!({"name": "web", "descripton": "typo"}),
    );
    let (status, body, _) = h2.call(with_session(req, &cookie, Some(&csrf))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "descripton", "{body}");
    // A wrong type names the field and no Rust type.
    let req = json_req(
        Method::POST,
        "/api/hosts",
        json!({"address": "h", "port": "x"}),
    );
    let (status, body, _) = h2.call(with_session(req, &cookie, Some(&csrf))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "port", "{body}");
    // Syntax errors and bad path values say what is wrong in plain words.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/squads")
        .header("content-type", "application/json")
        .body(Body::from("{not json"))
        .expect("request");
    let (status, body, _) = h2.call(with_session(req, &cookie, Some(&csrf))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("the body is not valid JSON"),
        "{body}"
    );
    let (status, body, _) = h2
        .call(with_session(get("/api/releases/abc"), &cookie, None))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["error"]["message"],
        "\"abc\" in the path is not a number"
    );
    // A body over the limit says the limit.
    let big = json!({"name": "x".repeat(3 * 1024 * 1024)});
    let (status, body, _) = h2
        .call(with_session(
            json_req(Method::POST, "/api/squads", big),
            &cookie,
            Some(&csrf),
        ))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("2 MiB"),
        "{body}"
    );
}

#[tokio::test]
async fn malformed_usernames_are_neither_remembered_nor_logged() {
    let h = Harness::new();
    let junk = "\u{1b}[31mpassword typed here";
    let req = json_req(
        Method::POST,
        "/api/auth/login",
        json!({"username": junk, "password": "x"}),
    );
    let (status, _, _) = h.call(req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let events = h
        .state
        .store
        .list_events(Default::default())
        .await
        .expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor, "anonymous");
    assert!(!events[0].object.contains("password typed"));
}

#[tokio::test]
async fn a_token_can_revoke_itself_and_an_admin_reset_revokes_all() {
    let h = Harness::new();
    h.user("root", Role::Admin).await;
    h.user("dep", Role::Deployer).await;
    let token_for = |name: &'static str| {
        json_req(
            Method::POST,
            "/api/auth/token",
            json!({"username": name, "password": "password-123", "name": "cli"}),
        )
    };
    let (_, a, _) = h.call(token_for("dep")).await;
    let (_, b, _) = h.call(token_for("dep")).await;
    let a = a["secret"].as_str().expect("secret a").to_string();
    let b = b["secret"].as_str().expect("secret b").to_string();

    let del = empty(Method::DELETE, "/api/tokens/current");
    let (status, _, _) = h.call(with_bearer(del, &a)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = h.call(with_bearer(get("/api/auth/me"), &a)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a revoked itself");
    let (status, _, _) = h.call(with_bearer(get("/api/auth/me"), &b)).await;
    assert_eq!(status, StatusCode::OK, "b is untouched");

    let (cookie, csrf) = h.login("root").await;
    let reset = json_req(
        Method::PATCH,
        "/api/users/2",
        json!({"password": "new-password-456"}),
    );
    let (status, _, _) = h.call(with_session(reset, &cookie, Some(&csrf))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = h.call(with_bearer(get("/api/auth/me"), &b)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a reset revokes tokens");
}

/// Sends `body` with the session of `who` (cookie + CSRF).
async fn as_user(
    h: &Harness,
    who: &str,
    method: Method,
    uri: &str,
    body: Value,
) -> (StatusCode, Value) {
    let (cookie, csrf) = h.login(who).await;
    let (status, body, _) = h
        .call(with_session(
            json_req(method, uri, body),
            &cookie,
            Some(&csrf),
        ))
        .await;
    (status, body)
}

#[tokio::test]
async fn squads_and_hosts_validate_and_default() {
    let h = Harness::new();
    h.user("dep", Role::Deployer).await;
    let (s, b) = as_user(
        &h,
        "dep",
        Method::POST,
        "/api/squads",
        json!({"name": "web"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["hosts"], json!([]));
    let (s, b) = as_user(
        &h,
        "dep",
        Method::POST,
        "/api/squads",
        json!({"name": "x y"}),
    )
    .await;
    assert_eq!(
        (s, b["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("name"))
    );
    let (s, b) = as_user(
        &h,
        "dep",
        Method::POST,
        "/api/squads",
        json!({"name": "web"}),
    )
    .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );

    // Only an address: the rest are defaults.
    let (s, b) = as_user(
        &h,
        "dep",
        Method::POST,
        "/api/hosts",
        json!({"address": "10.0.0.7", "squad": "web"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(
        (
            b["name"].as_str(),
            b["port"].as_u64(),
            b["user"].as_str(),
            b["active"].as_bool()
        ),
        (Some("10.0.0.7"), Some(22), Some("root"), Some(true))
    );
    assert_eq!(b["status"]["health"], "unknown");
    for (body, field) in [
        (json!({"address": "10.0.0.8", "port": 0}), "port"),
        (json!({"address": "10.0.0.8", "user": "root;id"}), "user"),
        (
            json!({"address": "10.0.0.8", "port_min": 6000, "port_max": 5000}),
            "port_min",
        ),
        (
            json!({"address": "10.0.0.8", "supervisor_socket": "sock"}),
            "supervisor_socket",
        ),
        (json!({"address": "10.0.0.8", "name": "../etc"}), "name"),
    ] {
        let (s, b) = as_user(&h, "dep", Method::POST, "/api/hosts", body.clone()).await;
        assert_eq!(
            (s, b["error"]["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{body}"
        );
    }
    // `null` takes a host out of its squad; an unknown host is a JSON 404.
    let (s, b) = as_user(
        &h,
        "dep",
        Method::PATCH,
        "/api/hosts/10.0.0.7",
        json!({"squad": null}),
    )
    .await;
    assert_eq!(
        (s, b["squad"].clone()),
        (StatusCode::OK, Value::Null),
        "{b}"
    );
    let (s, b) = as_user(
        &h,
        "dep",
        Method::PATCH,
        "/api/hosts/nope",
        json!({"active": false}),
    )
    .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn fleet_roles_and_action_requests_are_checked() {
    let h = Harness::new();
    h.user("vic", Role::Viewer).await;
    h.user("dep", Role::Deployer).await;
    let (s, _) = as_user(
        &h,
        "vic",
        Method::POST,
        "/api/squads",
        json!({"name": "web"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = as_user(
        &h,
        "dep",
        Method::POST,
        "/api/hosts",
        json!({"address": "10.0.0.7"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (cookie, _) = h.login("vic").await;
    let (s, b, _) = h.call(with_session(get("/api/fleet"), &cookie, None)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["hosts"][0]["name"], "10.0.0.7");
    // Trusting a key is for admins, and only when the host presented a changed one.
    let trust = json!({"fingerprint": "SHA256:x"});
    let (s, _) = as_user(
        &h,
        "dep",
        Method::POST,
        "/api/hosts/10.0.0.7/trust-key",
        trust.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    h.user("ada", Role::Admin).await;
    let (s, b) = as_user(
        &h,
        "ada",
        Method::POST,
        "/api/hosts/10.0.0.7/trust-key",
        trust,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    // Proc actions need procs or a filter, not both; a bad state name is refused.
    for (body, status) in [
        (json!({"action": "stop"}), StatusCode::BAD_REQUEST),
        (
            json!({"action": "stop", "procs": [{"host": "a", "name": "b"}], "filter": {}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"action": "stop", "procs": [{"host": "10.0.0.7", "name": "b"}]}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"action": "stop", "filter": {"pattern": "x"}}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"action": "explode", "filter": {}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (s, b) = as_user(&h, "dep", Method::POST, "/api/procs/actions", body.clone()).await;
        assert_eq!(s, status, "{body} → {b}");
        assert!(b["error"]["message"].is_string(), "{b}");
    }
    let (s, b, _) = h
        .call(with_session(get("/api/procs?state=SLEEPY"), &cookie, None))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
}

#[tokio::test]
async fn one_user_holds_a_bounded_number_of_live_streams() {
    let h = Harness::new();
    h.user("dep", Role::Deployer).await;
    let (cookie, _) = h.login("dep").await;
    let open = || with_session(get("/api/stream"), &cookie, None);
    let mut held = Vec::new();
    for _ in 0..crate::state::MAX_STREAMS_PER_USER {
        let resp = h.app.clone().oneshot(open()).await.expect("call");
        assert_eq!(resp.status(), StatusCode::OK);
        held.push(resp);
    }
    let (status, body, _) = h.call(open()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // Closing one gives its slot back.
    held.pop();
    let resp = h.app.clone().oneshot(open()).await.expect("call");
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client_and_setup_guesses_are_throttled() {
    let h = Harness::new();
    h.user("alice", Role::Deployer).await;
    // Through the trusted proxy (192.0.2.1), each client is counted as itself.
    let via_proxy = |client: &str, pw: &str| {
        let mut r = from(
            json_req(
                Method::POST,
                "/api/auth/login",
                json!({"username": "alice", "password": pw}),
            ),
            [192, 0, 2, 1],
        );
        r.headers_mut()
            .insert("x-forwarded-for", client.parse().expect("header"));
        r
    };
    for _ in 0..6 {
        h.call(via_proxy("203.0.113.66", "wrong-password")).await;
    }
    let (status, _, _) = h.call(via_proxy("203.0.113.66", "password-123")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the guesser waits");
    // An untrusted peer cannot pick its address with the header: its guesses, claiming to be
    // 198.51.100.8, count against itself.
    for _ in 0..6 {
        let mut forged = from(
            json_req(
                Method::POST,
                "/api/auth/login",
                json!({"username": "alice", "password": "wrong-password"}),
            ),
            [203, 0, 113, 77],
        );
        forged
            .headers_mut()
            .insert("x-forwarded-for", "198.51.100.8".parse().expect("header"));
        h.call(forged).await;
    }
    let (status, body, _) = h.call(via_proxy("198.51.100.8", "password-123")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "another client of the proxy is not slowed: {body}"
    );

    // Setup tokens are guessed no faster than passwords.
    let fresh = Harness::new();
    let guess = || {
        from(
            json_req(
                Method::POST,
                "/api/setup",
                json!({"token": "guess", "username": "root", "password": "long-enough-pw"}),
            ),
            [192, 0, 2, 99],
        )
    };
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(fresh.call(guess()).await.0);
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let events = fresh
        .state
        .store
        .list_events(Default::default())
        .await
        .expect("events");
    assert!(events.len() <= 2, "one row per guess: {events:?}");
}

/// A probe that changes nothing: no credentials, a JSON content type, an empty JSON body.
fn probe(method: Method, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .expect("request")
}

const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

#[tokio::test]
async fn the_openapi_document_names_exactly_the_routes_the_router_serves() {
    let h = Harness::new();
    let (app, ops) = super::router_and_ops(h.state.clone());
    let (status, doc, _) = h.call(get(vr_app::api::paths::OPENAPI)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    // The document and the router's record agree, operation by operation.
    let mut documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(p, ms)| {
            ms.as_object()
                .into_iter()
                .flat_map(|m| m.keys())
                .map(move |m| (m.to_uppercase(), p.clone()))
        })
        .collect();
    let mut recorded: Vec<(String, String)> = ops
        .iter()
        .map(|o| (o.method.to_string(), o.path.clone()))
        .collect();
    documented.sort();
    recorded.sort();
    assert_eq!(documented, recorded);
    assert!(recorded.len() > 100, "{} operations", recorded.len());
    // Every route registered in the http module goes through the recording builder.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("dir").flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") && !p.ends_with("openapi/mod.rs") {
                let text = std::fs::read_to_string(&p).expect("source");
                assert!(
                    !text.contains(&[".route", "(\""].concat()),
                    "{} routes a path around openapi::Api",
                    p.display()
                );
            }
        }
    }
    // Each documented operation is routed: without credentials an open one runs (anything but
    // "no such route" or 405) and a protected one is refused 401, not 404 or 405; every method
    // the document does not name for a path is 405.
    for (path, item) in paths {
        let uri = super::openapi::sample_path(path);
        for method in METHODS {
            let resp = app
                .clone()
                .oneshot(probe(method.clone(), &uri))
                .await
                .expect("infallible");
            let status = resp.status();
            let op = item.get(method.as_str().to_ascii_lowercase());
            let bytes = resp.into_body().collect().await.expect("body").to_bytes();
            let text = String::from_utf8_lossy(&bytes);
            match op {
                None => assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {uri}: {text}"
                ),
                Some(op) if op["security"] == json!([]) => {
                    assert!(
                        status != StatusCode::METHOD_NOT_ALLOWED && !text.contains("API route"),
                        "{method} {uri}: {status} {text}"
                    );
                }
                Some(_) => assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}: {text}"),
            }
        }
    }
}

#[tokio::test]
async fn the_openapi_document_says_who_may_call_what_and_what_comes_back() {
    let h = Harness::new();
    let (_, doc, _) = h.call(get(vr_app::api::paths::OPENAPI)).await;
    let op = |path: &str, method: &str| doc["paths"][path][method].clone();
    assert_eq!(op("/api/health", "get")["x-vr-role"], "none");
    assert_eq!(op("/api/swarms", "get")["x-vr-role"], "viewer");
    assert_eq!(op("/api/swarms", "post")["x-vr-role"], "deployer");
    assert_eq!(op("/api/users", "post")["x-vr-role"], "admin");
    assert_eq!(
        op("/api/hosts/{name}/trust-key", "post")["x-vr-role"],
        "admin"
    );
    assert_eq!(op("/api/auth/password", "post")["x-vr-role"], "any");
    assert_eq!(op("/api/v1/swarms/{id}/", "patch")["x-vr-role"], "deployer");
    assert_eq!(
        op("/api/v1/swarms/", "get")["security"],
        json!([{"basic": []}, {"token": []}])
    );
    // Types come from the handlers' signatures: a created swarm is a Swarm (201), its body a
    // SwarmSpec as accepted (defaults make fields optional), the path id an integer.
    let create = op("/api/swarms", "post");
    assert_eq!(
        create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Swarm"
    );
    let body_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .expect("a body schema")
        .to_string();
    let name = body_ref.trim_start_matches("#/components/schemas/");
    let spec = &doc["components"]["schemas"][name];
    let required: Vec<&str> = spec["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        required.contains(&"app") && !required.contains(&"size"),
        "{spec}"
    );
    let get_one = op("/api/swarms/{id}", "get");
    assert_eq!(get_one["parameters"][0]["name"], "id");
    assert_eq!(get_one["parameters"][0]["schema"]["type"], "integer");
    let list_builds = op("/api/builds", "get");
    let names: Vec<&str> = list_builds["parameters"]
        .as_array()
        .expect("params")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["app", "limit"]);
    assert_eq!(
        op("/api/swarms/{id}", "delete")["responses"]["204"]["description"],
        "Done; no content"
    );
    assert_eq!(
        doc["components"]["responses"]["Error"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
    // Every reference resolves.
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"").skip(1) {
        let target = r.split('"').next().expect("ref");
        let pointer = target.trim_start_matches('#');
        assert!(doc.pointer(pointer).is_some(), "dangling {target}");
    }
}
