//! "Test connection": connects to the host now (a few seconds) and shows what it found, or the
//! exact error.

use leptos::prelude::*;
use vr_app::fleet::ConnectionReport;

use crate::api;
use crate::busy::spawn_busy;
use crate::session::use_session;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Report(ConnectionReport),
    Failed(String),
}

#[component]
pub fn ConnectionTest(#[prop(into)] name: Signal<String>) -> impl IntoView {
    let session = use_session();
    let busy = RwSignal::new(false);
    let outcome = RwSignal::new(None::<Outcome>);
    // A result belongs to the host it was run on.
    crate::effects::on_change(move || name.get(), move || outcome.set(None), false);

    let run = move |_| {
        let host = name.get_untracked();
        outcome.set(None);
        spawn_busy(busy, async move {
            let result = match api::fleet::test_host(&host).await {
                Ok(report) => Outcome::Report(report),
                Err(e) => Outcome::Failed(e.into_message()),
            };
            let _ = outcome.try_set(Some(result));
        });
    };

    let result = move || {
        if busy.get() {
            return Some(view! { <p class="muted" aria-busy="true">"Connecting…"</p> }.into_any());
        }
        outcome.get().map(|o| match o {
            Outcome::Failed(message) => view! {
                <div class="form-error" role="alert">{message}</div>
            }
            .into_any(),
            Outcome::Report(r) => view! { <Report report=r /> }.into_any(),
        })
    };

    view! {
        <div class="card">
            <div class="card-head">
                <h2>"Connection"</h2>
                <button
                    type="button"
                    class="btn btn-small"
                    id="host-test"
                    disabled=move || busy.get() || !session.can_deploy()
                    title=move || (!session.can_deploy()).then_some("Deployers and admins can test hosts.")
                    on:click=crate::ev::click(run)
                >
                    {crate::components::flag_text(busy, "Testing…", "Test connection")}
                </button>
            </div>
            <div id="host-test-result" class="test-result" aria-live="polite">
                {result}
            </div>
        </div>
    }
}

#[component]
fn Report(report: ConnectionReport) -> impl IntoView {
    let dash = || "—".to_string();
    let (badge_class, badge) = if report.ok {
        ("badge badge-good", "ok")
    } else {
        ("badge badge-bad", "failed")
    };
    let key = report.host_key.clone().map(|k| {
        if report.key_pinned_now {
            format!("{k} (pinned now)")
        } else {
            k
        }
    });
    view! {
        <p>
            <span class=badge_class data-test="test-outcome" data-ok=report.ok.to_string()>
                {badge}
            </span>
            <span class="muted">{format!(" in {} ms", report.elapsed_ms)}</span>
        </p>
        {report.error.clone().map(|e| view! { <pre class="detail-text" data-test="test-error">{e}</pre> })}
        <dl class="facts">
            <dt>"Supervisor"</dt>
            <dd>{report.supervisor_version.clone().unwrap_or_else(dash)}</dd>
            <dt>"Procs"</dt>
            <dd>{report.proc_count.map_or_else(dash, |n| n.to_string())}</dd>
            <dt>"Read via"</dt>
            <dd>{report.via.clone().unwrap_or_else(dash)}</dd>
            <dt>"Host key"</dt>
            <dd class="mono">{key.unwrap_or_else(dash)}</dd>
            <dt>"Isolation"</dt>
            <dd data-test="test-isolation">{report.capabilities.as_ref().map_or_else(dash, |c| c.summary())}</dd>
        </dl>
    }
}
