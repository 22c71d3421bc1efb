//! Releases: the newest releases of every app or of one (`/releases?app=NAME`) with the
//! "new release" form and its config preview, and one release's page (`/releases/:id`) with
//! its diff against another.

mod build_select;
mod create;
mod detail;
mod diff;
mod draft;
mod picker;
mod preview;
mod volumes;

pub use detail::ReleasePage;

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api;
use crate::builds::Catalog;
use crate::releases::{IngredientList, ReleaseFeed, ReleaseTable};
use crate::session::use_session;

#[component]
pub fn ReleasesPage() -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let navigate = use_navigate();
    let catalog = Catalog::follow();
    let ingredients = IngredientList::follow();
    // The filter lives in the URL, so a filtered list can be linked to and survives a reload.
    let app = Memo::new(move |_| query.with(|q| q.get("app").filter(|a| !a.is_empty())));
    let feed = ReleaseFeed::follow(app.into());

    let on_filter = move |ev| {
        let chosen = event_target_value(&ev);
        let target = if chosen.is_empty() {
            "/releases".to_string()
        } else {
            format!("/releases?app={}", api::encode(&chosen))
        };
        navigate(
            &target,
            NavigateOptions {
                replace: true,
                ..Default::default()
            },
        );
    };
    // The chosen app stays selectable before the list of apps has loaded.
    let options = move || {
        let mut names: Vec<String> = catalog
            .apps
            .with(|apps| apps.iter().map(|a| a.name.clone()).collect());
        let current = app.get();
        if let Some(current) = &current
            && !names.contains(current)
        {
            names.push(current.clone());
        }
        names
            .into_iter()
            .map(|n| {
                let selected = current.as_ref() == Some(&n);
                view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
            })
            .collect_view()
    };
    // Built once (the filter only picks its first app), so typing is never undone.
    let form = move || {
        session.can_deploy().then(|| {
            let first = app.get_untracked();
            view! { <create::NewReleaseForm catalog=catalog ingredients=ingredients app=first /> }
        })
    };

    view! {
        <section class="page" data-test="releases">
            <h1>"Releases"</h1>
            <p class="muted">
                "A release is a build plus its configuration: the build's env, then ingredients in "
                "order, then its own values. Identical ones are the same release."
            </p>
            {move || catalog.error().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
            {form}
            <div class="card">
                <div class="filters">
                    <div class="field">
                        <label for="releases-app">"App"</label>
                        <select
                            id="releases-app"
                            prop:value=move || app.get().unwrap_or_default()
                            on:change=on_filter
                        >
                            <option value="" selected=move || app.with(Option::is_none)>
                                "(all apps)"
                            </option>
                            {options}
                        </select>
                    </div>
                    <p class="muted">
                        {format!("The newest {} releases.", crate::releases::feed::LIMIT)}
                    </p>
                </div>
            </div>
            {move || feed.error().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
            <div class="card">
                <ReleaseTable releases=feed.releases() loaded=Signal::derive(move || feed.loaded()) />
            </div>
        </section>
    }
}
