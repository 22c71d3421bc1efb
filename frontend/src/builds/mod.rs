//! Builds: the newest builds of every app or of one (`/builds?app=NAME`), updated live
//! ([`feed`]), how builds are drawn ([`table`]), one build's page (`/builds/:id`) and its
//! followed log ([`log`]).

mod detail;
pub mod feed;
pub mod log;
pub mod table;

pub use detail::BuildPage;
pub use feed::BuildFeed;
pub use log::BuildLogView;
pub use table::{BuildStatusBadge, BuildTable, buildpack_name, short_commit};

use leptos::prelude::*;

use crate::apps::{AppFilter, Catalog, app_from_query};

#[component]
pub fn BuildsPage() -> impl IntoView {
    crate::route::title(|| "Builds".to_string());
    let catalog = Catalog::follow();
    let app = app_from_query();
    let feed = BuildFeed::follow(app.into());

    view! {
        <section class="page" data-test="builds">
            <h1>"Builds"</h1>
            <div class="card">
                <div class="filters">
                    <AppFilter id="builds-app" catalog=catalog app=app />
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
