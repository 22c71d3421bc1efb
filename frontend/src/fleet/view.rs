//! `FleetProcs`: the one way procs are shown, on the dashboard, a host page and a squad page:
//! counts per state (stale procs apart), a filter, bulk actions on what the filter shows, the
//! grouped table and the detail panel of the selected proc. The filter (`?q=`, `?state=`) and
//! the open proc (`?proc=host/name`) live in the URL.

use crate::components::CollectAny;
use crate::components::CollectVec;
use leptos::prelude::*;
use vr_app::fleet::{Proc, ProcRef};
use vr_app::fleet_view::{ProcQuery, STALE, StateFilter, count_shown, select};
use vr_app::query::{parse_proc_param, proc_param};
use vr_app::supervisor::ProcState;

use crate::fleet::bulk::BulkActions;
use crate::fleet::detail::ProcDetailPanel;
use crate::fleet::health::state_class;
use crate::fleet::store::use_fleet;
use crate::fleet::table::ProcGroups;
use crate::route::UrlParam;

/// Every state a filter can name, MISSING included, in summary order.
fn all_states() -> Vec<ProcState> {
    let mut states: Vec<ProcState> = ProcState::ALL.to_vec();
    states.push(ProcState::Missing);
    vr_app::order::sort_by_key(&mut states, |s| s.rank());
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
    let text_param = UrlParam::new("q");
    let state_param = UrlParam::new("state");
    let proc_param_ = UrlParam::new("proc");
    // Typing is kept here and copied to the URL, so a slow navigation never undoes a keystroke.
    let text = RwSignal::new(text_param.value.get_untracked().unwrap_or_default());
    let state = Memo::new(move |_| state_param.value.get().and_then(|s| StateFilter::parse(&s)));
    let set_state = move |next: Option<StateFilter>| {
        state_param.replace(next.map(|f| f.as_str().to_string()));
    };
    let selected = Memo::new(move |_| proc_param_.value.get().and_then(|v| parse_proc_param(&v)));
    let on_select = Callback::new(move |r: Option<ProcRef>| {
        proc_param_.push(r.as_ref().map(proc_param));
    });

    let shown = Memo::new(move |_| {
        let query = ProcQuery {
            text: text.get(),
            state: state.get(),
        };
        scope.with(|procs| store.with(|fleet| select(fleet, procs, &query)))
    });
    let counts = Memo::new(move |_| scope.with(|procs| store.with(|f| count_shown(f, procs))));
    let empty_text = Signal::derive(move || {
        if !store.loaded() {
            "Loading…".to_string()
        } else if scope.with(Vec::is_empty) {
            empty.to_string()
        } else {
            "No procs match the filter.".to_string()
        }
    });

    let count_badge = move |filter: StateFilter, n: usize| {
        let active = move || state.get() == Some(filter);
        let (class, title) = match filter {
            StateFilter::Is(s) => (state_class(s), format!("Show only {s} procs")),
            StateFilter::Stale => (
                "badge badge-unknown",
                "Show only procs whose host does not answer (their state is not known now)"
                    .to_string(),
            ),
        };
        view! {
            <button
                type="button"
                class="state-count"
                class:active=active
                data-test="state-count"
                data-state=filter.as_str()
                aria-pressed=move || if active() { "true" } else { "false" }
                title=title
                on:click=crate::ev::click(move |_| set_state(if active() { None } else { Some(filter) }))
            >
                <span class=class>{filter.as_str()}</span>
                <span class="state-count-n">{n}</span>
            </button>
        }
    };
    let count_badges = move || {
        let c = counts.get();
        let stale = (c.stale > 0).then(|| count_badge(StateFilter::Stale, c.stale));
        let live = c
            .live
            .into_iter()
            .map(|(s, n)| count_badge(StateFilter::Is(s), n))
            .collect_any();
        view! {
            {live}
            {stale}
        }
    };
    let state_options = all_states()
        .into_iter()
        .map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> })
        .collect_any();
    let on_text = move |ev| {
        let value = event_target_value(&ev);
        text.set(value.clone());
        text_param.replace(Some(value));
    };

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
                    on:input=crate::ev::input(on_text)
                />
                <select
                    id="fleet-state"
                    aria-label="Only procs in state"
                    prop:value=move || state.get().map(|s| s.as_str()).unwrap_or_default()
                    on:change=crate::ev::change(move |ev| set_state(StateFilter::parse(&event_target_value(&ev))))
                >
                    <option value="">"Any state"</option>
                    {state_options}
                    <option value=STALE>"STALE (host not answering)"</option>
                </select>
                <a
                    id="fleet-logs"
                    href=move || shown.with(|ps| {
                        let names: Vec<&str> = ps.iter().map(|p| p.name.as_str()).collect_vec();
                        crate::links::logs_of_href(&names)
                    })
                >
                    "Live logs of these"
                </a>
                <span class="muted table-count" data-test="proc-count">
                    {move || {
                        let all = scope.with(Vec::len);
                        let n = shown.with(Vec::len);
                        if n == all { format!("{all} procs") } else { format!("{n} of {all} procs") }
                    }}
                </span>
            </div>
            <BulkActions procs=shown />
            <div class="card">
                <ProcGroups procs=shown selected=selected on_select=on_select empty=empty_text />
            </div>
            <ProcDetailPanel selected=selected on_select=on_select />
        </div>
    }
}
