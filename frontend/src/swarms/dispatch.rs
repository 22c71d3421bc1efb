//! `/dispatches/:id`: one dispatch — what it was asked, its plan (what starts where on which
//! port, what is kept, what retires), its steps as they happen, its deploys, and Cancel.

use crate::components::CollectAny;
use crate::components::CollectVec;
use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::live::replace_record;
use vr_app::swarm::Dispatch;
use vr_app::time::format_utc;

use crate::api;
use crate::busy::spawn_busy;
use crate::components::{
    Fact, Facts, MissingNotice, NumberedPage, StatusBadge, StepLine, StepList,
    numbered_missing_text, use_toasts,
};
use crate::links::{build_href, deploy_href, release_href, swarm_href};
use crate::live::LiveData;
use crate::session::use_session;

#[component]
pub fn DispatchPage() -> impl IntoView {
    view! {
        <NumberedPage
            kind="Dispatch"
            back=("/swarms", "Swarms")
            test="dispatch"
            view=|id| view! { <DispatchView id=id /> }.into_any()
        />
    }
}

#[component]
fn DispatchView(id: i64) -> impl IntoView {
    let dispatch = LiveData::follow(
        None,
        move || async move { api::swarm::get_dispatch(id).await.map(Some) },
        move |slot: &mut Option<Dispatch>, message: &LiveMessage| match message {
            LiveMessage::Dispatch { dispatch } => replace_record(slot, dispatch, |d| d.id, id),
            _ => vr_app::live::Merge::Ignored,
        },
    );
    let steps = Signal::derive(move || {
        dispatch.with(|d| {
            d.iter()
                .flat_map(|d| &d.steps)
                .map(StepLine::from)
                .collect_vec()
        })
    });
    let running =
        Signal::derive(move || dispatch.with(|d| d.as_ref().is_some_and(|d| d.status.in_flight())));
    let present = Memo::new(move |_| dispatch.with(Option::is_some));
    move || {
        if !present.get() {
            let text = numbered_missing_text("dispatch", id, dispatch.error());
            return view! { <MissingNotice test="dispatch-missing" text=text /> }.into_any();
        }
        view! {
            <DispatchHead current=dispatch.signal() />
            <div class="card">
                <h2>"Steps"</h2>
                <StepList steps=steps running=running test="dispatch-steps" />
            </div>
        }
        .into_any()
    }
}

#[component]
fn DispatchHead(current: Signal<Option<Dispatch>>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let busy = RwSignal::new(false);
    move || {
        current.get().map(|d| {
            let id = d.id;
            let cancel = (d.status.in_flight() && session.can_deploy()).then(|| {
                view! {
                    <button
                        type="button"
                        class="btn btn-danger"
                        id="dispatch-cancel"
                        disabled=move || busy.get()
                        on:click=crate::ev::click(move |_| {
                            spawn_busy(busy, async move {
                                if let Err(e) = api::swarm::cancel(id).await {
                                    toasts.error(e.into_message());
                                }
                            })
                        })
                    >
                        "Cancel"
                    </button>
                }
            });
            let error = d.error.clone().map(|e| {
                view! { <pre class="form-error value-block" role="alert" id="dispatch-error">{e}</pre> }
            });
            let deploys = d
                .deploys
                .iter()
                .map(|n| view! { <a href=deploy_href(*n)>{format!("#{n} ")}</a> })
                .collect_any();
            let facts = vec![
                Fact::view("Swarm", view! { <a href=swarm_href(d.swarm_id) id="dispatch-swarm">{d.swarm.clone()}</a> }),
                Fact::mono("Version", d.version.clone()),
                Fact::view("Build", d.build_id.map(|b| view! { <a href=build_href(b)>{format!("#{b}")}</a> })),
                Fact::view("Release", d.release_id.map(|r| view! { <a href=release_href(r)>{format!("#{r}")}</a> })),
                Fact::view("Deploys", deploys),
                Fact::text(
                    "Changes",
                    d.changes.iter().map(|c| format!("{}: {} → {}", c.field, c.before, c.after)).collect_vec().join("; "),
                ),
                Fact::text("Short of room", d.short.to_string()),
                Fact::text("Requested by", format!("{} at {}", d.requested_by, format_utc(d.created_at))),
            ];
            let plan = d.plan.clone().map(|p| {
                let lines = p
                    .start
                    .iter()
                    .map(|s| format!("start on {} port {}", s.host, s.port))
                    .chain(p.keep.iter().map(|k| format!("keep {} on {}", k.name, k.host)))
                    .chain(p.retire.iter().map(|r| format!("retire {} on {}", r.name, r.host)))
                    .map(|line| view! { <li data-test="plan-line">{line}</li> })
                    .collect_any();
                view! {
                    <div class="card" id="dispatch-plan">
                        <h2>{if d.dry_run { "Plan (dry run: nothing was changed)" } else { "Plan" }}</h2>
                        <ul>{lines}</ul>
                    </div>
                }
            });
            view! {
                <div class="title-row">
                    <h1 id="dispatch-title">{format!("Dispatch #{id}")}</h1>
                    <span id="dispatch-status" data-status=d.status.as_str()>
                        <StatusBadge state=d.status.as_str().to_string() />
                    </span>
                    {cancel}
                </div>
                {error}
                <div class="card">
                    <Facts facts=facts test="dispatch-facts" />
                </div>
                {plan}
            }
        })
    }
}
