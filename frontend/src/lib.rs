//! The vr web UI: a Leptos client-side-rendered app, built to WASM by Trunk and served by the
//! vr server from its embedded assets. It talks only to the server's JSON API under `/api/`.
//!
//! Layout: [`app`] holds the router, [`shell`] the signed-in frame (top bar, navigation),
//! [`session`] who is signed in, [`api`] the typed HTTP client, [`live`] the server-sent-events
//! channel, [`fleet`] the shared fleet snapshot and proc views, [`builds`] the
//! apps, buildpacks and builds lists and the build log, [`deploys`] the deploy list and how
//! deploys are drawn, [`components`] the shared widgets and [`pages`] one module per screen.
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod builds;
pub mod busy;
pub mod clipboard;
pub mod clock;
pub mod components;
pub mod deploys;
pub mod fleet;
pub mod format;
pub mod live;
pub mod pages;
pub mod releases;
pub mod session;
pub mod shell;

/// Installs the panic hook and mounts the app.
pub fn run() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
