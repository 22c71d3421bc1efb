//! Placeholder for a section that a later release fills in. It shows no made-up data.

use leptos::prelude::*;

#[component]
pub fn NotBuilt(title: &'static str) -> impl IntoView {
    crate::route::title(move || title.to_string());
    view! {
        <section class="page" data-test="not-built">
            <h1>{title}</h1>
            <div class="card notice">
                <p>"Not built yet — this capability arrives with a later release."</p>
            </div>
        </section>
    }
}
