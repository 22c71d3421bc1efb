//! The release chosen in the deploy form and its build's Procfile: fetched again whenever the
//! choice changes, an older answer arriving late being dropped.

use std::collections::BTreeMap;

use crate::busy::spawn_local;
use leptos::prelude::*;
use vr_app::release::Release;

use crate::api;

/// Handle on the chosen release; cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct Chosen {
    pub release: RwSignal<Option<Release>>,
    /// Proc type → command, from the release's build.
    pub procfile: RwSignal<BTreeMap<String, String>>,
    loading: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    generation: StoredValue<u64>,
}

impl Chosen {
    /// Follows `id` (the release select's value: empty or a number).
    pub fn follow(id: RwSignal<String>) -> Chosen {
        let chosen = Chosen {
            release: RwSignal::new(None),
            procfile: RwSignal::new(BTreeMap::new()),
            loading: RwSignal::new(false),
            error: RwSignal::new(None),
            generation: StoredValue::new(0),
        };
        crate::effects::effect(move || {
            let wanted = id.with(|s| s.trim().parse::<i64>().ok());
            chosen.load(wanted);
        });
        chosen
    }

    fn load(&self, id: Option<i64>) {
        let chosen = *self;
        self.generation.update_value(|g| *g += 1);
        let asked_in = self.generation.get_value();
        self.release.set(None);
        self.procfile.set(BTreeMap::new());
        self.error.set(None);
        let Some(id) = id else {
            self.loading.set(false);
            return;
        };
        self.loading.set(true);
        spawn_local(async move {
            let result = match api::release::release(id).await {
                Ok(release) => match api::build::build(release.build_id).await {
                    Ok(build) => Ok((release, build.procfile)),
                    Err(e) => Err(format!("Cannot load the release's build: {e}")),
                },
                Err(e) if e.status == 404 => Err(format!("There is no release #{id}.")),
                Err(e) => Err(e.into_message()),
            };
            if chosen.generation.try_get_value() != Some(asked_in) {
                return;
            }
            match result {
                Ok((release, procfile)) => {
                    let _ = chosen.release.try_set(Some(release));
                    let _ = chosen.procfile.try_set(procfile);
                }
                Err(message) => {
                    let _ = chosen.error.try_set(Some(message));
                }
            }
            let _ = chosen.loading.try_set(false);
        });
    }

    /// True while the release or its build is being fetched (tracked).
    pub fn loading(&self) -> bool {
        self.loading.get()
    }

    /// Why the release or its Procfile could not be loaded (tracked).
    pub fn error(&self) -> Option<String> {
        self.error.get()
    }
}
