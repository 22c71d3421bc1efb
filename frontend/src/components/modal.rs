//! A modal dialog frame: backdrop, title, body, and close on Escape or a click outside.

use leptos::html::Div;
use leptos::prelude::*;

/// Shows `children` in a centred dialog while `open` is true; `on_close` runs on Escape, on a
/// click on the backdrop, and is what the caller's Cancel button should run too.
#[component]
pub fn Modal(
    #[prop(into)] open: Signal<bool>,
    #[prop(into)] title: Signal<String>,
    #[prop(into)] on_close: Callback<()>,
    /// `data-test` attribute of the dialog box.
    #[prop(optional)]
    test_id: &'static str,
    children: ChildrenFn,
) -> impl IntoView {
    let children = StoredValue::new(children);
    view! {
        <Show when=move || open.get()>
            <ModalFrame title=title on_close=on_close test_id=test_id>
                {children.with_value(|c| c())}
            </ModalFrame>
        </Show>
    }
}

#[component]
fn ModalFrame(
    title: Signal<String>,
    on_close: Callback<()>,
    test_id: &'static str,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<Div>::new();
    // Move focus into the dialog so Escape and Tab act on it.
    Effect::new(move || {
        if let Some(el) = dialog.get() {
            let _ = el.focus();
        }
    });
    view! {
        <div
            class="modal-backdrop"
            on:mousedown=move |ev| {
                if ev.target() == ev.current_target() {
                    on_close.run(());
                }
            }
        >
            <div
                class="modal"
                role="dialog"
                aria-modal="true"
                aria-labelledby="modal-title"
                tabindex="-1"
                data-test=test_id
                node_ref=dialog
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        ev.stop_propagation();
                        on_close.run(());
                    }
                }
            >
                <h2 id="modal-title" class="modal-title">
                    {move || title.get()}
                </h2>
                {children()}
            </div>
        </div>
    }
}
