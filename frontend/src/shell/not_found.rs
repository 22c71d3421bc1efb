//! The page for a path the UI does not know.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

#[component]
pub fn NotFound() -> impl IntoView {
    crate::route::title(|| "Page not found".to_string());
    let location = use_location();
    view! {
        <section class="page" data-test="not-found">
            <h1>"Page not found"</h1>
            <div class="card notice">
                <p>
                    "There is no page at " <code>{move || location.pathname.get()}</code> "."
                </p>
                <p>
                    <A href="/">"Go to the dashboard"</A>
                </p>
            </div>
        </section>
    }
}
