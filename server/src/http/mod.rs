//! The HTTP edge: axum routes under `/api/`, the embedded UI, and the mapping of every error to
//! one JSON shape. Architecture invariant: handlers never run SSH or other slow remote work
//! inline; they read the store and hand such work to jobs.

mod apps;
mod balancers;
mod compat;
mod deploys;
mod error;
mod events;
mod extract;
mod guard;
mod hosts;
pub mod listen;
mod logs;
mod meta;
pub mod openapi;
mod orphans;
pub(crate) mod principal;
mod procs;
mod releases;
mod session;
mod stacks;
mod swarms;
#[cfg(test)]
mod tests;
mod tokens;
pub mod ui;
mod users;
mod webhooks;

pub use error::ApiError;

use crate::state::AppState;
use axum::Router;
use axum::middleware;
use openapi::{Access, Api};
use std::sync::{Arc, OnceLock};
use tower_http::compression::CompressionLayer;
use vr_app::api::paths;
use vr_app::fleet::paths as fleet_paths;

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path()))
}

/// The whole application; tests call it with `oneshot` and no socket.
pub fn router(state: AppState) -> Router {
    let (router, _) = router_and_ops(state);
    router
}

/// The application and the record of every route it serves (what `/api/openapi.json` says).
pub fn router_and_ops(state: AppState) -> (Router, Vec<openapi::Op>) {
    // Filled once every route is recorded: the document describes itself too.
    let doc: Arc<OnceLock<serde_json::Value>> = Arc::new(OnceLock::new());
    let served = Arc::clone(&doc);
    let open = Api::new(Access::Open)
        .get(paths::HEALTH, "Liveness: the server answers", meta::health)
        .get(paths::VERSION, "The server's version", meta::version)
        .get(
            paths::SETUP,
            "Whether the first admin is still to be made",
            session::setup_status,
        )
        .post(
            paths::SETUP,
            "Make the first admin with the setup token",
            session::setup,
        )
        .content("application/json")
        .get(
            paths::SESSION,
            "The signed-in caller, if any (200 either way)",
            session::session,
        )
        .post(
            paths::LOGIN,
            "Sign in: sets the session cookie",
            session::login,
        )
        .content("application/json")
        .post(
            paths::TOKEN_LOGIN,
            "Make an API token from a username and password",
            session::token_login,
        )
        .get(paths::OPENAPI, "This document", move || {
            let served = Arc::clone(&served);
            async move { axum::Json(served.get().cloned().unwrap_or_default()) }
        });

    let protected = Api::new(Access::SignedIn)
        .post(paths::LOGOUT, "Sign out: ends the session", session::logout)
        .get(paths::ME, "Who is calling", session::me)
        .post(
            paths::PASSWORD,
            "Change one's own password",
            session::change_password,
        )
        .get(paths::TOKENS, "One's API tokens", tokens::list)
        .post(
            paths::TOKENS,
            "Make an API token (its secret is shown once)",
            tokens::create,
        )
        .delete(
            paths::TOKEN_CURRENT,
            "Revoke the token this request uses",
            tokens::revoke_current,
        )
        .delete(
            "/api/tokens/{id}",
            "Revoke one of one's API tokens",
            tokens::revoke,
        )
        .get(paths::USERS, "Users", users::list)
        .post(paths::USERS, "Add a user", users::create)
        .delete("/api/users/{id}", "Delete a user", users::delete)
        .patch(
            "/api/users/{id}",
            "Change a user's role, password or disabled flag",
            users::update,
        )
        .get(
            paths::EVENTS,
            "The activity log, newest first",
            events::list,
        )
        .get(
            paths::STREAM,
            "Live messages (server-sent events)",
            events::stream,
        )
        .get(
            paths::LOGS,
            "The merged live log of the procs a query selects (server-sent events)",
            logs::stream,
        )
        .get(
            vr_app::notify::paths::WEBHOOKS,
            "Webhooks (admins)",
            webhooks::list,
        )
        .post(
            vr_app::notify::paths::WEBHOOKS,
            "Add a webhook; its signing secret is answered once",
            webhooks::create,
        )
        .patch(
            "/api/webhooks/{name}",
            "Change a webhook (URL, events, format, enabled, a new secret)",
            webhooks::update,
        )
        .delete(
            "/api/webhooks/{name}",
            "Delete a webhook and its deliveries",
            webhooks::delete,
        )
        .post(
            "/api/webhooks/{name}/test",
            "Send a test notification to a webhook",
            webhooks::test,
        )
        .get(
            "/api/webhooks/{name}/deliveries",
            "A webhook's newest deliveries and their results",
            webhooks::deliveries,
        )
        .get(
            paths::SSH_KEY,
            "The server's SSH public key, to install on hosts",
            meta::ssh_key,
        )
        .get(fleet_paths::SQUADS, "Squads", hosts::list_squads)
        .post(fleet_paths::SQUADS, "Add a squad", hosts::create_squad)
        .get("/api/squads/{name}", "One squad", hosts::get_squad)
        .patch(
            "/api/squads/{name}",
            "Rename or describe a squad",
            hosts::update_squad,
        )
        .delete(
            "/api/squads/{name}",
            "Delete an empty squad",
            hosts::delete_squad,
        )
        .get(
            fleet_paths::HOSTS,
            "Hosts with their health",
            hosts::list_hosts,
        )
        .post(fleet_paths::HOSTS, "Add a host", hosts::create_host)
        .get("/api/hosts/{name}", "One host", hosts::get_host)
        .patch(
            "/api/hosts/{name}",
            "Change a host's settings",
            hosts::update_host,
        )
        .delete("/api/hosts/{name}", "Remove a host", hosts::delete_host)
        .post(
            "/api/hosts/{name}/test",
            "Test the connection to a host",
            hosts::test_host,
        )
        .post(
            "/api/hosts/{name}/trust-key",
            "Trust the key a host presents now",
            hosts::trust_host_key,
        )
        .post(
            "/api/hosts/{name}/clean",
            "Delete old builds and proc folders no proc uses",
            hosts::clean_host,
        )
        .get(
            "/api/hosts/{host}/procs/{name}",
            "One proc with its state history",
            procs::detail,
        )
        .get(
            "/api/hosts/{host}/procs/{name}/log",
            "A proc's log from an offset",
            procs::log,
        )
        .get("/api/apps", "Apps", apps::list_apps)
        .post("/api/apps", "Add an app", apps::create_app)
        .get("/api/apps/{name}", "One app", apps::get_app)
        .patch(
            "/api/apps/{name}",
            "Change an app's repository, buildpack or notes",
            apps::update_app,
        )
        .delete("/api/apps/{name}", "Delete an app", apps::delete_app)
        .get(
            "/api/buildpacks",
            "Buildpacks, in detection order",
            apps::list_buildpacks,
        )
        .post("/api/buildpacks", "Add a buildpack", apps::create_buildpack)
        .patch(
            "/api/buildpacks/{id}",
            "Change or reorder a buildpack",
            apps::update_buildpack,
        )
        .delete(
            "/api/buildpacks/{id}",
            "Delete a buildpack",
            apps::delete_buildpack,
        )
        .get("/api/builds", "Builds, newest first", apps::list_builds)
        .get(
            "/api/stacks",
            "Stack images (OS images builds compile in and sandboxed procs run on), newest first",
            stacks::list_stacks,
        )
        .post(
            "/api/stacks/{name}/build",
            "Build an image of a stack with mmdebstrap on a builder host",
            stacks::build_stack,
        )
        .get(
            "/api/stacks/images/{id}",
            "One stack image",
            stacks::get_image,
        )
        .get(
            "/api/stacks/images/{id}/log",
            "A stack image build's log from ?offset",
            stacks::image_log,
        )
        .post(
            "/api/builds",
            "Build an app at a version (or join the build of that commit)",
            apps::start_build,
        )
        .get("/api/builds/{id}", "One build", apps::get_build)
        .get(
            "/api/builds/{id}/log",
            "A build's log from an offset",
            apps::build_log,
        )
        .get(
            "/api/builds/{id}/artifact",
            "A build's tarball",
            apps::build_artifact,
        )
        .content("application/gzip")
        .get(
            "/api/ingredients",
            "Ingredients (secret values masked)",
            releases::list_ingredients,
        )
        .post(
            "/api/ingredients",
            "Add an ingredient",
            releases::create_ingredient,
        )
        .get(
            "/api/ingredients/{name}",
            "One ingredient",
            releases::get_ingredient,
        )
        .patch(
            "/api/ingredients/{name}",
            "Change an ingredient",
            releases::update_ingredient,
        )
        .delete(
            "/api/ingredients/{name}",
            "Delete an unused ingredient",
            releases::delete_ingredient,
        )
        .get(
            "/api/releases",
            "Releases, newest first",
            releases::list_releases,
        )
        .post(
            "/api/releases",
            "Make a release (the same inputs give the same release)",
            releases::create_release,
        )
        .post(
            "/api/releases/preview",
            "What a release of these inputs would hold, key by key",
            releases::preview_release,
        )
        .get(
            "/api/releases/compare",
            "Two releases' differences",
            releases::compare_releases,
        )
        .get(
            "/api/releases/{id}",
            "One release (secret values masked)",
            releases::get_release,
        )
        .post(
            "/api/releases/{id}/reveal",
            "Reveal one secret of a release (recorded)",
            releases::reveal_release_secret,
        )
        .post(
            "/api/ingredients/{name}/reveal",
            "Reveal one secret of an ingredient (recorded)",
            releases::reveal_ingredient_secret,
        )
        .get("/api/deploys", "Deploys, newest first", deploys::list)
        .post(
            "/api/deploys",
            "Deploy one proc of a release on a host and port",
            deploys::start,
        )
        .status(202)
        .get(
            "/api/deploys/{id}",
            "One deploy with its steps",
            deploys::get,
        )
        .get(
            "/api/uptests",
            "The latest uptest results of each proc",
            deploys::uptests,
        )
        .get(
            "/api/balancers",
            "Balancers with their pools and drift",
            balancers::list,
        )
        .post("/api/balancers", "Add a balancer", balancers::create)
        .get("/api/balancers/{name}", "One balancer", balancers::get)
        .put(
            "/api/balancers/{name}",
            "Replace a balancer's settings",
            balancers::replace,
        )
        .delete(
            "/api/balancers/{name}",
            "Delete a balancer no swarm routes through",
            balancers::delete,
        )
        .post(
            "/api/balancers/{name}/pools/{pool}/apply",
            "Write a pool again on every balancer host",
            balancers::reapply,
        )
        .get(
            vr_app::orphans::paths::ORPHANS,
            "Procs no swarm owns as they are, and why",
            orphans::list,
        )
        .post(
            vr_app::orphans::paths::CLEAN,
            "Drain and destroy orphans",
            orphans::clean,
        )
        .get("/api/swarms", "Swarms with their live status", swarms::list)
        .post("/api/swarms", "Add a swarm", swarms::create)
        .post(
            "/api/swarms/preview",
            "The config a swarm's dispatch would release, key by key",
            swarms::preview,
        )
        .get("/api/swarms/{id}", "One swarm", swarms::get)
        .put(
            "/api/swarms/{id}",
            "Replace a swarm's settings (hosts change at its next dispatch)",
            swarms::replace,
        )
        .delete(
            "/api/swarms/{id}",
            "Delete a swarm (?take_down=true also destroys its procs)",
            swarms::delete,
        )
        .post(
            "/api/swarms/{id}/dispatch",
            "Dispatch a swarm (queued behind one in flight)",
            swarms::dispatch,
        )
        .status(202)
        .post(
            "/api/swarms/{id}/rollback",
            "Dispatch an earlier successful dispatch's settings again",
            swarms::rollback,
        )
        .status(202)
        .get(
            "/api/dispatches",
            "Dispatches, newest first",
            swarms::list_dispatches,
        )
        .get(
            "/api/dispatches/{id}",
            "One dispatch with its plan and steps",
            swarms::get_dispatch,
        )
        .post(
            "/api/dispatches/{id}/cancel",
            "Cancel a queued dispatch, or a running one between steps",
            swarms::cancel,
        )
        .get(
            fleet_paths::FLEET,
            "The live snapshot: hosts, procs, squads",
            procs::fleet,
        )
        .get(fleet_paths::PROCS, "Procs matching a filter", procs::list)
        .post(
            fleet_paths::PROC_ACTIONS,
            "Start, stop, restart or destroy procs",
            procs::act,
        )
        .get(
            paths::METRICS,
            "Prometheus metrics (text format); any role's API token",
            meta::metrics,
        )
        .content("text/plain; version=0.0.4")
        .map_router(|r| {
            r.route_layer(middleware::from_fn_with_state(
                state.clone(),
                principal::authenticate,
            ))
        });
    // Uploads may take long and be large: no request deadline or body size limit, but their
    // body must keep coming (see `apps::upload_build`).
    let uploads = Api::new(Access::SignedIn)
        .route_with(
            axum::http::Method::POST,
            "/api/apps/{name}/builds",
            "Upload a prebuilt build (a .tar.gz body)",
            apps::upload_build,
            |mr| mr.layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route_with(
            axum::http::Method::POST,
            "/api/stacks/{name}",
            "Upload an image of a stack (a .tar.gz of a root filesystem)",
            stacks::upload_stack,
            |mr| mr.layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .map_router(|r| {
            r.route_layer(middleware::from_fn_with_state(
                state.clone(),
                principal::authenticate,
            ))
        });

    let (api, mut ops) = open
        .merge(protected)
        .merge(compat::routes(state.clone()))
        .finish();
    let (uploads, upload_ops) = uploads.finish();
    // Its wrong methods answer 405 in our error shape too (before authentication, as elsewhere).
    let uploads = uploads.method_not_allowed_fallback(method_not_allowed);
    ops.extend(upload_ops);
    let _ = doc.set(openapi::document(&ops, env!("CARGO_PKG_VERSION")));
    let router = api
        .fallback(ui::serve)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(guard::deadline))
        .merge(uploads)
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            guard::BODY_IDLE_TIMEOUT,
        ))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state.metrics),
            crate::metrics::track,
        ))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(guard::security_headers))
        .with_state(state);
    (router, ops)
}
