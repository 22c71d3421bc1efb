//! A deploy's steps as they went: name, ok or failed, what it said (a failed start may carry
//! the tail of the proc's log, so it keeps its lines) and how long it took.

use leptos::prelude::*;
use vr_app::deploy::DeployStep;

use crate::deploys::run_time;

#[component]
pub fn DeploySteps(
    #[prop(into)] steps: Signal<Vec<DeployStep>>,
    /// True while more steps may come.
    #[prop(into)]
    running: Signal<bool>,
) -> impl IntoView {
    let items = move || {
        steps
            .get()
            .into_iter()
            .enumerate()
            .map(|(index, step)| view! { <StepItem index=index step=step /> })
            .collect_view()
    };
    let tail = move || {
        running.get().then(|| {
            view! { <p class="muted" data-test="deploy-working">"Working on the next step…"</p> }
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
            <ol class="step-list" data-test="deploy-steps">
                {items}
            </ol>
        </Show>
        {tail}
    }
}

#[component]
fn StepItem(index: usize, step: DeployStep) -> impl IntoView {
    let (class, label) = if step.ok {
        ("badge badge-good", "ok")
    } else {
        ("badge badge-bad", "failed")
    };
    let message = (!step.message.is_empty())
        .then(|| view! { <pre class="value-block step-message">{step.message.clone()}</pre> });
    view! {
        <li data-test="deploy-step" data-name=step.name.label() data-ok=step.ok.to_string()>
            <div class="step-head">
                <span class="order">{format!("{}.", index + 1)}</span>
                <span class="step-name">{step.name.label()}</span>
                <span class=class>{label}</span>
                <span class="muted step-time">{run_time(step.ms)}</span>
            </div>
            {message}
        </li>
    }
}
