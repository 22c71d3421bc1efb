//! What the create and edit forms of apps share: the buildpack choice.

use crate::components::CollectAny;
use crate::components::CollectVec;
use leptos::prelude::*;

use super::Catalog;
use crate::components::FormErrors;

/// The error under the input for request field `name`, if any.
fn field_error(errors: FormErrors, name: &'static str) -> impl IntoView {
    move || {
        errors
            .field(name)
            .map(|m| view! { <p class="field-error" data-field=name>{m}</p> })
    }
}

/// "(detect)" (empty value) or one of the buildpacks, by URL.
#[component]
pub fn BuildpackSelect(
    id: &'static str,
    value: RwSignal<String>,
    errors: FormErrors,
    catalog: Catalog,
) -> impl IntoView {
    errors.register("buildpack");
    // A pinned URL stays selectable even when it is not (or not yet) in the list.
    let options = move || {
        let mut urls: Vec<String> = catalog
            .buildpacks
            .with(|list| list.iter().map(|b| b.url.clone()).collect_vec());
        let current = value.get();
        if !current.is_empty() && !urls.contains(&current) {
            urls.push(current.clone());
        }
        // `selected` as well as the select's value: options that arrive after the value was
        // set would otherwise show the first one.
        urls.into_iter()
            .map(|u| {
                let selected = u == current;
                view! { <option value=u.clone() selected=selected>{u.clone()}</option> }
            })
            .collect_any()
    };
    view! {
        <div class="field" class:field-invalid=move || errors.field("buildpack").is_some()>
            <label for=id>"Buildpack"</label>
            <select
                id=id
                name="buildpack"
                prop:value=move || value.get()
                on:change=crate::ev::change(move |ev| value.set(event_target_value(&ev)))
            >
                <option value="">"(detect)"</option>
                {options}
            </select>
            {field_error(errors, "buildpack")}
        </div>
    }
}

/// `Some(url)` for a chosen buildpack, `None` for detection.
pub fn chosen(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}
