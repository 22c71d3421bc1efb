//! The apps and buildpacks a page shows: fetched when the page opens, fetched again when the
//! live channel says they changed (`Apps`) or reconnects, and patched at once with the server's
//! answer after a change made on this page.

use leptos::prelude::*;
use leptos::task::spawn_local;
use vr_app::api::LiveMessage;
use vr_app::build::{App, Buildpack};

use crate::api;
use crate::live::use_live;

/// Handle on one page's lists; cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct Catalog {
    pub apps: RwSignal<Vec<App>>,
    /// In detection order.
    pub buildpacks: RwSignal<Vec<Buildpack>>,
    loaded: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    /// Bumped per reload: an older answer arriving late is dropped.
    generation: StoredValue<u64>,
}

impl Catalog {
    /// Loads both lists and follows the live channel for as long as the calling component lives.
    pub fn follow() -> Catalog {
        let live = use_live();
        let catalog = Catalog {
            apps: RwSignal::new(Vec::new()),
            buildpacks: RwSignal::new(Vec::new()),
            loaded: RwSignal::new(false),
            error: RwSignal::new(None),
            generation: StoredValue::new(0),
        };
        catalog.reload();
        live.subscribe(move |message| {
            if matches!(message, LiveMessage::Apps) {
                catalog.reload();
            }
        });
        Effect::watch(move || live.opens(), move |_, _, _| catalog.reload(), false);
        catalog
    }

    /// Fetches both lists again.
    pub fn reload(&self) {
        let catalog = *self;
        self.generation.update_value(|g| *g += 1);
        let asked_in = self.generation.get_value();
        spawn_local(async move {
            // Two small reads, one after the other: there is no join combinator in this crate.
            let apps = api::build::apps().await;
            let buildpacks = api::build::buildpacks().await;
            if catalog.generation.try_get_value() != Some(asked_in) {
                return;
            }
            match (apps, buildpacks) {
                (Ok(mut apps), Ok(mut buildpacks)) => {
                    apps.sort_by(|a, b| a.name.cmp(&b.name));
                    sort_buildpacks(&mut buildpacks);
                    let _ = catalog.apps.try_set(apps);
                    let _ = catalog.buildpacks.try_set(buildpacks);
                    let _ = catalog.loaded.try_set(true);
                    let _ = catalog.error.try_set(None);
                }
                (Err(e), _) | (_, Err(e)) => {
                    let _ = catalog.error.try_set(Some(e.message));
                }
            }
        });
    }

    /// True once both lists arrived (tracked).
    pub fn loaded(&self) -> bool {
        self.loaded.get()
    }

    /// Why the last reload failed, if it did (tracked).
    pub fn error(&self) -> Option<String> {
        self.error.get()
    }

    /// The app named `name` (tracked).
    pub fn app(&self, name: &str) -> Option<App> {
        self.apps
            .with(|apps| apps.iter().find(|a| a.name == name).cloned())
    }

    /// Records an app the server just answered with (after a create or change).
    pub fn put_app(&self, app: App) {
        self.apps.update(|apps| {
            match apps.iter_mut().find(|a| a.id == app.id) {
                Some(slot) => *slot = app,
                None => apps.push(app),
            }
            apps.sort_by(|a, b| a.name.cmp(&b.name));
        });
    }

    /// Forgets an app the server just deleted.
    pub fn remove_app(&self, name: &str) {
        self.apps.update(|apps| apps.retain(|a| a.name != name));
    }

    /// Records a buildpack the server just answered with.
    pub fn put_buildpack(&self, buildpack: Buildpack) {
        self.buildpacks.update(|list| {
            match list.iter_mut().find(|b| b.id == buildpack.id) {
                Some(slot) => *slot = buildpack,
                None => list.push(buildpack),
            }
            sort_buildpacks(list);
        });
    }

    /// Forgets a buildpack the server just deleted.
    pub fn remove_buildpack(&self, id: i64) {
        self.buildpacks.update(|list| list.retain(|b| b.id != id));
    }
}

/// Detection order; the id breaks ties so equal orders still list stably.
fn sort_buildpacks(list: &mut [Buildpack]) {
    list.sort_by_key(|b| (b.order, b.id));
}
