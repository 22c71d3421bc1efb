//! `ProcActionButtons`: start / stop / restart / destroy of one proc, each confirmed, with how
//! the last one went.

use leptos::prelude::*;
use vr_app::fleet::{Proc, ProcAction, ProcRef};

use crate::components::ConfirmDialog;
use crate::fleet::actions::{ActionOutcome, ActionRun, action_title};

#[component]
pub fn ProcActionButtons(target: ProcRef, proc: Memo<Option<Proc>>) -> impl IntoView {
    let run = ActionRun::new();
    let pending = RwSignal::new(None::<ProcAction>);
    let busy = run.busy();
    let managed = move || proc.with(|p| p.as_ref().is_some_and(Proc::managed));
    let ProcRef { host, name } = target.clone();
    let confirm = move |()| {
        if let Some(action) = pending.get_untracked() {
            pending.set(None);
            run.start(action, vec![target.clone()]);
        }
    };
    let button = move |action: ProcAction, id: &'static str| {
        let destroy = action == ProcAction::Destroy;
        view! {
            <button
                type="button"
                id=id
                class=if destroy { "btn btn-small btn-danger-outline" } else { "btn btn-small" }
                disabled=move || busy.get() || proc.with(Option::is_none) || (destroy && !managed())
                title=move || {
                    (destroy && !managed()).then_some("Only procs deployed by vr can be destroyed.")
                }
                on:click=crate::ev::click(move |_| pending.set(Some(action)))
            >
                {action_title(action)}
            </button>
        }
    };
    let confirm_title = {
        let name = name.clone();
        Signal::derive(move || {
            pending
                .get()
                .map(|a| format!("{} {}?", action_title(a), name))
                .unwrap_or_default()
        })
    };
    let confirm_message = Signal::derive(move || match pending.get() {
        Some(ProcAction::Destroy) => format!(
            "Destroy {name} on {host}: stop it, remove it from Supervisor and delete its \
             config and folder. This cannot be undone."
        ),
        Some(action) => format!("{} {name} on {host}?", action_title(action)),
        None => String::new(),
    });
    let pending_action = Memo::new(move |_| pending.get());
    view! {
        <div class="button-row proc-actions">
            {button(ProcAction::Start, "proc-start")}
            {button(ProcAction::Stop, "proc-stop")}
            {button(ProcAction::Restart, "proc-restart")}
            {button(ProcAction::Destroy, "proc-destroy")}
        </div>
        <ActionOutcome run=run />
        // Rebuilt per action, so the button says what it does and only start is not red.
        {move || {
            pending_action
                .get()
                .map(|action| {
                    view! {
                        <ConfirmDialog
                            open=true
                            title=confirm_title
                            message=confirm_message
                            confirm_label=action_title(action)
                            danger=action != ProcAction::Start
                            busy=busy
                            on_confirm=confirm.clone()
                            on_cancel=move |()| pending.set(None)
                        />
                    }
                })
        }}
    }
}
