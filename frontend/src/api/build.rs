//! Endpoints of apps, buildpacks and builds (`vr_app::build::paths`).

use vr_app::build::{
    App, AppPatch, Build, BuildLog, BuildQuery, BuildRequest, Buildpack, BuildpackPatch, NewApp,
    NewBuildpack, paths,
};

use super::{ApiError, app_listing_query, delete, get, patch, post};

pub async fn apps() -> Result<Vec<App>, ApiError> {
    get(paths::APPS).await
}

pub async fn create_app(req: &NewApp) -> Result<App, ApiError> {
    post(paths::APPS, req).await
}

pub async fn update_app(name: &str, req: &AppPatch) -> Result<App, ApiError> {
    patch(&paths::app(name), req).await
}

/// Refused (409) while the app still has builds or releases.
pub async fn delete_app(name: &str) -> Result<(), ApiError> {
    delete(&paths::app(name)).await
}

/// Every buildpack, in detection order.
pub async fn buildpacks() -> Result<Vec<Buildpack>, ApiError> {
    get(paths::BUILDPACKS).await
}

pub async fn create_buildpack(req: &NewBuildpack) -> Result<Buildpack, ApiError> {
    post(paths::BUILDPACKS, req).await
}

pub async fn update_buildpack(id: i64, req: &BuildpackPatch) -> Result<Buildpack, ApiError> {
    patch(&paths::buildpack(id), req).await
}

/// Refused (409) while an app pins it.
pub async fn delete_buildpack(id: i64) -> Result<(), ApiError> {
    delete(&paths::buildpack(id)).await
}

/// The query string (with its leading `?`) of a build listing; empty when nothing is set.
pub fn build_query_string(q: &BuildQuery) -> String {
    app_listing_query(q.app.as_deref(), q.limit)
}

/// Builds matching `q`, newest first.
pub async fn builds(q: &BuildQuery) -> Result<Vec<Build>, ApiError> {
    get(&format!("{}{}", paths::BUILDS, build_query_string(q))).await
}

pub async fn build(id: i64) -> Result<Build, ApiError> {
    get(&paths::build(id)).await
}

/// Starts a build, or joins the one already running for the same app and version.
pub async fn start_build(req: &BuildRequest) -> Result<Build, ApiError> {
    post(paths::BUILDS, req).await
}

/// The build's log from byte `offset`.
pub async fn build_log(id: i64, offset: u64) -> Result<BuildLog, ApiError> {
    get(&format!("{}?offset={offset}", paths::build_log(id))).await
}
