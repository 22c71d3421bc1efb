//! `/swarms/:id`: one swarm — its status against the live snapshot, its settings, its procs,
//! its dispatches, and the actions: Plan (a dry run), Dispatch, Rollback, Edit, Delete.

use crate::components::CollectVec;
use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::fleet::Proc;
use vr_app::live::Merge;
use vr_app::swarm::{Dispatch, DispatchRequest, RollbackRequest, Swarm, replaced_release};
use vr_app::time::format_utc;

use super::form::SwarmForm;
use super::{counts, live_status, refetch_on_swarm_news};
use crate::api;
use crate::busy::spawn_busy;
use crate::components::{
    Age, Column, ConfirmDialog, DataTable, Fact, Facts, MissingNotice, NumberedPage, SortKey,
    StatusBadge, numbered_missing_text, use_toasts,
};
use crate::fleet::use_fleet;
use crate::links::{app_href, dispatch_href, host_href, release_href, squad_href, swarm_logs_href};
use crate::live::LiveData;
use crate::router::{NavigateOptions, use_navigate};
use crate::session::use_session;

#[component]
pub fn SwarmPage() -> impl IntoView {
    view! {
        <NumberedPage
            kind="Swarm"
            back=("/swarms", "Swarms")
            test="swarm"
            view=|id| view! { <SwarmView id=id /> }.into_any()
        />
    }
}

#[component]
fn SwarmView(id: i64) -> impl IntoView {
    let swarm = LiveData::follow(
        None,
        move || async move { api::swarm::swarm(id).await.map(Some) },
        refetch_on_swarm_news,
    );
    let present = Memo::new(move |_| swarm.with(Option::is_some));
    move || {
        if !present.get() {
            let text = numbered_missing_text("swarm", id, swarm.error());
            return view! { <MissingNotice test="swarm-missing" text=text /> }.into_any();
        }
        let current = Signal::derive(move || swarm.get());
        view! {
            <SwarmHead current=current />
            <SwarmActions id=id current=current />
            <SwarmProcs id=id />
            <SwarmHistory id=id />
            <SwarmEdit current=current />
        }
        .into_any()
    }
}

#[component]
fn SwarmHead(current: Signal<Option<Swarm>>) -> impl IntoView {
    let fleet = use_fleet();
    move || {
        current.get().map(|s| {
            let st = fleet.with(|f| live_status(&s, f));
            let spec = &s.spec;
            let facts = vec![
                Fact::view("Status", view! {
                    <span id="swarm-state" data-state=st.state.as_str()>
                        <StatusBadge state=st.state.as_str().to_string() />
                    </span>
                    " "
                    <span id="swarm-counts">{counts(&st)}</span>
                }),
                Fact::view("App", view! { <a href=app_href(&spec.app)>{spec.app.clone()}</a> }),
                Fact::view("Squad", view! { <a href=squad_href(&spec.squad)>{spec.squad.clone()}</a> }),
                Fact::mono("Version", spec.version.clone()),
                Fact::mono("Proc type", spec.proc_type.clone()),
                Fact::mono("Config", spec.config.clone()),
                Fact::text("Size", format!("{} ({})", spec.size, spec.placement.as_str())),
                Fact::text(
                    "Batch size",
                    if spec.batch_size == 0 { "all at once".to_string() } else { spec.batch_size.to_string() },
                ),
                Fact::text("Ports", if spec.uses_ports { "yes" } else { "no (port 0)" }),
                Fact::text("Ingredients", spec.ingredients.join(", ")),
                Fact::view(
                    "Release",
                    s.release_id.map(|r| view! { <a href=release_href(r) id="swarm-release">{format!("#{r}")}</a> }),
                ),
                Fact::text(
                    "Pool",
                    match (&spec.pool, &spec.balancer) {
                        (Some(p), Some(b)) => format!("{p} on {b}"),
                        _ => "none".to_string(),
                    },
                ),
            ];
            view! {
                <div class="card-head">
                    <h1 id="swarm-title">{s.name.clone()}</h1>
                    <a href=swarm_logs_href(s.id) id="swarm-logs">"Live logs →"</a>
                </div>
                <div class="card">
                    <Facts facts=facts test="swarm-facts" />
                </div>
            }
        })
    }
}

/// What an action button asks for.
#[derive(Clone, Copy)]
enum Ask {
    Plan,
    Dispatch,
    Rollback,
}

