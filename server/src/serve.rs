//! `vr serve`: opens the store, makes sure an admin can get in, and runs the HTTP server until
//! SIGINT/SIGTERM, then shuts down gracefully.

use crate::config::{OpenBrowser, ServeConfig};
use crate::state::{AppState, SetupGate};
use crate::store::{NewUserRecord, Store};
use crate::{auth, clock, http, keys};
use anyhow::Context;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use vr_app::api::{LiveMessage, Outcome};
use vr_app::{Role, validate};

pub async fn run(cfg: ServeConfig) -> anyhow::Result<()> {
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("creating data dir {}", cfg.data_dir.display()))?;
    std::fs::set_permissions(&cfg.data_dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("securing data dir {}", cfg.data_dir.display()))?;
    let store = Store::open(&cfg.db_path())
        .with_context(|| format!("opening database {}", cfg.db_path().display()))?;
    let ssh = keys::load_or_create(&cfg.ssh_dir()).context("loading the server's SSH key")?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (live, _) = broadcast::channel(1024);
    let fleet = crate::fleet::FleetService::new(
        store.clone(),
        live.clone(),
        ssh.private_key_path.clone(),
        cfg.fleet,
    );
    let builds = crate::jobs::Builds::new(
        store.clone(),
        live.clone(),
        std::sync::Arc::clone(&fleet),
        &cfg.data_dir,
        cfg.builds.clone(),
    )
    .context("creating the artifact store")?;
    builds
        .recover()
        .await
        .context("failing builds a stop interrupted")?;
    builds
        .recover_stacks()
        .await
        .context("failing stack image builds a stop interrupted")?;
    let deploys = crate::jobs::Deploys::new(
        store.clone(),
        live.clone(),
        std::sync::Arc::clone(&fleet),
        std::sync::Arc::clone(&builds),
    );
    deploys
        .recover()
        .await
        .context("failing deploys a stop interrupted")?;
    let pools =
        crate::jobs::Pools::new(store.clone(), live.clone(), std::sync::Arc::clone(&deploys));
    let dispatches = crate::jobs::Dispatches::new(
        store.clone(),
        live.clone(),
        std::sync::Arc::clone(&fleet),
        std::sync::Arc::clone(&builds),
        std::sync::Arc::clone(&deploys),
        std::sync::Arc::clone(&pools),
    );
    dispatches
        .recover()
        .await
        .context("failing dispatches a stop interrupted")?;
    tokio::spawn(
        std::sync::Arc::clone(&dispatches)
            .run_self_healing(std::time::Duration::from_secs(2), shutdown_rx.clone()),
    );
    tokio::spawn(crate::retention::run(
        store.clone(),
        live.clone(),
        std::sync::Arc::clone(&builds),
        cfg.retention,
        shutdown_rx.clone(),
    ));
    let notifier = crate::notify::Notifier::start(
        store.clone(),
        live.clone(),
        cfg.notify,
        shutdown_rx.clone(),
    );
    if let Some(every) = cfg.uptest_interval {
        tokio::spawn(std::sync::Arc::clone(&deploys).run_uptest_checks(every, shutdown_rx.clone()));
    }
    let state = AppState {
        store,
        live,
        ssh: Arc::new(ssh),
        setup: Arc::new(SetupGate::default()),
        login_throttle: Arc::default(),
        notifier,
        fleet,
        builds,
        deploys,
        dispatches,
        pools,
        cookie_secure: cfg.cookie_secure,
        trusted_proxies: Arc::new(cfg.trusted_proxies.clone()),
        streams: crate::slots::Slots::new(crate::state::MAX_STREAMS_PER_USER),
        session_hours: cfg.session_hours,
        metrics: Arc::default(),
        shutdown: shutdown_rx,
    };

    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("listening on {}", cfg.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    let url = browser_url(addr);
    if !addr.ip().is_loopback() && !cfg.cookie_secure {
        tracing::warn!(
            listen = %addr,
            "listening beyond this machine without secure cookies: serve vr behind an HTTPS proxy \
             and start it with --cookie-secure, or sign-ins travel in clear text"
        );
    }
    tracing::info!(data_dir = %cfg.data_dir.display(), ui_embedded = http::ui::embedded(), "vr {} listening on {url}", env!("CARGO_PKG_VERSION"));

    ensure_admin(&state, &url).await?;
    spawn_background(&state);
    maybe_open_browser(cfg.open_browser, &url);

    http::listen::raise_file_limit();
    let app = http::router(state.clone());
    http::listen::serve(listener, app, cfg.trusted_proxies.clone(), async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        let _ = shutdown_tx.send(true);
    })
    .await;
    tracing::info!("stopped");
    Ok(())
}

fn browser_url(addr: SocketAddr) -> String {
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    format!("http://{host}:{}", addr.port())
}

/// First start: create the admin from `VR_ADMIN_PASSWORD`, or print a one-time setup link.
async fn ensure_admin(state: &AppState, url: &str) -> anyhow::Result<()> {
    if !state.setup_needed().await? {
        return Ok(());
    }
    if let Ok(password) = std::env::var("VR_ADMIN_PASSWORD") {
        let username = std::env::var("VR_ADMIN_USER").unwrap_or_else(|_| "admin".into());
        validate::username("VR_ADMIN_USER", &username)?;
        validate::password("VR_ADMIN_PASSWORD", &password)?;
        let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password)).await??;
        let user = state
            .store
            .create_first_user(NewUserRecord {
                username,
                password_hash: hash,
                role: Role::Admin,
                now: clock::now_ms(),
            })
            .await?;
        state
            .record(
                "system",
                "setup.admin_create",
                &format!("user:{}", user.username),
                Outcome::Ok,
                "from VR_ADMIN_PASSWORD",
            )
            .await;
        tracing::info!(user = %user.username, "created the admin account from VR_ADMIN_PASSWORD");
        return Ok(());
    }
    let token = state.setup.issue();
    tracing::warn!(
        "no users yet: open {url}/setup#token={token} to create the admin account (the link works once, until vr restarts)"
    );
    Ok(())
}

fn spawn_background(state: &AppState) {
    tokio::spawn(Arc::clone(&state.fleet).run_poller(state.shutdown.clone()));
    let live = state.live.clone();
    let mut heartbeat = clock::Ticker::new(Duration::from_secs(10), state.shutdown.clone());
    tokio::spawn(async move {
        while heartbeat.next().await {
            let _ = live.send(LiveMessage::Heartbeat {
                at: clock::now_ms(),
            });
        }
    });
    let store = state.store.clone();
    let mut hourly = clock::Ticker::new(Duration::from_secs(3600), state.shutdown.clone());
    tokio::spawn(async move {
        while hourly.next().await {
            match store.delete_expired_sessions(clock::now_ms()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(count = n, "removed expired sessions"),
                Err(e) => tracing::warn!(error = %e, "could not remove expired sessions"),
            }
        }
    });
}

fn maybe_open_browser(mode: OpenBrowser, url: &str) {
    let desktop = || {
        !std::io::stdin().is_terminal()
            && (std::env::var_os("DISPLAY").is_some()
                || std::env::var_os("WAYLAND_DISPLAY").is_some())
    };
    let open = match mode {
        OpenBrowser::Always => true,
        OpenBrowser::Never => false,
        OpenBrowser::Auto => desktop(),
    };
    if open {
        let url = url.to_string();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = webbrowser::open(&url) {
                tracing::warn!(error = %e, "could not open a browser; open {url} yourself");
            }
        });
    }
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
}
