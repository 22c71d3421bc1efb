//! The build of a new release: one of the chosen app's succeeded builds, newest first; the
//! newest is picked when the list arrives and nothing is chosen yet.

use crate::components::CollectAny;
use crate::components::CollectVec;
use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::build::{Build, BuildQuery, BuildStatus};
use vr_app::live::Merge;

use super::draft::Draft;
use crate::api;
use crate::builds::short_commit;
use crate::components::FormErrors;
use crate::live::LiveData;

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
    let builds = LiveData::follow(
        Vec::<Build>::new(),
        move || {
            let app = draft.app.try_get_untracked().unwrap_or_default();
            async move {
                if app.is_empty() {
                    return Ok(Vec::new());
                }
                let query = BuildQuery {
                    app: Some(app),
                    limit: Some(LIMIT),
                };
                // Only a succeeded build has an artifact to release.
                let list = api::build::builds(&query).await?;
                Ok(list
                    .into_iter()
                    .filter(|b| b.status == BuildStatus::Succeeded)
                    .collect_vec())
            }
        },
        move |_, message| match message {
            LiveMessage::Build { build }
                if build.status == BuildStatus::Succeeded
                    && draft
                        .app
                        .try_with_untracked(|a| *a == build.app)
                        .unwrap_or(false) =>
            {
                Merge::Refetch
            }
            _ => Merge::Ignored,
        },
    );
    // Another app: its builds, and none chosen until they arrive.
    crate::effects::on_change(
        move || draft.app.get(),
        move || {
            draft.build.set(String::new());
            builds.restart(Vec::new());
        },
        true,
    );
    // The newest is picked when the list arrives and nothing is chosen yet.
    crate::effects::effect(move || {
        let newest = builds.with(|list| list.first().map(|b| b.id));
        if let Some(id) = newest
            && draft.build.with_untracked(String::is_empty)
        {
            draft.build.set(id.to_string());
        }
    });

    let prompt = move || {
        if draft.app.with(String::is_empty) {
            "(choose an app first)"
        } else if !builds.loaded() {
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
            .collect_any()
    };
    view! {
        <div class="field" class:field-invalid=move || errors.field("build_id").is_some()>
            <label for="release-build">"Build"</label>
            <select
                id="release-build"
                name="build_id"
                prop:value=move || draft.build.get()
                on:change=crate::ev::change(move |ev| draft.build.set(event_target_value(&ev)))
            >
                <option value="" selected=move || draft.build.with(String::is_empty)>
                    {prompt}
                </option>
                {options}
            </select>
            {move || {
                match errors.field("build_id").or_else(|| builds.error_text()) {
                    Some(m) => view! { <p class="field-error" data-field="build_id">{m}</p> }.into_any(),
                    None => view! { <p class="field-hint">"Succeeded builds of the app, newest first."</p> }.into_any(),
                }
            }}
        </div>
    }
}
