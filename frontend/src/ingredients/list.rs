//! The ingredients a page shows: fetched when the page opens, fetched again when the live
//! channel says releases or ingredients changed (`Releases`: the "used by" lists move too) or
//! reconnects, and patched at once with the server's answer after a change made on this page.

use leptos::prelude::*;
use leptos::task::spawn_local;
use vr_app::api::LiveMessage;
use vr_app::release::Ingredient;

use crate::api;
use crate::live::use_live;

/// Handle on one page's ingredient list, sorted by name; cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct IngredientList {
    pub list: RwSignal<Vec<Ingredient>>,
    loaded: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    /// Bumped per reload: an older answer arriving late is dropped.
    generation: StoredValue<u64>,
}

impl IngredientList {
    /// Loads the list and follows the live channel for as long as the calling component lives.
    pub fn follow() -> IngredientList {
        let live = use_live();
        let ingredients = IngredientList {
            list: RwSignal::new(Vec::new()),
            loaded: RwSignal::new(false),
            error: RwSignal::new(None),
            generation: StoredValue::new(0),
        };
        ingredients.reload();
        live.subscribe(move |message| {
            if matches!(message, LiveMessage::Releases) {
                ingredients.reload();
            }
        });
        Effect::watch(
            move || live.opens(),
            move |_, _, _| ingredients.reload(),
            false,
        );
        ingredients
    }

    /// Fetches the list again.
    pub fn reload(&self) {
        let ingredients = *self;
        self.generation.update_value(|g| *g += 1);
        let asked_in = self.generation.get_value();
        spawn_local(async move {
            let result = api::release::ingredients().await;
            if ingredients.generation.try_get_value() != Some(asked_in) {
                return;
            }
            match result {
                Ok(mut list) => {
                    list.sort_by(|a, b| a.name.cmp(&b.name));
                    let _ = ingredients.list.try_set(list);
                    let _ = ingredients.loaded.try_set(true);
                    let _ = ingredients.error.try_set(None);
                }
                Err(e) => {
                    let _ = ingredients.error.try_set(Some(e.message));
                }
            }
        });
    }

    /// True once the list arrived (tracked).
    pub fn loaded(&self) -> bool {
        self.loaded.get()
    }

    /// Why the last reload failed, if it did (tracked).
    pub fn error(&self) -> Option<String> {
        self.error.get()
    }

    /// The names, sorted (tracked).
    pub fn names(&self) -> Vec<String> {
        self.list
            .with(|list| list.iter().map(|i| i.name.clone()).collect())
    }

    /// Records an ingredient the server just answered with (after a create or change).
    pub fn put(&self, ingredient: Ingredient) {
        self.list.update(|list| {
            match list.iter_mut().find(|i| i.id == ingredient.id) {
                Some(slot) => *slot = ingredient,
                None => list.push(ingredient),
            }
            list.sort_by(|a, b| a.name.cmp(&b.name));
        });
    }
}
