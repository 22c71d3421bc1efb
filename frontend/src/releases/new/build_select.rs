//! The build of a new release: one of the chosen app's succeeded builds, newest first; the
//! newest is picked when the list arrives and nothing is chosen yet.

use crate::busy::spawn_local;
use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::build::{Build, BuildQuery, BuildStatus};

use super::draft::Draft;
use crate::api;
use crate::builds::short_commit;
use crate::components::FormErrors;
use crate::live::use_live;

/// How many of the app's newest builds are asked for.
const LIMIT: u32 = 50;

/// `#12 v1.2 0123456789ab`.
fn build_label(b: &Build) -> String {
    match b.commit.as_deref() {
        Some(commit) => format!("#{} {} {}", b.id, b.version, short_commit(commit)),
        None => format!("#{} {}", b.id, b.version),
    }
}

#[component]
pub fn BuildSelect(draft: Draft, errors: FormErrors) -> impl IntoView {
    errors.register("build_id");
    let live = use_live();
    let builds = RwSignal::new(Vec::<Build>::new());
    let loaded = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let generation = StoredValue::new(0u64);

    let load = move || {
        generation.update_value(|g| *g += 1);
        let asked_in = generation.get_value();
        let app = draft.app.get_untracked();
        if app.is_empty() {
            builds.set(Vec::new());
            loaded.set(false);
            return;
        }
        let query = BuildQuery {
            app: Some(app),
            limit: Some(LIMIT),
        };
        spawn_local(async move {
            let result = api::build::builds(&query).await;
            if generation.try_get_value() != Some(asked_in) {
                return;
            }
            match result {
                Ok(list) => {
                    // Only a succeeded build has an artifact to release.
                    let usable: Vec<Build> = list
                        .into_iter()
                        .filter(|b| b.status == BuildStatus::Succeeded)
                        .collect();
                    if draft.build.get_untracked().is_empty()
                        && let Some(newest) = usable.first()
                    {
                        let _ = draft.build.try_set(newest.id.to_string());
                    }
                    let _ = builds.try_set(usable);
                    let _ = loaded.try_set(true);
                    let _ = error.try_set(None);
                }
                Err(e) => {
                    let _ = error.try_set(Some(e.message));
                }
            }
        });
    };
    // Another app: its builds, and none chosen until they arrive.
    Effect::new(move || {
        draft.app.track();
        draft.build.set(String::new());
        loaded.set(false);
        load();
    });
    live.subscribe(move |message| {
        if let LiveMessage::Build { build } = message
            && build.status == BuildStatus::Succeeded
            && build.app == draft.app.get_untracked()
        {
            load();
        }
    });
    Effect::watch(move || live.opens(), move |_, _, _| load(), false);

    let prompt = move || {
        if draft.app.with(String::is_empty) {
            "(choose an app first)"
        } else if !loaded.get() {
            "Loading…"
        } else if builds.with(Vec::is_empty) {
            "(no succeeded builds)"
        } else {
            "(choose a build)"
        }
    };
    // `selected` as well as the select's value: options that arrive after the value was set
    // would otherwise show the first one.
    let options = move || {
        let current = draft.build.get();
        builds
            .get()
            .into_iter()
            .map(|b| {
                let value = b.id.to_string();
                let selected = value == current;
                view! { <option value=value selected=selected>{build_label(&b)}</option> }
            })
            .collect_view()
    };
    view! {
        <div class="field" class:field-invalid=move || errors.field("build_id").is_some()>
            <label for="release-build">"Build"</label>
            <select
                id="release-build"
                name="build_id"
                prop:value=move || draft.build.get()
                on:change=move |ev| draft.build.set(event_target_value(&ev))
            >
                <option value="" selected=move || draft.build.with(String::is_empty)>
                    {prompt}
                </option>
                {options}
            </select>
            {move || {
                match errors.field("build_id").or_else(|| error.get()) {
                    Some(m) => view! { <p class="field-error" data-field="build_id">{m}</p> }.into_any(),
                    None => view! { <p class="field-hint">"Succeeded builds of the app, newest first."</p> }.into_any(),
                }
            }}
        </div>
    }
}
