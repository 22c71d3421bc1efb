//! The "new user" form of the Users page.

use crate::components::CollectAny;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::Role;
use vr_app::api::{NewUser, User};
use vr_app::validate;

use crate::api;
use crate::busy::spawn_submit;
use crate::components::{FieldSpec, FormError, FormErrors, password_hint, use_toasts};

#[component]
pub fn CreateUser(#[prop(into)] on_created: Callback<User>) -> impl IntoView {
    let toasts = use_toasts();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer);
    let errors = FormErrors::new();
    errors.register("role");
    let busy = RwSignal::new(false);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let request = NewUser {
            username: username.get_untracked().trim().to_string(),
            password: password.get_untracked(),
            role: role.get_untracked(),
        };
        if let Err(invalid) = validate::username("username", &request.username) {
            errors.set_invalid(&invalid);
        }
        if let Err(invalid) = validate::password("password", &request.password) {
            errors.set_invalid(&invalid);
        }
        if errors.any() {
            return;
        }
        spawn_submit(busy, errors, api::create_user(&request), move |user| {
            toasts.success(format!("User {} created as {}.", user.username, user.role));
            username.set(String::new());
            password.set(String::new());
            role.set(Role::Viewer);
            on_created.run(user);
        });
    };

    view! {
        <div class="card" id="create-user-section">
            <h2>"New user"</h2>
            <form class="form form-inline" on:submit=crate::ev::submit(submit) novalidate=true>
                <FormError errors=errors />
                {FieldSpec::new("Username", "new-user-username", "username", username, errors).autocomplete("off").view()}
                {FieldSpec::new("Initial password", "new-user-password", "password", password, errors).kind("password").autocomplete("new-password").hint(format!("{} Share it privately.", password_hint())).view()}
                <div class="field" class:field-invalid=move || errors.field("role").is_some()>
                    <label for="new-user-role">"Role"</label>
                    <select
                        id="new-user-role"
                        on:change=crate::ev::change(move |ev| {
                            if let Ok(r) = event_target_value(&ev).parse::<Role>() {
                                role.set(r);
                            }
                        })
                        prop:value=move || role.get().as_str()
                    >
                        {Role::ALL
                            .iter()
                            .map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> })
                            .collect_any()}
                    </select>
                    {move || errors.field("role").map(|m| view! { <p class="field-error">{m}</p> })}
                </div>
                <button
                    type="submit"
                    class="btn btn-primary"
                    id="new-user-submit"
                    disabled=move || busy.get()
                >
                    "Create user"
                </button>
            </form>
        </div>
    }
}
