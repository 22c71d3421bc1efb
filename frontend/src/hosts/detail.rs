//! `/hosts/:name`: one host: its status, host key, a connection test, quick actions, its
//! settings, and its procs shown like the dashboard's.

use crate::components::CollectVec;
use leptos::prelude::*;
use vr_app::fleet::Host;
use vr_app::time::{format_age, format_utc};

use crate::clock::use_clock;
use crate::components::MissingNotice;
use crate::fleet::{FleetProcs, HealthBadge, use_fleet};
use crate::hosts::edit::HostEditForm;
use crate::hosts::key::HostKey;
use crate::hosts::quick::QuickActions;
use crate::hosts::test::ConnectionTest;
use crate::links::squad_href;
use crate::session::use_session;

#[component]
pub fn HostPage() -> impl IntoView {
    let store = use_fleet();
    let session = use_session();
    let name = crate::route::name_param();
    crate::route::title(move || format!("{} · Host", name.get()));
    let host = Memo::new(move |_| store.host(&name.get()));
    let host_signal = Signal::derive(move || host.get());
    // The edit form is built once per host (not on every poll), so typing is never undone.
    let host_id = Memo::new(move |_| host.with(|h| h.as_ref().map(|h| h.id)));
    let procs = Memo::new(move |_| {
        let name = name.get();
        store.with(|f| {
            f.procs
                .iter()
                .filter(|p| p.host == name)
                .cloned()
                .collect_vec()
        })
    });

    let body = move || {
        if host_id.get().is_none() {
            let text = if store.loaded() {
                format!("There is no host named {}.", name.get())
            } else {
                "Loading…".to_string()
            };
            return view! { <MissingNotice test="host-missing" text=text /> }.into_any();
        }
        let editable = session.can_deploy();
        let form = editable.then(|| {
            host.get_untracked()
                .map(|h| view! { <HostEditForm host=h /> })
        });
        view! {
            <div class="cards">
                <HostStatusCard host=host_signal />
                <HostKey host=host_signal />
                <ConnectionTest name=name />
            </div>
            {editable.then(|| view! { <QuickActions host=host_signal /> })}
            <div class="card">
                <h2>"Procs"</h2>
                <FleetProcs scope=procs empty="No procs on this host." />
            </div>
            {form}
        }
        .into_any()
    };

    view! {
        <section class="page" data-test="host" data-name=move || name.get()>
            <p>
                <a href="/hosts">"← Hosts"</a>
            </p>
            <div class="title-row">
                <h1 id="host-title">{move || name.get()}</h1>
                {move || {
                    host.get().map(|h| view! { <HealthBadge status=h.status /> })
                }}
            </div>
            {body}
        </section>
    }
}

/// Health, the last error and contact times, and how the host is reached.
#[component]
fn HostStatusCard(#[prop(into)] host: Signal<Option<Host>>) -> impl IntoView {
    let clock = use_clock();
    let dash = || "—".to_string();
    let when = move |at: Option<i64>| match at {
        Some(t) => format!("{} ({})", format_utc(t), format_age(clock.now(), t)),
        None => "never".to_string(),
    };
    move || {
        host.get().map(|h| {
            let s = h.status.clone();
            let settings = h.settings.clone();
            let squad = settings.squad.clone().map_or_else(
                || view! { <span class="muted">"none"</span> }.into_any(),
                |q| {
                    let href = squad_href(&q);
                    view! { <a href=href>{q}</a> }.into_any()
                },
            );
            view! {
                <div class="card" data-test="host-status">
                    <h2>"Status"</h2>
                    <dl class="facts">
                        <dt>"Health"</dt>
                        <dd id="host-health" data-health=s.health.as_str()>
                            <HealthBadge status=s.clone() />
                        </dd>
                        <dt>"Error"</dt>
                        <dd id="host-error">{s.error.clone().unwrap_or_else(dash)}</dd>
                        <dt>"Failing since"</dt>
                        <dd>{move || s.error_since.map_or_else(dash, |t| when(Some(t)))}</dd>
                        <dt>"Last ok"</dt>
                        <dd>{move || when(s.last_ok_at)}</dd>
                        <dt>"Last poll"</dt>
                        <dd>{move || when(s.last_poll_at)}</dd>
                        <dt>"Supervisor"</dt>
                        <dd>{s.supervisor_version.clone().unwrap_or_else(dash)}</dd>
                        <dt>"Read via"</dt>
                        <dd>{s.via.clone().unwrap_or_else(dash)}</dd>
                        <dt>"SSH"</dt>
                        <dd class="mono">
                            {format!("{}@{}:{}", settings.user, settings.address, settings.port)}
                        </dd>
                        <dt>"Squad"</dt>
                        <dd>{squad}</dd>
                        <dt>"Flags"</dt>
                        <dd>
                            {if settings.active { "active" } else { "inactive" }}
                            {if settings.builder { ", builder" } else { "" }}
                        </dd>
                    </dl>
                </div>
            }
        })
    }
}
