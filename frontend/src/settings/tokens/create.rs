//! Making an API token: a name and an expiry; the secret is shown once, with a copy button.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::api::{CreatedToken, NewToken};
use vr_app::validate;

use crate::api;
use crate::busy::spawn_busy;
use crate::components::{CopyButton, FieldSpec, FormError, FormErrors};

#[component]
pub fn CreateToken(
    /// Runs after the server made a token.
    on_created: Callback<()>,
) -> impl IntoView {
    // Creating.
    let name = RwSignal::new(String::new());
    // Days as the select holds them; empty: never.
    let expiry = RwSignal::new("90".to_string());
    let errors = FormErrors::new();
    let creating = RwSignal::new(false);
    let created = RwSignal::new(None::<CreatedToken>);
    let create = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let request = NewToken {
            name: name.get_untracked().trim().to_string(),
            expires_in_days: expiry.get_untracked().parse().ok(),
        };
        if let Err(invalid) = validate::label("name", &request.name) {
            errors.set_invalid(&invalid);
            return;
        }
        spawn_busy(creating, async move {
            match api::create_token(&request).await {
                Ok(token) => {
                    name.set(String::new());
                    created.set(Some(token));
                    on_created.run(());
                }
                Err(e) => errors.set_api(&e),
            }
        });
    };
    let secret = Signal::derive(move || {
        created
            .with(|c| c.as_ref().map(|c| c.secret.clone()))
            .unwrap_or_default()
    });

    view! {
            <form class="form form-inline" on:submit=crate::ev::submit(create) novalidate=true>
                <FormError errors=errors />
                {FieldSpec::new("New token name", "token-name", "name", name, errors).autocomplete("off").placeholder("e.g. cli on laptop").view()}
                <div class="field">
                    <label for="token-expiry">"Expires"</label>
                    <select
                        id="token-expiry"
                        prop:value=move || expiry.get()
                        on:change=crate::ev::change(move |ev| expiry.set(event_target_value(&ev)))
                    >
                        <option value="30">"in 30 days"</option>
                        <option value="90">"in 90 days"</option>
                        <option value="365">"in a year"</option>
                        <option value="">"never"</option>
                    </select>
                </div>
                <button
                    type="submit"
                    class="btn btn-primary"
                    id="token-create"
                    disabled=move || creating.get()
                >
                    "Create token"
                </button>
            </form>

            {move || {
                created
                    .get()
                    .map(|c| {
                        view! {
                            <div class="secret-box" data-test="token-secret" role="alert">
                                <p>
                                    <strong>"Copy the secret of “" {c.token.name} "” now."</strong>
                                    " It is shown only this once."
                                </p>
                                <div class="secret-row">
                                    <code id="token-secret" class="mono secret">
                                        {c.secret}
                                    </code>
                                    <CopyButton text=secret id="copy-token-secret" />
                                    <button
                                        type="button"
                                        class="btn btn-small"
                                        id="token-secret-done"
                                        on:click=crate::ev::click(move |_| created.set(None))
                                    >
                                        "Done"
                                    </button>
                                </div>
                            </div>
                        }
                    })
            }}
    }
}
