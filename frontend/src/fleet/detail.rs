//! `ProcDetailPanel` (`#proc-detail`): the selected proc in a drawer at the right edge (on
//! screen at any width), with its state, actions and facts, its log, and its state history as
//! tabs. Escape or Close closes it, and focus goes back to the proc's row.

use crate::components::Show;
use leptos::prelude::*;
use vr_app::fleet::{Health, ProcRef};
use vr_app::fleet_view::{Shown, description, shown};

use crate::clock::use_clock;
use crate::deploys::UptestResults;
use crate::fleet::facts::ProcFacts;
use crate::fleet::health::ShownBadge;
use crate::fleet::history::ProcHistory;
use crate::fleet::log::ProcLog;
use crate::fleet::proc_actions::ProcActionButtons;
use crate::fleet::store::use_fleet;
use crate::links::host_href;
use crate::session::use_session;

/// The panel of the proc in `selected`, if any; closing sets it to none.
#[component]
pub fn ProcDetailPanel(
    #[prop(into)] selected: Signal<Option<ProcRef>>,
    on_select: Callback<Option<ProcRef>>,
) -> impl IntoView {
    // Only a different proc rebuilds the panel (and restarts its log).
    let current = Memo::new(move |_| selected.get());
    move || {
        current.get().map(|r| {
            let row = r.clone();
            let on_close = move |()| {
                on_select.run(None);
                focus_row(&row);
            };
            view! { <ProcPanel target=r on_close=on_close /> }
        })
    }
}

/// Gives focus back to the row of `target` (attributes compared, so no name needs escaping).
fn focus_row(target: &ProcRef) {
    use wasm_bindgen::JsCast;
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(rows) = doc.query_selector_all("tr[data-test=\"proc-row\"]") else {
        return;
    };
    for i in 0..rows.length() {
        let Some(el) = rows
            .get(i)
            .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        else {
            continue;
        };
        if el.get_attribute("data-host").as_deref() == Some(target.host.as_str())
            && el.get_attribute("data-name").as_deref() == Some(target.name.as_str())
        {
            let _ = el.focus();
            return;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Overview,
    Log,
    History,
}

#[component]
fn ProcPanel(target: ProcRef, #[prop(into)] on_close: Callback<()>) -> impl IntoView {
    let store = use_fleet();
    let clock = use_clock();
    let session = use_session();
    let ProcRef { host, name } = target.clone();
    let tab = RwSignal::new(Tab::Overview);
    let host_link = host_href(&host);
    let host_label = host.clone();

    let proc = {
        let (host, name) = (host.clone(), name.clone());
        Memo::new(move |_| store.proc(&host, &name))
    };
    let look = {
        let host = host.clone();
        Memo::new(move |_| {
            let h = store.host(&host);
            proc.with(|p| p.as_ref().map(|p| shown(p, h.as_ref())))
        })
    };
    let reachable = {
        let host = host.clone();
        Signal::derive(move || {
            store
                .host(&host)
                .is_some_and(|h| h.status.health == Health::Ok)
        })
    };

    // Escape closes, unless a dialog above the panel took it first.
    let esc = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && !ev.default_prevented() {
            on_close.run(());
        }
    });
    on_cleanup(move || esc.remove());

    let tab_button = move |which: Tab, id: &'static str, label: &'static str| {
        crate::components::tab_button(tab, which, id, label)
    };
    let state_line = move || {
        let p = proc.get()?;
        let s = look.get()?;
        Some(view! {
            <div class="proc-state-line">
                <ShownBadge shown=Signal::derive(move || s) />
                <span class="muted">{description(&p).to_string()}</span>
            </div>
        })
    };
    let stale = move || {
        look.get()
            .and_then(|s: Shown| s.stale_text(clock.now()))
            .map(|t| view! { <p class="stale" data-test="stale">{t}</p> })
    };
    let overview = {
        let (host, name, target) = (host.clone(), name.clone(), target.clone());
        move || {
            let facts = move || {
                match proc.get() {
                Some(p) => {
                    let s = Signal::derive(move || look.get().unwrap_or(Shown::Live(p.state)));
                    view! { <ProcFacts proc=p.clone() shown=s /> }.into_any()
                }
                None => view! {
                    <p class="notice" data-test="proc-gone">"This proc is no longer on its host."</p>
                }
                .into_any(),
            }
            };
            view! {
                <Show when=move || session.can_deploy()>
                    <ProcActionButtons target=target.clone() proc=proc />
                </Show>
                {facts}
                <h3>"Uptests"</h3>
                <UptestResults host=host.clone() program=name.clone() />
            }
        }
    };
    let body = {
        let (host, name) = (host.clone(), name.clone());
        move || match tab.get() {
            Tab::Overview => overview.clone()().into_any(),
            Tab::Log => {
                view! { <ProcLog host=host.clone() name=name.clone() reachable=reachable /> }
                    .into_any()
            }
            Tab::History => {
                view! { <ProcHistory host=host.clone() name=name.clone() proc=proc /> }.into_any()
            }
        }
    };

    view! {
        <aside
            class="card proc-drawer"
            id="proc-detail"
            role="dialog"
            aria-labelledby="proc-detail-title"
            data-host=host.clone()
            data-name=name.clone()
        >
            <div class="card-head">
                <h2 class="mono" id="proc-detail-title">{name.clone()}</h2>
                <button
                    type="button"
                    class="btn btn-small"
                    id="proc-detail-close"
                    aria-label="Close detail"
                    title="Close (Esc)"
                    on:click=crate::ev::click(move |_| on_close.run(()))
                >
                    "Close"
                </button>
            </div>
            <p>"on " <a href=host_link>{host_label}</a></p>
            {state_line}
            {stale}
            <div class="tabs" role="tablist" aria-label="Proc detail">
                {tab_button(Tab::Overview, "proc-tab-overview", "Overview")}
                {tab_button(Tab::Log, "proc-tab-log", "Log")}
                {tab_button(Tab::History, "proc-tab-history", "History")}
            </div>
            <div class="proc-drawer-body">{body}</div>
        </aside>
    }
}