/// Plan, Dispatch, Rollback and Delete: each opens the dispatch it queued (Delete: the list).
#[component]
fn SwarmActions(id: i64, current: Signal<Option<Swarm>>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let nav = StoredValue::new_local(use_navigate());
    let busy = RwSignal::new(false);
    let asking_delete = RwSignal::new(false);
    let run = move |ask: Ask| {
        spawn_busy(busy, async move {
            let keep = Some("-".to_string());
            let answer = match ask {
                Ask::Plan => {
                    let req = DispatchRequest {
                        version: keep,
                        size: None,
                        dry_run: true,
                    };
                    api::swarm::dispatch(id, &req).await
                }
                Ask::Dispatch => {
                    let req = DispatchRequest {
                        version: keep,
                        size: None,
                        dry_run: false,
                    };
                    api::swarm::dispatch(id, &req).await
                }
                Ask::Rollback => api::swarm::rollback(id, &RollbackRequest::default()).await,
            };
            match answer {
                Ok(d) => nav.with_value(|n| n(&dispatch_href(d.id), NavigateOptions::default())),
                Err(e) => toasts.error(e.into_message()),
            }
        });
    };
    let take_down = RwSignal::new(false);
    let delete = move |()| {
        let down = take_down.get_untracked();
        spawn_busy(busy, async move {
            match api::swarm::remove(id, down).await {
                Ok(()) => {
                    toasts.success(if down {
                        "Swarm deleted; its procs were drained and destroyed."
                    } else {
                        "Swarm deleted; its procs keep running (see Orphans)."
                    });
                    nav.with_value(|n| n("/swarms", NavigateOptions::default()));
                }
                Err(e) => toasts.error(e.into_message()),
            }
            asking_delete.set(false);
        });
    };
    let name = move || current.with(|s| s.as_ref().map(|s| s.name.clone()).unwrap_or_default());
    let button = move |label: &'static str, dom_id: &'static str, class: &'static str, ask: Ask| {
        view! {
            <button type="button" class=class id=dom_id disabled=move || busy.get() on:click=crate::ev::click(move |_| run(ask))>
                {label}
            </button>
        }
    };
    move || {
        session.can_deploy().then(|| {
            view! {
                <div class="actions-row" id="swarm-actions">
                    {button("Plan", "swarm-plan", "btn", Ask::Plan)}
                    {button("Dispatch", "swarm-dispatch", "btn btn-primary", Ask::Dispatch)}
                    {button("Roll back", "swarm-rollback", "btn", Ask::Rollback)}
                    <button type="button" class="btn btn-danger" id="swarm-delete" on:click=crate::ev::click(move |_| asking_delete.set(true))>
                        "Delete"
                    </button>
                    <label class="check">
                        <input type="checkbox" id="swarm-take-down"
                            prop:checked=move || take_down.get()
                            on:change=crate::ev::change(move |ev| take_down.set(event_target_checked(&ev))) />
                        "and take its procs down"
                    </label>
                    <ConfirmDialog
                        open=asking_delete
                        title=Signal::derive(move || format!("Delete swarm {}?", name()))
                        message=Signal::derive(move || if take_down.get() {
                            "Its procs leave their pool and are destroyed; its history goes.".to_string()
                        } else {
                            "Its procs keep running (listed as orphans); its history goes.".to_string()
                        })
                        on_confirm=delete
                        on_cancel=move |()| asking_delete.set(false)
                        confirm_label="Delete"
                        danger=true
                        busy=busy
                    />
                </div>
            }
        })
    }
}

/// The swarm's procs as the live snapshot shows them.
#[component]
fn SwarmProcs(id: i64) -> impl IntoView {
    let fleet = use_fleet();
    let rows = Signal::derive(move || {
        fleet.with(|f| {
            f.procs
                .iter()
                .filter(|p| p.meta.as_ref().and_then(|m| m.swarm_id) == Some(id))
                .cloned()
                .collect_vec()
        })
    });
    let port = |p: &Proc| p.meta.as_ref().map_or(0, |m| m.port);
    let columns = vec![
        Column::new("Host", |p: &Proc| p.host.clone())
            .cell(|p: &Proc| view! { <a href=host_href(&p.host)>{p.host.clone()}</a> }),
        Column::new("Program", |p: &Proc| p.name.clone()).class("mono truncate"),
        Column::new("Port", move |p: &Proc| port(p).to_string())
            .sort_by(move |p: &Proc| SortKey::Int(i64::from(port(p))))
            .class("num"),
        Column::new("State", |p: &Proc| p.state.as_str().to_string())
            .cell(|p: &Proc| view! { <StatusBadge state=p.state.as_str().to_string() /> }),
        Column::new("Release", |p: &Proc| {
            p.meta
                .as_ref()
                .and_then(|m| m.release_id)
                .map(|r| format!("#{r}"))
                .unwrap_or_default()
        }),
    ];
    let row_attrs = |p: &Proc| {
        vec![
            ("data-test", "swarm-proc".to_string()),
            ("data-host", p.host.clone()),
            ("data-state", p.state.as_str().to_string()),
        ]
    };
    view! {
        <div class="card">
            <h2>"Procs"</h2>
            <DataTable
                rows=rows
                columns=columns
                empty="No procs of this swarm on any host."
                filterable=false
                row_attrs=row_attrs
                test_id="swarm-procs"
            />
        </div>
    }
}

