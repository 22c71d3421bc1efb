//! Sign-in page: username and password; returns to the page the visitor wanted (`?next=`).

use crate::router::NavigateOptions;
use crate::router::{use_navigate, use_query_map};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::api::LoginRequest;

use super::frame::AuthFrame;
use crate::api;
use crate::busy::spawn_busy;
use crate::components::{FieldSpec, FormError, FormErrors};
use crate::session::{AuthState, safe_next, use_session};

#[component]
pub fn LoginPage() -> impl IntoView {
    crate::route::title(|| "Sign in".to_string());
    let session = use_session();
    let navigate = use_navigate();
    let query = use_query_map();

    // Leave as soon as there is a session (after signing in, or when one already existed),
    // and go to setup while the server has no user yet.
    crate::effects::effect(move || {
        let replace = NavigateOptions {
            replace: true,
            ..Default::default()
        };
        match session.state() {
            AuthState::SignedIn(_) => {
                let next = safe_next(query.with_untracked(|q| q.get("next")));
                navigate(&next, replace);
            }
            AuthState::SignedOut {
                setup_needed: true, ..
            } => navigate("/setup", replace),
            _ => {}
        }
    });

    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let request = LoginRequest {
            username: username.get_untracked().trim().to_string(),
            password: password.get_untracked(),
        };
        if request.username.is_empty() {
            errors.set_field("username", "Enter your username.");
        }
        if request.password.is_empty() {
            errors.set_field("password", "Enter your password.");
        }
        if errors.any() {
            return;
        }
        spawn_busy(busy, async move {
            match api::login(&request).await {
                Ok(me) => session.sign_in(me),
                Err(e) => {
                    errors.set_api(&e);
                    password.set(String::new());
                }
            }
        });
    };

    view! {
        <AuthFrame title="Sign in">
            <form class="form" on:submit=crate::ev::submit(submit) novalidate=true data-test="login-form">
                <FormError errors=errors />
                {FieldSpec::new("Username", "username", "username", username, errors).autocomplete("username").autofocus().required().view()}
                {FieldSpec::new("Password", "password", "password", password, errors).kind("password").autocomplete("current-password").required().view()}
                <button
                    id="login-submit"
                    type="submit"
                    class="btn btn-primary btn-block"
                    disabled=move || busy.get()
                >
                    {crate::components::flag_text(busy, "Signing in…", "Sign in")}
                </button>
            </form>
        </AuthFrame>
    }
}
