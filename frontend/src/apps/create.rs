//! The "new app" form of the Apps page.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::build::NewApp;
use vr_app::validate;

use super::Catalog;
use super::fields::{BuildpackSelect, chosen};
use crate::api;
use crate::busy::spawn_submit;
use crate::components::{Field, FormError, FormErrors, use_toasts};

#[component]
pub fn CreateApp(catalog: Catalog) -> impl IntoView {
    let toasts = use_toasts();
    let name = RwSignal::new(String::new());
    let repo = RwSignal::new(String::new());
    let buildpack = RwSignal::new(String::new());
    let notes = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let request = NewApp {
            name: name.get_untracked().trim().to_string(),
            repo_url: repo.get_untracked().trim().to_string(),
            buildpack: chosen(&buildpack.get_untracked()),
            notes: notes.get_untracked().trim().to_string(),
        };
        let checks = [
            validate::app_name("name", &request.name),
            validate::git_url("repo_url", &request.repo_url),
            validate::label_or_empty("notes", &request.notes),
        ];
        if errors.show_invalid(&checks) {
            return;
        }
        spawn_submit(
            busy,
            errors,
            async move { api::build::create_app(&request).await },
            move |app| {
                toasts.success(format!("App {} created.", app.name));
                catalog.put_app(app);
                name.set(String::new());
                repo.set(String::new());
                buildpack.set(String::new());
                notes.set(String::new());
            },
        );
    };

    view! {
        <div class="card" id="create-app-section">
            <h2>"New app"</h2>
            <form class="form form-inline" on:submit=submit novalidate=true>
                <FormError errors=errors />
                <Field
                    label="Name"
                    id="app-name"
                    name="name"
                    value=name
                    errors=errors
                    autocomplete="off"
                    placeholder="e.g. shop_api"
                    hint="Lowercase letters, digits and '_'."
                />
                <Field
                    label="Repository"
                    id="app-repo"
                    name="repo_url"
                    value=repo
                    errors=errors
                    autocomplete="off"
                    placeholder="git@github.com:org/repo.git"
                />
                <BuildpackSelect id="app-buildpack" value=buildpack errors=errors catalog=catalog />
                <Field
                    label="Notes"
                    id="app-notes"
                    name="notes"
                    value=notes
                    errors=errors
                    autocomplete="off"
                />
                <button
                    type="submit"
                    class="btn btn-primary"
                    id="app-create"
                    disabled=move || busy.get()
                >
                    "Create app"
                </button>
            </form>
        </div>
    }
}
