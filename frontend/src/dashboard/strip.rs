//! The dashboard's host health strip: one chip per host, coloured by health; a click opens
//! the host.

use crate::components::CollectAny;
use leptos::prelude::*;
use vr_app::fleet::Host;

use crate::clock::use_clock;
use crate::fleet::health::{health_class, health_label};
use crate::fleet::use_fleet;
use crate::links::host_href;
use vr_app::time::format_age;

/// The tooltip of a chip: health, last error, last contact.
fn chip_title(h: &Host, now: i64) -> String {
    let mut title = health_label(h.status.health).to_string();
    if let Some(e) = &h.status.error {
        title.push_str(&format!(": {e}"));
    }
    if let Some(ok) = h.status.last_ok_at {
        title.push_str(&format!(" (last ok {})", format_age(now, ok)));
    }
    title
}

#[component]
pub fn HostStrip() -> impl IntoView {
    let store = use_fleet();
    let clock = use_clock();
    let hosts = Memo::new(move |_| {
        store.with(|f| {
            let mut hosts = f.hosts.clone();
            vr_app::order::sort_by(&mut hosts, |a, b| a.settings.name.cmp(&b.settings.name));
            hosts
        })
    });
    move || {
        let list = hosts.get();
        if list.is_empty() {
            let text = if store.loaded() {
                view! {
                    <p class="muted">
                        "No hosts yet. " <a href="/hosts/new">"Add a host"</a>
                        " to see its procs here."
                    </p>
                }
                .into_any()
            } else {
                view! { <p class="muted">"Loading…"</p> }.into_any()
            };
            return view! { <div class="host-strip" data-test="host-strip">{text}</div> }
                .into_any();
        }
        let chips = list
            .into_iter()
            .map(|h| {
                let health = h.status.health;
                let href = host_href(&h.settings.name);
                let name = h.settings.name.clone();
                let data_name = name.clone();
                let title = move || chip_title(&h, clock.now());
                view! {
                    <a
                        href=href
                        class="host-chip"
                        data-test="host-chip"
                        data-name=data_name
                        data-health=health.as_str()
                        title=title
                    >
                        <span class=format!("host-dot {}", health_class(health)) aria-hidden="true"></span>
                        <span class="host-chip-name">{name}</span>
                        <span class="sr-only">{format!(" ({})", health_label(health))}</span>
                    </a>
                }
            })
            .collect_any();
        view! { <div class="host-strip" data-test="host-strip">{chips}</div> }.into_any()
    }
}
