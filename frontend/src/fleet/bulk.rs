//! `BulkActions`: start, stop, restart or destroy every proc a list currently shows, after a
//! confirmation that names how many and which; destroying several asks for `destroy N` typed.

use crate::components::CollectVec;
use crate::components::Show;
use leptos::prelude::*;
use vr_app::fleet::{Proc, ProcAction, ProcRef};

use crate::components::ConfirmDialog;
use crate::fleet::actions::{ActionOutcome, ActionRun, action_title, proc_ref};
use crate::session::use_session;

/// How many names the confirmation lists before "and n more".
const LISTED: usize = 10;

/// The confirmation text for `action` on `procs`; `skipped` unmanaged procs are left out.
fn confirm_message(action: ProcAction, procs: &[ProcRef], skipped: usize) -> String {
    let mut text = match action {
        ProcAction::Destroy => format!(
            "This stops {} proc{}, removes {} from Supervisor and deletes {} config and folder. \
             It cannot be undone.",
            procs.len(),
            if procs.len() == 1 { "" } else { "s" },
            if procs.len() == 1 { "it" } else { "them" },
            if procs.len() == 1 { "its" } else { "their" },
        ),
        _ => format!(
            "{} {} proc{}:",
            action_title(action),
            procs.len(),
            if procs.len() == 1 { "" } else { "s" }
        ),
    };
    for p in procs.iter().take(LISTED) {
        text.push_str(&format!("\n• {} on {}", p.name, p.host));
    }
    if procs.len() > LISTED {
        text.push_str(&format!("\n… and {} more", procs.len() - LISTED));
    }
    if skipped > 0 {
        text.push_str(&format!(
            "\n{skipped} unmanaged proc{} skipped: vr only destroys procs it deployed.",
            if skipped == 1 { " is" } else { "s are" }
        ));
    }
    text
}

/// What must be typed before destroying several procs at once (one is confirmed by a click).
fn typed_phrase(action: ProcAction, n: usize) -> Option<String> {
    (action == ProcAction::Destroy && n > 1).then(|| format!("destroy {n}"))
}

/// The toolbar acting on all of `procs` (deployers and admins only).
#[component]
pub fn BulkActions(#[prop(into)] procs: Signal<Vec<Proc>>) -> impl IntoView {
    let session = use_session();
    let run = ActionRun::new();
    let pending = RwSignal::new(None::<(ProcAction, Vec<ProcRef>, usize)>);

    let count = move || procs.with(Vec::len);
    let managed = move || procs.with(|p| p.iter().filter(|p| p.managed()).count());
    let ask = move |action: ProcAction| {
        let (refs, skipped) = procs.with_untracked(|list| {
            let chosen: Vec<ProcRef> = list
                .iter()
                .filter(|p| action != ProcAction::Destroy || p.managed())
                .map(proc_ref)
                .collect_vec();
            let skipped = list.len() - chosen.len();
            (chosen, skipped)
        });
        if !refs.is_empty() {
            pending.set(Some((action, refs, skipped)));
        }
    };
    let confirm = move |()| {
        if let Some((action, refs, _)) = pending.get_untracked() {
            pending.set(None);
            run.start(action, refs);
        }
    };
    let busy = run.busy();
    let pending_action = Memo::new(move |_| pending.with(|p| p.as_ref().map(|(a, _, _)| *a)));
    let button = move |action: ProcAction, id: &'static str| {
        let n = move || {
            if action == ProcAction::Destroy {
                managed()
            } else {
                count()
            }
        };
        let class = if action == ProcAction::Destroy {
            "btn btn-small btn-danger-outline"
        } else {
            "btn btn-small"
        };
        view! {
            <button
                type="button"
                class=class
                id=id
                disabled=move || busy.get() || n() == 0
                on:click=crate::ev::click(move |_| ask(action))
            >
                {move || format!("{} all ({})", action_title(action), n())}
            </button>
        }
    };

    view! {
        <Show when=move || session.can_deploy()>
            <div class="bulk-actions" data-test="bulk-actions">
                <div class="button-row">
                    <span class="muted">"All shown:"</span>
                    {button(ProcAction::Start, "bulk-start")}
                    {button(ProcAction::Stop, "bulk-stop")}
                    {button(ProcAction::Restart, "bulk-restart")}
                    {button(ProcAction::Destroy, "bulk-destroy")}
                </div>
                <ActionOutcome run=run />
            </div>
        </Show>
        // Rebuilt per action, so the button says what it does and only start is not red.
        {move || {
            pending_action
                .get()
                .map(|action| {
                    view! {
                        <ConfirmDialog
                            open=true
                            title=Signal::derive(move || {
                                pending
                                    .with(|p| {
                                        p.as_ref()
                                            .map(|(action, refs, _)| {
                                                format!(
                                                    "{} {} proc{}?",
                                                    action_title(*action),
                                                    refs.len(),
                                                    if refs.len() == 1 { "" } else { "s" },
                                                )
                                            })
                                    })
                                    .unwrap_or_default()
                            })
                            message=Signal::derive(move || {
                                pending
                                    .with(|p| {
                                        p.as_ref()
                                            .map(|(action, refs, skipped)| confirm_message(*action, refs, *skipped))
                                    })
                                    .unwrap_or_default()
                            })
                            typed=Signal::derive(move || {
                                pending
                                    .with(|p| p.as_ref().and_then(|(a, refs, _)| typed_phrase(*a, refs.len())))
                            })
                            confirm_label=action_title(action)
                            danger=action != ProcAction::Start
                            busy=busy
                            on_confirm=confirm
                            on_cancel=move |()| pending.set(None)
                        />
                    }
                })
        }}
    }
}
