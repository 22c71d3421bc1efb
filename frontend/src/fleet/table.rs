//! `ProcGroups`: procs as one table, grouped app → swarm → proc, unmanaged last. Each row shows
//! state, host, name, description, uptime or time in state, port, and a stale marker while its
//! host cannot be polled. Clicking a row selects it.

use leptos::prelude::*;

use crate::components::EmptyRow;
use vr_app::fleet::{Health, Proc, ProcRef};
use vr_app::supervisor::ProcState;
use vr_app::time::{format_age, format_utc};

use crate::clock::use_clock;
use crate::fleet::health::StateBadge;
use crate::fleet::store::use_fleet;
use crate::format;
use vr_app::fleet_view::{AppGroup, group};

const COLUMNS: usize = 6;

/// The grouped table of `procs`; a click on a row sets `selected`.
#[component]
pub fn ProcGroups(
    #[prop(into)] procs: Signal<Vec<Proc>>,
    selected: RwSignal<Option<ProcRef>>,
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
            .map(|g| view! { <GroupRows group=g selected=selected /> })
            .collect_view()
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
fn GroupRows(group: AppGroup, selected: RwSignal<Option<ProcRef>>) -> impl IntoView {
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
                            <span class="swarm-label">{swarm.label.clone()}</span>
                            <span class="muted">{format!(" · {n} proc{}", plural(n))}</span>
                        </td>
                    </tr>
                }
            });
            let rows = swarm
                .procs
                .into_iter()
                .map(|p| view! { <ProcRow proc=p selected=selected /> })
                .collect_view();
            view! {
                {heading}
                {rows}
            }
        })
        .collect_view();
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

/// How long the proc has run, or been in its state.
pub fn uptime_text(p: &Proc, now: i64) -> String {
    match (p.state, p.started_at) {
        (ProcState::Running, Some(started)) => format!("up {}", format::span(now - started)),
        _ => format!("for {}", format::span(now - p.state_since)),
    }
}

/// The marker shown on a proc whose host could not be polled lately, or `None` while the
/// host is healthy.
pub fn stale_text(health: Health, last_seen_at: i64, now: i64) -> Option<String> {
    let age = format_age(now, last_seen_at);
    match health {
        Health::Ok => None,
        Health::Inactive => Some(format!("host inactive — last seen {age}")),
        _ => Some(format!("host unreachable — last seen {age}")),
    }
}

#[component]
fn ProcRow(proc: Proc, selected: RwSignal<Option<ProcRef>>) -> impl IntoView {
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
        move || selected.set(Some(me.clone()))
    };
    let select2 = select.clone();

    let host_name = proc.host.clone();
    let health = Memo::new(move |_| {
        store.with(|f| {
            f.hosts
                .iter()
                .find(|h| h.settings.name == host_name)
                .map_or(Health::Unknown, |h| h.status.health)
        })
    });
    let last_seen = proc.last_seen_at;
    let stale = move || {
        stale_text(health.get(), last_seen, clock.now())
            .map(|text| view! { <span class="stale" data-test="stale">{text}</span> })
    };

    let timing = proc.clone();
    let since_title = format!("{} since {}", proc.state, format_utc(proc.state_since));
    let uptime = move || uptime_text(&timing, clock.now());
    let port = proc.meta.as_ref().map(|m| m.port.to_string());
    view! {
        <tr
            data-test="proc-row"
            data-host=proc.host.clone()
            data-name=proc.name.clone()
            data-state=proc.state.as_str()
            class="clickable"
            class:selected=is_selected
            class:is-stale=move || health.get() != Health::Ok
            tabindex="0"
            on:click=move |_| select()
            on:keydown=move |ev| {
                if ev.key() == "Enter" {
                    select2();
                }
            }
        >
            <td>
                <StateBadge state=proc.state />
            </td>
            <td class="nowrap">{proc.host.clone()}</td>
            <td class="mono nowrap">{proc.name.clone()}</td>
            <td class="proc-description">
                <span class="truncate-inline">{proc.description.clone()}</span>
                {stale}
            </td>
            <td class="nowrap" title=since_title>
                {uptime}
            </td>
            <td class="num mono">{port}</td>
        </tr>
    }
}
