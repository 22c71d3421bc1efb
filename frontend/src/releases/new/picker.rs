//! The ingredients of a new release: a select that adds one, and the chosen ones in merge order
//! (top first, later ones win) with up / down / remove.

use crate::components::CollectAny;
use crate::components::Show;
use leptos::prelude::*;

use super::draft::Draft;
use crate::components::FormErrors;
use crate::ingredients::IngredientList;
use crate::links::ingredient_href;

#[component]
pub fn IngredientPicker(
    draft: Draft,
    ingredients: IngredientList,
    errors: FormErrors,
) -> impl IntoView {
    errors.register("ingredients");
    // Only those not chosen yet: each ingredient is merged at most once.
    let options = move || {
        let chosen = draft.ingredients.get();
        ingredients
            .names()
            .into_iter()
            .filter(|n| !chosen.contains(n))
            .map(|n| view! { <option value=n.clone()>{n.clone()}</option> })
            .collect_any()
    };
    let add = move |ev: leptos::ev::Event| {
        let select = event_target::<web_sys::HtmlSelectElement>(&ev);
        let name = select.value();
        // Back to the prompt, ready for the next one.
        select.set_value("");
        if !name.is_empty() {
            draft.ingredients.update(|list| {
                if !list.contains(&name) {
                    list.push(name);
                }
            });
        }
    };
    let rows = move || {
        let list = draft.ingredients.get();
        let last = list.len().saturating_sub(1);
        list.into_iter()
            .enumerate()
            .map(|(index, name)| {
                let remove = name.clone();
                view! {
                    <li data-test="release-ingredient" data-name=name.clone()>
                        <span class="order">{format!("{}.", index + 1)}</span>
                        <a class="grow mono" href=ingredient_href(&name) target="_blank">
                            {name.clone()}
                        </a>
                        <button
                            type="button"
                            class="btn btn-small"
                            data-test="release-ingredient-up"
                            title="Merge earlier"
                            disabled=index == 0
                            on:click=crate::ev::click(move |_| draft.move_ingredient(index, true))
                        >
                            "↑"
                        </button>
                        <button
                            type="button"
                            class="btn btn-small"
                            data-test="release-ingredient-down"
                            title="Merge later"
                            disabled=index == last
                            on:click=crate::ev::click(move |_| draft.move_ingredient(index, false))
                        >
                            "↓"
                        </button>
                        <button
                            type="button"
                            class="btn btn-small btn-danger-outline"
                            data-test="release-ingredient-remove"
                            on:click=crate::ev::click(move |_| {
                                draft.ingredients.update(|l| l.retain(|n| *n != remove))
                            })
                        >
                            "Remove"
                        </button>
                    </li>
                }
            })
            .collect_any()
    };
    view! {
        <div
            class="field grow"
            class:field-invalid=move || errors.field("ingredients").is_some()
            data-test="release-ingredients-field"
        >
            <label for="release-ingredient-add">"Ingredients"</label>
            <select id="release-ingredient-add" on:change=crate::ev::change(add)>
                <option value="" selected=true>
                    {move || {
                        if ingredients.loaded() { "(add an ingredient)" } else { "Loading…" }
                    }}
                </option>
                {options}
            </select>
            <Show
                when=move || draft.ingredients.with(|l| !l.is_empty())
                fallback=|| view! { <p class="field-hint">"None: only the build's env and the values below."</p> }
            >
                <ol class="ordered-list" data-test="release-ingredients">
                    {rows}
                </ol>
                <p class="field-hint">"Merged top to bottom: a later ingredient wins, and the values below win over all."</p>
            </Show>
            {move || {
                errors
                    .field("ingredients")
                    .map(|m| view! { <p class="field-error" data-field="ingredients">{m}</p> })
            }}
        </div>
    }
}
