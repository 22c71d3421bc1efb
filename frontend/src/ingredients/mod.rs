//! Ingredients: reusable settings and env merged into releases. The list with the create form
//! (`/ingredients`) and one ingredient's editor (`/ingredients/:name`).

mod create;
mod detail;
pub mod list;

pub use detail::IngredientPage;
pub use list::IngredientList;

use crate::components::Show;
use leptos::prelude::*;
use vr_app::release::Ingredient;
use vr_app::time::format_utc;

use crate::components::{Age, Column, DataTable, SortKey};
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
    let count = |n: usize| SortKey::Int(i64::try_from(n).unwrap_or(i64::MAX));
    let columns = vec![
        Column::new("Name", |i: &Ingredient| i.name.clone())
            .cell(|i: &Ingredient| view! { <a href=ingredient_href(&i.name)>{i.name.clone()}</a> }),
        Column::new("Settings keys", |i: &Ingredient| {
            i.settings.len().to_string()
        })
        .sort_by(move |i: &Ingredient| count(i.settings.len()))
        .class("num"),
        Column::new("Env vars", |i: &Ingredient| i.env.len().to_string())
            .sort_by(move |i: &Ingredient| count(i.env.len()))
            .class("num"),
        Column::new("Used by", |i: &Ingredient| {
            used_by_text(i.used_by_releases.len())
        })
        .sort_by(move |i: &Ingredient| count(i.used_by_releases.len())),
        Column::new("Updated", |i: &Ingredient| format_utc(i.updated_at))
            .sort_by(|i: &Ingredient| SortKey::Int(i.updated_at))
            .cell(|i: &Ingredient| view! { <Age at=i.updated_at /> })
            .class("nowrap"),
    ];
    let row_attrs = |i: &Ingredient| {
        vec![
            ("data-test", "ingredient-row".to_string()),
            ("data-name", i.name.clone()),
            ("data-used", i.used_by_releases.len().to_string()),
        ]
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
                <DataTable
                    rows=ingredients.list
                    columns=columns
                    empty="No ingredients yet."
                    loading=Signal::derive(move || !ingredients.loaded())
                    row_attrs=row_attrs
                    test_id="ingredients-table"
                />
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
