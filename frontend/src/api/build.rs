//! Endpoints of apps, buildpacks and builds (`vr_app::build::paths`).

use vr_app::build::{
    App, AppPatch, Build, BuildLog, BuildQuery, BuildRequest, Buildpack, BuildpackPatch, NewApp,
    NewBuildpack, paths,
};

use super::{Reply, app_listing_query, delete, get, patch, post};

pub fn apps() -> Reply<Vec<App>> {
    get(paths::APPS)
}

pub fn create_app(req: &NewApp) -> Reply<App> {
    post(paths::APPS, req)
}

pub fn update_app(name: &str, req: &AppPatch) -> Reply<App> {
    patch(&paths::app(name), req)
}

/// Refused (409) while the app still has builds or releases.
pub fn delete_app(name: &str) -> Reply<()> {
    delete(&paths::app(name))
}

/// Every buildpack, in detection order.
pub fn buildpacks() -> Reply<Vec<Buildpack>> {
    get(paths::BUILDPACKS)
}

pub fn create_buildpack(req: &NewBuildpack) -> Reply<Buildpack> {
    post(paths::BUILDPACKS, req)
}

pub fn update_buildpack(id: i64, req: &BuildpackPatch) -> Reply<Buildpack> {
    patch(&paths::buildpack(id), req)
}

/// Refused (409) while an app pins it.
pub fn delete_buildpack(id: i64) -> Reply<()> {
    delete(&paths::buildpack(id))
}

/// The query string (with its leading `?`) of a build listing; empty when nothing is set.
pub fn build_query_string(q: &BuildQuery) -> String {
    app_listing_query(q.app.as_deref(), q.limit)
}

/// Builds matching `q`, newest first.
pub fn builds(q: &BuildQuery) -> Reply<Vec<Build>> {
    get(&format!("{}{}", paths::BUILDS, build_query_string(q)))
}

pub fn build(id: i64) -> Reply<Build> {
    get(&paths::build(id))
}

/// Starts a build, or joins the one already running for the same app and version.
pub fn start_build(req: &BuildRequest) -> Reply<Build> {
    post(paths::BUILDS, req)
}

/// The build's log from byte `offset`.
pub fn build_log(id: i64, offset: u64) -> Reply<BuildLog> {
    get(&format!("{}?offset={offset}", paths::build_log(id)))
}
