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

use crate::components::CollectAny;
use crate::components::CollectVec;
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
use crate::route::UrlParam;
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
        (st.orphaned, "orphaned"),
    ] {
        if n > 0 {
            text.push_str(&format!(", {n} {what}"));
        }
    }
    text
}

/// Swarms change with every swarm edit and every dispatch step: fetch again.
pub fn refetch_on_swarm_news<T>(_: &mut T, message: &LiveMessage) -> Merge {
    match message {
        LiveMessage::Swarms | LiveMessage::Dispatch { .. } => Merge::Refetch,
        _ => Merge::Ignored,
    }
}

/// The list's filters: URL key, label, and the values a swarm has for it (a swarm passes when
/// the chosen value is among them).
type FilterValues = fn(&Swarm, &Fleet) -> Vec<String>;
const FILTERS: [(&str, &str, FilterValues); 6] = [
    ("app", "App", |s, _| vec![s.spec.app.clone()]),
    ("squad", "Squad", |s, _| vec![s.spec.squad.clone()]),
    ("status", "Status", |s, _| {
        vec![s.status.state.as_str().to_string()]
    }),
    ("host", "Host", |s, f| {
        f.procs
            .iter()
            .filter(|p| p.meta.as_ref().and_then(|m| m.swarm_id) == Some(s.id))
            .map(|p| p.host.clone())
            .collect_vec()
    }),
    ("pool", "Pool", |s, _| {
        s.spec.pool.iter().cloned().collect_vec()
    }),
    ("ingredient", "Ingredient", |s, _| {
        s.spec.ingredients.clone()
    }),
];

#[component]
pub fn SwarmsPage() -> impl IntoView {
    crate::route::title(|| "Swarms".to_string());
    let session = use_session();
    let fleet = use_fleet();
    let swarms = LiveData::follow(Vec::new(), api::swarm::swarms, refetch_on_swarm_news);
    let params: Vec<UrlParam> = FILTERS
        .iter()
        .map(|(key, _, _)| UrlParam::new(key))
        .collect_vec();
    // Each row's status follows the live snapshot between fetches.
    let all = Memo::new(move |_| {
        let list = swarms.get();
        fleet.with(|f| {
            list.into_iter()
                .map(|mut s| {
                    s.status = live_status(&s, f);
                    s
                })
                .collect_vec()
        })
    });
    let chosen = {
        let params = params.clone();
        Memo::new(move |_| params.iter().map(|p| p.value.get()).collect_vec())
    };
    let rows = Signal::derive(move || {
        let chosen = chosen.get();
        fleet.with(|f| {
            all.get()
                .into_iter()
                .filter(|s| {
                    FILTERS.iter().zip(&chosen).all(|((_, _, values), want)| {
                        want.as_ref().is_none_or(|w| values(s, f).contains(w))
                    })
                })
                .collect_vec()
        })
    });
    let filter_bar = FILTERS
        .iter()
        .zip(params)
        .map(|((key, label, values), param)| {
            let options = move || {
                let mut seen: Vec<String> =
                    fleet.with(|f| all.with(|l| l.iter().flat_map(|s| values(s, f)).collect_vec()));
                seen.sort();
                seen.dedup();
                seen.into_iter()
                    .map(|v| view! { <option value=v.clone()>{v.clone()}</option> })
                    .collect_any()
            };
            let id = format!("swarms-filter-{key}");
            view! {
                <div class="field">
                    <label for=id.clone()>{*label}</label>
                    <select
                        id=id
                        prop:value=move || param.value.get().unwrap_or_default()
                        on:change=crate::ev::change(move |ev| param.replace(Some(event_target_value(&ev))))
                    >
                        <option value="">"(all)"</option>
                        {options}
                    </select>
                </div>
            }
        })
        .collect_any();
    // Rows ticked for "dispatch selected"; only the ticked rows the filters show count.
    let ticked = RwSignal::new(std::collections::BTreeSet::<i64>::new());
    let selected = Signal::derive(move || {
        ticked.with(|t| {
            rows.get()
                .into_iter()
                .filter(|s| t.contains(&s.id))
                .collect_vec()
        })
    });
    let columns = vec![
        Column::new("", |_: &Swarm| String::new()).cell(move |s: &Swarm| {
            let id = s.id;
            view! {
                <input
                    type="checkbox"
                    data-test="swarm-select"
                    aria-label=format!("Select {}", s.name)
                    prop:checked=move || ticked.with(|t| t.contains(&id))
                    on:change=crate::ev::change(move |_| {
                        ticked.update(|t| {
                            if !t.remove(&id) {
                                t.insert(id);
                            }
                        })
                    })
                />
            }
        }),
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
    let row_attrs = |s: &Swarm| {
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
                <div class="filters" id="swarms-filters">{filter_bar}</div>
            </div>
            <div class="card">
                <DataTable
                    rows=rows
                    columns=columns
                    empty="No swarms to show."
                    loading=Signal::derive(move || !swarms.loaded())
                    row_attrs=row_attrs
                    test_id="swarms-table"
                />
            </div>
            {move || {
                session
                    .can_deploy()
                    .then(|| {
                        let squad = Signal::derive(move || chosen.with(|c| c.get(1).cloned().flatten()));
                        view! {
                            <DispatchShown shown=rows squad=squad />
                            <DispatchShown shown=selected squad=Signal::stored(None::<String>) selected=true />
                        }
                    })
            }}
        </section>
    }
}

/// Dispatches every swarm the filters show (each at its own version), confirmed by typing
/// how many: with only a squad chosen, "every swarm on this squad"; with `selected`, the rows
/// ticked.
#[component]
pub fn DispatchShown(
    #[prop(into)] shown: Signal<Vec<Swarm>>,
    #[prop(into)] squad: Signal<Option<String>>,
    #[prop(optional)] selected: bool,
) -> impl IntoView {
    let toasts = use_toasts();
    let asking = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let what = move || {
        let n = shown.with(Vec::len);
        match squad.get() {
            _ if selected => format!("the {n} selected swarm(s)"),
            Some(q) => format!("every swarm on squad {q} ({n})"),
            None => format!("the {n} swarm(s) shown"),
        }
    };
    let go = move |()| {
        let ids: Vec<i64> = shown.with_untracked(|l| l.iter().map(|s| s.id).collect_vec());
        spawn_busy(busy, async move {
            let mut refused = 0;
            for id in &ids {
                let req = DispatchRequest {
                    version: Some("-".into()),
                    ..DispatchRequest::default()
                };
                if api::swarm::dispatch(*id, &req).await.is_err() {
                    refused += 1;
                }
            }
            if refused == 0 {
                toasts.success(format!("{} dispatch(es) queued.", ids.len()));
            } else {
                toasts.error(format!(
                    "{refused} of {} dispatches were refused.",
                    ids.len()
                ));
            }
            asking.set(false);
        });
    };
    view! {
        <div class="actions-row">
            <button
                type="button"
                class="btn"
                id=if selected { "swarms-dispatch-selected" } else { "swarms-dispatch-shown" }
                disabled=move || shown.with(Vec::is_empty)
                on:click=crate::ev::click(move |_| asking.set(true))
            >
                {move || format!("Dispatch {}", what())}
            </button>
            <ConfirmDialog
                open=asking
                title=Signal::derive(move || format!("Dispatch {}?", what()))
                message="Each at its current version; swarms that already match do nothing.".to_string()
                on_confirm=go
                on_cancel=move |()| asking.set(false)
                confirm_label="Dispatch"
                busy=busy
                typed=Signal::derive(move || Some(shown.with(Vec::len).to_string()))
            />
        </div>
    }
}
