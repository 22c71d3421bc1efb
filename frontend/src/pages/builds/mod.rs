//! Builds: the newest builds of every app or of one (`/builds?app=NAME`), updated live, and one
//! build's page (`/builds/:id`) with its followed log.

mod detail;

pub use detail::BuildPage;

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api;
use crate::builds::{BuildFeed, BuildTable, Catalog};

#[component]
pub fn BuildsPage() -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let catalog = Catalog::follow();
    // The filter lives in the URL, so a filtered list can be linked to and survives a reload.
    let app = Memo::new(move |_| query.with(|q| q.get("app").filter(|a| !a.is_empty())));
    let feed = BuildFeed::follow(app.into());

    let on_filter = move |ev| {
        let chosen = event_target_value(&ev);
        let target = if chosen.is_empty() {
            "/builds".to_string()
        } else {
            format!("/builds?app={}", api::encode(&chosen))
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
        // `selected` as well as the select's value: options that arrive after the value was
        // set would otherwise show the first one.
        names
            .into_iter()
            .map(|n| {
                let selected = current.as_ref() == Some(&n);
                view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
            })
            .collect_view()
    };

    view! {
        <section class="page" data-test="builds">
            <h1>"Builds"</h1>
            <div class="card">
                <div class="filters">
                    <div class="field">
                        <label for="builds-app">"App"</label>
                        <select
                            id="builds-app"
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
                        {format!("The newest {} builds; new ones appear as they start.", crate::builds::feed::LIMIT)}
                    </p>
                </div>
            </div>
            {move || feed.error().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
            <div class="card">
                <BuildTable builds=feed.builds() loaded=Signal::derive(move || feed.loaded()) />
            </div>
        </section>
    }
}
