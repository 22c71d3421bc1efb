//! Activity log: every change with who made it, filterable, paged backwards, updated live.
//!
//! Filters (actor, action prefix, free text) are applied by the server; new events from the live
//! channel are added when they match the filters in force ([`filters`], kept in the URL).
//! Clicking a row shows its detail ([`detail`]).

mod detail;
mod filters;

use crate::busy::spawn_local;
use leptos::prelude::*;
use vr_app::api::{Event, EventQuery, LiveMessage};
use vr_app::live::{event_matches, merge_events};

use crate::api;
use crate::components::{Column, DataTable, SortKey, StatusBadge};
use crate::format;
use crate::links::object_href;
use crate::live::use_live;
use detail::EventDetail;
use filters::{FilterForm, Filters};

/// Lines fetched per page.
const PAGE: u32 = 50;

#[component]
pub fn ActivityPage() -> impl IntoView {
    crate::route::title(|| "Activity".to_string());
    let live = use_live();

    let filters = Filters::from_url();
    let applied = filters.applied;

    let events = RwSignal::new(Vec::<Event>::new());
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let exhausted = RwSignal::new(false);
    let selected = RwSignal::new(None::<Event>);
    // Answers to an older filter are dropped when they arrive late.
    let generation = StoredValue::new(0u64);

    // Fetches a page: the newest (`before: None`) or the one below the oldest shown.
    let fetch = move |before: Option<i64>, reset: bool| {
        let query = EventQuery {
            before,
            limit: Some(PAGE),
            ..applied.get_untracked()
        };
        if reset {
            generation.update_value(|g| *g += 1);
        }
        let asked_in = generation.get_value();
        loading.set(true);
        spawn_local(async move {
            let result = api::events(&query).await;
            if generation.try_get_value() != Some(asked_in) {
                return;
            }
            let _ = loading.try_set(false);
            match result {
                Ok(page) => {
                    let _ = error.try_set(None);
                    if before.is_some() || reset {
                        let _ = exhausted.try_set(page.len() < PAGE as usize);
                    }
                    let _ = events.try_update(|list| {
                        if reset {
                            list.clear();
                        }
                        merge_events(list, page);
                    });
                }
                Err(e) => {
                    let _ = error.try_set(Some(e.message));
                }
            }
        });
    };

    // A new filter starts over from the newest line.
    // Fetched once the live channel is open, so no event falls between the answer and the
    // channel; again after a reconnection (events may have been missed) and on a new filter.
    Effect::new(move || {
        applied.track();
        if live.opens() > 0 {
            fetch(None, true);
        }
    });
    live.subscribe(move |message| {
        if let LiveMessage::Event { event } = message
            && applied.with_untracked(|q| event_matches(q, event))
        {
            events.update(|list| merge_events(list, vec![event.clone()]));
        }
    });

    let load_older = move |_| {
        let oldest = events.with_untracked(|list| list.iter().map(|e| e.id).min());
        if let Some(oldest) = oldest {
            fetch(Some(oldest), false);
        }
    };
    let columns = vec![
        Column::new("Time", |e: &Event| format::datetime(e.at))
            .sort_by(|e: &Event| SortKey::Int(e.id))
            .class("nowrap mono"),
        Column::new("Actor", |e: &Event| e.actor.clone()),
        Column::new("Action", |e: &Event| e.action.clone()).class("mono"),
        Column::new("Object", |e: &Event| e.object.clone())
            .cell(|e: &Event| view! { <ObjectLink object=e.object.clone() /> }),
        Column::new("Outcome", |e: &Event| e.outcome.as_str().to_string())
            .cell(|e: &Event| view! { <StatusBadge state=e.outcome.as_str().to_string() /> }),
        Column::new("Detail", |e: &Event| e.detail.clone())
            .class("truncate")
            .unsorted(),
    ];

    view! {
        <section class="page" data-test="activity">
            <h1>"Activity"</h1>
            <FilterForm filters=filters />

            {move || error.get().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}

            <div class="split" class:has-detail=move || selected.with(Option::is_some)>
                <div class="card">
                    <DataTable
                        rows=events
                        columns=columns
                        filterable=false
                        empty="No activity matches."
                        on_row_click=move |e: Event| selected.set(Some(e))
                        row_class=move |e: Event| {
                            if selected.with(|s| s.as_ref().is_some_and(|s| s.id == e.id)) {
                                "selected".to_string()
                            } else {
                                String::new()
                            }
                        }
                        test_id="events-table"
                    />
                    <div class="table-footer">
                        <Show
                            when=move || !exhausted.get()
                            fallback=|| view! { <span class="muted">"End of the log."</span> }
                        >
                            <button
                                type="button"
                                class="btn"
                                id="load-older"
                                disabled=move || loading.get() || events.with(Vec::is_empty)
                                on:click=load_older
                            >
                                {move || if loading.get() { "Loading…" } else { "Load older" }}
                            </button>
                        </Show>
                    </div>
                </div>
                {move || {
                    selected
                        .get()
                        .map(|e| {
                            view! {
                                <EventDetail
                                    event=e
                                    filters=filters
                                    on_close=move |()| selected.set(None)
                                />
                            }
                        })
                }}
            </div>
        </section>
    }
}

/// An event's object, as a link to its page when it has one.
#[component]
fn ObjectLink(object: String) -> impl IntoView {
    match object_href(&object) {
        Some(href) => view! {
            <a href=href on:click=|ev| ev.stop_propagation()>
                {object}
            </a>
        }
        .into_any(),
        None => view! { <span>{object}</span> }.into_any(),
    }
}
