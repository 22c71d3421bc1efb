//! `FleetProcs`: the one way procs are shown, on the dashboard, a host page and a squad page:
//! counts per state, a filter, bulk actions on what the filter shows, the grouped table and
//! the detail panel of the selected proc.

use leptos::prelude::*;
use vr_app::fleet::{Proc, ProcRef, count_states};
use vr_app::supervisor::ProcState;

use crate::fleet::bulk::BulkActions;
use crate::fleet::detail::ProcDetailPanel;
use crate::fleet::health::state_class;
use crate::fleet::store::use_fleet;
use crate::fleet::table::ProcGroups;
use vr_app::fleet_view::{ProcQuery, select};

/// Every state a filter can name, MISSING included, in summary order.
fn all_states() -> Vec<ProcState> {
    let mut states: Vec<ProcState> = ProcState::ALL.to_vec();
    states.push(ProcState::Missing);
    states.sort_by_key(|s| s.rank());
    states
}

/// Procs of `scope` with filter, counts, bulk actions and detail.
#[component]
pub fn FleetProcs(
    /// The procs this page is about (all, a host's, a squad's).
    #[prop(into)]
    scope: Signal<Vec<Proc>>,
    /// Shown when the scope has no procs at all.
    #[prop(default = "No procs.")]
    empty: &'static str,
) -> impl IntoView {
    let store = use_fleet();
    let text = RwSignal::new(String::new());
    let state = RwSignal::new(None::<ProcState>);
    let selected = RwSignal::new(None::<ProcRef>);

    let shown = Memo::new(move |_| {
        let query = ProcQuery {
            text: text.get(),
            state: state.get(),
        };
        scope.with(|procs| store.with(|fleet| select(fleet, procs, &query)))
    });
    let counts = Memo::new(move |_| scope.with(|procs| count_states(procs.iter())));
    let empty_text = Signal::derive(move || {
        if !store.loaded() {
            "Loading…".to_string()
        } else if scope.with(Vec::is_empty) {
            empty.to_string()
        } else {
            "No procs match the filter.".to_string()
        }
    });

    let count_badges = move || {
        counts
            .get()
            .into_iter()
            .map(|(s, n)| {
                let active = move || state.get() == Some(s);
                view! {
                    <button
                        type="button"
                        class="state-count"
                        class:active=active
                        data-test="state-count"
                        data-state=s.as_str()
                        aria-pressed=move || if active() { "true" } else { "false" }
                        title=format!("Show only {s} procs")
                        on:click=move |_| {
                            state.update(|cur| *cur = if *cur == Some(s) { None } else { Some(s) })
                        }
                    >
                        <span class=state_class(s)>{s.as_str()}</span>
                        <span class="state-count-n">{n}</span>
                    </button>
                }
            })
            .collect_view()
    };
    let state_options = all_states()
        .into_iter()
        .map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> })
        .collect_view();

    view! {
        <div class="fleet-procs" data-test="fleet-procs">
            <div class="state-counts" data-test="state-counts">
                {count_badges}
            </div>
            <div class="table-tools">
                <input
                    id="fleet-filter"
                    type="search"
                    class="table-filter"
                    placeholder="Filter by name, host, squad, state, app, config…"
                    aria-label="Filter procs"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                />
                <select
                    id="fleet-state"
                    aria-label="Only procs in state"
                    prop:value=move || state.get().map(|s| s.as_str()).unwrap_or_default()
                    on:change=move |ev| state.set(ProcState::parse_any(&event_target_value(&ev)))
                >
                    <option value="">"Any state"</option>
                    {state_options}
                </select>
                <span class="muted table-count" data-test="proc-count">
                    {move || {
                        let all = scope.with(Vec::len);
                        let n = shown.with(Vec::len);
                        if n == all { format!("{all} procs") } else { format!("{n} of {all} procs") }
                    }}
                </span>
            </div>
            <BulkActions procs=shown />
            <div class="split wide-detail" class:has-detail=move || selected.with(Option::is_some)>
                <div class="card">
                    <ProcGroups procs=shown selected=selected empty=empty_text />
                </div>
                <ProcDetailPanel selected=selected />
            </div>
        </div>
    }
}
