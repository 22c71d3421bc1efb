//! The "reset password" dialog of the Users page.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::api::{User, UserPatch};
use vr_app::validate;

use crate::api;
use crate::busy::spawn_busy;
use crate::components::{FieldSpec, FormError, FormErrors, Modal, password_hint, use_toasts};

/// Open while `user` is set; closing clears it.
#[component]
pub fn ResetPassword(user: RwSignal<Option<User>>) -> impl IntoView {
    let toasts = use_toasts();
    let password = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    let close = move || {
        user.set(None);
        password.set(String::new());
        again.set(String::new());
        errors.clear();
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(target) = user.get_untracked() else {
            return;
        };
        errors.clear();
        let new_password = password.get_untracked();
        if let Err(invalid) = validate::password("password", &new_password) {
            errors.set_invalid(&invalid);
        } else if new_password != again.get_untracked() {
            errors.set_field("password2", "The two passwords differ.");
        }
        if errors.any() {
            return;
        }
        spawn_busy(busy, async move {
            let patch = UserPatch {
                password: Some(new_password),
                ..Default::default()
            };
            match api::update_user(target.id, &patch).await {
                Ok(_) => {
                    toasts.success(format!("Password of {} reset.", target.username));
                    close();
                }
                Err(e) => errors.set_api(&e),
            }
        });
    };

    let title = Signal::derive(move || {
        user.with(|u| {
            u.as_ref()
                .map(|u| format!("Reset password of {}", u.username))
                .unwrap_or_default()
        })
    });
    view! {
        <Modal
            open=Signal::derive(move || user.with(Option::is_some))
            title=title
            on_close=move |()| close()
            test_id="reset-password-dialog"
        >
            <form class="form" on:submit=crate::ev::submit(submit) novalidate=true>
                <FormError errors=errors />
                {FieldSpec::new("New password", "reset-password", "password", password, errors).kind("password").autocomplete("new-password").hint(password_hint()).view()}
                {FieldSpec::new("Confirm new password", "reset-password2", "password2", again, errors).kind("password").autocomplete("new-password").view()}
                <div class="modal-actions">
                    <button type="button" class="btn" on:click=crate::ev::click(move |_| close())>
                        "Cancel"
                    </button>
                    <button
                        type="submit"
                        class="btn btn-primary"
                        id="reset-submit"
                        disabled=move || busy.get()
                    >
                        "Reset password"
                    </button>
                </div>
            </form>
        </Modal>
    }
}
