//! Apps: the list with the create form (`/apps`), one app's page (`/apps/:name`) with its
//! settings, a build form and its builds, the apps and buildpacks lists a page keeps
//! ([`catalog`]) and the app filter of list pages ([`filter`]).

mod build_form;
pub mod catalog;
mod create;
mod detail;
mod fields;
pub mod filter;

pub use catalog::Catalog;
pub use detail::AppPage;
pub use filter::{AppFilter, app_from_query};

use crate::components::Show;
use leptos::prelude::*;
use vr_app::build::App;

use crate::builds::buildpack_name;
use crate::components::{Column, DataTable};
use crate::links::app_href;
use crate::session::use_session;

#[component]
pub fn AppsPage() -> impl IntoView {
    crate::route::title(|| "Apps".to_string());
    let session = use_session();
    let catalog = Catalog::follow();
    let columns = vec![
        Column::new("Name", |a: &App| a.name.clone())
            .cell(|a: &App| view! { <a href=app_href(&a.name)>{a.name.clone()}</a> }),
        Column::new("Repository", |a: &App| a.repo_url.clone()).class("mono truncate"),
        Column::new("Buildpack", |a: &App| {
            a.buildpack
                .as_deref()
                .map_or_else(|| "detect".to_string(), buildpack_name)
        }),
        Column::new("Notes", |a: &App| a.notes.clone()).class("truncate"),
    ];
    let row_attrs = |a: &App| {
        vec![
            ("data-test", "app-row".to_string()),
            ("data-name", a.name.clone()),
        ]
    };
    view! {
        <section class="page" data-test="apps">
            <h1>"Apps"</h1>
            {move || catalog.error().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
            <div class="card">
                <h2>"All apps"</h2>
                <DataTable
                    rows=catalog.apps
                    columns=columns
                    empty="No apps yet."
                    loading=Signal::derive(move || !catalog.loaded())
                    row_attrs=row_attrs
                    test_id="apps-table"
                />
            </div>
            <Show when=move || session.can_deploy()>
                <create::CreateApp catalog=catalog />
            </Show>
        </section>
    }
}
