//! Apps, buildpacks and builds. Builds run as jobs (`jobs::Builds`); handlers only start them
//! and read their records, logs and artifacts.

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::principal::Principal;
use crate::clock::now_ms;
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use vr_app::api::{LiveMessage, Outcome};
use vr_app::build::{
    App, AppPatch, Build, BuildLog, BuildLogQuery, BuildQuery, BuildRequest, BuildStatus,
    Buildpack, BuildpackPatch, NewApp, NewBuildpack, UploadQuery,
};
use vr_app::secret::{mask_app, mask_build, mask_buildpack, mask_url};
use vr_app::validate;

/// An upload being written; deleted when dropped unless kept.
pub(super) struct PartFile(Option<std::path::PathBuf>);

impl PartFile {
    pub(super) fn keep(mut self) -> std::path::PathBuf {
        self.0.take().unwrap_or_default()
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn apps_changed(state: &AppState) {
    let _ = state.live.send(LiveMessage::Apps);
}

/// Every URL this module answers with has its credentials masked.
fn app_json(mut a: App) -> Json<App> {
    mask_app(&mut a);
    Json(a)
}

fn buildpack_json(mut b: Buildpack) -> Json<Buildpack> {
    mask_buildpack(&mut b);
    Json(b)
}

fn build_json(mut b: Build) -> Json<Build> {
    mask_build(&mut b);
    Json(b)
}

pub async fn list_apps(State(state): State<AppState>) -> ApiResult<Json<Vec<App>>> {
    let mut all = state.store.list_apps().await?;
    all.iter_mut().for_each(mask_app);
    Ok(Json(all))
}

pub async fn get_app(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<App>> {
    Ok(app_json(state.store.app(name).await?))
}

pub async fn create_app(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(mut req): ApiJson<NewApp>,
) -> ApiResult<(StatusCode, Json<App>)> {
    validate::app_name("name", &req.name)?;
    req.repo_url = req.repo_url.trim().to_string();
    validate::git_url("repo_url", &req.repo_url)?;
    req.buildpack = req.buildpack.filter(|b| !b.is_empty());
    if let Some(bp) = &req.buildpack {
        validate::git_url("buildpack", bp)?;
    }
    validate::label_or_empty("notes", &req.notes)?;
    req.stack = req.stack.filter(|s| !s.is_empty());
    if let Some(stack) = &req.stack {
        super::stacks::check_stack(&state, stack).await?;
    }
    let app = state.store.create_app(req, now_ms()).await?;
    state
        .record(
            &p.username,
            "app.create",
            &format!("app:{}", app.name),
            Outcome::Ok,
            &mask_url(&app.repo_url),
        )
        .await;
    apps_changed(&state);
    Ok((StatusCode::CREATED, app_json(app)))
}

pub async fn update_app(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
    ApiJson(patch): ApiJson<AppPatch>,
) -> ApiResult<Json<App>> {
    if let Some(url) = &patch.repo_url {
        validate::git_url("repo_url", url)?;
    }
    if let Some(Some(bp)) = &patch.buildpack {
        validate::git_url("buildpack", bp)?;
    }
    if let Some(n) = &patch.notes {
        validate::label_or_empty("notes", n)?;
    }
    if let Some(Some(stack)) = &patch.stack {
        super::stacks::check_stack(&state, stack).await?;
    }
    let app = state.store.update_app(name, patch).await?;
    state
        .record(
            &p.username,
            "app.update",
            &format!("app:{}", app.name),
            Outcome::Ok,
            "",
        )
        .await;
    apps_changed(&state);
    Ok(app_json(app))
}

pub async fn delete_app(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.store.delete_app(name.clone()).await?;
    state
        .record(
            &p.username,
            "app.delete",
            &format!("app:{name}"),
            Outcome::Ok,
            "",
        )
        .await;
    apps_changed(&state);
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_buildpacks(State(state): State<AppState>) -> ApiResult<Json<Vec<Buildpack>>> {
    let mut all = state.store.list_buildpacks().await?;
    all.iter_mut().for_each(mask_buildpack);
    Ok(Json(all))
}

pub async fn create_buildpack(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(mut req): ApiJson<NewBuildpack>,
) -> ApiResult<(StatusCode, Json<Buildpack>)> {
    req.url = req.url.trim().to_string();
    validate::git_url("url", &req.url)?;
    validate::label_or_empty("description", &req.description)?;
    let bp = state.store.create_buildpack(req, now_ms()).await?;
    state
        .record(
            &p.username,
            "buildpack.create",
            &format!("buildpack:{}", mask_url(&bp.url)),
            Outcome::Ok,
            &format!("order {}", bp.order),
        )
        .await;
    apps_changed(&state);
    Ok((StatusCode::CREATED, buildpack_json(bp)))
}

pub async fn update_buildpack(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<BuildpackPatch>,
) -> ApiResult<Json<Buildpack>> {
    if let Some(url) = &patch.url {
        validate::git_url("url", url)?;
    }
    if let Some(d) = &patch.description {
        validate::label_or_empty("description", d)?;
    }
    let bp = state.store.update_buildpack(id, patch).await?;
    state
        .record(
            &p.username,
            "buildpack.update",
            &format!("buildpack:{}", mask_url(&bp.url)),
            Outcome::Ok,
            &format!("order {}", bp.order),
        )
        .await;
    apps_changed(&state);
    Ok(buildpack_json(bp))
}

pub async fn delete_buildpack(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    state.store.delete_buildpack(id).await?;
    state
        .record(
            &p.username,
            "buildpack.delete",
            &format!("buildpack:{id}"),
            Outcome::Ok,
            "",
        )
        .await;
    apps_changed(&state);
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_builds(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<BuildQuery>,
) -> ApiResult<Json<Vec<Build>>> {
    let mut all = state.store.list_builds(q).await?;
    all.iter_mut().for_each(mask_build);
    Ok(Json(all))
}

pub async fn get_build(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Build>> {
    Ok(build_json(state.store.build(id).await?))
}

/// 202 with a new build, or 200 with the one already under way for the same app and version.
pub async fn start_build(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<BuildRequest>,
) -> ApiResult<(StatusCode, Json<Build>)> {
    validate::app_name("app", &req.app)?;
    validate::git_ref("version", &req.version)?;
    let (build, started) = state.builds.request(&p.username, req).await?;
    if started {
        state
            .record(
                &p.username,
                "build.start",
                &format!("build:{}#{}", build.app, build.id),
                Outcome::Ok,
                &build.version,
            )
            .await;
    }
    let status = if started {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, build_json(build)))
}

pub async fn build_log(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<BuildLogQuery>,
) -> ApiResult<Json<BuildLog>> {
    Ok(Json(state.builds.log(id, q.offset).await?))
}

/// The build's tar.gz, streamed from the artifact store.
pub async fn build_artifact(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let build = state.store.build(id).await?;
    let sha = match (build.status, &build.sha256) {
        (BuildStatus::Succeeded, Some(sha)) => sha.clone(),
        _ => {
            return Err(ApiError::Conflict {
                field: None,
                message: format!(
                    "build {id} has no artifact (it is {})",
                    build.status.as_str()
                ),
            });
        }
    };
    let file = tokio::fs::File::open(state.builds.artifact_path(&sha))
        .await
        .map_err(|e| ApiError::Internal(format!("opening artifact {sha}: {e}")))?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok((
        [
            (header::CONTENT_TYPE, "application/gzip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}-{}.tar.gz\"", build.app, build.id),
            ),
            (header::HeaderName::from_static("x-vr-sha256"), sha),
        ],
        body,
    )
        .into_response())
}

/// A prebuilt build: the body is a tar.gz made elsewhere (CI). Streamed to disk while hashed;
/// larger than the limit → 413; not a gzip tar with a Procfile → 400.
pub async fn upload_build(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(app): ApiPath<String>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Build>)> {
    validate::app_name("app", &app)?;
    validate::git_ref("version", &q.version)?;
    state.store.app(app.clone()).await?;
    let (part, sha, size) = receive_upload(
        &headers,
        body,
        state.builds.config.max_upload_bytes,
        state.builds.upload_part(),
    )
    .await?;
    let build = state
        .builds
        .store_upload(&p.username, &app, &q.version, part.keep(), sha, size)
        .await?;
    state
        .record(
            &p.username,
            "build.upload",
            &format!("build:{}#{}", build.app, build.id),
            Outcome::Ok,
            &format!("{} ({size} bytes)", build.version),
        )
        .await;
    Ok((StatusCode::CREATED, build_json(build)))
}

/// Writes an upload's body to `path` while hashing it: larger than `limit` → 413 (before reading
/// when the client says so), a stalled body → 408. The file is removed on every way out but
/// success (a dropped connection included); the caller keeps it with [`PartFile::keep`].
pub(super) async fn receive_upload(
    headers: &axum::http::HeaderMap,
    body: Body,
    limit: u64,
    path: std::path::PathBuf,
) -> ApiResult<(PartFile, String, u64)> {
    let too_big = || ApiError::Rejected {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        message: format!(
            "the upload is larger than the limit of {} MiB ({limit} bytes; the server's --max-upload-mb)",
            limit / (1024 * 1024)
        ),
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_big());
    }
    let part = PartFile(Some(path.clone()));
    let mut file = tokio::fs::File::create(&path)
        .await
        .map_err(|e| ApiError::Internal(format!("creating {}: {e}", path.display())))?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            let stalled = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<tower_http::timeout::TimeoutError>())
                || e.to_string().contains("timed out");
            if stalled {
                ApiError::Rejected {
                    status: StatusCode::REQUEST_TIMEOUT,
                    message: format!(
                        "the upload stalled: nothing arrived for {} s",
                        super::guard::BODY_IDLE_TIMEOUT.as_secs()
                    ),
                }
            } else {
                ApiError::Rejected {
                    status: StatusCode::BAD_REQUEST,
                    message: format!("reading the upload: {e}"),
                }
            }
        })?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(too_big());
        }
        hasher.update(&chunk);
        file.write_all(&chunk)
            .await
            .map_err(|e| ApiError::Internal(format!("writing the upload: {e}")))?;
    }
    file.flush()
        .await
        .map_err(|e| ApiError::Internal(format!("writing the upload: {e}")))?;
    Ok((part, hex::encode(hasher.finalize()), size))
}
