//! The "App" select of a list page whose filter lives in the URL (`?app=NAME`), so a filtered
//! list can be linked to and survives a reload.

use crate::components::CollectAny;
use crate::components::CollectVec;
use leptos::prelude::*;

use super::catalog::Catalog;
use crate::route::UrlParam;

/// The app chosen by the page's `?app=NAME` (none when absent or empty).
pub fn app_from_query() -> Memo<Option<String>> {
    UrlParam::new("app").value
}

/// A labelled select of the catalog's apps (and "(all apps)") bound to `?app=`: choosing one
/// replaces the URL, which changes `app`.
#[component]
pub fn AppFilter(
    /// The select's element id.
    id: &'static str,
    catalog: Catalog,
    /// From [`app_from_query`].
    app: Memo<Option<String>>,
) -> impl IntoView {
    let param = UrlParam::new("app");
    let on_filter = move |ev| param.replace(Some(event_target_value(&ev)));
    // The chosen app stays selectable before the list of apps has loaded.
    let options = move || {
        let mut names: Vec<String> = catalog
            .apps
            .with(|apps| apps.iter().map(|a| a.name.clone()).collect_vec());
        let current = app.get();
        if let Some(current) = &current
            && !names.contains(current)
        {
            names.push(current.clone());
        }
        // `selected` as well as the select's value: options that arrive after the value was
        // set would otherwise show the first one.
        names
            .into_iter()
            .map(|n| {
                let selected = current.as_ref() == Some(&n);
                view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
            })
            .collect_any()
    };

    view! {
        <div class="field">
            <label for=id>"App"</label>
            <select id=id prop:value=move || app.get().unwrap_or_default() on:change=crate::ev::change(on_filter)>
                <option value="" selected=move || app.with(Option::is_none)>
                    "(all apps)"
                </option>
                {options}
            </select>
        </div>
    }
}
