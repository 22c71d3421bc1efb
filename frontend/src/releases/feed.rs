//! A list of releases (all, or one app's), newest first. Releases never change once made, so
//! a live `Releases` message (one was made) fetches the list again.

use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::live::Merge;
use vr_app::release::{Release, ReleaseQuery};

use crate::api;
use crate::live::LiveData;

/// How many releases a list shows.
pub const LIMIT: u32 = 100;

/// Handle on one page's release list; cheap to copy.
#[derive(Clone, Copy)]
pub struct ReleaseFeed {
    data: LiveData<Vec<Release>>,
}

impl ReleaseFeed {
    /// Loads the list for `app` (only that app's releases; `None`: every app's), again whenever
    /// it changes, and follows the live channel for as long as the calling component lives.
    pub fn follow(app: Signal<Option<String>>) -> ReleaseFeed {
        let fetch = move || {
            let query = ReleaseQuery {
                app: app.get_untracked(),
                limit: Some(LIMIT),
            };
            api::release::releases(&query)
        };
        let merge = |_: &mut Vec<Release>, message: &LiveMessage| match message {
            LiveMessage::Releases => Merge::Refetch,
            _ => Merge::Ignored,
        };
        let data = LiveData::follow(Vec::new(), fetch, merge);
        crate::effects::on_change(move || app.get(), move || data.restart(Vec::new()), false);
        ReleaseFeed { data }
    }

    /// The releases, newest first (tracked).
    pub fn releases(&self) -> Signal<Vec<Release>> {
        self.data.signal()
    }

    /// True once the first answer arrived (tracked).
    pub fn loaded(&self) -> bool {
        self.data.loaded()
    }

    /// Why the last fetch failed, if it did (tracked).
    pub fn error(&self) -> Option<String> {
        self.data.error_text()
    }
}
