//! The newest deploys, newest first, kept current by the live channel: a `Deploy` message
//! inserts or replaces its row by id, so a running deploy's status changes without a reload.
//! Messages that arrive while a fetch is under way are replayed on top of its answer, so a list
//! read a moment earlier cannot undo them.

use leptos::prelude::*;
use leptos::task::spawn_local;
use vr_app::api::LiveMessage;
use vr_app::deploy::Deployment;

use crate::api;
use crate::live::use_live;

/// How many deploys the list shows.
pub const LIMIT: u32 = 100;

/// Handle on one page's deploy list; cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct DeployFeed {
    deploys: RwSignal<Vec<Deployment>>,
    loaded: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    generation: StoredValue<u64>,
    /// Deploys seen on the live channel while a fetch is in flight.
    pending: StoredValue<Option<Vec<Deployment>>>,
}

/// Puts `deploy` into `list` (newest first, at most [`LIMIT`]).
fn apply(list: &mut Vec<Deployment>, deploy: &Deployment) {
    match list.iter_mut().find(|d| d.id == deploy.id) {
        Some(slot) => *slot = deploy.clone(),
        None => {
            list.push(deploy.clone());
            // Ids grow with creation, so they order deploys like the server does.
            list.sort_by_key(|d| std::cmp::Reverse(d.id));
            list.truncate(LIMIT as usize);
        }
    }
}

impl DeployFeed {
    /// Loads the list and follows the live channel for as long as the calling component lives.
    pub fn follow() -> DeployFeed {
        let live = use_live();
        let feed = DeployFeed {
            deploys: RwSignal::new(Vec::new()),
            loaded: RwSignal::new(false),
            error: RwSignal::new(None),
            generation: StoredValue::new(0),
            pending: StoredValue::new(None),
        };
        feed.reload();
        live.subscribe(move |message| {
            if let LiveMessage::Deploy { deploy } = message {
                feed.pending.update_value(|p| {
                    if let Some(list) = p {
                        list.push((**deploy).clone());
                    }
                });
                feed.deploys.update(|list| apply(list, deploy));
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
        spawn_local(async move {
            let result = api::deploy::deploys(LIMIT).await;
            if feed.generation.try_get_value() != Some(asked_in) {
                return;
            }
            let replay = feed.pending.try_update_value(Option::take).flatten();
            match result {
                Ok(mut list) => {
                    for deploy in replay.iter().flatten() {
                        apply(&mut list, deploy);
                    }
                    let _ = feed.deploys.try_set(list);
                    let _ = feed.loaded.try_set(true);
                    let _ = feed.error.try_set(None);
                }
                Err(e) => {
                    let _ = feed.error.try_set(Some(e.message));
                }
            }
        });
    }

    /// The deploys, newest first (tracked).
    pub fn deploys(&self) -> Signal<Vec<Deployment>> {
        self.deploys.into()
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
