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

use leptos::prelude::*;
use vr_app::build::App;

use crate::builds::buildpack_name;
use crate::components::{EmptyRow, loading_or};
use crate::links::app_href;
use crate::session::use_session;

#[component]
pub fn AppsPage() -> impl IntoView {
    crate::route::title(|| "Apps".to_string());
    let session = use_session();
    let catalog = Catalog::follow();
    let rows = move || {
        let list = catalog.apps.get();
        if list.is_empty() {
            let text = loading_or(catalog.loaded(), "No apps yet.");
            return view! { <EmptyRow colspan=4 text=text /> }.into_any();
        }
        list.into_iter()
            .map(|a| view! { <AppRow app=a /> })
            .collect_view()
            .into_any()
    };
    view! {
        <section class="page" data-test="apps">
            <h1>"Apps"</h1>
            {move || catalog.error().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
            <div class="card">
                <h2>"All apps"</h2>
                <div class="table-scroll">
                    <table data-test="apps-table">
                        <thead>
                            <tr>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Repository"</th>
                                <th scope="col">"Buildpack"</th>
                                <th scope="col">"Notes"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            </div>
            <Show when=move || session.can_deploy()>
                <create::CreateApp catalog=catalog />
            </Show>
        </section>
    }
}

#[component]
fn AppRow(app: App) -> impl IntoView {
    let buildpack = match app.buildpack.clone() {
        Some(url) => view! { <span title=url.clone()>{buildpack_name(&url)}</span> }.into_any(),
        None => view! { <span class="muted">"detect"</span> }.into_any(),
    };
    view! {
        <tr data-test="app-row" data-name=app.name.clone()>
            <td>
                <a href=app_href(&app.name)>{app.name.clone()}</a>
            </td>
            <td class="mono truncate" title=app.repo_url.clone()>{app.repo_url.clone()}</td>
            <td>{buildpack}</td>
            <td class="truncate" title=app.notes.clone()>{app.notes.clone()}</td>
        </tr>
    }
}
