//! The "new ingredient" form of the Ingredients page.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::release::NewIngredient;
use vr_app::validate;

use super::IngredientList;
use super::{ENV_HINT, SECRET_HINT, SETTINGS_HINT};
use crate::api;
use crate::busy::spawn_submit;
use crate::components::{FieldSpec, FormError, FormErrors, TextArea, use_toasts};

#[component]
pub fn CreateIngredient(ingredients: IngredientList) -> impl IntoView {
    let toasts = use_toasts();
    let name = RwSignal::new(String::new());
    let settings = RwSignal::new(String::new());
    let env = RwSignal::new(String::new());
    let secret_keys = RwSignal::new(String::new());
    let notes = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let request = NewIngredient {
            name: name.get_untracked().trim().to_string(),
            settings_yaml: settings.get_untracked(),
            env_yaml: env.get_untracked(),
            secret_keys: vr_app::secret::parse_key_list(&secret_keys.get_untracked()),
            notes: notes.get_untracked().trim().to_string(),
        };
        // Ingredient names follow the squad-name rule.
        let mut checks = vec![
            validate::squad_name("name", &request.name),
            validate::label_or_empty("notes", &request.notes),
        ];
        checks.extend(
            request
                .secret_keys
                .iter()
                .map(|k| validate::env_name("secret_keys", k)),
        );
        if errors.show_invalid(&checks) {
            return;
        }
        spawn_submit(
            busy,
            errors,
            api::release::create_ingredient(&request),
            move |created| {
                toasts.success(format!("Ingredient {} created.", created.name));
                ingredients.put(created);
                name.set(String::new());
                settings.set(String::new());
                env.set(String::new());
                secret_keys.set(String::new());
                notes.set(String::new());
            },
        );
    };

    view! {
        <div class="card" id="create-ingredient-section">
            <h2>"New ingredient"</h2>
            <form class="form" on:submit=crate::ev::submit(submit) novalidate=true>
                <FormError errors=errors />
                <div class="form-row">
                    {FieldSpec::new("Name", "ingredient-name", "name", name, errors).autocomplete("off").placeholder("e.g. postgres-prod").hint("Letters, digits, '_', '.' or '-'.").view()}
                    {FieldSpec::new("Notes", "ingredient-notes", "notes", notes, errors).autocomplete("off").view()}
                </div>
                <div class="form-row">
                    <TextArea
                        label="Settings (YAML)"
                        id="ingredient-settings"
                        name="settings_yaml"
                        value=settings
                        errors=errors
                        placeholder="db:\n  host: db1\n  port: 5432"
                        hint=SETTINGS_HINT
                    />
                    <TextArea
                        label="Env (YAML)"
                        id="ingredient-env"
                        name="env_yaml"
                        value=env
                        errors=errors
                        placeholder="DATABASE_URL: postgres://db1/shop"
                        hint=ENV_HINT
                    />
                </div>
                {FieldSpec::new("Secret env keys", "ingredient-secret-keys", "secret_keys", secret_keys, errors).autocomplete("off").placeholder("e.g. DB_PASSWORD").hint(SECRET_HINT).view()}
                <button
                    type="submit"
                    class="btn btn-primary"
                    id="ingredient-create"
                    disabled=move || busy.get()
                >
                    "Create ingredient"
                </button>
            </form>
        </div>
    }
}
