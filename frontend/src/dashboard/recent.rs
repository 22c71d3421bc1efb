//! The dashboard's "Latest activity" block: the newest activity lines, as they happen.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use vr_app::api::{Event, EventQuery, LiveMessage};

use crate::activity::merge_events;
use crate::api;
use crate::clock::use_clock;
use crate::components::StatusBadge;
use crate::format;
use crate::live::use_live;

/// How many activity lines the dashboard shows.
const RECENT: usize = 8;

#[component]
pub fn RecentActivity() -> impl IntoView {
    let live = use_live();
    let clock = use_clock();
    let recent = RwSignal::new(Vec::<Event>::new());
    let recent_error = RwSignal::new(None::<String>);
    let load_recent = move || {
        spawn_local(async move {
            let query = EventQuery {
                limit: Some(RECENT as u32),
                ..Default::default()
            };
            match api::events(&query).await {
                Ok(events) => {
                    let _ = recent.try_update(|list| {
                        merge_events(list, events);
                        list.truncate(RECENT);
                    });
                    let _ = recent_error.try_set(None);
                }
                Err(e) => {
                    let _ = recent_error.try_set(Some(e.message));
                }
            }
        });
    };
    // Load now, and again whenever the live channel (re)opens: events may have been missed.
    load_recent();
    Effect::watch(move || live.opens(), move |_, _, _| load_recent(), false);
    live.subscribe(move |message| {
        if let LiveMessage::Event { event } = message {
            recent.update(|list| {
                merge_events(list, vec![event.clone()]);
                list.truncate(RECENT);
            });
        }
    });

    view! {
        <div class="card">
            <div class="card-head">
                <h2>"Latest activity"</h2>
                <A href="/activity">"All activity →"</A>
            </div>
            {move || recent_error.get().map(|e| view! { <div class="form-error">{e}</div> })}
            <ul class="event-list" data-test="recent-events">
                {move || {
                    clock.now();
                    let list = recent.get();
                    if list.is_empty() {
                        view! { <li class="empty">"No activity yet."</li> }.into_any()
                    } else {
                        list.into_iter()
                            .map(|e| {
                                let outcome = e.outcome.as_str().to_string();
                                view! {
                                    <li class="event-line" data-event-id=e.id>
                                        <span class="event-time" title=format::datetime(e.at)>
                                            {format::ago(e.at)}
                                        </span>
                                        <span class="event-actor">{e.actor}</span>
                                        <span class="event-action mono">{e.action}</span>
                                        <span class="event-object">{e.object}</span>
                                        <StatusBadge state=outcome />
                                    </li>
                                }
                            })
                            .collect_view()
                            .into_any()
                    }
                }}
            </ul>
        </div>
    }
}
