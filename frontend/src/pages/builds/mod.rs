//! Builds: the newest builds of every app or of one (`/builds?app=NAME`), updated live, and one
//! build's page (`/builds/:id`) with its followed log.

mod detail;

pub use detail::BuildPage;

use leptos::prelude::*;

use crate::builds::{AppFilter, BuildFeed, BuildTable, Catalog, app_from_query};

#[component]
pub fn BuildsPage() -> impl IntoView {
    let catalog = Catalog::follow();
    let app = app_from_query();
    let feed = BuildFeed::follow(app.into());

    view! {
        <section class="page" data-test="builds">
            <h1>"Builds"</h1>
            <div class="card">
                <div class="filters">
                    <AppFilter id="builds-app" path="/builds" catalog=catalog app=app />
                    <p class="muted">
                        {format!("The newest {} builds; new ones appear as they start.", crate::builds::feed::LIMIT)}
                    </p>
                </div>
            </div>
            {move || feed.error().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
            <div class="card">
                <BuildTable builds=feed.builds() loaded=Signal::derive(move || feed.loaded()) />
            </div>
        </section>
    }
}
