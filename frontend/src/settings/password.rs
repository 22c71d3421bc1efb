//! Change your own password.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::api::ChangePassword;
use vr_app::validate;

use crate::api;
use crate::busy::spawn_busy;
use crate::components::{Check, FieldSpec, FormError, FormErrors, password_hint, use_toasts};
use crate::session::use_session;

#[component]
pub fn PasswordSection() -> impl IntoView {
    let toasts = use_toasts();
    let session = use_session();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let revoke_tokens = RwSignal::new(false);
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let request = ChangePassword {
            current_password: current.get_untracked(),
            new_password: new.get_untracked(),
            revoke_tokens: revoke_tokens.get_untracked(),
        };
        if request.current_password.is_empty() {
            errors.set_field("current_password", "Enter your current password.");
        }
        if let Err(invalid) = validate::password("new_password", &request.new_password) {
            errors.set_invalid(&invalid);
        } else if request.new_password != again.get_untracked() {
            errors.set_field("new_password2", "The two passwords differ.");
        }
        if errors.any() {
            return;
        }
        let request_revoked = request.revoke_tokens;
        spawn_busy(busy, async move {
            match api::change_password(&request).await {
                Ok(()) => {
                    toasts.success(if request_revoked {
                        "Password changed; your other sessions ended and your API tokens were revoked."
                    } else {
                        "Password changed; your other sessions ended."
                    });
                    revoke_tokens.set(false);
                    current.set(String::new());
                    new.set(String::new());
                    again.set(String::new());
                }
                Err(e) => errors.set_api(&e),
            }
        });
    };

    view! {
        <div class="card" id="password-section">
            <h2>"Change password"</h2>
            <form class="form form-narrow" on:submit=crate::ev::submit(submit) novalidate=true>
                // Lets password managers tell whose password this is.
                <input
                    type="text"
                    name="username"
                    autocomplete="username"
                    hidden=true
                    readonly=true
                    prop:value=move || session.username()
                />
                <FormError errors=errors />
                {FieldSpec::new("Current password", "current-password", "current_password", current, errors).kind("password").autocomplete("current-password").view()}
                {FieldSpec::new("New password", "new-password", "new_password", new, errors).kind("password").autocomplete("new-password").hint(password_hint()).view()}
                {FieldSpec::new("Confirm new password", "new-password2", "new_password2", again, errors).kind("password").autocomplete("new-password").view()}
                <Check
                    label="Also revoke all my API tokens"
                    id="password-revoke-tokens"
                    value=revoke_tokens
                    hint="If the old password may be known, a token made with it should go too. Other sessions end either way."
                    disabled=false
                />
                <button
                    type="submit"
                    class="btn btn-primary"
                    id="password-submit"
                    disabled=move || busy.get()
                >
                    "Change password"
                </button>
            </form>
        </div>
    }
}
