//! Releases and ingredients.

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::principal::Principal;
use crate::releases::{self, ReleaseError};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use vr_app::Role;
use vr_app::api::{LiveMessage, Outcome};
use vr_app::release::{
    CompareQuery, Ingredient, IngredientPatch, NewIngredient, NewRelease, Release, ReleaseDiff,
    ReleasePreview, ReleaseQuery, diff,
};
use vr_app::secret::{self, RevealRequest, Revealed};

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
    let mut all = state.store.list_ingredients().await?;
    all.iter_mut().for_each(secret::mask_ingredient);
    Ok(Json(all))
}

fn masked(mut i: Ingredient) -> Json<Ingredient> {
    secret::mask_ingredient(&mut i);
    Json(i)
}

fn masked_release(mut r: Release) -> Json<Release> {
    secret::mask_release(&mut r);
    Json(r)
}

pub async fn get_ingredient(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<Ingredient>> {
    Ok(masked(state.store.ingredient(name).await?))
}

pub async fn create_ingredient(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(new): ApiJson<NewIngredient>,
) -> ApiResult<(StatusCode, Json<Ingredient>)> {
    let parsed =
        releases::parse_ingredient(Some(new.settings_yaml.clone()), Some(new.env_yaml.clone()))
            .await?;
    let rec = releases::ingredient_record(&new, parsed)?;
    let i = state.store.create_ingredient(rec).await?;
    state
        .record(
            &p.username,
            "ingredient.create",
            &format!("ingredient:{}", i.name),
            Outcome::Ok,
            &secret_note(&i.secret_keys),
        )
        .await;
    releases_changed(&state);
    Ok((StatusCode::CREATED, masked(i)))
}

/// Names the secret keys (never their values) for the activity log.
fn secret_note(keys: &std::collections::BTreeSet<String>) -> String {
    if keys.is_empty() {
        String::new()
    } else {
        format!(
            "secret keys: {}",
            keys.iter().cloned().collect::<Vec<_>>().join(", ")
        )
    }
}

pub async fn update_ingredient(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
    ApiJson(patch): ApiJson<IngredientPatch>,
) -> ApiResult<Json<Ingredient>> {
    let parsed =
        releases::parse_ingredient(patch.settings_yaml.clone(), patch.env_yaml.clone()).await?;
    // Keys that stop being secret are as good as revealed: the event names them.
    let unmarked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = std::sync::Arc::clone(&unmarked);
    let i = state
        .store
        .edit_ingredient(name, move |current| {
            let rec = releases::ingredient_edit(current, &patch, parsed)?;
            if let Some(now) = &patch.secret_keys {
                let gone: Vec<String> = current
                    .secret_keys
                    .iter()
                    .filter(|k| !now.contains(k))
                    .cloned()
                    .collect();
                *seen.lock().unwrap_or_else(|p| p.into_inner()) = gone;
            }
            Ok(rec)
        })
        .await?;
    let unmarked = unmarked.lock().unwrap_or_else(|p| p.into_inner()).clone();
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
            &[
                used,
                secret_note(&i.secret_keys),
                if unmarked.is_empty() {
                    String::new()
                } else {
                    format!("no longer secret: {}", unmarked.join(", "))
                },
            ]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("; "),
        )
        .await;
    releases_changed(&state);
    Ok(masked(i))
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
    let mut all = state.store.list_releases(q).await?;
    all.iter_mut().for_each(secret::mask_release);
    Ok(Json(all))
}

pub async fn get_release(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Release>> {
    Ok(masked_release(state.store.release(id).await?))
}

pub async fn preview_release(
    State(state): State<AppState>,
    ApiJson(new): ApiJson<NewRelease>,
) -> ApiResult<Json<ReleasePreview>> {
    let mut preview = releases::resolve(&state.store, &new).await?.0;
    secret::mask_preview(&mut preview);
    Ok(Json(preview))
}

/// 201 with a new release, 200 with the identical one that already existed.
pub async fn create_release(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(new): ApiJson<NewRelease>,
) -> ApiResult<(StatusCode, Json<Release>)> {
    let (release, made) = releases::create(&state.store, &p.username, new).await?;
    if made {
        let secrets = secret_note(&release.config.secret_keys);
        state
            .record(
                &p.username,
                "release.create",
                &format!("release:{}#{}", release.app, release.id),
                Outcome::Ok,
                &format!(
                    "hash {} of build #{}{}{secrets}",
                    release.hash,
                    release.build_id,
                    if secrets.is_empty() { "" } else { "; " }
                ),
            )
            .await;
        releases_changed(&state);
    }
    let status = if made {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, masked_release(release)))
}

pub async fn compare_releases(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<CompareQuery>,
) -> ApiResult<Json<ReleaseDiff>> {
    let a = state.store.release(q.a).await?;
    let b = state.store.release(q.b).await?;
    let mut differences = diff(&a, &b);
    secret::mask_differences(&mut differences, &a, &b);
    Ok(Json(ReleaseDiff {
        a: masked_release(a).0,
        b: masked_release(b).0,
        differences,
    }))
}

/// Shows one secret value to a deployer (viewers are refused by the middleware); the reveal is
/// an event naming who saw which key.
async fn reveal_value(
    state: &AppState,
    p: &Principal,
    object: String,
    env: &std::collections::BTreeMap<String, String>,
    secret_keys: &std::collections::BTreeSet<String>,
    key: String,
) -> ApiResult<Json<Revealed>> {
    let Some(value) = env.get(&key).filter(|_| secret_keys.contains(&key)) else {
        return Err(ApiError::invalid(
            "key",
            format!("{object} has no secret {key:?}"),
        ));
    };
    state
        .record(
            &p.username,
            "secret.reveal",
            &object,
            Outcome::Ok,
            &format!("revealed {key}"),
        )
        .await;
    Ok(Json(Revealed {
        key,
        value: value.clone(),
    }))
}

pub async fn reveal_release_secret(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<RevealRequest>,
) -> ApiResult<Json<Revealed>> {
    p.require(Role::Deployer)?;
    let r = state.store.release(id).await?;
    let object = format!("release:{}#{}", r.app, r.id);
    reveal_value(
        &state,
        &p,
        object,
        &r.config.env,
        &r.config.secret_keys,
        req.key,
    )
    .await
}

pub async fn reveal_ingredient_secret(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
    ApiJson(req): ApiJson<RevealRequest>,
) -> ApiResult<Json<Revealed>> {
    p.require(Role::Deployer)?;
    let i = state.store.ingredient(name).await?;
    let object = format!("ingredient:{}", i.name);
    reveal_value(&state, &p, object, &i.env, &i.secret_keys, req.key).await
}
