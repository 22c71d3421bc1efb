//! The "new squad" form of the Squads page.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::fleet::NewSquad;
use vr_app::validate;

use crate::api;
use crate::busy::spawn_submit;
use crate::components::{FieldSpec, FormError, FormErrors, use_toasts};
use crate::fleet::use_fleet;

#[component]
pub fn CreateSquad() -> impl IntoView {
    let store = use_fleet();
    let toasts = use_toasts();
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let request = NewSquad {
            name: name.get_untracked().trim().to_string(),
            description: description.get_untracked().trim().to_string(),
        };
        if let Err(invalid) = validate::squad_name("name", &request.name) {
            errors.set_invalid(&invalid);
            return;
        }
        spawn_submit(
            busy,
            errors,
            api::fleet::create_squad(&request),
            move |squad| {
                toasts.success(format!("Squad {} created.", squad.name));
                store.put_squad(squad, None);
                name.set(String::new());
                description.set(String::new());
            },
        );
    };

    view! {
        <div class="card" id="create-squad-section">
            <h2>"New squad"</h2>
            <form class="form form-inline" on:submit=crate::ev::submit(submit) novalidate=true>
                <FormError errors=errors />
                {FieldSpec::new("Name", "squad-name", "name", name, errors).autocomplete("off").placeholder("e.g. web-eu").view()}
                {FieldSpec::new("Description", "squad-description", "description", description, errors).autocomplete("off").view()}
                <button
                    type="submit"
                    class="btn btn-primary"
                    id="squad-create"
                    disabled=move || busy.get()
                >
                    "Create squad"
                </button>
            </form>
        </div>
    }
}
