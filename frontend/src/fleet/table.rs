//! `ProcGroups`: procs as one table, grouped app → swarm → proc, unmanaged last. Each row shows
//! state (`STALE` while its host does not answer, with when it was last seen and its clock
//! stopped), host, name, description, uptime or time in state, and port. Clicking a row
//! selects it.

use crate::components::CollectAny;
use leptos::prelude::*;

use crate::components::{EmptyRow, StatusBadge};
use vr_app::fleet::{Proc, ProcRef};
use vr_app::fleet_view::{description, host_of, memory_note, shown, uptime_text};
use vr_app::time::format_utc;

use crate::clock::use_clock;
use crate::fleet::health::ShownBadge;
use crate::fleet::store::use_fleet;
use vr_app::fleet_view::{AppGroup, group};

const COLUMNS: usize = 6;

/// The swarms a page follows live: a swarm's heading then shows its status and counts (how
/// many run, are missing, extra, stale, unknown, orphaned), read against the snapshot.
#[derive(Clone, Copy)]
pub struct SwarmsShown(pub Signal<Vec<vr_app::swarm::Swarm>>);

/// A swarm heading's live status, when the page follows its swarms.
fn swarm_status(id: i64) -> Option<impl IntoView> {
    let shown = use_context::<SwarmsShown>()?;
    let store = use_fleet();
    let status = Memo::new(move |_| {
        shown.0.with(|list| {
            list.iter()
                .find(|s| s.id == id)
                .map(|s| store.with(|f| crate::swarms::live_status(s, f)))
        })
    });
    Some(move || {
        status.get().map(|st| {
            view! {
                " "
                <StatusBadge state=st.state.as_str().to_string() />
                <span class="muted" data-test="swarm-counts">{format!(" {}", crate::swarms::counts(&st))}</span>
            }
        })
    })
}

/// The grouped table of `procs`; a click on a row sets `selected`.
#[component]
pub fn ProcGroups(
    #[prop(into)] procs: Signal<Vec<Proc>>,
    #[prop(into)] selected: Signal<Option<ProcRef>>,
    on_select: Callback<Option<ProcRef>>,
    /// Shown when `procs` is empty.
    #[prop(into)]
    empty: Signal<String>,
) -> impl IntoView {
    let groups = Memo::new(move |_| procs.with(|p| group(p)));
    let body = move || {
        let groups = groups.get();
        if groups.is_empty() {
            return view! {
                <tbody>
                    <EmptyRow colspan=COLUMNS text=empty />
                </tbody>
            }
            .into_any();
        }
        groups
            .into_iter()
            .map(|g| view! { <GroupRows group=g selected=selected on_select=on_select /> })
            .collect_any()
            .into_any()
    };
    view! {
        <div class="table-scroll" data-test="proc-groups">
            <table class="proc-table">
                <thead>
                    <tr>
                        <th scope="col">"State"</th>
                        <th scope="col">"Host"</th>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Description"</th>
                        <th scope="col">"Uptime"</th>
                        <th scope="col" class="num">"Port"</th>
                    </tr>
                </thead>
                {body}
            </table>
        </div>
    }
}

/// One app: its heading row, then per swarm a sub-heading and the proc rows.
#[component]
fn GroupRows(
    group: AppGroup,
    selected: Signal<Option<ProcRef>>,
    on_select: Callback<Option<ProcRef>>,
) -> impl IntoView {
    let count: usize = group.swarms.iter().map(|s| s.procs.len()).sum();
    let managed = group.app.is_some();
    let title = group.app.clone().unwrap_or_else(|| "Unmanaged".to_string());
    let swarms = group
        .swarms
        .into_iter()
        .map(|swarm| {
            let heading = managed.then(|| {
                let n = swarm.procs.len();
                view! {
                    <tr class="group-swarm" data-test="proc-swarm" data-group=swarm.key.clone()>
                        <td colspan=COLUMNS>
                            {match swarm.swarm_id {
                                Some(id) => {
                                    view! {
                                        <a class="swarm-label" href=crate::links::swarm_href(id)>
                                            {swarm.label.clone()}
                                        </a>
                                    }
                                        .into_any()
                                }
                                None => {
                                    view! { <span class="swarm-label">{swarm.label.clone()}</span> }
                                        .into_any()
                                }
                            }}
                            <span class="muted">{format!(" · {n} proc{}", plural(n))}</span>
                            {swarm.swarm_id.and_then(swarm_status)}
                        </td>
                    </tr>
                }
            });
            let rows = swarm
                .procs
                .into_iter()
                .map(|p| view! { <ProcRow proc=p selected=selected on_select=on_select /> })
                .collect_any();
            view! {
                {heading}
                {rows}
            }
        })
        .collect_any();
    view! {
        <tbody data-test="proc-group" data-app=group.app.unwrap_or_default()>
            <tr class="group-app">
                <th colspan=COLUMNS scope="rowgroup">
                    {title}
                    <span class="muted">{format!(" · {count} proc{}", plural(count))}</span>
                </th>
            </tr>
            {swarms}
        </tbody>
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[component]
fn ProcRow(
    proc: Proc,
    selected: Signal<Option<ProcRef>>,
    on_select: Callback<Option<ProcRef>>,
) -> impl IntoView {
    let store = use_fleet();
    let clock = use_clock();
    let me = ProcRef {
        host: proc.host.clone(),
        name: proc.name.clone(),
    };
    let is_selected = {
        let me = me.clone();
        move || selected.with(|s| s.as_ref() == Some(&me))
    };
    let select = {
        let me = me.clone();
        move || on_select.run(Some(me.clone()))
    };
    let select2 = select.clone();

    let shown = {
        let p = proc.clone();
        Memo::new(move |_| store.with(|f| shown(&p, host_of(f, &p))))
    };
    let stale = move || {
        shown
            .get()
            .stale_text(clock.now())
            .map(|text| view! { <span class="stale" data-test="stale">{text}</span> })
    };

    let timing = proc.clone();
    let since_title = format!("{} since {}", proc.state, format_utc(proc.state_since));
    let uptime = move || uptime_text(&timing, shown.get(), clock.now());
    let port = proc.meta.as_ref().map(|m| m.port.to_string());
    view! {
        <tr
            data-test="proc-row"
            data-host=proc.host.clone()
            data-name=proc.name.clone()
            data-state=move || shown.get().label()
            data-last-state=proc.state.as_str()
            class="clickable"
            class:selected=is_selected
            class:is-stale=move || shown.get().is_stale()
            tabindex="0"
            on:click=crate::ev::click(move |_| select())
            on:keydown=crate::ev::keydown(move |ev| {
                if ev.key() == "Enter" {
                    select2();
                }
            })
        >
            <td>
                <ShownBadge shown=shown />
            </td>
            <td class="nowrap">{proc.host.clone()}</td>
            <td class="mono nowrap">{proc.name.clone()}</td>
            <td class="proc-description">
                {memory_note(&proc).map(|note| view! {
                    <span class="badge badge-bad" data-test="oom"
                        title="The kernel killed it for going past its memory limit (its cgroup's count since it was deployed)">
                        {note}
                    </span>
                    " "
                })}
                <span class="truncate-inline">{description(&proc).to_string()}</span>
                {stale}
            </td>
            <td class="nowrap" title=since_title>
                {uptime}
            </td>
            <td class="num mono">{port}</td>
        </tr>
    }
}
