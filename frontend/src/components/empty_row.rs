//! The one row a table shows when it has nothing to list.

use leptos::prelude::*;

/// `<tr class="empty-row">` spanning `colspan` columns with `text`.
#[component]
pub fn EmptyRow(colspan: usize, #[prop(into)] text: Signal<String>) -> impl IntoView {
    view! {
        <tr class="empty-row">
            <td colspan=colspan class="empty">
                {move || text.get()}
            </td>
        </tr>
    }
}

/// "Loading…" until the data came, then `none` (e.g. "No hosts yet.").
pub fn loading_or(loaded: bool, none: &str) -> String {
    if loaded { none } else { "Loading…" }.to_string()
}
