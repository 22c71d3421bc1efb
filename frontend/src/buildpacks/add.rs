//! The "add a buildpack" form of the Buildpacks page; a new one goes last.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::build::NewBuildpack;
use vr_app::validate;

use crate::api;
use crate::apps::Catalog;
use crate::busy::spawn_submit;
use crate::components::{FieldSpec, FormError, FormErrors, use_toasts};

#[component]
pub fn AddBuildpack(catalog: Catalog) -> impl IntoView {
    let toasts = use_toasts();
    let url = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let request = NewBuildpack {
            url: url.get_untracked().trim().to_string(),
            order: None,
            description: description.get_untracked().trim().to_string(),
        };
        let checks = [
            validate::git_url("url", &request.url),
            validate::label_or_empty("description", &request.description),
        ];
        if errors.show_invalid(&checks) {
            return;
        }
        spawn_submit(
            busy,
            errors,
            api::build::create_buildpack(&request),
            move |buildpack| {
                toasts.success(format!("Buildpack {} added.", buildpack.url));
                catalog.put_buildpack(buildpack);
                url.set(String::new());
                description.set(String::new());
            },
        );
    };

    view! {
        <div class="card" id="add-buildpack-section">
            <h2>"Add a buildpack"</h2>
            <form class="form form-inline" on:submit=crate::ev::submit(submit) novalidate=true>
                <FormError errors=errors />
                {FieldSpec::new("Git URL", "buildpack-url", "url", url, errors).autocomplete("off").placeholder("https://github.com/heroku/heroku-buildpack-python#v1").view()}
                {FieldSpec::new("Description", "buildpack-description", "description", description, errors).autocomplete("off").view()}
                <button
                    type="submit"
                    class="btn btn-primary"
                    id="buildpack-add"
                    disabled=move || busy.get()
                >
                    "Add buildpack"
                </button>
            </form>
        </div>
    }
}
