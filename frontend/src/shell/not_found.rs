//! The page for a path the UI does not know.

use crate::router::use_location;
use leptos::prelude::*;

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
                    <a href="/">"Go to the dashboard"</a>
                </p>
            </div>
        </section>
    }
}
