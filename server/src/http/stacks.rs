//! Stacks (issue 16): the images list and uploads of new images. Storage, checks and retention
//! are `jobs::stacks`'.

use super::apps::receive_upload;
use super::error::ApiResult;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::principal::Principal;
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use vr_app::api::{LiveMessage, Outcome};
use vr_app::build::{BuildLog, BuildLogQuery};
use vr_app::stack::{NewStackBuild, StackImage, check_name};

pub async fn list_stacks(State(state): State<AppState>) -> ApiResult<Json<Vec<StackImage>>> {
    Ok(Json(state.store.list_stack_images().await?))
}

/// A new image of the stack (the stack exists from its first image): the body is a tar.gz of a
/// root filesystem, streamed to disk while hashed, then checked.
pub async fn upload_stack(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<StackImage>)> {
    check_name("name", &name)?;
    let (part, sha, size) = receive_upload(
        &headers,
        body,
        state.builds.config.max_upload_bytes,
        state.builds.stack_upload_part(),
    )
    .await?;
    let image = state
        .builds
        .store_stack_upload(&p.username, &name, part.keep(), sha, size)
        .await?;
    state
        .record(
            &p.username,
            "stack.upload",
            &format!("stack:{name}"),
            Outcome::Ok,
            &format!("{} ({size} bytes)", image.sha256.as_deref().unwrap_or("?")),
        )
        .await;
    let _ = state.live.send(LiveMessage::Apps);
    Ok((StatusCode::CREATED, Json(image)))
}

/// A new image of the stack built by mmdebstrap on a builder host; answers at once, the build
/// goes on (its log at `/api/stacks/images/{id}/log`).
pub async fn build_stack(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
    ApiJson(recipe): ApiJson<NewStackBuild>,
) -> ApiResult<(StatusCode, Json<StackImage>)> {
    check_name("name", &name)?;
    recipe.validate()?;
    let image = state
        .builds
        .request_stack_build(&p.username, &name, recipe)
        .await?;
    state
        .record(
            &p.username,
            "stack.build.start",
            &format!("stack:{name}#{}", image.id),
            Outcome::Ok,
            &image.recipe,
        )
        .await;
    Ok((StatusCode::ACCEPTED, Json(image)))
}

pub async fn get_image(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<StackImage>> {
    Ok(Json(state.store.stack_image(id).await?))
}

pub async fn image_log(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<BuildLogQuery>,
) -> ApiResult<Json<BuildLog>> {
    Ok(Json(state.builds.stack_log(id, q.offset).await?))
}

/// An app may name only a stack that has an image.
pub(super) async fn check_stack(state: &AppState, name: &str) -> ApiResult<()> {
    check_name("stack", name)?;
    match state.builds.stack_image(name).await {
        Ok(_) => Ok(()),
        Err(_) => Err(vr_app::stack::unknown("stack", name).into()),
    }
}
