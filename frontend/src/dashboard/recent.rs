//! The dashboard's "Latest activity" block: the newest activity lines, as they happen.

use crate::components::CollectAny;
use leptos::prelude::*;
use vr_app::api::{Event, EventQuery, LiveMessage};
use vr_app::live::merge_event;

use crate::api;
use crate::clock::use_clock;
use crate::components::{Age, StatusBadge};
use crate::format;
use crate::live::LiveData;

/// How many activity lines the dashboard shows.
const RECENT: usize = 8;

#[component]
pub fn RecentActivity() -> impl IntoView {
    let clock = use_clock();
    let query = EventQuery {
        limit: Some(RECENT as u32),
        ..Default::default()
    };
    let fetch = {
        let query = query.clone();
        move || {
            let query = query.clone();
            api::events(&query)
        }
    };
    let data = LiveData::follow(
        Vec::new(),
        fetch,
        move |list: &mut Vec<Event>, m: &LiveMessage| merge_event(list, m, &query, RECENT),
    );
    let recent = data.signal();
    let recent_error = Signal::derive(move || data.error_text());

    view! {
        <div class="card">
            <div class="card-head">
                <h2>"Latest activity"</h2>
                <a href="/activity">"All activity →"</a>
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
                                        <span class="event-time">
                                            <Age at=e.at title=format::datetime(e.at) />
                                        </span>
                                        <span class="event-actor">{e.actor}</span>
                                        <span class="event-action mono">{e.action}</span>
                                        <span class="event-object">{e.object}</span>
                                        <StatusBadge state=outcome />
                                    </li>
                                }
                            })
                            .collect_any()
                            .into_any()
                    }
                }}
            </ul>
        </div>
    }
}
