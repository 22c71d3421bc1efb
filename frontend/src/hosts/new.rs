//! `/hosts/new`: add a host. Only the address is required; on success, go to the host's page.

use crate::components::Show;
use crate::router::{use_navigate, use_query_map};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::api;
use crate::busy::spawn_busy;
use crate::components::{FormError, FormErrors, use_toasts};
use crate::fleet::use_fleet;
use crate::hosts::form::{HostFields, HostFormFields};
use crate::links::host_href;
use crate::session::use_session;

#[component]
pub fn NewHostPage() -> impl IntoView {
    crate::route::title(|| "Add a host".to_string());
    let session = use_session();
    view! {
        <section class="page" data-test="host-new">
            <p>
                <a href="/hosts">"← Hosts"</a>
            </p>
            <h1>"Add host"</h1>
            <Show
                when=move || session.can_deploy()
                fallback=|| {
                    view! {
                        <div class="card notice" data-test="forbidden">
                            <p>"Only deployers and admins can add hosts."</p>
                        </div>
                    }
                }
            >
                <NewHostForm />
            </Show>
        </section>
    }
}

#[component]
fn NewHostForm() -> impl IntoView {
    let store = use_fleet();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let query = use_query_map();
    let fields = HostFields::new();
    if let Some(squad) = query.with_untracked(|q| q.get("squad")) {
        fields.set_squad(squad);
    }
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let Some(checked) = fields.check(&errors, false) else {
            return;
        };
        let request = checked.into_new_host();
        let navigate = navigate.clone();
        spawn_busy(busy, async move {
            match api::fleet::create_host(&request).await {
                Ok(host) => {
                    let name = host.settings.name.clone();
                    store.put_host(host);
                    toasts.success(format!("Host {name} added."));
                    navigate(&host_href(&name), Default::default());
                }
                Err(e) => {
                    errors.set_api(&e);
                    fields.reveal_errors(&errors);
                }
            }
        });
    };

    view! {
        <div class="card">
            <form class="form host-form" on:submit=crate::ev::submit(submit) novalidate=true>
                <FormError errors=errors />
                <HostFormFields fields=fields errors=errors disabled=busy />
                <button
                    type="submit"
                    class="btn btn-primary"
                    id="host-submit"
                    disabled=move || busy.get()
                >
                    {crate::components::flag_text(busy, "Adding…", "Add host")}
                </button>
            </form>
        </div>
    }
}