/// Every dispatch of the swarm, newest first, with what it changed.
#[component]
fn SwarmHistory(id: i64) -> impl IntoView {
    let history = LiveData::follow(
        Vec::new(),
        move || api::swarm::dispatches(id),
        move |_: &mut Vec<Dispatch>, m: &LiveMessage| match m {
            LiveMessage::Dispatch { dispatch } if dispatch.swarm_id == id => Merge::Refetch,
            _ => Merge::Ignored,
        },
    );
    let rows = history.signal();
    let columns = vec![
        Column::new("Dispatch", |d: &Dispatch| format!("#{}", d.id))
            .sort_by(|d: &Dispatch| SortKey::Int(d.id))
            .cell(|d: &Dispatch| view! { <a href=dispatch_href(d.id)>{format!("#{}", d.id)}</a> }),
        Column::new("Status", |d: &Dispatch| d.status.as_str().to_string())
            .cell(|d: &Dispatch| view! { <StatusBadge state=d.status.as_str().to_string() /> }),
        Column::new("Version", |d: &Dispatch| d.version.clone()).class("mono"),
        Column::new("What", |d: &Dispatch| {
            let mut what: Vec<String> = d
                .changes
                .iter()
                .map(|c| format!("{}: {} → {}", c.field, c.before, c.after))
                .collect_vec();
            if d.dry_run {
                what.insert(0, "dry run".into());
            }
            if let Some(r) = d.rollback_of {
                what.insert(0, format!("rollback to #{r}"));
            }
            what.join("; ")
        }),
        // What the release's config changed (ingredients too): the release compared with the
        // one it replaced.
        Column::new("Config", move |d: &Dispatch| {
            rows.with_untracked(|all| replaced_release(all, d))
                .map(|before| format!("#{before} → #{}", d.release_id.unwrap_or_default()))
                .unwrap_or_default()
        })
        .cell(move |d: &Dispatch| {
            let before = rows.with_untracked(|all| replaced_release(all, d));
            match (before, d.release_id) {
                (Some(b), Some(r)) => view! {
                    <a href=format!("{}?compare={b}", release_href(r)) data-test="history-config-diff">
                        {format!("#{b} → #{r}")}
                    </a>
                }
                .into_any(),
                _ => ().into_any(),
            }
        }),
        Column::new("By", |d: &Dispatch| d.requested_by.clone()),
        Column::new("When", |d: &Dispatch| format_utc(d.created_at))
            .sort_by(|d: &Dispatch| SortKey::Int(d.created_at))
            .cell(|d: &Dispatch| view! { <Age at=d.created_at /> })
            .class("nowrap"),
    ];
    let row_attrs = |d: &Dispatch| {
        vec![
            ("data-test", "dispatch-row".to_string()),
            ("data-status", d.status.as_str().to_string()),
        ]
    };
    view! {
        <div class="card">
            <h2>"History"</h2>
            <DataTable
                rows=history.signal()
                columns=columns
                empty="Never dispatched."
                loading=Signal::derive(move || !history.loaded())
                filterable=false
                row_attrs=row_attrs
                test_id="swarm-history"
            />
        </div>
    }
}

#[component]
fn SwarmEdit(current: Signal<Option<Swarm>>) -> impl IntoView {
    let session = use_session();
    // The form starts from the swarm as it was when opened.
    let start = current.get_untracked();
    move || {
        let start = start.clone();
        session.can_deploy().then(move || {
            start.map(|s| {
                view! {
                    <details class="card" id="swarm-edit">
                        <summary>"Edit"</summary>
                        <SwarmForm base=s.spec.clone() editing=Some(s) />
                    </details>
                }
            })
        })
    }
}
