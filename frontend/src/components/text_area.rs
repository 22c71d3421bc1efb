//! A labelled multi-line input with its API error below it, like [`super::Field`]: YAML is
//! edited in these, and the server's parse error (naming line and column) lands under the one at
//! fault.

use leptos::prelude::*;

use super::FormErrors;

#[component]
pub fn TextArea(
    label: &'static str,
    /// DOM id of the textarea (stable, used by browser tests).
    id: &'static str,
    /// Request field name this input edits, as the API names it.
    name: &'static str,
    value: RwSignal<String>,
    errors: FormErrors,
    #[prop(default = 6)] rows: u32,
    #[prop(optional, into)] placeholder: Option<String>,
    /// Help text shown under the input while it has no error.
    #[prop(optional, into)]
    hint: Option<String>,
    #[prop(optional)] readonly: bool,
) -> impl IntoView {
    errors.register(name);
    let error_id = format!("{id}-error");
    let error_id2 = error_id.clone();
    let has_error = move || errors.field(name).is_some();
    view! {
        <div class="field grow" class:field-invalid=has_error>
            <label for=id>{label}</label>
            <textarea
                id=id
                name=name
                class="code-input"
                rows=rows
                spellcheck="false"
                placeholder=placeholder
                readonly=readonly
                aria-invalid=move || if has_error() { "true" } else { "false" }
                aria-describedby=move || has_error().then(|| error_id.clone())
                prop:value=move || value.get()
                on:input=crate::ev::input(move |ev| value.set(event_target_value(&ev)))
            ></textarea>
            {move || match errors.field(name) {
                Some(message) => {
                    view! {
                        <p class="field-error" id=error_id2.clone() data-field=name>
                            {message}
                        </p>
                    }
                        .into_any()
                }
                None => hint.clone().map(|h| view! { <p class="field-hint">{h}</p> }).into_any(),
            }}
        </div>
    }
}
