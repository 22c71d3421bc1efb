//! Activity log: every change with who made it, filterable, paged backwards, updated live.
//!
//! Filters (actor, action prefix, free text) are applied by the server; new events from the live
//! channel are added when they match the filters in force. Clicking a row shows its detail.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use vr_app::api::{Event, EventQuery, LiveMessage};
use vr_app::live::{event_matches, merge_events};
use vr_app::query::query_string;

use crate::api;
use crate::components::{Column, DataTable, SortKey, StatusBadge};
use crate::format;
use crate::links::object_href;
use crate::live::use_live;
use crate::route::UrlParam;

/// Lines fetched per page.
const PAGE: u32 = 50;

fn non_empty(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[component]
pub fn ActivityPage() -> impl IntoView {
    crate::route::title(|| "Activity".to_string());
    let live = use_live();

    // The filters in force live in the URL (`?actor=&action=&q=`); the inputs follow it (Back).
    let (url_actor, url_action, url_text) = (
        UrlParam::new("actor"),
        UrlParam::new("action"),
        UrlParam::new("q"),
    );
    let applied = Memo::new(move |_| EventQuery {
        actor: url_actor.value.get(),
        action: url_action.value.get(),
        q: url_text.value.get(),
        ..Default::default()
    });
    let actor = RwSignal::new(String::new());
    let action = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    Effect::new(move || {
        let q = applied.get();
        actor.set(q.actor.unwrap_or_default());
        action.set(q.action.unwrap_or_default());
        text.set(q.q.unwrap_or_default());
    });
    let navigate = use_navigate();
    let set_applied = Callback::new(move |q: EventQuery| {
        let query = query_string([
            ("actor", q.actor.as_deref().unwrap_or_default()),
            ("action", q.action.as_deref().unwrap_or_default()),
            ("q", q.q.as_deref().unwrap_or_default()),
        ]);
        navigate(&format!("/activity{query}"), NavigateOptions::default());
    });

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

    let apply = move |ev: SubmitEvent| {
        ev.prevent_default();
        set_applied.run(EventQuery {
            actor: non_empty(actor.get_untracked()),
            action: non_empty(action.get_untracked()),
            q: non_empty(text.get_untracked()),
            ..Default::default()
        });
    };
    let clear = move |_| set_applied.run(EventQuery::default());
    let load_older = move |_| {
        let oldest = events.with_untracked(|list| list.iter().map(|e| e.id).min());
        if let Some(oldest) = oldest {
            fetch(Some(oldest), false);
        }
    };
    // Narrow the filters to the selected event's actor or action.
    let filter_by = move |set_actor: bool| {
        if let Some(e) = selected.get_untracked() {
            if set_actor {
                actor.set(e.actor.clone());
            } else {
                action.set(e.action.clone());
            }
            set_applied.run(EventQuery {
                actor: non_empty(actor.get_untracked()),
                action: non_empty(action.get_untracked()),
                q: non_empty(text.get_untracked()),
                ..Default::default()
            });
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
            <form class="card filters" on:submit=apply data-test="activity-filters">
                <div class="field">
                    <label for="filter-actor">"Actor"</label>
                    <input
                        id="filter-actor"
                        type="text"
                        placeholder="username or system"
                        prop:value=move || actor.get()
                        on:input=move |ev| actor.set(event_target_value(&ev))
                    />
                </div>
                <div class="field">
                    <label for="filter-action">"Action starts with"</label>
                    <input
                        id="filter-action"
                        type="text"
                        placeholder="e.g. user."
                        prop:value=move || action.get()
                        on:input=move |ev| action.set(event_target_value(&ev))
                    />
                </div>
                <div class="field grow">
                    <label for="filter-q">"Text"</label>
                    <input
                        id="filter-q"
                        type="search"
                        placeholder="in object or detail"
                        prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))
                    />
                </div>
                <div class="filter-actions">
                    <button type="submit" class="btn btn-primary" id="filter-apply">
                        "Apply"
                    </button>
                    <button type="button" class="btn" id="filter-clear" on:click=clear>
                        "Clear"
                    </button>
                </div>
            </form>

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
                            let outcome = e.outcome.as_str().to_string();
                            view! {
                                <aside class="card detail" data-test="event-detail">
                                    <div class="card-head">
                                        <h2>"Event " {e.id}</h2>
                                        <button
                                            type="button"
                                            class="btn btn-small"
                                            aria-label="Close detail"
                                            on:click=move |_| selected.set(None)
                                        >
                                            "Close"
                                        </button>
                                    </div>
                                    <dl class="facts">
                                        <dt>"Time"</dt>
                                        <dd>{format::datetime(e.at)} " (" {format::ago(e.at)} ")"</dd>
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
                                        <button type="button" class="btn btn-small" on:click=move |_| filter_by(true)>
                                            "Only this actor"
                                        </button>
                                        <button type="button" class="btn btn-small" on:click=move |_| filter_by(false)>
                                            "Only this action"
                                        </button>
                                    </div>
                                </aside>
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
