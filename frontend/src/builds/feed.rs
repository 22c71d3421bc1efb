//! A list of builds (all, or one app's), newest first, kept current by the live channel:
//! a `Build` message inserts or replaces its row by id, so statuses change without a reload.
//! Like the fleet store, messages that arrive while a fetch is under way are replayed on top of
//! its answer, so a list read a moment earlier cannot undo them.

use leptos::prelude::*;
use leptos::task::spawn_local;
use vr_app::api::LiveMessage;
use vr_app::build::{Build, BuildQuery};

use crate::api;
use crate::live::use_live;

/// How many builds a list shows.
pub const LIMIT: u32 = 100;

/// Handle on one page's build list; cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct BuildFeed {
    builds: RwSignal<Vec<Build>>,
    loaded: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    /// Only this app's builds; `None`: every app's.
    app: Signal<Option<String>>,
    generation: StoredValue<u64>,
    /// Builds seen on the live channel while a fetch is in flight.
    pending: StoredValue<Option<Vec<Build>>>,
}

/// Puts `build` into `list` (newest first, at most [`LIMIT`]) if it passes the app filter.
fn apply(list: &mut Vec<Build>, build: &Build, app: Option<&str>) {
    if app.is_some_and(|a| a != build.app) {
        return;
    }
    match list.iter_mut().find(|b| b.id == build.id) {
        Some(slot) => *slot = build.clone(),
        None => {
            list.push(build.clone());
            // Ids grow with creation, so they order builds like the server does.
            list.sort_by_key(|b| std::cmp::Reverse(b.id));
            list.truncate(LIMIT as usize);
        }
    }
}

impl BuildFeed {
    /// Loads the list for `app` (again whenever it changes) and follows the live channel for
    /// as long as the calling component lives.
    pub fn follow(app: Signal<Option<String>>) -> BuildFeed {
        let live = use_live();
        let feed = BuildFeed {
            builds: RwSignal::new(Vec::new()),
            loaded: RwSignal::new(false),
            error: RwSignal::new(None),
            app,
            generation: StoredValue::new(0),
            pending: StoredValue::new(None),
        };
        // Another filter: the old rows would be wrong, so show "Loading…" until the answer.
        Effect::new(move || {
            app.track();
            feed.builds.set(Vec::new());
            feed.loaded.set(false);
            feed.reload();
        });
        live.subscribe(move |message| {
            if let LiveMessage::Build { build } = message {
                feed.pending.update_value(|p| {
                    if let Some(list) = p {
                        list.push((**build).clone());
                    }
                });
                let filter = feed.app.get_untracked();
                feed.builds
                    .update(|list| apply(list, build, filter.as_deref()));
            }
        });
        Effect::watch(move || live.opens(), move |_, _, _| feed.reload(), false);
        feed
    }

    /// Fetches the list again.
    pub fn reload(&self) {
        let feed = *self;
        self.generation.update_value(|g| *g += 1);
        let asked_in = self.generation.get_value();
        self.pending.set_value(Some(Vec::new()));
        let app = self.app.get_untracked();
        let query = BuildQuery {
            app: app.clone(),
            limit: Some(LIMIT),
        };
        spawn_local(async move {
            let result = api::build::builds(&query).await;
            if feed.generation.try_get_value() != Some(asked_in) {
                return;
            }
            let replay = feed.pending.try_update_value(Option::take).flatten();
            match result {
                Ok(mut list) => {
                    for build in replay.iter().flatten() {
                        apply(&mut list, build, app.as_deref());
                    }
                    let _ = feed.builds.try_set(list);
                    let _ = feed.loaded.try_set(true);
                    let _ = feed.error.try_set(None);
                }
                Err(e) => {
                    let _ = feed.error.try_set(Some(e.message));
                }
            }
        });
    }

    /// The builds, newest first (tracked).
    pub fn builds(&self) -> Signal<Vec<Build>> {
        self.builds.into()
    }

    /// True once the first answer arrived (tracked).
    pub fn loaded(&self) -> bool {
        self.loaded.get()
    }

    /// Why the last fetch failed, if it did (tracked).
    pub fn error(&self) -> Option<String> {
        self.error.get()
    }
}
