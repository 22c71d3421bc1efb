//! How deploys are drawn: the status badge and the one deploy table (through `DataTable`).

use leptos::prelude::*;
use vr_app::deploy::{DeployStatus, Deployment};
use vr_app::time::format_utc;

use super::port_text;
use crate::components::{Age, Column, DataTable, SortKey};
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

/// A table of `deploys` (newest first as given; every column sorts).
#[component]
pub fn DeployTable(
    #[prop(into)] deploys: Signal<Vec<Deployment>>,
    #[prop(into)] loaded: Signal<bool>,
    /// Shown when the list is empty once loaded.
    #[prop(default = "No deploys yet.")]
    empty: &'static str,
) -> impl IntoView {
    let columns = vec![
        Column::new("Deploy", |d: &Deployment| format!("#{}", d.id))
            .sort_by(|d: &Deployment| SortKey::Int(d.id))
            .cell(|d: &Deployment| view! { <a href=deploy_href(d.id)>{format!("#{}", d.id)}</a> }),
        Column::new("App", |d: &Deployment| d.app.clone())
            .cell(|d: &Deployment| view! { <a href=app_href(&d.app)>{d.app.clone()}</a> }),
        Column::new("Proc", |d: &Deployment| d.proc_type.clone()).class("mono"),
        Column::new("Config", |d: &Deployment| d.config.clone()).class("mono"),
        Column::new("Host", |d: &Deployment| d.host.clone())
            .cell(|d: &Deployment| view! { <a href=host_href(&d.host)>{d.host.clone()}</a> }),
        Column::new("Port", |d: &Deployment| port_text(d.port))
            .sort_by(|d: &Deployment| SortKey::Int(i64::from(d.port)))
            .class("num"),
        Column::new("Program", |d: &Deployment| d.program.clone()).class("mono truncate"),
        Column::new("Status", |d: &Deployment| d.status.as_str().to_string())
            .cell(|d: &Deployment| view! { <DeployStatusBadge status=d.status /> }),
        Column::new("Requested by", |d: &Deployment| d.requested_by.clone()),
        Column::new("Started", |d: &Deployment| format_utc(d.created_at))
            .sort_by(|d: &Deployment| SortKey::Int(d.created_at))
            .cell(|d: &Deployment| view! { <Age at=d.created_at /> })
            .class("nowrap"),
    ];
    let row_attrs = |d: &Deployment| {
        vec![
            ("data-test", "deploy-row".to_string()),
            ("data-id", d.id.to_string()),
            ("data-status", d.status.as_str().to_string()),
        ]
    };
    view! {
        <DataTable
            rows=deploys
            columns=columns
            empty=empty
            loading=Signal::derive(move || !loaded.get())
            filterable=false
            row_attrs=row_attrs
            test_id="deploys-table"
        />
    }
}
