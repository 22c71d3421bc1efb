//! The newest deploys, newest first, kept current by the live channel: a `Deploy` message
//! inserts or replaces its row by id, so a running deploy's status changes without a reload.

use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::deploy::Deployment;
use vr_app::live::{Merge, upsert_newest};

use crate::api;
use crate::live::LiveData;

/// How many deploys the list shows.
pub const LIMIT: u32 = 100;

/// Handle on one page's deploy list; cheap to copy.
#[derive(Clone, Copy)]
pub struct DeployFeed {
    data: LiveData<Vec<Deployment>>,
}

impl DeployFeed {
    /// Loads the list and follows the live channel for as long as the calling component lives.
    pub fn follow() -> DeployFeed {
        let merge = |list: &mut Vec<Deployment>, message: &LiveMessage| match message {
            LiveMessage::Deploy { deploy } => upsert_newest(list, deploy, |d| d.id, LIMIT as usize),
            _ => Merge::Ignored,
        };
        DeployFeed {
            data: LiveData::follow(Vec::new(), || api::deploy::deploys(LIMIT), merge),
        }
    }

    /// The deploys, newest first (tracked).
    pub fn deploys(&self) -> Signal<Vec<Deployment>> {
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
