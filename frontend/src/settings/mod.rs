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
            <div class="card" id="api-section">
                <h2>"HTTP API"</h2>
                <p>
                    "Scripts use the JSON API under /api/ with an API token as bearer. Every route, its request and answer, and the role it needs are in the "
                    <a id="openapi-link" href=vr_app::api::paths::OPENAPI>"OpenAPI document"</a>
                    ". Velociraptor's client and scripts work against /api/v1/ (see the README)."
                </p>
            </div>
        </section>
    }
}
