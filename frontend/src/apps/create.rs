//! The "new app" form of the Apps page.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::build::NewApp;
use vr_app::validate;

use super::Catalog;
use super::fields::{BuildpackSelect, chosen};
use crate::api;
use crate::busy::spawn_submit;
use crate::components::{FieldSpec, FormError, FormErrors, use_toasts};

#[component]
pub fn CreateApp(catalog: Catalog) -> impl IntoView {
    let toasts = use_toasts();
    let name = RwSignal::new(String::new());
    let repo = RwSignal::new(String::new());
    let buildpack = RwSignal::new(String::new());
    let notes = RwSignal::new(String::new());
    let stack = RwSignal::new(String::new());
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
            stack: chosen(&stack.get_untracked()),
        };
        let checks = [
            validate::app_name("name", &request.name),
            validate::git_url("repo_url", &request.repo_url),
            validate::label_or_empty("notes", &request.notes),
        ];
        if errors.show_invalid(&checks) {
            return;
        }
        spawn_submit(busy, errors, api::build::create_app(&request), move |app| {
            toasts.success(format!("App {} created.", app.name));
            catalog.put_app(app);
            name.set(String::new());
            repo.set(String::new());
            buildpack.set(String::new());
            notes.set(String::new());
            stack.set(String::new());
        });
    };

    view! {
        <div class="card" id="create-app-section">
            <h2>"New app"</h2>
            <form class="form form-inline" on:submit=crate::ev::submit(submit) novalidate=true>
                <FormError errors=errors />
                {FieldSpec::new("Name", "app-name", "name", name, errors).autocomplete("off").placeholder("e.g. shop_api").hint("Lowercase letters, digits and '_'.").view()}
                {FieldSpec::new("Repository", "app-repo", "repo_url", repo, errors).autocomplete("off").placeholder("git@github.com:org/repo.git").view()}
                <BuildpackSelect id="app-buildpack" value=buildpack errors=errors catalog=catalog />
                {FieldSpec::new("Notes", "app-notes", "notes", notes, errors).autocomplete("off").view()}
                {FieldSpec::new("Stack", "app-stack", "stack", stack, errors).autocomplete("off").placeholder("(the hosts' own OS)").hint("An OS image from the Stacks page: builds compile in it, sandboxed procs run on it.").view()}
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
