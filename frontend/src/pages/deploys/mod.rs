//! Deploys: the form that deploys one proc (`/deploy`, `?release=ID` preselects), the newest
//! deploys updated live (`/deploys`), and one deploy's page with its steps (`/deploys/:id`).

mod chosen;
mod detail;
mod form;
mod selects;
mod steps;

pub use detail::DeployPage;
pub use form::NewDeployPage;

use leptos::prelude::*;

use crate::deploys::{DeployFeed, DeployTable};
use crate::session::use_session;

#[component]
pub fn DeploysPage() -> impl IntoView {
    let session = use_session();
    let feed = DeployFeed::follow();
    view! {
        <section class="page" data-test="deploys">
            <div class="title-row">
                <h1>"Deploys"</h1>
                {move || {
                    session
                        .can_deploy()
                        .then(|| {
                            view! {
                                <a class="btn btn-primary" href="/deploy" id="deploys-new">
                                    "Deploy…"
                                </a>
                            }
                        })
                }}
            </div>
            <p class="muted">
                {format!(
                    "The newest {} deploys; new ones appear as they start.",
                    crate::deploys::feed::LIMIT,
                )}
            </p>
            {move || feed.error().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
            <div class="card">
                <DeployTable deploys=feed.deploys() loaded=Signal::derive(move || feed.loaded()) />
            </div>
        </section>
    }
}
