//! The card a record's page shows instead of its body: loading, not there, or not loadable.

use leptos::prelude::*;

use crate::api::ApiError;

/// A notice card with one line of `text`; `test` is its `data-test` (e.g. `build-missing`).
#[component]
pub fn MissingNotice(#[prop(into)] test: String, #[prop(into)] text: String) -> impl IntoView {
    view! {
        <div class="card notice" data-test=test>
            <p>{text}</p>
        </div>
    }
}

/// The text of a numbered record's notice (`noun` as in "build") while it is loading (`error`
/// none), after a 404, or after another failure.
pub fn numbered_missing_text(noun: &str, id: i64, error: Option<ApiError>) -> String {
    match error {
        Some(e) if e.status == 404 => format!("There is no {noun} #{id}."),
        Some(e) => format!("Cannot load {noun} #{id}: {e}"),
        None => "Loading…".to_string(),
    }
}
