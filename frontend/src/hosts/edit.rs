//! The edit form of a host page: the same inputs as "new host", prefilled; saving sends only
//! the fields changed since the form was filled, so a concurrent change to another field by
//! someone else is not undone.

use crate::router::use_navigate;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::fleet::{Host, HostPatch, HostSettings};

use crate::api;
use crate::busy::spawn_busy;
use crate::components::{FormError, FormErrors, use_toasts};
use crate::fleet::use_fleet;
use crate::hosts::form::{HostFields, HostFormFields};
use crate::links::host_href;

#[component]
pub fn HostEditForm(host: Host) -> impl IntoView {
    let store = use_fleet();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let fields = HostFields::new();
    fields.fill(&host.settings);
    let original = StoredValue::new(host.settings.clone());
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let Some(checked) = fields.check(&errors, true) else {
            return;
        };
        let old: HostSettings = original.get_value();
        let patch = checked.patch_from(&old);
        if patch == HostPatch::default() {
            toasts.success("Nothing to save: no field changed.");
            return;
        }
        let navigate = navigate.clone();
        spawn_busy(busy, async move {
            match api::fleet::update_host(&old.name, &patch).await {
                Ok(updated) => {
                    let new_name = updated.settings.name.clone();
                    original.set_value(updated.settings.clone());
                    fields.fill(&updated.settings);
                    store.put_host(updated);
                    toasts.success(format!("Host {new_name} saved."));
                    if new_name != old.name {
                        navigate(&host_href(&new_name), Default::default());
                    }
                }
                Err(e) => {
                    errors.set_api(&e);
                    fields.reveal_errors(&errors);
                }
            }
        });
    };

    view! {
        <div class="card" data-test="host-edit">
            <h2>"Settings"</h2>
            <form class="form host-form" on:submit=crate::ev::submit(submit) novalidate=true>
                <FormError errors=errors />
                <HostFormFields fields=fields errors=errors disabled=busy />
                <button
                    type="submit"
                    class="btn btn-primary"
                    id="host-save"
                    disabled=move || busy.get()
                >
                    {crate::components::flag_text(busy, "Saving…", "Save")}
                </button>
            </form>
        </div>
    }
}
