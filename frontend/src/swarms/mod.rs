//! Swarms: the list with each one's live status (`/swarms`), the form (`/swarms/new`, and
//! editing on a swarm's page), a swarm's page with its procs, history, Plan, Dispatch and
//! Rollback (`/swarms/:id`), and a dispatch's page with its plan and steps live
//! (`/dispatches/:id`).

mod detail;
mod dispatch;
mod form;

pub use detail::SwarmPage;
pub use dispatch::DispatchPage;
pub use form::NewSwarmPage;

use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::fleet::Fleet;
use vr_app::live::Merge;
use vr_app::swarm::{DispatchRequest, Swarm, SwarmStatus, assess};

use crate::api;
use crate::busy::spawn_busy;
use crate::components::{Column, ConfirmDialog, DataTable, SortKey, StatusBadge, use_toasts};
use crate::fleet::use_fleet;
use crate::links::{app_href, release_href, squad_href, swarm_href};
use crate::live::LiveData;
use crate::session::use_session;

/// How the swarm stands now: its record read against the live snapshot.
pub fn live_status(s: &Swarm, fleet: &Fleet) -> SwarmStatus {
    assess(
        s.id,
        &s.spec,
        s.release_hash.as_deref(),
        s.last_dispatch,
        &fleet.hosts,
        &fleet.procs,
    )
}

/// `3 of 4 running` and what else is there.
pub fn counts(st: &SwarmStatus) -> String {
    let mut text = format!("{} of {} running", st.running, st.wanted);
    for (n, what) in [
        (st.missing, "missing"),
        (st.extra, "extra"),
        (st.stale, "stale"),
        (st.unknown, "unknown"),
    ] {
        if n > 0 {
            text.push_str(&format!(", {n} {what}"));
        }
    }
    text
}

/// Swarms change with every swarm edit and every dispatch step: fetch again.
fn refetch_on_swarm_news<T>(_: &mut T, message: &LiveMessage) -> Merge {
    match message {
        LiveMessage::Swarms | LiveMessage::Dispatch { .. } => Merge::Refetch,
        _ => Merge::Ignored,
    }
}

