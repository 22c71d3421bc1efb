//! Releases: the newest releases of every app or of one (`/releases?app=NAME`) with the
//! "new release" form ([`new`]), one release's page (`/releases/:id`) with its diff against
//! another, the live list ([`feed`]), the release table, and how merged values and their layers
//! are written ([`values`]).

mod detail;
pub mod diff;
pub mod feed;
mod new;
pub mod table;
pub mod values;

pub use detail::ReleasePage;
pub use feed::ReleaseFeed;
pub use table::ReleaseTable;

use leptos::prelude::*;

use crate::apps::{AppFilter, Catalog, app_from_query};
use crate::ingredients::IngredientList;
use crate::session::use_session;

#[component]
pub fn ReleasesPage() -> impl IntoView {
    crate::route::title(|| "Releases".to_string());
    let session = use_session();
    let catalog = Catalog::follow();
    let ingredients = IngredientList::follow();
    let app = app_from_query();
    let feed = ReleaseFeed::follow(app.into());
    // Built once (the filter only picks its first app), so typing is never undone.
    let form = move || {
        session.can_deploy().then(|| {
            let first = app.get_untracked();
            view! { <new::NewReleaseForm catalog=catalog ingredients=ingredients app=first /> }
        })
    };

    view! {
        <section class="page" data-test="releases">
            <h1>"Releases"</h1>
            <p class="muted">
                "A release is a build plus its configuration: the build's env, then ingredients in "
                "order, then its own values. Identical ones are the same release."
            </p>
            {move || catalog.error().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
            <div class="card">
                <div class="filters">
                    <AppFilter id="releases-app" catalog=catalog app=app />
                    <p class="muted">
                        {format!("The newest {} releases.", crate::releases::feed::LIMIT)}
                    </p>
                </div>
            </div>
            {move || feed.error().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
            <div class="card">
                <ReleaseTable releases=feed.releases() loaded=Signal::derive(move || feed.loaded()) />
            </div>
            {form}
        </section>
    }
}
