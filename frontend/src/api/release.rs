//! Endpoints of ingredients and releases (`vr_app::release::paths`).

use vr_app::release::{
    Ingredient, IngredientPatch, NewIngredient, NewRelease, Release, ReleaseDiff, ReleasePreview,
    ReleaseQuery, paths,
};

use vr_app::secret::{RevealRequest, Revealed, paths as secret_paths};

use super::{Reply, app_listing_query, delete, get, patch, post, post_with_status};

/// One secret value of a release, shown on purpose (the server records who asked).
pub fn reveal_release_secret(id: i64, key: &str) -> Reply<Revealed> {
    post(
        &secret_paths::release_reveal(id),
        &RevealRequest { key: key.into() },
    )
}

pub fn reveal_ingredient_secret(name: &str, key: &str) -> Reply<Revealed> {
    post(
        &secret_paths::ingredient_reveal(name),
        &RevealRequest { key: key.into() },
    )
}

pub fn ingredients() -> Reply<Vec<Ingredient>> {
    get(paths::INGREDIENTS)
}

pub fn ingredient(name: &str) -> Reply<Ingredient> {
    get(&paths::ingredient(name))
}

/// Bad YAML is refused (400) with field `settings_yaml` or `env_yaml`.
pub fn create_ingredient(req: &NewIngredient) -> Reply<Ingredient> {
    post(paths::INGREDIENTS, req)
}

pub fn update_ingredient(name: &str, req: &IngredientPatch) -> Reply<Ingredient> {
    patch(&paths::ingredient(name), req)
}

pub fn delete_ingredient(name: &str) -> Reply<()> {
    delete(&paths::ingredient(name))
}

/// The query string (with its leading `?`) of a release listing; empty when nothing is set.
pub fn release_query_string(q: &ReleaseQuery) -> String {
    app_listing_query(q.app.as_deref(), q.limit)
}

/// Releases matching `q`, newest first.
pub fn releases(q: &ReleaseQuery) -> Reply<Vec<Release>> {
    get(&format!("{}{}", paths::RELEASES, release_query_string(q)))
}

pub fn release(id: i64) -> Reply<Release> {
    get(&paths::release(id))
}

/// What a new release would be, without storing anything.
pub fn preview_release(req: &NewRelease) -> Reply<ReleasePreview> {
    post(paths::RELEASE_PREVIEW, req)
}

/// A made release.
#[derive(Debug, Clone)]
pub struct Made {
    pub release: Release,
    /// False when an identical release (same hash) already existed and was answered instead.
    pub new: bool,
}

pub async fn create_release(req: &NewRelease) -> Result<Made, super::ApiError> {
    let (status, release) = post_with_status(paths::RELEASES, req).await?;
    Ok(Made {
        release,
        new: status == 201,
    })
}

/// What differs between releases `a` and `b`.
pub fn compare_releases(a: i64, b: i64) -> Reply<ReleaseDiff> {
    get(&format!("{}?a={a}&b={b}", paths::RELEASE_COMPARE))
}
