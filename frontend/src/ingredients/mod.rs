//! Ingredients: reusable settings and env merged into releases. The list with the create form
//! (`/ingredients`) and one ingredient's editor (`/ingredients/:name`).

mod create;
mod detail;
pub mod list;

pub use detail::IngredientPage;
pub use list::IngredientList;

use leptos::prelude::*;
use vr_app::release::Ingredient;
use vr_app::time::{format_age, format_utc};

use crate::clock::use_clock;
use crate::components::{EmptyRow, loading_or};
use crate::links::ingredient_href;
use crate::session::use_session;

/// Hints shared by the create and edit forms.
pub(crate) const SETTINGS_HINT: &str =
    "A YAML mapping; each top-level key replaces the same key of earlier layers.";
pub(crate) const ENV_HINT: &str = "A YAML mapping of names to strings.";
pub(crate) const SECRET_HINT: &str =
    "Comma-separated env names whose values are secret: shown masked, revealed on purpose.";

#[component]
pub fn IngredientsPage() -> impl IntoView {
    crate::route::title(|| "Ingredients".to_string());
    let session = use_session();
    let ingredients = IngredientList::follow();
    let rows = move || {
        let list = ingredients.list.get();
        if list.is_empty() {
            let text = loading_or(ingredients.loaded(), "No ingredients yet.");
            return view! { <EmptyRow colspan=5 text=text /> }.into_any();
        }
        list.into_iter()
            .map(|i| view! { <IngredientRow item=i /> })
            .collect_view()
            .into_any()
    };
    view! {
        <section class="page" data-test="ingredients">
            <h1>"Ingredients"</h1>
            <p class="muted">
                "Shared settings and env that releases merge in order, after the build's env and "
                "before their own values."
            </p>
            {move || ingredients.error().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
            <div class="card">
                <h2>"All ingredients"</h2>
                <div class="table-scroll">
                    <table data-test="ingredients-table">
                        <thead>
                            <tr>
                                <th scope="col">"Name"</th>
                                <th scope="col" class="num">"Settings keys"</th>
                                <th scope="col" class="num">"Env vars"</th>
                                <th scope="col">"Used by"</th>
                                <th scope="col">"Updated"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            </div>
            <Show when=move || session.can_deploy()>
                <create::CreateIngredient ingredients=ingredients />
            </Show>
        </section>
    }
}

/// "3 releases", "1 release", "no releases".
pub(crate) fn used_by_text(count: usize) -> String {
    match count {
        0 => "no releases".to_string(),
        1 => "1 release".to_string(),
        n => format!("{n} releases"),
    }
}

#[component]
fn IngredientRow(item: Ingredient) -> impl IntoView {
    let clock = use_clock();
    let updated = item.updated_at;
    let used = item.used_by_releases.len();
    view! {
        <tr data-test="ingredient-row" data-name=item.name.clone()>
            <td>
                <a href=ingredient_href(&item.name)>{item.name.clone()}</a>
            </td>
            <td class="num" data-test="ingredient-settings-count">{item.settings.len()}</td>
            <td class="num" data-test="ingredient-env-count">{item.env.len()}</td>
            <td data-test="ingredient-used-count" data-count=used>{used_by_text(used)}</td>
            <td class="nowrap" title=format_utc(updated)>
                {move || format_age(clock.now(), updated)}
            </td>
        </tr>
    }
}
