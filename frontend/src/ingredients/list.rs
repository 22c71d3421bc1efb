//! The ingredients a page shows: fetched when the page opens, fetched again when the live
//! channel says releases or ingredients changed (`Releases`: the "used by" lists move too) or
//! reconnects, and patched at once with the server's answer after a change made on this page.

use crate::components::CollectVec;
use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::live::Merge;
use vr_app::release::Ingredient;

use crate::api;
use crate::live::LiveData;

/// Handle on one page's ingredient list, sorted by name; cheap to copy.
#[derive(Clone, Copy)]
pub struct IngredientList {
    data: LiveData<Vec<Ingredient>>,
    /// By name (tracked).
    pub list: Signal<Vec<Ingredient>>,
}

async fn fetch() -> Result<Vec<Ingredient>, api::ApiError> {
    let mut list = api::release::ingredients().await?;
    vr_app::order::sort_by(&mut list, |a, b| a.name.cmp(&b.name));
    Ok(list)
}

fn merge(_: &mut Vec<Ingredient>, message: &LiveMessage) -> Merge {
    match message {
        LiveMessage::Releases => Merge::Refetch,
        _ => Merge::Ignored,
    }
}

impl IngredientList {
    /// Loads the list and follows the live channel for as long as the calling component lives.
    pub fn follow() -> IngredientList {
        let data = LiveData::follow(Vec::new(), fetch, merge);
        IngredientList {
            data,
            list: data.signal(),
        }
    }

    /// True once the list arrived (tracked).
    pub fn loaded(&self) -> bool {
        self.data.loaded()
    }

    /// Why the last reload failed, if it did (tracked).
    pub fn error(&self) -> Option<String> {
        self.data.error_text()
    }

    /// The names, sorted (tracked).
    pub fn names(&self) -> Vec<String> {
        self.data
            .with(|list| list.iter().map(|i| i.name.clone()).collect_vec())
    }

    /// Records an ingredient the server just answered with (after a create or change).
    pub fn put(&self, ingredient: Ingredient) {
        self.data.update(|list| {
            match list.iter_mut().find(|i| i.id == ingredient.id) {
                Some(slot) => *slot = ingredient,
                None => list.push(ingredient),
            }
            vr_app::order::sort_by(list, |a, b| a.name.cmp(&b.name));
        });
    }
}
