//! One tab of a tab strip (`<div class="tabs" role="tablist">`): selected when `current` holds
//! `which`; a click selects it (setting the signal only when it changes, so nothing that
//! follows the tab refetches for nothing).

use leptos::prelude::*;

pub fn tab_button<T>(
    current: RwSignal<T>,
    which: T,
    id: &'static str,
    label: &'static str,
) -> impl IntoView
where
    T: Copy + PartialEq + Send + Sync + 'static,
{
    view! {
        <button
            type="button"
            role="tab"
            id=id
            class="tab"
            class:active=move || current.get() == which
            aria-selected=move || if current.get() == which { "true" } else { "false" }
            on:click=crate::ev::click(move |_| {
                if current.get_untracked() != which {
                    current.set(which);
                }
            })
        >
            {label}
        </button>
    }
}
