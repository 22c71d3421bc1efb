//! Dashboard: host health at a glance, every proc grouped app → swarm with counts per state,
//! a filter and bulk actions, and the latest activity.

mod recent;
mod strip;

use leptos::prelude::*;

use crate::fleet::{FleetProcs, use_fleet};

#[component]
pub fn DashboardPage() -> impl IntoView {
    crate::route::title(|| "Dashboard".to_string());
    let store = use_fleet();
    let all = Memo::new(move |_| store.with(|f| f.procs.clone()));
    let swarms = crate::live::LiveData::follow(
        Vec::new(),
        crate::api::swarm::swarms,
        crate::swarms::refetch_on_swarm_news,
    );
    provide_context(crate::fleet::table::SwarmsShown(Signal::derive(
        move || swarms.get(),
    )));
    view! {
        <section class="page" data-test="dashboard">
            <h1>"Dashboard"</h1>
            {move || store.error().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
            <div class="card">
                <div class="card-head">
                    <h2>"Hosts"</h2>
                    <a href="/hosts">"All hosts →"</a>
                </div>
                <strip::HostStrip />
            </div>
            <div class="card">
                <h2>"Procs"</h2>
                <FleetProcs scope=all empty="No procs on any host yet." />
            </div>
            <recent::RecentActivity />
        </section>
    }
}
