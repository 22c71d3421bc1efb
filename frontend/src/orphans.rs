//! `/orphans`: procs vr deployed for a swarm that no longer owns them (deleted, or its app,
//! proc, config name or squad changed), why each is one, and "Clean up": drain them from any
//! pool and destroy them, after a confirmation that lists them.

use crate::components::CollectVec;
use crate::components::Show;
use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::fleet::{ProcActionReport, ProcRef};
use vr_app::live::Merge;
use vr_app::orphans::{CleanRequest, Orphan, paths};

use crate::api;
use crate::busy::spawn_busy;
use crate::components::{Column, ConfirmDialog, DataTable, use_toasts};
use crate::links::{host_href, swarm_href};
use crate::live::LiveData;
use crate::session::use_session;

/// Orphans change with the fleet and with swarms.
fn refetch_on_news<T>(_: &mut T, message: &LiveMessage) -> Merge {
    match message {
        LiveMessage::Host { .. }
        | LiveMessage::HostRemoved { .. }
        | LiveMessage::Fleet
        | LiveMessage::Swarms => Merge::Refetch,
        _ => Merge::Ignored,
    }
}

fn fetch() -> api::Reply<Vec<Orphan>> {
    api::get(paths::ORPHANS)
}

#[component]
pub fn OrphansPage() -> impl IntoView {
    crate::route::title(|| "Orphans".to_string());
    let session = use_session();
    let toasts = use_toasts();
    let list = LiveData::follow(Vec::new(), fetch, refetch_on_news);
    let asking = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let clean = move |()| {
        let req = CleanRequest {
            procs: list.with_untracked(|l| {
                l.iter()
                    .map(|o| ProcRef {
                        host: o.host.clone(),
                        name: o.name.clone(),
                    })
                    .collect_vec()
            }),
        };
        spawn_busy(busy, async move {
            match api::post::<_, ProcActionReport>(paths::CLEAN, &req).await {
                Ok(r) => {
                    let bad = r.results.iter().filter(|r| !r.ok).count();
                    if bad == 0 {
                        toasts.success(format!("{} orphan(s) cleaned up.", r.results.len()));
                    } else {
                        toasts.error(format!(
                            "{bad} of {} orphan(s) could not be cleaned up.",
                            r.results.len()
                        ));
                    }
                }
                Err(e) => toasts.error(e.into_message()),
            }
            list.reload();
            let _ = asking.try_set(false);
        });
    };
    let columns = vec![
        Column::new("Host", |o: &Orphan| o.host.clone())
            .cell(|o: &Orphan| view! { <a href=host_href(&o.host)>{o.host.clone()}</a> }),
        Column::new("Proc", |o: &Orphan| o.name.clone()).class("mono"),
        Column::new("Port", |o: &Orphan| o.port.to_string()).class("num"),
        Column::new("State", |o: &Orphan| o.state.as_str().to_string()),
        Column::new("Made for", |o: &Orphan| o.swarm.clone())
            .cell(|o: &Orphan| view! { <a href=swarm_href(o.swarm_id)>{o.swarm.clone()}</a> }),
        Column::new("Why", |o: &Orphan| o.why.clone()),
    ];
    view! {
        <section class="page" data-test="orphans">
            <div class="title-row">
                <h1>"Orphans"</h1>
                <Show when=move || session.can_deploy() && list.with(|l| !l.is_empty())>
                    <button type="button" class="btn btn-danger" id="orphans-clean"
                        disabled=move || busy.get() on:click=crate::ev::click(move |_| asking.set(true))>
                        {move || format!("Clean up {} orphan(s)", list.with(Vec::len))}
                    </button>
                </Show>
            </div>
            <p class="muted">
                "Procs vr deployed for a swarm that no longer owns them. Their ports stay taken until they are gone."
            </p>
            {move || list.error_text().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
            <div class="card">
                <DataTable
                    rows=list.signal()
                    columns=columns
                    empty="No orphans."
                    loading=Signal::derive(move || !list.loaded())
                    row_attrs=|o: &Orphan| vec![("data-test", "orphan-row".to_string()), ("data-name", o.name.clone())]
                    test_id="orphans-table"
                />
            </div>
            <ConfirmDialog
                open=asking
                title=Signal::derive(move || format!("Clean up {} orphan(s)?", list.with(Vec::len)))
                message="Each leaves any pool it is in, then is stopped and its files deleted (the procs listed above)."
                confirm_label="Clean up"
                danger=true
                busy=busy
                on_confirm=clean
                on_cancel=move |()| asking.set(false)
            />
        </section>
    }
}
