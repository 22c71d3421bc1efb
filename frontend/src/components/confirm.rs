//! `ConfirmDialog`: asks "are you sure?" before an action that cannot be undone.

use leptos::prelude::*;

use crate::components::modal::Modal;

/// A modal with a message and Confirm / Cancel buttons. `busy` disables both while the action
/// runs; `danger` colours the confirm button as destructive; with `typed`, Confirm stays
/// disabled until that text is typed (for actions on many things at once).
#[component]
pub fn ConfirmDialog(
    #[prop(into)] open: Signal<bool>,
    #[prop(into)] title: Signal<String>,
    #[prop(into)] message: Signal<String>,
    #[prop(into)] on_confirm: Callback<()>,
    #[prop(into)] on_cancel: Callback<()>,
    #[prop(default = "Confirm")] confirm_label: &'static str,
    #[prop(optional)] danger: bool,
    #[prop(optional, into)] busy: Signal<bool>,
    #[prop(optional, into)] typed: MaybeProp<String>,
) -> impl IntoView {
    let entered = RwSignal::new(String::new());
    // A new question starts with an empty box.
    crate::effects::effect(move || {
        if open.get() {
            entered.set(String::new());
        }
    });
    let matches = move || {
        typed
            .get()
            .is_none_or(|want| entered.with(|e| e.trim() == want))
    };
    let typed_box = move || {
        typed.get().map(|want| {
            view! {
                <div class="field">
                    <label for="confirm-typed">{format!("Type \u{201c}{want}\u{201d} to confirm")}</label>
                    <input
                        id="confirm-typed"
                        type="text"
                        autocomplete="off"
                        prop:value=move || entered.get()
                        on:input=crate::ev::input(move |ev| entered.set(event_target_value(&ev)))
                    />
                </div>
            }
        })
    };
    let confirm_class = if danger {
        "btn btn-danger"
    } else {
        "btn btn-primary"
    };
    view! {
        <Modal open=open title=title on_close=on_cancel test_id="confirm-dialog">
            <p class="modal-message">{move || message.get()}</p>
            {typed_box}
            <div class="modal-actions">
                <button
                    type="button"
                    class="btn"
                    id="confirm-cancel"
                    disabled=move || busy.get()
                    on:click=crate::ev::click(move |_| on_cancel.run(()))
                >
                    "Cancel"
                </button>
                <button
                    type="button"
                    class=confirm_class
                    id="confirm-ok"
                    disabled=move || busy.get() || !matches()
                    on:click=crate::ev::click(move |_| on_confirm.run(()))
                >
                    {confirm_label}
                </button>
            </div>
        </Modal>
    }
}
