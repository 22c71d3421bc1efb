//! The "new release" form: an app and one of its builds, own settings and env (YAML),
//! ingredients in merge order, volumes, run-as and a memory limit. "Preview" shows the merged
//! config with where each key came from; "Create" makes the release (or finds the identical one)
//! and opens its page.

use crate::components::CollectAny;
use crate::components::CollectVec;
use crate::router::use_navigate;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::release::{NewRelease, ReleasePreview};
use vr_app::validate::Invalid;

mod base;
mod build_select;
mod draft;
mod fields;
mod picker;
mod preview;
mod volumes;

use crate::api;
use crate::apps::Catalog;
use crate::busy::spawn_busy;
use crate::components::{FormError, FormErrors, use_toasts};
use crate::ingredients::IngredientList;
use crate::links::release_href;
use build_select::BuildSelect;
use draft::Draft;
use fields::ReleaseFields;
use preview::PreviewPanel;

/// Puts client-side failures under their inputs; several about one input are joined.
fn show_invalid(errors: FormErrors, wrong: &[Invalid]) {
    let mut fields: Vec<&'static str> = wrong.iter().map(|w| w.field).collect_vec();
    fields.dedup();
    for field in fields {
        let message = wrong
            .iter()
            .filter(|w| w.field == field)
            .map(|w| w.message.as_str())
            .collect_vec()
            .join("; ");
        errors.set_field(field, message);
    }
}

#[component]
pub fn NewReleaseForm(
    catalog: Catalog,
    ingredients: IngredientList,
    /// The app chosen at first (the list's filter), if any.
    app: Option<String>,
) -> impl IntoView {
    let toasts = use_toasts();
    let navigate = use_navigate();
    let draft = Draft::new(app.unwrap_or_default());
    let errors = FormErrors::new();
    let previewing = RwSignal::new(false);
    let creating = RwSignal::new(false);
    // The last preview and the request it answered, to tell when the form moved on from it.
    let previewed = RwSignal::new(None::<(NewRelease, ReleasePreview)>);
    let stale = Signal::derive(move || {
        previewed.with(|p| {
            p.as_ref()
                .is_some_and(|(asked, _)| draft.request().ok().as_ref() != Some(asked))
        })
    });
    let busy = move || previewing.get() || creating.get();
    let base = base::follow(draft, ingredients);
    let started_from = move || {
        base.get().and_then(|b| b.filled_from).map(|id| {
            view! {
                <p class="notice" data-test="release-started-from" data-id=id>
                    "Started from release "
                    <a href=release_href(id)>{format!("#{id}")}</a>
                    ": its own settings and env, ingredients, volumes, run-as and memory limit "
                    "are filled in, and its secret values are kept unless you change them."
                </p>
            }
        })
    };

    // The checked request, or `None` after showing what is wrong.
    let checked = move || {
        errors.clear();
        match untrack(|| draft.request()) {
            Ok(request) => Some(request),
            Err(wrong) => {
                show_invalid(errors, &wrong);
                None
            }
        }
    };

    let preview = move |_| {
        if creating.get_untracked() {
            return;
        }
        let Some(request) = checked() else {
            return;
        };
        spawn_busy(previewing, async move {
            match api::release::preview_release(&request).await {
                Ok(answer) => {
                    let _ = previewed.try_set(Some((request, answer)));
                }
                Err(e) => errors.set_api(&e),
            }
        });
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if previewing.get_untracked() {
            return;
        }
        let Some(request) = checked() else {
            return;
        };
        let navigate = navigate.clone();
        spawn_busy(creating, async move {
            match api::release::create_release(&request).await {
                Ok(made) => {
                    let id = made.release.id;
                    if made.new {
                        toasts.success(format!("Release #{id} created."));
                    } else {
                        // Same build and config: the server answered the one it already had.
                        toasts.success(format!("An identical release already exists: #{id}."));
                    }
                    navigate(&release_href(id), Default::default());
                }
                Err(e) => errors.set_api(&e),
            }
        });
    };

    // `selected` as well as the select's value: options that arrive after the value was set
    // would otherwise show the first one.
    let app_options = move || {
        let current = draft.app.get();
        let mut names: Vec<String> = catalog
            .apps
            .with(|apps| apps.iter().map(|a| a.name.clone()).collect_vec());
        if !current.is_empty() && !names.contains(&current) {
            names.push(current.clone());
        }
        names
            .into_iter()
            .map(|n| {
                let selected = n == current;
                view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
            })
            .collect_any()
    };

    view! {
        <div class="card" id="create-release-section">
            <h2>"New release"</h2>
            {started_from}
            <form class="form" on:submit=crate::ev::submit(submit) novalidate=true>
                <FormError errors=errors />
                <div class="form-row">
                    <div class="field">
                        <label for="release-app">"App"</label>
                        <select
                            id="release-app"
                            prop:value=move || draft.app.get()
                            on:change=crate::ev::change(move |ev| draft.app.set(event_target_value(&ev)))
                        >
                            <option value="" selected=move || draft.app.with(String::is_empty)>
                                "(choose an app)"
                            </option>
                            {app_options}
                        </select>
                    </div>
                    <BuildSelect draft=draft errors=errors />
                </div>
                <ReleaseFields draft=draft errors=errors ingredients=ingredients />
                <div class="button-row">
                    <button
                        type="button"
                        class="btn"
                        id="release-preview"
                        disabled=busy
                        on:click=crate::ev::click(preview)
                    >
                        {crate::components::flag_text(previewing, "Previewing…", "Preview")}
                    </button>
                    <button
                        type="submit"
                        class="btn btn-primary"
                        id="release-create"
                        disabled=busy
                    >
                        {crate::components::flag_text(creating, "Creating…", "Create release")}
                    </button>
                </div>
            </form>
        </div>
        {move || {
            previewed
                .get()
                .map(|(asked, answer)| {
                    view! {
                        <PreviewPanel
                            preview=answer
                            build_id=asked.build_id
                            base=base.get_untracked()
                            stale=stale
                        />
                    }
                })
        }}
    }
}