#[component]
pub fn SwarmsPage() -> impl IntoView {
    crate::route::title(|| "Swarms".to_string());
    let session = use_session();
    let fleet = use_fleet();
    let swarms = LiveData::follow(Vec::new(), api::swarm::swarms, refetch_on_swarm_news);
    // Each row's status follows the live snapshot between fetches.
    let rows = Signal::derive(move || {
        let list = swarms.get();
        fleet.with(|f| {
            list.into_iter()
                .map(|mut s| {
                    s.status = live_status(&s, f);
                    s
                })
                .collect::<Vec<_>>()
        })
    });
    let columns = vec![
        Column::new("Swarm", |s: &Swarm| s.name.clone())
            .cell(|s: &Swarm| view! { <a href=swarm_href(s.id)>{s.name.clone()}</a> }),
        Column::new("App", |s: &Swarm| s.spec.app.clone())
            .cell(|s: &Swarm| view! { <a href=app_href(&s.spec.app)>{s.spec.app.clone()}</a> }),
        Column::new("Squad", |s: &Swarm| s.spec.squad.clone()).cell(
            |s: &Swarm| view! { <a href=squad_href(&s.spec.squad)>{s.spec.squad.clone()}</a> },
        ),
        Column::new("Version", |s: &Swarm| s.spec.version.clone()).class("mono"),
        Column::new("Size", |s: &Swarm| s.spec.size.to_string())
            .sort_by(|s: &Swarm| SortKey::Int(i64::from(s.spec.size)))
            .class("num"),
        Column::new("Status", |s: &Swarm| s.status.state.as_str().to_string()).cell(|s: &Swarm| {
            view! { <StatusBadge state=s.status.state.as_str().to_string() /> }
        }),
        Column::new("Procs", |s: &Swarm| counts(&s.status)),
        Column::new("Release", |s: &Swarm| {
            s.release_id.map(|r| format!("#{r}")).unwrap_or_default()
        })
        .cell(|s: &Swarm| {
            s.release_id
                .map(|r| view! { <a href=release_href(r)>{format!("#{r}")}</a> })
        }),
    ];
    let row_attrs = |s: Swarm| {
        vec![
            ("data-test", "swarm-row".to_string()),
            ("data-name", s.name.clone()),
            ("data-state", s.status.state.as_str().to_string()),
        ]
    };
    view! {
        <section class="page" data-test="swarms">
            <div class="title-row">
                <h1>"Swarms"</h1>
                {move || {
                    session
                        .can_deploy()
                        .then(|| {
                            view! {
                                <a class="btn btn-primary" href="/swarms/new" id="swarms-new">
                                    "New swarm"
                                </a>
                            }
                        })
                }}
            </div>
            {move || swarms.error_text().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
            <div class="card">
                <DataTable
                    rows=rows
                    columns=columns
                    empty="No swarms yet."
                    loading=Signal::derive(move || !swarms.loaded())
                    row_attrs=row_attrs
                    test_id="swarms-table"
                />
            </div>
            {move || session.can_deploy().then(|| view! { <SquadDispatch swarms=swarms.signal() /> })}
        </section>
    }
}

/// "Dispatch every swarm on this squad": one action, confirmed by typing the squad's name.
#[component]
fn SquadDispatch(swarms: Signal<Vec<Swarm>>) -> impl IntoView {
    let toasts = use_toasts();
    let squad = RwSignal::new(String::new());
    let asking = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let squads = move || {
        let mut names: Vec<String> =
            swarms.with(|l| l.iter().map(|s| s.spec.squad.clone()).collect());
        names.sort();
        names.dedup();
        names
            .into_iter()
            .map(|n| view! { <option value=n.clone()>{n.clone()}</option> })
            .collect_view()
    };
    let targets = move || {
        let q = squad.get();
        swarms.with(|l| {
            l.iter()
                .filter(|s| s.spec.squad == q)
                .map(|s| s.id)
                .collect::<Vec<_>>()
        })
    };
    let go = move |()| {
        let ids = targets();
        let q = squad.get_untracked();
        spawn_busy(busy, async move {
            let mut failed = 0;
            for id in &ids {
                let req = DispatchRequest {
                    version: Some("-".into()),
                    ..DispatchRequest::default()
                };
                if api::swarm::dispatch(*id, &req).await.is_err() {
                    failed += 1;
                }
            }
            if failed == 0 {
                toasts.success(format!("{} dispatch(es) of squad {q} queued.", ids.len()));
            } else {
                toasts.error(format!(
                    "{failed} of {} dispatches of squad {q} were refused.",
                    ids.len()
                ));
            }
            asking.set(false);
        });
    };
    view! {
        <div class="card form-inline" id="squad-dispatch">
            <h2>"Dispatch a squad"</h2>
            <select
                id="squad-dispatch-squad"
                prop:value=move || squad.get()
                on:change=move |ev| squad.set(event_target_value(&ev))
            >
                <option value="">"(choose a squad)"</option>
                {squads}
            </select>
            <button
                type="button"
                class="btn"
                id="squad-dispatch-open"
                disabled=move || squad.with(String::is_empty)
                on:click=move |_| asking.set(true)
            >
                "Dispatch every swarm on this squad"
            </button>
            <ConfirmDialog
                open=asking
                title=Signal::derive(move || format!("Dispatch squad {}?", squad.get()))
                message=Signal::derive(move || {
                    format!("{} swarm(s), each at its current version.", targets().len())
                })
                on_confirm=go
                on_cancel=move |()| asking.set(false)
                confirm_label="Dispatch"
                busy=busy
                typed=Signal::derive(move || Some(squad.get()))
            />
        </div>
    }
}
