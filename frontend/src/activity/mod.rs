//! Activity log: every change with who made it, filterable, paged backwards, updated live.
//!
//! Filters (actor, action prefix, free text) are applied by the server; new events from the live
//! channel are added when they match the filters in force ([`filters`], kept in the URL).
//! Clicking a row shows its detail ([`detail`]).

mod detail;
mod filters;

use crate::busy::spawn_local;
use crate::components::Show;
use leptos::prelude::*;
use vr_app::api::{Event, EventQuery, LiveMessage};
use vr_app::live::{Merge, event_matches, merge_events};

use crate::api;
use crate::components::{Column, DataTable, SortKey, StatusBadge};
use crate::format;
use crate::links::object_href;
use crate::live::LiveData;
use detail::EventDetail;
use filters::{FilterForm, Filters};

/// Lines fetched per page.
const PAGE: u32 = 50;

#[component]
pub fn ActivityPage() -> impl IntoView {
    crate::route::title(|| "Activity".to_string());
    let filters = Filters::from_url();
    let applied = filters.applied;

    let exhausted = RwSignal::new(false);
    let selected = RwSignal::new(None::<Event>);
    // The newest page under the filters in force, with live events that match them (also
    // those arriving while it is fetched); older pages are added below it on demand.
    let events = LiveData::follow(
        Vec::<Event>::new(),
        move || {
            let query = EventQuery {
                before: None,
                limit: Some(PAGE),
                ..applied.try_get_untracked().unwrap_or_default()
            };
            async move {
                let page = api::events(&query).await?;
                let _ = exhausted.try_set(page.len() < PAGE as usize);
                Ok(page)
            }
        },
        move |list, message| match message {
            LiveMessage::Event { event }
                if applied
                    .try_with_untracked(|q| event_matches(q, event))
                    .unwrap_or(false) =>
            {
                merge_events(list, vec![event.clone()]);
                Merge::Applied
            }
            _ => Merge::Ignored,
        },
    );
    // A new filter starts over from the newest line.
    crate::effects::on_change(
        move || applied.get(),
        move || {
            exhausted.set(false);
            events.restart(Vec::new());
        },
        false,
    );

    let older_loading = RwSignal::new(false);
    let older_error = RwSignal::new(None::<String>);
    let load_older = move |_| {
        let Some(oldest) = events.with_untracked(|list| list.iter().map(|e| e.id).min()) else {
            return;
        };
        let filter = applied.get_untracked();
        let query = EventQuery {
            before: Some(oldest),
            limit: Some(PAGE),
            ..filter.clone()
        };
        older_loading.set(true);
        spawn_local(async move {
            let result = api::events(&query).await;
            let _ = older_loading.try_set(false);
            // A page of a filter no longer in force is dropped.
            if applied.try_get_untracked() != Some(filter) {
                return;
            }
            match result {
                Ok(page) => {
                    let _ = older_error.try_set(None);
                    let _ = exhausted.try_set(page.len() < PAGE as usize);
                    events.update(|list| merge_events(list, page));
                }
                Err(e) => {
                    let _ = older_error.try_set(Some(e.into_message()));
                }
            }
        });
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

            {move || {
                events
                    .error_text()
                    .or_else(|| older_error.get())
                    .map(|e| view! { <div class="form-error" role="alert">{e}</div> })
            }}

            <div class="split" class:has-detail=move || selected.with(Option::is_some)>
                <div class="card">
                    <DataTable
                        rows=events.signal()
                        columns=columns
                        loading=Signal::derive(move || !events.loaded())
                        filterable=false
                        empty="No activity matches."
                        on_row_click=move |e: &Event| selected.set(Some(e.clone()))
                        row_class=move |e: &Event| {
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
                                disabled=move || older_loading.get() || events.with(Vec::is_empty)
                                on:click=crate::ev::click(load_older)
                            >
                                {crate::components::flag_text(older_loading, "Loading…", "Load older")}
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
            <a href=href on:click=crate::ev::click(|ev| ev.stop_propagation())>
                {object}
            </a>
        }
        .into_any(),
        None => view! { <span>{object}</span> }.into_any(),
    }
}
