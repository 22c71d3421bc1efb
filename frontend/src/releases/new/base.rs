//! Where a new release starts. When an app is chosen and nothing is typed yet, its newest
//! release fills the form (its own values, ingredients, volumes, run-as, memory limit; its
//! secrets kept unchanged), so no key is dropped by accident. The preview is then compared with
//! what runs now: the release the app's procs run (the newest of them), else that newest one.

use crate::busy::spawn_local;
use leptos::prelude::*;
use vr_app::fleet_view::{Shown, host_of, shown};
use vr_app::release::{Release, ReleaseQuery};
use vr_app::supervisor::ProcState;

use super::draft::Draft;
use crate::api;
use crate::fleet::use_fleet;
use crate::ingredients::IngredientList;

/// What the form started from and what its preview is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    /// The release the form was filled from, if it was.
    pub filled_from: Option<i64>,
    /// The release the preview is compared with, and whether its procs run now.
    pub compare: Release,
    pub running: bool,
}

/// Follows the draft's app; the answer is `None` for an app without releases.
pub fn follow(draft: Draft, ingredients: IngredientList) -> RwSignal<Option<Base>> {
    let store = use_fleet();
    let base = RwSignal::new(None::<Base>);
    let done_for = StoredValue::new(String::new());
    crate::effects::effect(move || {
        let app = draft.app.get();
        if !ingredients.loaded() || done_for.with_value(|d| *d == app) {
            return;
        }
        done_for.set_value(app.clone());
        base.set(None);
        if app.is_empty() {
            return;
        }
        // The newest release the app's procs are known to run.
        let running = store.with_untracked(|f| {
            f.procs
                .iter()
                .filter(|p| p.meta.as_ref().is_some_and(|m| m.app == app))
                .filter(|p| shown(p, host_of(f, p)) == Shown::Live(ProcState::Running))
                .filter_map(|p| p.meta.as_ref().and_then(|m| m.release_id))
                .max()
        });
        spawn_local(async move {
            let query = ReleaseQuery {
                app: Some(app.clone()),
                limit: Some(1),
            };
            let Some(newest) = api::release::releases(&query)
                .await
                .ok()
                .and_then(|l| l.into_iter().next())
            else {
                return;
            };
            let compare = match running {
                Some(id) if id != newest.id => api::release::release(id).await.ok(),
                Some(_) => Some(newest.clone()),
                None => None,
            };
            if draft.app.try_get_untracked().as_deref() != Some(app.as_str()) {
                return; // another app was chosen meanwhile
            }
            let mut filled_from = None;
            if draft.is_pristine() {
                let build_env = api::build::build(newest.build_id)
                    .await
                    .map(|b| b.env)
                    .unwrap_or_default();
                let list = ingredients.list.get_untracked();
                draft.start_from(&newest, &build_env, &list);
                filled_from = Some(newest.id);
            }
            let _ = base.try_set(Some(Base {
                filled_from,
                running: compare.is_some(),
                compare: compare.unwrap_or(newest),
            }));
        });
    });
    base
}
