//! A list of builds (all, or one app's), newest first, kept current by the live channel:
//! a `Build` message inserts or replaces its row by id, so statuses change without a reload.

use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::build::{Build, BuildQuery};
use vr_app::live::{Merge, upsert_newest};

use crate::api;
use crate::live::LiveData;

/// How many builds a list shows.
pub const LIMIT: u32 = 100;

/// Handle on one page's build list; cheap to copy.
#[derive(Clone, Copy)]
pub struct BuildFeed {
    data: LiveData<Vec<Build>>,
}

impl BuildFeed {
    /// Loads the list for `app` (only that app's builds; `None`: every app's), again whenever
    /// it changes, and follows the live channel for as long as the calling component lives.
    pub fn follow(app: Signal<Option<String>>) -> BuildFeed {
        let fetch = move || {
            let query = BuildQuery {
                app: app.get_untracked(),
                limit: Some(LIMIT),
            };
            api::build::builds(&query)
        };
        let merge = move |list: &mut Vec<Build>, message: &LiveMessage| match message {
            LiveMessage::Build { build }
                if app.with_untracked(|a| a.is_none() || a.as_ref() == Some(&build.app)) =>
            {
                upsert_newest(list, build, |b| b.id, LIMIT as usize)
            }
            _ => Merge::Ignored,
        };
        let data = LiveData::follow(Vec::new(), fetch, merge);
        // Another filter: the old rows would be wrong, so show "Loading…" until the answer.
        crate::effects::on_change(move || app.get(), move || data.restart(Vec::new()), false);
        BuildFeed { data }
    }

    /// The builds, newest first (tracked).
    pub fn builds(&self) -> Signal<Vec<Build>> {
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
