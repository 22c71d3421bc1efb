//! Deploys: the form that deploys one proc (`/deploy`, `?release=ID` preselects), the newest
//! deploys updated live (`/deploys`, [`feed`]), one deploy's page with its steps
//! (`/deploys/:id`), the status badge and the one deploy table ([`table`]), and a proc's
//! latest uptest results ([`uptests`]).

mod chosen;
mod detail;
pub mod feed;
mod form;
mod selects;
pub mod table;
pub mod uptests;

pub use detail::DeployPage;
pub use feed::DeployFeed;
pub use form::NewDeployPage;
pub use table::{DeployStatusBadge, DeployTable};
pub use uptests::UptestResults;

use leptos::prelude::*;
use vr_app::deploy::Deployment;

use crate::session::use_session;
use vr_app::time::{run_length, took};

/// How long the deploy ran: finished − created, or created → now while it is still running.
pub fn duration(deploy: &Deployment, now_ms: i64) -> String {
    run_length(deploy.created_at, deploy.finished_at, now_ms)
}

/// How long a step or an uptest ran: `850 ms`, `2.41 s`, `1m 12s`.
pub fn run_time(ms: u64) -> String {
    took(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// `0` means the proc binds no port.
pub fn port_text(port: u16) -> String {
    if port == 0 {
        "none".to_string()
    } else {
        port.to_string()
    }
}

#[component]
pub fn DeploysPage() -> impl IntoView {
    crate::route::title(|| "Deploys".to_string());
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
