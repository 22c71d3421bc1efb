//! Endpoints of ingredients and releases (`vr_app::release::paths`).

use vr_app::release::{
    Ingredient, IngredientPatch, NewIngredient, NewRelease, Release, ReleaseDiff, ReleasePreview,
    ReleaseQuery, paths,
};

use vr_app::secret::{RevealRequest, Revealed, paths as secret_paths};

use super::{ApiError, app_listing_query, delete, get, patch, post, post_with_status};

/// One secret value of a release, shown on purpose (the server records who asked).
pub async fn reveal_release_secret(id: i64, key: &str) -> Result<Revealed, ApiError> {
    post(
        &secret_paths::release_reveal(id),
        &RevealRequest { key: key.into() },
    )
    .await
}

pub async fn reveal_ingredient_secret(name: &str, key: &str) -> Result<Revealed, ApiError> {
    post(
        &secret_paths::ingredient_reveal(name),
        &RevealRequest { key: key.into() },
    )
    .await
}

pub async fn ingredients() -> Result<Vec<Ingredient>, ApiError> {
    get(paths::INGREDIENTS).await
}

pub async fn ingredient(name: &str) -> Result<Ingredient, ApiError> {
    get(&paths::ingredient(name)).await
}

/// Bad YAML is refused (400) with field `settings_yaml` or `env_yaml`.
pub async fn create_ingredient(req: &NewIngredient) -> Result<Ingredient, ApiError> {
    post(paths::INGREDIENTS, req).await
}

pub async fn update_ingredient(name: &str, req: &IngredientPatch) -> Result<Ingredient, ApiError> {
    patch(&paths::ingredient(name), req).await
}

pub async fn delete_ingredient(name: &str) -> Result<(), ApiError> {
    delete(&paths::ingredient(name)).await
}

/// The query string (with its leading `?`) of a release listing; empty when nothing is set.
pub fn release_query_string(q: &ReleaseQuery) -> String {
    app_listing_query(q.app.as_deref(), q.limit)
}

/// Releases matching `q`, newest first.
pub async fn releases(q: &ReleaseQuery) -> Result<Vec<Release>, ApiError> {
    get(&format!("{}{}", paths::RELEASES, release_query_string(q))).await
}

pub async fn release(id: i64) -> Result<Release, ApiError> {
    get(&paths::release(id)).await
}

/// What a new release would be, without storing anything.
pub async fn preview_release(req: &NewRelease) -> Result<ReleasePreview, ApiError> {
    post(paths::RELEASE_PREVIEW, req).await
}

/// A made release.
#[derive(Debug, Clone)]
pub struct Made {
    pub release: Release,
    /// False when an identical release (same hash) already existed and was answered instead.
    pub new: bool,
}

pub async fn create_release(req: &NewRelease) -> Result<Made, ApiError> {
    let (status, release) = post_with_status(paths::RELEASES, req).await?;
    Ok(Made {
        release,
        new: status == 201,
    })
}

/// What differs between releases `a` and `b`.
pub async fn compare_releases(a: i64, b: i64) -> Result<ReleaseDiff, ApiError> {
    get(&format!("{}?a={a}&b={b}", paths::RELEASE_COMPARE)).await
}
