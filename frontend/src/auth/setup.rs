//! First-run setup: create the first admin with the one-time token the server printed.
//!
//! The server logs a link `http://HOST/setup#token=…`; the token is read from the URL fragment
//! (so it never reaches a server log) and can also be pasted.

use crate::components::Show;
use crate::router::NavigateOptions;
use crate::router::use_navigate;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::api::SetupRequest;
use vr_app::validate;

use super::frame::AuthFrame;
use crate::api;
use crate::busy::spawn_submit;
use crate::components::{FieldSpec, FormError, FormErrors, password_hint, use_toasts};
use crate::session::{AuthState, use_session};

/// The `token` parameter of a fragment such as `#token=abc` (other parameters are ignored).
fn token_from_fragment(fragment: &str) -> Option<String> {
    fragment
        .trim_start_matches('#')
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(|t| {
            js_sys::decode_uri_component(t)
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_else(|| t.to_string())
        })
        .filter(|t| !t.is_empty())
}

/// The token in the current URL's fragment, if any.
fn fragment_token() -> Option<String> {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .and_then(|h| token_from_fragment(&h))
}

#[component]
pub fn SetupPage() -> impl IntoView {
    crate::route::title(|| "Set up".to_string());
    let session = use_session();
    let toasts = use_toasts();
    let navigate = use_navigate();

    crate::effects::effect(move || {
        if let AuthState::SignedIn(_) = session.state() {
            navigate(
                "/",
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });

    let token = RwSignal::new(fragment_token().unwrap_or_default());
    // Opening the setup link while this page is already shown only changes the fragment.
    let on_hash = window_event_listener(leptos::ev::hashchange, move |_| {
        if let Some(t) = fragment_token() {
            token.set(t);
        }
    });
    on_cleanup(move || on_hash.remove());
    let username = RwSignal::new("admin".to_string());
    let password = RwSignal::new(String::new());
    let password2 = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let request = SetupRequest {
            token: token.get_untracked().trim().to_string(),
            username: username.get_untracked().trim().to_string(),
            password: password.get_untracked(),
        };
        if request.token.is_empty() {
            errors.set_field("token", "Paste the setup token from the server's log.");
        }
        if let Err(invalid) = validate::username("username", &request.username) {
            errors.set_invalid(&invalid);
        }
        if let Err(invalid) = validate::password("password", &request.password) {
            errors.set_invalid(&invalid);
        } else if request.password != password2.get_untracked() {
            errors.set_field("password2", "The two passwords differ.");
        }
        if errors.any() {
            return;
        }
        spawn_submit(busy, errors, api::setup(&request), move |me| {
            toasts.success(format!("Welcome, {}. vr is ready.", me.user.username));
            session.sign_in(me);
        });
    };

    let already_done = move || {
        matches!(
            session.state(),
            AuthState::SignedOut {
                setup_needed: false,
                ..
            }
        )
    };
    let form = move || {
        view! {
            <form class="form" on:submit=crate::ev::submit(submit) novalidate=true data-test="setup-form">
                <p class="muted">
                    "Create the first administrator. The one-time setup token is in the server's log."
                </p>
                <FormError errors=errors />
                {FieldSpec::new("Setup token", "setup-token", "token", token, errors).autocomplete("off").required().view()}
                {FieldSpec::new("Admin username", "setup-username", "username", username, errors).autocomplete("username").hint("Lowercase letters, digits, '_', '.' or '-'.").required().view()}
                {FieldSpec::new("Password", "setup-password", "password", password, errors).kind("password").autocomplete("new-password").hint(password_hint()).required().view()}
                {FieldSpec::new("Confirm password", "setup-password2", "password2", password2, errors).kind("password").autocomplete("new-password").required().view()}
                <button
                    id="setup-submit"
                    type="submit"
                    class="btn btn-primary btn-block"
                    disabled=move || busy.get()
                >
                    {crate::components::flag_text(busy, "Creating…", "Create admin and sign in")}
                </button>
            </form>
        }
    };

    view! {
        <AuthFrame title="Set up vr">
            <Show
                when=already_done
                fallback=form
            >
                <div class="notice" data-test="setup-done">
                    <p>"This server is already set up."</p>
                    <p>
                        <a href="/login">"Sign in"</a>
                    </p>
                </div>
            </Show>
        </AuthFrame>
    }
}
