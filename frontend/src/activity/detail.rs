//! One event in full, with buttons that narrow the list to its actor or action.

use leptos::prelude::*;
use vr_app::api::Event;

use super::ObjectLink;
use super::filters::Filters;
use crate::components::{Age, StatusBadge};
use crate::format;

#[component]
pub fn EventDetail(
    event: Event,
    filters: Filters,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let e = event;
    let outcome = e.outcome.as_str().to_string();
    let (by_actor, by_action) = (e.clone(), e.clone());
    view! {
        <aside class="card detail" data-test="event-detail">
            <div class="card-head">
                <h2>"Event " {e.id}</h2>
                <button
                    type="button"
                    class="btn btn-small"
                    aria-label="Close detail"
                    on:click=crate::ev::click(move |_| on_close.run(()))
                >
                    "Close"
                </button>
            </div>
            <dl class="facts">
                <dt>"Time"</dt>
                <dd>{format::datetime(e.at)} " (" <Age at=e.at /> ")"</dd>
                <dt>"Actor"</dt>
                <dd>{e.actor.clone()}</dd>
                <dt>"Action"</dt>
                <dd class="mono">{e.action.clone()}</dd>
                <dt>"Object"</dt>
                <dd class="mono">
                    <ObjectLink object=e.object.clone() />
                </dd>
                <dt>"Outcome"</dt>
                <dd>
                    <StatusBadge state=outcome />
                </dd>
            </dl>
            <h3>"Detail"</h3>
            <pre class="detail-text">
                {if e.detail.is_empty() { "—".to_string() } else { e.detail.clone() }}
            </pre>
            <div class="button-row">
                <button
                    type="button"
                    class="btn btn-small"
                    on:click=crate::ev::click(move |_| filters.narrow_to(&by_actor, true))
                >
                    "Only this actor"
                </button>
                <button
                    type="button"
                    class="btn btn-small"
                    on:click=crate::ev::click(move |_| filters.narrow_to(&by_action, false))
                >
                    "Only this action"
                </button>
            </div>
        </aside>
    }
}
