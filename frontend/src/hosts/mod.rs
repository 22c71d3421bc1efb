//! Hosts: the list (`/hosts`), adding one (`/hosts/new`) and one host's page (`/hosts/:name`).

mod detail;
mod edit;
mod form;
mod key;
mod new;
mod quick;
mod test;

pub use detail::HostPage;
pub use new::NewHostPage;

use leptos::prelude::*;

use crate::components::{EmptyRow, loading_or};
use vr_app::fleet::Host;
use vr_app::time::{format_age, format_utc};

use crate::clock::use_clock;
use crate::fleet::{HealthBadge, use_fleet};
use crate::links::{host_href, squad_href};
use crate::session::use_session;

#[component]
pub fn HostsPage() -> impl IntoView {
    crate::route::title(|| "Hosts".to_string());
    let store = use_fleet();
    let session = use_session();
    let hosts = Memo::new(move |_| {
        store.with(|f| {
            let mut list: Vec<(Host, usize)> = f
                .hosts
                .iter()
                .map(|h| {
                    let procs = f.procs.iter().filter(|p| p.host == h.settings.name).count();
                    (h.clone(), procs)
                })
                .collect();
            list.sort_by(|a, b| a.0.settings.name.cmp(&b.0.settings.name));
            list
        })
    });
    let rows = move || {
        let list = hosts.get();
        if list.is_empty() {
            let text = loading_or(store.loaded(), "No hosts yet.");
            return view! { <EmptyRow colspan=8 text=text /> }.into_any();
        }
        list.into_iter()
            .map(|(h, procs)| view! { <HostRow host=h procs=procs /> })
            .collect_view()
            .into_any()
    };
    view! {
        <section class="page" data-test="hosts">
            <div class="card-head">
                <h1>"Hosts"</h1>
                <Show when=move || session.can_deploy()>
                    <a href="/hosts/new" class="btn btn-primary" id="host-add">
                        "Add host"
                    </a>
                </Show>
            </div>
            {move || store.error().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
            <div class="card">
                <div class="table-scroll">
                    <table data-test="hosts-table">
                        <thead>
                            <tr>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Address"</th>
                                <th scope="col">"User"</th>
                                <th scope="col">"Squad"</th>
                                <th scope="col">"Health"</th>
                                <th scope="col">"Last ok"</th>
                                <th scope="col" class="num">"Procs"</th>
                                <th scope="col">"Flags"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            </div>
        </section>
    }
}

#[component]
fn HostRow(host: Host, procs: usize) -> impl IntoView {
    let clock = use_clock();
    let s = &host.settings;
    let status = host.status.clone();
    let last_ok = status.last_ok_at;
    let error = status.error.clone();
    let health = status.health.as_str();
    let squad = s.squad.clone().map(|q| {
        let href = squad_href(&q);
        view! { <a href=href>{q}</a> }
    });
    let flags = [
        (!s.active).then_some("inactive"),
        s.builder.then_some("builder"),
    ]
    .into_iter()
    .flatten()
    .map(|f| view! { <span class="badge badge-stopped">{f}</span> " " })
    .collect_view();
    view! {
        <tr data-test="host-row" data-name=s.name.clone() data-health=health>
            <td>
                <a href=host_href(&s.name)>{s.name.clone()}</a>
            </td>
            <td class="mono">{format!("{}:{}", s.address, s.port)}</td>
            <td>{s.user.clone()}</td>
            <td class="nowrap">{squad}</td>
            <td>
                <HealthBadge status=status />
                {error.map(|e| view! { <span class="stale" data-test="host-error">{e}</span> })}
            </td>
            <td class="nowrap" title=last_ok.map(format_utc)>
                {move || last_ok.map_or_else(|| "never".to_string(), |t| format_age(clock.now(), t))}
            </td>
            <td class="num">{procs}</td>
            <td>{flags}</td>
        </tr>
    }
}
