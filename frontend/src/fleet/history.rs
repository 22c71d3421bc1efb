//! `ProcHistory`: a proc's recorded state changes, fetched again whenever it enters a new state.

use crate::busy::spawn_local;
use crate::components::CollectAny;
use leptos::prelude::*;
use vr_app::fleet::{Proc, StateChange};
use vr_app::time::{format_age, format_utc};

use crate::api;
use crate::clock::use_clock;
use crate::fleet::health::StateBadge;

#[component]
pub fn ProcHistory(host: String, name: String, proc: Memo<Option<Proc>>) -> impl IntoView {
    let clock = use_clock();
    let history = RwSignal::new(Vec::<StateChange>::new());
    let error = RwSignal::new(None::<String>);
    let state_key = Memo::new(move |_| proc.with(|p| p.as_ref().map(|p| (p.state, p.state_since))));
    crate::effects::on_change(
        move || state_key.get(),
        move || {
            let (host, name) = (host.clone(), name.clone());
            spawn_local(async move {
                match api::fleet::proc_detail(&host, &name).await {
                    Ok(detail) => {
                        let _ = history.try_set(detail.history);
                        let _ = error.try_set(None);
                    }
                    Err(e) => {
                        let _ = error.try_set(Some(e.into_message()));
                    }
                }
            });
        },
        true,
    );
    let rows = move || {
        let list = history.get();
        if list.is_empty() {
            return view! { <li class="muted">"No changes recorded."</li> }.into_any();
        }
        list.into_iter()
            .map(|c| {
                view! {
                    <li data-state=c.state.as_str()>
                        <span class="nowrap muted" title=format_utc(c.at)>
                            {move || format_age(clock.now(), c.at)}
                        </span>
                        " "
                        <StateBadge state=c.state />
                        " "
                        <span class="muted">{c.description.clone()}</span>
                    </li>
                }
            })
            .collect_any()
            .into_any()
    };
    view! {
        {move || error.get().map(|e| view! { <p class="field-error">{e}</p> })}
        <ul class="state-history" data-test="proc-history">
            {rows}
        </ul>
    }
}
