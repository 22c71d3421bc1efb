//! The centred card that the sign-in and setup pages share.

use leptos::prelude::*;

#[component]
pub fn AuthFrame(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="auth-page">
            <div class="auth-card card">
                <div class="auth-brand">"vr"</div>
                <h1>{title}</h1>
                {children()}
            </div>
        </div>
    }
}
