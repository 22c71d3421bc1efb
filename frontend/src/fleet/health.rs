//! How a host's health and a proc's state look: badge classes and labels shared by every
//! fleet page.

use leptos::prelude::*;
use vr_app::fleet::{Health, HostStatus};
use vr_app::fleet_view::Shown;
use vr_app::supervisor::ProcState;

/// Badge class of a proc state: RUNNING green, STARTING/STOPPING blue, STOPPED grey,
/// BACKOFF/EXITED orange, FATAL/UNKNOWN/MISSING red.
pub fn state_class(state: ProcState) -> &'static str {
    match state {
        ProcState::Running => "badge badge-good",
        ProcState::Starting | ProcState::Stopping => "badge badge-info",
        ProcState::Stopped => "badge badge-stopped",
        ProcState::Backoff | ProcState::Exited => "badge badge-pending",
        ProcState::Fatal | ProcState::Unknown | ProcState::Missing => "badge badge-bad",
    }
}

/// Badge class of a host's health.
pub fn health_class(health: Health) -> &'static str {
    match health {
        Health::Ok => "badge badge-good",
        Health::Unknown => "badge badge-unknown",
        Health::Inactive => "badge badge-stopped",
        Health::Unreachable | Health::SupervisorDown | Health::KeyChanged => "badge badge-bad",
    }
}

/// Words for a health, as a person reads them.
pub fn health_label(health: Health) -> &'static str {
    match health {
        Health::Ok => "ok",
        Health::Unknown => "not polled yet",
        Health::Unreachable => "unreachable",
        Health::SupervisorDown => "supervisor down",
        Health::KeyChanged => "host key changed",
        Health::Inactive => "inactive",
    }
}

/// A proc state as a coloured pill.
#[component]
pub fn StateBadge(state: ProcState) -> impl IntoView {
    view! {
        <span class=state_class(state) data-state=state.as_str()>
            {state.as_str()}
        </span>
    }
}

/// What may be claimed about a proc as a pill: its state, or grey `STALE` (the last state
/// seen in the tooltip) while its host does not answer.
#[component]
pub fn ShownBadge(#[prop(into)] shown: Signal<Shown>) -> impl IntoView {
    let class = move || match shown.get() {
        Shown::Live(s) => state_class(s),
        Shown::Stale { .. } => "badge badge-unknown",
    };
    let title = move || {
        let s = shown.get();
        s.is_stale()
            .then(|| format!("Last seen as {}; its host does not answer", s.last_state()))
    };
    view! {
        <span class=class data-state=move || shown.get().label() title=title>
            {move || shown.get().label()}
        </span>
    }
}

/// A host's health as a coloured pill; the last error is its tooltip.
#[component]
pub fn HealthBadge(#[prop(into)] status: Signal<HostStatus>) -> impl IntoView {
    let health = move || status.with(|s| s.health);
    view! {
        <span
            class=move || health_class(health())
            data-health=move || health().as_str()
            title=move || status.with(|s| s.error.clone())
        >
            {move || health_label(health())}
        </span>
    }
}
