//! The vr web UI: a Leptos client-side-rendered app, built to WASM by Trunk and served by the
//! vr server from its embedded assets. It talks only to the server's JSON API under `/api/`.
//!
//! Layout: [`app`] holds the router, [`shell`] the signed-in frame (top bar, navigation),
//! [`auth`] the sign-in and setup pages, [`session`] who is signed in, [`api`] the typed HTTP
//! client, [`live`] the server-sent-events channel, [`links`] every in-app URL, [`components`]
//! the shared widgets, and one folder per area (its pages, live lists and tables): [`dashboard`],
//! [`fleet`] (the shared fleet snapshot and proc views), [`apps`], [`buildpacks`], [`builds`],
//! [`releases`], [`ingredients`], [`deploys`], [`hosts`], [`squads`], [`activity`],
//! [`settings`], [`users`].
#![forbid(unsafe_code)]

pub mod activity;
pub mod api;
pub mod app;
pub mod apps;
pub mod auth;
pub mod balancers;
pub mod buildpacks;
pub mod builds;
pub mod busy;
pub mod clipboard;
pub mod clock;
pub mod components;
pub mod dashboard;
pub mod deploys;
pub mod effects;
pub mod ev;
pub mod fleet;
pub mod format;
pub mod hosts;
pub mod ingredients;
pub mod links;
pub mod live;
pub mod logs;
pub mod orphans;
pub mod releases;
pub mod route;
pub mod router;
pub mod session;
pub mod settings;
pub mod shell;
pub mod squads;
pub mod stacks;
pub mod swarms;
pub mod users;
pub mod webhooks;

/// Installs the panic hook and mounts the app.
pub fn run() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
