//! Releases and ingredients.

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::principal::Principal;
use crate::releases::{self, ReleaseError};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use vr_app::api::{LiveMessage, Outcome};
use vr_app::release::{
    CompareQuery, Ingredient, IngredientPatch, NewIngredient, NewRelease, Release, ReleaseDiff,
    ReleasePreview, ReleaseQuery, diff,
};

impl From<ReleaseError> for ApiError {
    fn from(e: ReleaseError) -> Self {
        match e {
            ReleaseError::Invalid(i) => i.into(),
            ReleaseError::Store(s) => s.into(),
        }
    }
}

fn releases_changed(state: &AppState) {
    let _ = state.live.send(LiveMessage::Releases);
}

pub async fn list_ingredients(State(state): State<AppState>) -> ApiResult<Json<Vec<Ingredient>>> {
    Ok(Json(state.store.list_ingredients().await?))
}

pub async fn get_ingredient(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<Ingredient>> {
    Ok(Json(state.store.ingredient(name).await?))
}

pub async fn create_ingredient(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(new): ApiJson<NewIngredient>,
) -> ApiResult<(StatusCode, Json<Ingredient>)> {
    let rec = releases::ingredient_record(new)?;
    let i = state.store.save_ingredient(rec, true).await?;
    state
        .record(
            &p.username,
            "ingredient.create",
            &format!("ingredient:{}", i.name),
            Outcome::Ok,
            "",
        )
        .await;
    releases_changed(&state);
    Ok((StatusCode::CREATED, Json(i)))
}

pub async fn update_ingredient(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
    ApiJson(patch): ApiJson<IngredientPatch>,
) -> ApiResult<Json<Ingredient>> {
    let cur = state.store.ingredient(name.clone()).await?;
    let rec = releases::ingredient_record(NewIngredient {
        name,
        settings_yaml: patch.settings_yaml.unwrap_or(cur.settings_yaml),
        env_yaml: patch.env_yaml.unwrap_or(cur.env_yaml),
        notes: patch.notes.unwrap_or(cur.notes),
    })?;
    let i = state.store.save_ingredient(rec, false).await?;
    let used = if i.used_by_releases.is_empty() {
        String::new()
    } else {
        format!(
            "used by {} release(s); they keep their values",
            i.used_by_releases.len()
        )
    };
    state
        .record(
            &p.username,
            "ingredient.update",
            &format!("ingredient:{}", i.name),
            Outcome::Ok,
            &used,
        )
        .await;
    releases_changed(&state);
    Ok(Json(i))
}

pub async fn delete_ingredient(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.store.delete_ingredient(name.clone()).await?;
    state
        .record(
            &p.username,
            "ingredient.delete",
            &format!("ingredient:{name}"),
            Outcome::Ok,
            "",
        )
        .await;
    releases_changed(&state);
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_releases(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ReleaseQuery>,
) -> ApiResult<Json<Vec<Release>>> {
    Ok(Json(state.store.list_releases(q).await?))
}

pub async fn get_release(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Release>> {
    Ok(Json(state.store.release(id).await?))
}

pub async fn preview_release(
    State(state): State<AppState>,
    ApiJson(new): ApiJson<NewRelease>,
) -> ApiResult<Json<ReleasePreview>> {
    Ok(Json(releases::resolve(&state.store, &new).await?.0))
}

/// 201 with a new release, 200 with the identical one that already existed.
pub async fn create_release(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(new): ApiJson<NewRelease>,
) -> ApiResult<(StatusCode, Json<Release>)> {
    let (release, made) = releases::create(&state.store, &p.username, new).await?;
    if made {
        state
            .record(
                &p.username,
                "release.create",
                &format!("release:{}#{}", release.app, release.id),
                Outcome::Ok,
                &format!("hash {} of build #{}", release.hash, release.build_id),
            )
            .await;
        releases_changed(&state);
    }
    let status = if made {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(release)))
}

pub async fn compare_releases(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<CompareQuery>,
) -> ApiResult<Json<ReleaseDiff>> {
    let a = state.store.release(q.a).await?;
    let b = state.store.release(q.b).await?;
    let differences = diff(&a, &b);
    Ok(Json(ReleaseDiff { a, b, differences }))
}
