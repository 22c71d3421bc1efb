//! A list of releases (all, or one app's), newest first. Releases never change once made, so
//! a live `Releases` message (one was made) or a reconnect simply fetches the list again.

use leptos::prelude::*;
use leptos::task::spawn_local;
use vr_app::api::LiveMessage;
use vr_app::release::{Release, ReleaseQuery};

use crate::api;
use crate::live::use_live;

/// How many releases a list shows.
pub const LIMIT: u32 = 100;

/// Handle on one page's release list; cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct ReleaseFeed {
    releases: RwSignal<Vec<Release>>,
    loaded: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    /// Only this app's releases; `None`: every app's.
    app: Signal<Option<String>>,
    generation: StoredValue<u64>,
}

impl ReleaseFeed {
    /// Loads the list for `app` (again whenever it changes) and follows the live channel for
    /// as long as the calling component lives.
    pub fn follow(app: Signal<Option<String>>) -> ReleaseFeed {
        let live = use_live();
        let feed = ReleaseFeed {
            releases: RwSignal::new(Vec::new()),
            loaded: RwSignal::new(false),
            error: RwSignal::new(None),
            app,
            generation: StoredValue::new(0),
        };
        // Another filter: the old rows would be wrong, so show "Loading…" until the answer.
        Effect::new(move || {
            app.track();
            feed.releases.set(Vec::new());
            feed.loaded.set(false);
            feed.reload();
        });
        live.subscribe(move |message| {
            if matches!(message, LiveMessage::Releases) {
                feed.reload();
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
        let query = ReleaseQuery {
            app: self.app.get_untracked(),
            limit: Some(LIMIT),
        };
        spawn_local(async move {
            let result = api::release::releases(&query).await;
            if feed.generation.try_get_value() != Some(asked_in) {
                return;
            }
            match result {
                Ok(list) => {
                    let _ = feed.releases.try_set(list);
                    let _ = feed.loaded.try_set(true);
                    let _ = feed.error.try_set(None);
                }
                Err(e) => {
                    let _ = feed.error.try_set(Some(e.message));
                }
            }
        });
    }

    /// The releases, newest first (tracked).
    pub fn releases(&self) -> Signal<Vec<Release>> {
        self.releases.into()
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
