//! Running proc actions (start, stop, restart, destroy) and showing how they went.
//!
//! The batch id of an action is only known when its response arrives, after the work is done,
//! so live progress is matched best effort: an `ActionProgress` message counts when its result
//! names one of the procs sent and its `total` equals how many were sent. The final per-proc
//! results come from the response.

use crate::components::CollectVec;
use std::collections::HashSet;

use crate::components::CollectAny;
use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::fleet::{Proc, ProcAction, ProcActionRequest, ProcActionResult, ProcRef};

use crate::api;
use crate::busy::spawn_busy;
use crate::components::{Toasts, use_toasts};
use crate::live::use_live;

/// "restart" → "Restart".
pub fn action_title(action: ProcAction) -> &'static str {
    match action {
        ProcAction::Start => "Start",
        ProcAction::Stop => "Stop",
        ProcAction::Restart => "Restart",
        ProcAction::Destroy => "Destroy",
    }
}

fn action_doing(action: ProcAction) -> &'static str {
    match action {
        ProcAction::Start => "Starting",
        ProcAction::Stop => "Stopping",
        ProcAction::Restart => "Restarting",
        ProcAction::Destroy => "Destroying",
    }
}

/// The reference of a proc, as actions name it.
pub fn proc_ref(p: &Proc) -> ProcRef {
    ProcRef {
        host: p.host.clone(),
        name: p.name.clone(),
    }
}

/// What was sent and how far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Running {
    action: ProcAction,
    procs: HashSet<ProcRef>,
    done: usize,
}

/// One action slot (a panel's or a toolbar's): at most one action at a time; cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct ActionRun {
    busy: RwSignal<bool>,
    running: RwSignal<Option<Running>>,
    /// The last finished action and its per-proc results.
    report: RwSignal<Option<(ProcAction, Vec<ProcActionResult>)>>,
    error: RwSignal<Option<String>>,
    toasts: Toasts,
}

impl Default for ActionRun {
    fn default() -> Self {
        Self::new()
    }
}

impl ActionRun {
    /// A new slot; follows live progress for as long as the calling component lives.
    pub fn new() -> ActionRun {
        let run = ActionRun {
            busy: RwSignal::new(false),
            running: RwSignal::new(None),
            report: RwSignal::new(None),
            error: RwSignal::new(None),
            toasts: use_toasts(),
        };
        use_live().subscribe(move |message| {
            if let LiveMessage::ActionProgress {
                done,
                total,
                result,
                ..
            } = message
            {
                let key = ProcRef {
                    host: result.host.clone(),
                    name: result.name.clone(),
                };
                run.running.update(|r| {
                    if let Some(r) = r
                        && r.procs.len() == *total
                        && r.procs.contains(&key)
                    {
                        r.done = r.done.max(*done);
                    }
                });
            }
        });
        run
    }

    /// True while an action runs (tracked).
    pub fn busy(&self) -> Signal<bool> {
        self.busy.into()
    }

    /// Sends `action` for `procs`; reports the outcome in a toast and below the buttons.
    pub fn start(&self, action: ProcAction, procs: Vec<ProcRef>) {
        if procs.is_empty() {
            return;
        }
        let run = *self;
        let toasts = self.toasts;
        run.report.set(None);
        run.error.set(None);
        run.running.set(Some(Running {
            action,
            procs: procs.iter().cloned().collect(),
            done: 0,
        }));
        let request = ProcActionRequest {
            action,
            procs,
            filter: None,
        };
        spawn_busy(self.busy, async move {
            let result = api::fleet::proc_action(&request).await;
            let _ = run.running.try_set(None);
            match result {
                Ok(report) => {
                    toasts_for(toasts, action, &report.results);
                    let _ = run.report.try_set(Some((action, report.results)));
                }
                Err(e) => {
                    toasts.error(format!("{} failed: {e}", action_title(action)));
                    let _ = run.error.try_set(Some(e.into_message()));
                }
            }
        });
    }

    /// Clears the shown outcome.
    pub fn dismiss(&self) {
        self.report.set(None);
        self.error.set(None);
    }
}

fn toasts_for(toasts: Toasts, action: ProcAction, results: &[ProcActionResult]) {
    let failed: Vec<&ProcActionResult> = results.iter().filter(|r| !r.ok).collect_vec();
    let verb = action_title(action);
    match (results, failed.as_slice()) {
        ([only], []) => toasts.success(format!("{verb} {} on {}: ok.", only.name, only.host)),
        ([only], [_]) => toasts.error(format!(
            "{verb} {} on {} failed: {}",
            only.name, only.host, only.message
        )),
        (_, []) => toasts.success(format!("{verb}: all {} procs ok.", results.len())),
        (_, failed) => toasts.error(format!(
            "{verb}: {} of {} procs failed.",
            failed.len(),
            results.len()
        )),
    }
}

/// The progress line while `run` works, then its per-proc results.
#[component]
pub fn ActionOutcome(run: ActionRun) -> impl IntoView {
    let progress = move || {
        run.running.with(|r| {
            r.as_ref().map(|r| {
                let text = format!(
                    "{}… {} of {}",
                    action_doing(r.action),
                    r.done,
                    r.procs.len()
                );
                view! {
                    <p class="action-progress" data-test="action-progress" aria-busy="true">
                        {text}
                    </p>
                }
            })
        })
    };
    let error = move || {
        run.error.get().map(|e| {
            view! {
                <div class="form-error" role="alert" data-test="action-error">
                    {e}
                </div>
            }
        })
    };
    let report = move || {
        run.report.get().map(|(action, results)| {
            let failed = results.iter().filter(|r| !r.ok).count();
            let summary = if failed == 0 {
                format!("{}: {} ok", action_title(action), results.len())
            } else {
                format!(
                    "{}: {failed} of {} failed",
                    action_title(action),
                    results.len()
                )
            };
            let items = results
                .into_iter()
                .map(|r| {
                    let class = if r.ok {
                        "badge badge-good"
                    } else {
                        "badge badge-bad"
                    };
                    view! {
                        <li
                            data-test="action-result"
                            data-host=r.host.clone()
                            data-name=r.name.clone()
                            data-ok=if r.ok { "true" } else { "false" }
                        >
                            <span class=class>{if r.ok { "ok" } else { "failed" }}</span>
                            <span class="mono">{format!(" {}/{} ", r.host, r.name)}</span>
                            <span class="muted">{r.message}</span>
                        </li>
                    }
                })
                .collect_any();
            view! {
                <div class="action-report" data-test="action-results">
                    <div class="action-report-head">
                        <strong>{summary}</strong>
                        <button
                            type="button"
                            class="btn btn-small"
                            on:click=crate::ev::click(move |_| run.dismiss())
                        >
                            "Dismiss"
                        </button>
                    </div>
                    <ul class="action-result-list">{items}</ul>
                </div>
            }
        })
    };
    view! {
        {progress}
        {error}
        {report}
    }
}
