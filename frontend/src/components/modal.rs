//! A modal dialog frame: backdrop, title, body, and close on Escape or a click outside. Focus
//! moves into it, Tab and Shift+Tab stay inside it, and focus returns to where it was when it
//! closes.

use crate::components::CollectVec;
use crate::components::Show;
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
    let opener = StoredValue::new_local(active_element());
    on_cleanup(move || {
        if let Some(el) = opener.try_get_value().flatten() {
            let _ = el.focus();
        }
    });
    // Move focus into the dialog so Escape and Tab act on it.
    crate::effects::effect(move || {
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
                on:keydown=crate::ev::keydown(move |ev| {
                    if ev.key() == "Escape" {
                        ev.stop_propagation();
                        ev.prevent_default();
                        on_close.run(());
                    } else if ev.key() == "Tab"
                        && let Some(el) = dialog.get_untracked()
                        && keep_focus_inside(&el, ev.shift_key())
                    {
                        ev.prevent_default();
                    }
                })
            >
                <h2 id="modal-title" class="modal-title">
                    {move || title.get()}
                </h2>
                {children()}
            </div>
        </div>
    }
}

fn active_element() -> Option<web_sys::HtmlElement> {
    use wasm_bindgen::JsCast;
    web_sys::window()?
        .document()?
        .active_element()?
        .dyn_into::<web_sys::HtmlElement>()
        .ok()
}

/// On Tab from the last focusable element (Shift+Tab from the first, or from the dialog
/// itself), moves focus to the other end; true when it did.
fn keep_focus_inside(dialog: &web_sys::HtmlElement, backwards: bool) -> bool {
    use wasm_bindgen::JsCast;
    let Ok(list) = dialog.query_selector_all(
        "button:not([disabled]), input:not([disabled]), select:not([disabled]), \
         textarea:not([disabled]), a[href]",
    ) else {
        return false;
    };
    let items: Vec<web_sys::HtmlElement> = (0..list.length())
        .filter_map(|i| list.get(i)?.dyn_into::<web_sys::HtmlElement>().ok())
        .collect_vec();
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        return false;
    };
    let active = active_element();
    let at = |el: &web_sys::HtmlElement| active.as_ref() == Some(el);
    let target = if backwards && (at(first) || at(dialog)) {
        last
    } else if !backwards && at(last) {
        first
    } else {
        return false;
    };
    target.focus().is_ok()
}
