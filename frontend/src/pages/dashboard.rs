//! Dashboard: the server's version, who you are, and the latest activity as it happens.
//!
//! Fleet state (apps → swarms → procs) joins this page once hosts exist.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use vr_app::api::{Event, EventQuery, LiveMessage};

use crate::api;
use crate::components::StatusBadge;
use crate::format;
use crate::live::{LiveStatus, use_live};
use crate::pages::activity::merge_events;
use crate::session::use_session;

/// How many activity lines the dashboard shows.
const RECENT: usize = 10;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let session = use_session();
    let live = use_live();
    let version = LocalResource::new(api::version);

    // Re-renders the "5 min ago" times now and then.
    let tick = RwSignal::new(0u32);
    if let Ok(handle) = set_interval_with_handle(
        move || {
            let _ = tick.try_update(|t| *t = t.wrapping_add(1));
        },
        Duration::from_secs(30),
    ) {
        on_cleanup(move || handle.clear());
    }

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

    let version_text = move || match version.get() {
        None => ("…".to_string(), "…".to_string()),
        Some(Ok(v)) => (v.version, v.schema_version.to_string()),
        Some(Err(e)) => (format!("unavailable ({e})"), "unavailable".to_string()),
    };

    view! {
        <section class="page" data-test="dashboard">
            <h1>"Dashboard"</h1>
            <div class="cards">
                <div class="card">
                    <h2>"Server"</h2>
                    <dl class="facts">
                        <dt>"Version"</dt>
                        <dd id="server-version">{move || version_text().0}</dd>
                        <dt>"Schema version"</dt>
                        <dd id="schema-version">{move || version_text().1}</dd>
                        <dt>"Live updates"</dt>
                        <dd>
                            {move || match live.status() {
                                LiveStatus::Live => "connected",
                                LiveStatus::Connecting => "connecting…",
                                LiveStatus::Offline => "offline, retrying",
                            }}
                        </dd>
                    </dl>
                </div>
                <div class="card">
                    <h2>"You"</h2>
                    {move || {
                        session
                            .me()
                            .map(|me| {
                                view! {
                                    <dl class="facts">
                                        <dt>"Username"</dt>
                                        <dd id="whoami">{me.user.username}</dd>
                                        <dt>"Role"</dt>
                                        <dd>{me.user.role.as_str()}</dd>
                                        <dt>"Previous sign-in"</dt>
                                        <dd>{format::datetime_or_never(me.user.last_login_at)}</dd>
                                    </dl>
                                }
                            })
                    }}
                </div>
                <div class="card">
                    <h2>"Fleet"</h2>
                    <p class="muted">
                        "No hosts yet. Apps, swarms and procs will show here, coloured by state, once hosts can be added."
                    </p>
                </div>
            </div>

            <div class="card">
                <div class="card-head">
                    <h2>"Latest activity"</h2>
                    <A href="/activity">"All activity →"</A>
                </div>
                {move || recent_error.get().map(|e| view! { <div class="form-error">{e}</div> })}
                <ul class="event-list" data-test="recent-events">
                    {move || {
                        tick.track();
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
        </section>
    }
}
