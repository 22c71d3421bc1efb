//! Toasts: short notices in the corner that dismiss themselves.
//!
//! [`provide_toasts`] at the app root puts a [`Toasts`] handle in context; any component calls
//! `use_toasts().success(..)` or `.error(..)`. [`ToastContainer`] renders them.

use std::time::Duration;

use leptos::prelude::*;

/// How a toast looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Success,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Toast {
    id: u64,
    kind: ToastKind,
    text: String,
}

/// Handle on the app's toasts; cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct Toasts {
    items: RwSignal<Vec<Toast>>,
    next_id: StoredValue<u64>,
}

impl Toasts {
    /// Shows a success notice for a few seconds.
    pub fn success(&self, text: impl Into<String>) {
        self.push(ToastKind::Success, text.into(), Duration::from_secs(4));
    }

    /// Shows an error notice; it stays a little longer so it can be read.
    pub fn error(&self, text: impl Into<String>) {
        self.push(ToastKind::Error, text.into(), Duration::from_secs(8));
    }

    fn push(&self, kind: ToastKind, text: String, ttl: Duration) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.items.update(|items| {
            items.push(Toast { id, kind, text });
            // Keep the stack short if something fails repeatedly.
            if items.len() > 5 {
                items.remove(0);
            }
        });
        let this = *self;
        set_timeout(move || this.dismiss(id), ttl);
    }

    /// Removes one toast now.
    pub fn dismiss(&self, id: u64) {
        // The toast list may be gone already if the app was torn down.
        let _ = self.items.try_update(|items| items.retain(|t| t.id != id));
    }
}

/// Creates the toast store and provides it as context.
pub fn provide_toasts() -> Toasts {
    let toasts = Toasts {
        items: RwSignal::new(Vec::new()),
        next_id: StoredValue::new(1),
    };
    provide_context(toasts);
    toasts
}

/// The toast store provided by the app root.
pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}

/// Renders the current toasts in the bottom-right corner.
#[component]
pub fn ToastContainer() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toasts" role="status" aria-live="polite" data-test="toasts">
            <For
                each=move || toasts.items.get()
                key=|t| t.id
                children=move |t| {
                    let class = match t.kind {
                        ToastKind::Success => "toast toast-success",
                        ToastKind::Error => "toast toast-error",
                    };
                    let id = t.id;
                    view! {
                        <div class=class>
                            <span class="toast-text">{t.text}</span>
                            <button
                                class="toast-close"
                                type="button"
                                aria-label="Dismiss"
                                on:click=crate::ev::click(move |_| toasts.dismiss(id))
                            >
                                "×"
                            </button>
                        </div>
                    }
                }
            />
        </div>
    }
}
