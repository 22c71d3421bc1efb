//! How deploys are drawn: the status badge and the one deploy table.

use leptos::prelude::*;
use vr_app::deploy::{DeployStatus, Deployment};
use vr_app::time::{format_age, format_utc};

use super::port_text;
use crate::clock::use_clock;
use crate::components::{EmptyRow, loading_or};
use crate::links::{app_href, deploy_href, host_href};

/// The badge class of a status: running blue, succeeded green, failed red.
fn status_class(status: DeployStatus) -> &'static str {
    match status {
        DeployStatus::Running => "badge badge-info",
        DeployStatus::Succeeded => "badge badge-good",
        DeployStatus::Failed => "badge badge-bad",
    }
}

/// A deploy's status as a coloured pill.
#[component]
pub fn DeployStatusBadge(status: DeployStatus) -> impl IntoView {
    view! {
        <span class=status_class(status) data-status=status.as_str()>
            {status.as_str()}
        </span>
    }
}

/// A table of `deploys` (newest first as given).
#[component]
pub fn DeployTable(
    #[prop(into)] deploys: Signal<Vec<Deployment>>,
    #[prop(into)] loaded: Signal<bool>,
    /// Shown when the list is empty once loaded.
    #[prop(default = "No deploys yet.")]
    empty: &'static str,
) -> impl IntoView {
    let rows = move || {
        let list = deploys.get();
        if list.is_empty() {
            let text = loading_or(loaded.get(), empty);
            return view! { <EmptyRow colspan=10 text=text /> }.into_any();
        }
        list.into_iter()
            .map(|d| view! { <DeployRow item=d /> })
            .collect_view()
            .into_any()
    };
    view! {
        <div class="table-scroll">
            <table data-test="deploys-table">
                <thead>
                    <tr>
                        <th scope="col">"Deploy"</th>
                        <th scope="col">"App"</th>
                        <th scope="col">"Proc"</th>
                        <th scope="col">"Config"</th>
                        <th scope="col">"Host"</th>
                        <th scope="col" class="num">"Port"</th>
                        <th scope="col">"Program"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Requested by"</th>
                        <th scope="col">"Started"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn DeployRow(item: Deployment) -> impl IntoView {
    let d = item;
    let clock = use_clock();
    let (id, created) = (d.id, d.created_at);
    view! {
        <tr data-test="deploy-row" data-id=id data-status=d.status.as_str()>
            <td>
                <a href=deploy_href(id)>{format!("#{id}")}</a>
            </td>
            <td>
                <a href=app_href(&d.app)>{d.app.clone()}</a>
            </td>
            <td class="mono">{d.proc_type.clone()}</td>
            <td class="mono">{d.config.clone()}</td>
            <td>
                <a href=host_href(&d.host)>{d.host.clone()}</a>
            </td>
            <td class="num">{port_text(d.port)}</td>
            <td class="mono truncate" title=d.program.clone()>{d.program.clone()}</td>
            <td>
                <DeployStatusBadge status=d.status />
            </td>
            <td>{d.requested_by.clone()}</td>
            <td class="nowrap" title=format_utc(created)>
                {move || format_age(clock.now(), created)}
            </td>
        </tr>
    }
}
