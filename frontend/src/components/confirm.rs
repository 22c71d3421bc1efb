//! `ConfirmDialog`: asks "are you sure?" before an action that cannot be undone.

use leptos::prelude::*;

use crate::components::modal::Modal;

/// A modal with a message and Confirm / Cancel buttons. `busy` disables both while the action
/// runs; `danger` colours the confirm button as destructive.
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
) -> impl IntoView {
    let confirm_class = if danger {
        "btn btn-danger"
    } else {
        "btn btn-primary"
    };
    view! {
        <Modal open=open title=title on_close=on_cancel test_id="confirm-dialog">
            <p class="modal-message">{move || message.get()}</p>
            <div class="modal-actions">
                <button
                    type="button"
                    class="btn"
                    id="confirm-cancel"
                    disabled=move || busy.get()
                    on:click=move |_| on_cancel.run(())
                >
                    "Cancel"
                </button>
                <button
                    type="button"
                    class=confirm_class
                    id="confirm-ok"
                    disabled=move || busy.get()
                    on:click=move |_| on_confirm.run(())
                >
                    {confirm_label}
                </button>
            </div>
        </Modal>
    }
}
