//! `StatusBadge`: a state string (a supervisor state, an outcome, ...) as a coloured pill.

use leptos::prelude::*;

/// The colour family of a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Green: running, ok.
    Good,
    /// Amber: on its way somewhere (starting, backoff, pending).
    Pending,
    /// Red: failed, fatal, exited.
    Bad,
    /// Grey: deliberately stopped or disabled.
    Stopped,
    /// Grey, dashed: a state this UI does not know.
    Unknown,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Good => "badge badge-good",
            Tone::Pending => "badge badge-pending",
            Tone::Bad => "badge badge-bad",
            Tone::Stopped => "badge badge-stopped",
            Tone::Unknown => "badge badge-unknown",
        }
    }
}

/// Classifies a state string, case-insensitively.
pub fn tone_of(state: &str) -> Tone {
    match state.trim().to_ascii_lowercase().as_str() {
        "running" | "ok" | "up" | "active" | "success" | "succeeded" | "live" | "healthy"
        | "matches" => Tone::Good,
        "starting" | "backoff" | "pending" | "stopping" | "queued" | "building" | "deploying"
        | "dispatching" | "under-capacity" => Tone::Pending,
        "fatal" | "exited" | "failed" | "error" | "down" | "unreachable" | "degraded" => Tone::Bad,
        "stopped" | "disabled" | "retired" | "cancelled" => Tone::Stopped,
        _ => Tone::Unknown,
    }
}

/// A pill showing `state` (or `label` when given), coloured by [`tone_of`] the state.
#[component]
pub fn StatusBadge(
    #[prop(into)] state: Signal<String>,
    /// Text to show instead of the raw state.
    #[prop(optional, into)]
    label: Option<Signal<String>>,
) -> impl IntoView {
    view! {
        <span class=move || tone_of(&state.read()).class() data-state=move || state.get()>
            {move || match label {
                Some(l) => l.get(),
                None => state.get(),
            }}
        </span>
    }
}
