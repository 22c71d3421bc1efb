//! Hosts: the list (`/hosts`, sortable, through the shared table), adding one (`/hosts/new`) and one host's page (`/hosts/:name`).

mod detail;
mod edit;
mod form;
mod key;
mod new;
mod quick;
mod test;

pub use detail::HostPage;
pub use new::NewHostPage;

use crate::components::CollectAny;
use crate::components::CollectVec;
use crate::components::Show;
use leptos::prelude::*;

use crate::components::{Column, DataTable, SortKey, int_key};
use vr_app::fleet::Host;
use vr_app::time::{format_age, format_utc};

use crate::clock::use_clock;
use crate::fleet::health::health_label;
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
                .collect_vec();
            vr_app::order::sort_by(&mut list, |a, b| a.0.settings.name.cmp(&b.0.settings.name));
            list
        })
    });
    let clock = use_clock();
    let columns = vec![
        Column::new("Name", |(h, _): &(Host, usize)| h.settings.name.clone())
            .cell(|(h, _): &(Host, usize)| {
                view! { <a href=host_href(&h.settings.name)>{h.settings.name.clone()}</a> }
            }),
        Column::new("Address", |(h, _): &(Host, usize)| {
            format!("{}:{}", h.settings.address, h.settings.port)
        })
        .class("mono"),
        Column::new("User", |(h, _): &(Host, usize)| h.settings.user.clone()),
        Column::new("Squad", |(h, _): &(Host, usize)| {
            h.settings.squad.clone().unwrap_or_default()
        })
        .cell(|(h, _): &(Host, usize)| {
            h.settings
                .squad
                .clone()
                .map(|q| {
                    let href = squad_href(&q);
                    view! { <a href=href>{q}</a> }
                })
        })
        .class("nowrap"),
        Column::new("Health", |(h, _): &(Host, usize)| {
            health_label(h.status.health).to_string()
        })
        .cell(|(h, _): &(Host, usize)| {
            let error = h.status.error.clone();
            view! {
                <HealthBadge status=h.status.clone() />
                {error.map(|e| view! { <span class="stale" data-test="host-error">{e}</span> })}
            }
        }),
        Column::new("Last ok", |(h, _): &(Host, usize)| {
            h.status.last_ok_at.map(format_utc).unwrap_or_default()
        })
        .sort_by(|(h, _): &(Host, usize)| int_key(h.status.last_ok_at))
        .cell(move |(h, _): &(Host, usize)| {
            let last_ok = h.status.last_ok_at;
            view! {
                <span title=last_ok.map(format_utc)>
                    {move || last_ok.map_or_else(|| "never".to_string(), |t| format_age(clock.now(), t))}
                </span>
            }
        })
        .class("nowrap"),
        Column::new("Procs", |(_, n): &(Host, usize)| n.to_string())
            .sort_by(|(_, n): &(Host, usize)| SortKey::Int(i64::try_from(*n).unwrap_or(i64::MAX)))
            .class("num"),
        Column::new("Flags", |(h, _): &(Host, usize)| {
            [
                (!h.settings.active).then_some("inactive"),
                h.settings.builder.then_some("builder"),
            ]
            .into_iter()
            .flatten()
            .collect_vec()
            .join(" ")
        })
        .cell(|(h, _): &(Host, usize)| {
            [
                (!h.settings.active).then_some("inactive"),
                h.settings.builder.then_some("builder"),
            ]
            .into_iter()
            .flatten()
            .map(|f| view! { <span class="badge badge-stopped">{f}</span> " " })
            .collect_any()
        })
        .unsorted(),
    ];
    let row_attrs = |(h, _): &(Host, usize)| {
        vec![
            ("data-test", "host-row".to_string()),
            ("data-name", h.settings.name.clone()),
            ("data-health", h.status.health.as_str().to_string()),
        ]
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
                <DataTable
                    rows=hosts
                    columns=columns
                    empty="No hosts yet."
                    loading=Signal::derive(move || !store.loaded())
                    row_attrs=row_attrs
                    test_id="hosts-table"
                />
            </div>
        </section>
    }
}
