//! A job's steps as they went (a deploy's, a dispatch's): name, ok or failed, what it said (a
//! failed start may carry the tail of the proc's log, so it keeps its lines) and how long it
//! took.

use crate::components::CollectAny;
use crate::components::Show;
use leptos::prelude::*;

/// One finished step, whatever job it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepLine {
    pub label: &'static str,
    pub ok: bool,
    pub message: String,
    pub ms: u64,
}

impl From<&vr_app::deploy::DeployStep> for StepLine {
    fn from(s: &vr_app::deploy::DeployStep) -> Self {
        StepLine {
            label: s.name.label(),
            ok: s.ok,
            message: s.message.clone(),
            ms: s.ms,
        }
    }
}

impl From<&vr_app::swarm::DispatchStep> for StepLine {
    fn from(s: &vr_app::swarm::DispatchStep) -> Self {
        StepLine {
            label: s.name.label(),
            ok: s.ok,
            message: s.message.clone(),
            ms: s.ms,
        }
    }
}

#[component]
pub fn StepList(
    #[prop(into)] steps: Signal<Vec<StepLine>>,
    /// True while more steps may come.
    #[prop(into)]
    running: Signal<bool>,
    /// `data-test` of the list (`deploy-steps`…); its items are `{test}` without the `s`.
    test: &'static str,
) -> impl IntoView {
    let item_test = test.trim_end_matches('s');
    let items = move || {
        steps
            .get()
            .into_iter()
            .enumerate()
            .map(|(index, step)| step_item(index, step, item_test))
            .collect_any()
    };
    let tail = move || {
        running.get().then(|| {
            view! { <p class="muted" data-test="steps-working">"Working on the next step…"</p> }
        })
    };
    view! {
        <Show
            when=move || steps.with(|s| !s.is_empty())
            fallback=move || {
                let text = if running.get() { "Starting…" } else { "No steps were recorded." };
                view! { <p class="muted">{text}</p> }
            }
        >
            <ol class="step-list" data-test=test>
                {items}
            </ol>
        </Show>
        {tail}
    }
}

fn step_item(index: usize, step: StepLine, test: &'static str) -> AnyView {
    let (class, label) = if step.ok {
        ("badge badge-good", "ok")
    } else {
        ("badge badge-bad", "failed")
    };
    let message = (!step.message.is_empty())
        .then(|| view! { <pre class="value-block step-message">{step.message.clone()}</pre> });
    view! {
        <li data-test=test data-name=step.label data-ok=step.ok.to_string()>
            <div class="step-head">
                <span class="order">{format!("{}.", index + 1)}</span>
                <span class="step-name">{step.label}</span>
                <span class=class>{label}</span>
                <span class="muted step-time">{crate::deploys::run_time(step.ms)}</span>
            </div>
            {message}
        </li>
    }
    .into_any()
}
