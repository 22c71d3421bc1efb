//! `CopyButton`: copies a text to the clipboard and says so.

use std::time::Duration;

use crate::busy::spawn_local;
use leptos::prelude::*;

use crate::clipboard;
use crate::components::toast::use_toasts;

/// A button that copies `text`; its label turns to "Copied" for two seconds.
#[component]
pub fn CopyButton(
    #[prop(into)] text: Signal<String>,
    #[prop(default = "Copy")] label: &'static str,
    /// DOM id (for browser tests).
    #[prop(optional)]
    id: Option<&'static str>,
) -> impl IntoView {
    let toasts = use_toasts();
    let copied = RwSignal::new(false);
    let on_click = move |_| {
        let value = text.get_untracked();
        spawn_local(async move {
            match clipboard::copy(&value).await {
                Ok(()) => {
                    copied.set(true);
                    set_timeout(
                        move || {
                            let _ = copied.try_set(false);
                        },
                        Duration::from_secs(2),
                    );
                }
                Err(e) => toasts.error(format!(
                    "Could not copy ({e}). Select the text and copy it by hand."
                )),
            }
        });
    };
    view! {
        <button type="button" class="btn btn-small" id=id on:click=crate::ev::click(on_click)>
            {move || if copied.get() { "Copied" } else { label }}
        </button>
    }
}
