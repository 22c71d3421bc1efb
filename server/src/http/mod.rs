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
mod meta;
mod orphans;
mod principal;
mod procs;
mod releases;
mod session;
mod swarms;
#[cfg(test)]
mod tests;
mod tokens;
pub mod ui;
mod users;

pub use error::ApiError;

use crate::state::AppState;
use axum::Router;
use axum::middleware;
use axum::routing::{delete, get, post};
use tower_http::compression::CompressionLayer;
use vr_app::api::paths;
use vr_app::fleet::paths as fleet_paths;

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path()))
}

/// The whole application; tests call it with `oneshot` and no socket.
pub fn router(state: AppState) -> Router {
    let open = Router::new()
        .route(paths::HEALTH, get(meta::health))
        .route(paths::VERSION, get(meta::version))
        .route(
            paths::SETUP,
            get(session::setup_status).post(session::setup),
        )
        .route(paths::SESSION, get(session::session))
        .route(paths::LOGIN, post(session::login))
        .route(paths::TOKEN_LOGIN, post(session::token_login));

    let protected = Router::new()
        .route(paths::LOGOUT, post(session::logout))
        .route(paths::ME, get(session::me))
        .route(paths::PASSWORD, post(session::change_password))
        .route(paths::TOKENS, get(tokens::list).post(tokens::create))
        .route(paths::TOKEN_CURRENT, delete(tokens::revoke_current))
        .route("/api/tokens/{id}", delete(tokens::revoke))
        .route(paths::USERS, get(users::list).post(users::create))
        .route(
            "/api/users/{id}",
            delete(users::delete).patch(users::update),
        )
        .route(paths::EVENTS, get(events::list))
        .route(paths::STREAM, get(events::stream))
        .route(paths::SSH_KEY, get(meta::ssh_key))
        .route(
            fleet_paths::SQUADS,
            get(hosts::list_squads).post(hosts::create_squad),
        )
        .route(
            "/api/squads/{name}",
            get(hosts::get_squad)
                .patch(hosts::update_squad)
                .delete(hosts::delete_squad),
        )
        .route(
            fleet_paths::HOSTS,
            get(hosts::list_hosts).post(hosts::create_host),
        )
        .route(
            "/api/hosts/{name}",
            get(hosts::get_host)
                .patch(hosts::update_host)
                .delete(hosts::delete_host),
        )
        .route("/api/hosts/{name}/test", post(hosts::test_host))
        .route("/api/hosts/{name}/trust-key", post(hosts::trust_host_key))
        .route("/api/hosts/{name}/clean", post(hosts::clean_host))
        .route("/api/hosts/{host}/procs/{name}", get(procs::detail))
        .route("/api/hosts/{host}/procs/{name}/log", get(procs::log))
        .route("/api/apps", get(apps::list_apps).post(apps::create_app))
        .route(
            "/api/apps/{name}",
            get(apps::get_app)
                .patch(apps::update_app)
                .delete(apps::delete_app),
        )
        .route(
            "/api/buildpacks",
            get(apps::list_buildpacks).post(apps::create_buildpack),
        )
        .route(
            "/api/buildpacks/{id}",
            axum::routing::patch(apps::update_buildpack).delete(apps::delete_buildpack),
        )
        .route(
            "/api/builds",
            get(apps::list_builds).post(apps::start_build),
        )
        .route("/api/builds/{id}", get(apps::get_build))
        .route("/api/builds/{id}/log", get(apps::build_log))
        .route("/api/builds/{id}/artifact", get(apps::build_artifact))
        .route(
            "/api/ingredients",
            get(releases::list_ingredients).post(releases::create_ingredient),
        )
        .route(
            "/api/ingredients/{name}",
            get(releases::get_ingredient)
                .patch(releases::update_ingredient)
                .delete(releases::delete_ingredient),
        )
        .route(
            "/api/releases",
            get(releases::list_releases).post(releases::create_release),
        )
        .route("/api/releases/preview", post(releases::preview_release))
        .route("/api/releases/compare", get(releases::compare_releases))
        .route("/api/releases/{id}", get(releases::get_release))
        .route(
            "/api/releases/{id}/reveal",
            post(releases::reveal_release_secret),
        )
        .route(
            "/api/ingredients/{name}/reveal",
            post(releases::reveal_ingredient_secret),
        )
        .route("/api/deploys", get(deploys::list).post(deploys::start))
        .route("/api/deploys/{id}", get(deploys::get))
        .route("/api/uptests", get(deploys::uptests))
        .route(
            "/api/balancers",
            get(balancers::list).post(balancers::create),
        )
        .route(
            "/api/balancers/{name}",
            get(balancers::get)
                .put(balancers::replace)
                .delete(balancers::delete),
        )
        .route(
            "/api/balancers/{name}/pools/{pool}/apply",
            post(balancers::reapply),
        )
        .route(vr_app::orphans::paths::ORPHANS, get(orphans::list))
        .route(vr_app::orphans::paths::CLEAN, post(orphans::clean))
        .route("/api/swarms", get(swarms::list).post(swarms::create))
        .route("/api/swarms/preview", post(swarms::preview))
        .route(
            "/api/swarms/{id}",
            get(swarms::get).put(swarms::replace).delete(swarms::delete),
        )
        .route("/api/swarms/{id}/dispatch", post(swarms::dispatch))
        .route("/api/swarms/{id}/rollback", post(swarms::rollback))
        .route("/api/dispatches", get(swarms::list_dispatches))
        .route("/api/dispatches/{id}", get(swarms::get_dispatch))
        .route("/api/dispatches/{id}/cancel", post(swarms::cancel))
        .route(fleet_paths::FLEET, get(procs::fleet))
        .route(fleet_paths::PROCS, get(procs::list))
        .route(fleet_paths::PROC_ACTIONS, post(procs::act))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            principal::authenticate,
        ));
    // Uploads may take long and be large: no request deadline or body size limit, but their
    // body must keep coming (see `apps::upload_build`).
    let uploads = Router::new()
        .route(
            "/api/apps/{name}/builds",
            post(apps::upload_build).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            principal::authenticate,
        ));

    Router::new()
        .merge(open)
        .merge(protected)
        .merge(compat::routes(state.clone()))
        .fallback(ui::serve)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(guard::deadline))
        .merge(uploads)
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            guard::BODY_IDLE_TIMEOUT,
        ))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(guard::security_headers))
        .with_state(state)
}
