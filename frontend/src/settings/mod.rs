//! Settings: the server's SSH key for hosts, your password, your API tokens.

mod password;
mod ssh_key;
mod tokens;

use leptos::prelude::*;

#[component]
pub fn SettingsPage() -> impl IntoView {
    crate::route::title(|| "Settings".to_string());
    view! {
        <section class="page" data-test="settings">
            <h1>"Settings"</h1>
            <ssh_key::SshKeySection />
            <password::PasswordSection />
            <tokens::TokensSection />
        </section>
    }
}
