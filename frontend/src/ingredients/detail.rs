//! `/ingredients/:name`: one ingredient: its YAML editor (read-only for viewers), the parsed
//! values as the server understood them, the releases that use it, and delete.

use crate::components::CollectAny;
use crate::components::CollectVec;
use crate::router::use_navigate;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::live::Merge;
use vr_app::release::{Ingredient, IngredientPatch};
use vr_app::time::format_utc;
use vr_app::validate;

use super::{ENV_HINT, SECRET_HINT, SETTINGS_HINT};
use crate::api;
use crate::busy::{Deletion, spawn_delete, spawn_submit};
use crate::components::{
    ConfirmDialog, FieldSpec, FormError, FormErrors, MissingNotice, TextArea, use_toasts,
};
use crate::live::LiveData;

use crate::links::release_href;
use crate::releases::values::{EnvTable, RevealFrom, SettingsTable};
use crate::session::use_session;

#[component]
pub fn IngredientPage() -> impl IntoView {
    let name = crate::route::name_param();
    crate::route::title(move || format!("{} · Ingredient", name.get()));
    view! {
        <section class="page" data-test="ingredient" data-name=move || name.get()>
            <p>
                <a href="/ingredients">"← Ingredients"</a>
            </p>
            <h1 id="ingredient-title">{move || name.get()}</h1>
            // A new view per name, so the editor starts from that ingredient's values.
            {move || view! { <IngredientView name=name.get() /> }}
        </section>
    }
}

#[component]
fn IngredientView(name: String) -> impl IntoView {
    let session = use_session();
    let deleting = RwSignal::new(false);
    let delete_error = RwSignal::new(None::<String>);
    let name = StoredValue::new(name);
    // Another release may have started using it, or someone else changed it: fetch again.
    let data = LiveData::follow(
        None::<Ingredient>,
        move || {
            let name = name.get_value();
            async move { api::release::ingredient(&name).await.map(Some) }
        },
        |_, message| match message {
            LiveMessage::Releases => Merge::Refetch,
            _ => Merge::Ignored,
        },
    );
    let current = data.rw();

    // The editor is built once per ingredient (not on every refetch), so typing is never undone.
    let id = Memo::new(move |_| current.with(|i| i.as_ref().map(|i| i.id)));
    let body = move || {
        if id.get().is_none() {
            let text = match data.error() {
                Some(e) if e.status == 404 => {
                    format!("There is no ingredient named {}.", name.get_value())
                }
                Some(e) => format!("Cannot load the ingredient: {e}"),
                None => "Loading…".to_string(),
            };
            return view! { <MissingNotice test="ingredient-missing" text=text /> }.into_any();
        }
        let Some(ingredient) = current.get_untracked() else {
            return ().into_any();
        };
        view! {
            <IngredientEditor
                ingredient=ingredient
                current=current
                editable=session.can_deploy()
                deleting=deleting
            />
            <UsedBy current=current />
            <Parsed current=current />
        }
        .into_any()
    };

    view! {
        {move || {
            delete_error
                .get()
                .map(|e| view! { <div class="form-error" role="alert" data-test="ingredient-error">{e}</div> })
        }}
        {body}
        <IngredientDeleteDialog name=name.get_value() asking=deleting error=delete_error />
    }
}

/// Edits the YAML and notes; viewers see them read-only.
#[component]
fn IngredientEditor(
    ingredient: Ingredient,
    current: RwSignal<Option<Ingredient>>,
    editable: bool,
    deleting: RwSignal<bool>,
) -> impl IntoView {
    let toasts = use_toasts();
    let settings = RwSignal::new(ingredient.settings_yaml.clone());
    let env = RwSignal::new(ingredient.env_yaml.clone());
    let secret_keys = RwSignal::new(
        ingredient
            .secret_keys
            .iter()
            .cloned()
            .collect_vec()
            .join(", "),
    );
    let notes = RwSignal::new(ingredient.notes.clone());
    let original = StoredValue::new(ingredient);
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let old = original.get_value();
        let new_settings = settings.get_untracked();
        let new_env = env.get_untracked();
        let new_notes = notes.get_untracked().trim().to_string();
        if let Err(invalid) = validate::label_or_empty("notes", &new_notes) {
            errors.set_invalid(&invalid);
            return;
        }
        let new_secret = vr_app::secret::parse_key_list(&secret_keys.get_untracked());
        if let Some(e) = new_secret
            .iter()
            .find_map(|k| validate::env_name("secret_keys", k).err())
        {
            errors.set_invalid(&e);
            return;
        }
        let old_secret: Vec<String> = old.secret_keys.iter().cloned().collect_vec();
        let patch = IngredientPatch {
            settings_yaml: (new_settings != old.settings_yaml).then_some(new_settings),
            env_yaml: (new_env != old.env_yaml).then_some(new_env),
            secret_keys: (new_secret != old_secret).then_some(new_secret),
            notes: (new_notes != old.notes).then_some(new_notes),
        };
        if patch == IngredientPatch::default() {
            toasts.success("Nothing to save: no field changed.");
            return;
        }
        spawn_submit(
            busy,
            errors,
            api::release::update_ingredient(&old.name, &patch),
            move |updated| {
                toasts.success(format!("Ingredient {} saved.", updated.name));
                original.set_value(updated.clone());
                let _ = current.try_set(Some(updated));
            },
        );
    };
    let updated = move || {
        current.with(|i| {
            i.as_ref()
                .map(|i| format!("Last changed {}.", format_utc(i.updated_at)))
        })
    };
    let buttons = editable.then(|| {
        view! {
            <div class="button-row">
                <button
                    type="submit"
                    class="btn btn-primary"
                    id="ingredient-save"
                    disabled=move || busy.get()
                >
                    {crate::components::flag_text(busy, "Saving…", "Save")}
                </button>
                <button
                    type="button"
                    class="btn btn-danger-outline"
                    id="ingredient-delete"
                    on:click=crate::ev::click(move |_| deleting.set(true))
                >
                    "Delete ingredient"
                </button>
            </div>
        }
    });
    view! {
        <div class="card" data-test="ingredient-edit">
            <h2>{if editable { "Edit" } else { "Values" }}</h2>
            <p class="muted">
                {updated}
                " Releases keep the values they were made with; changes reach new releases only."
            </p>
            <form class="form" on:submit=crate::ev::submit(submit) novalidate=true>
                <FormError errors=errors />
                <div class="form-row">
                    <TextArea
                        label="Settings (YAML)"
                        id="ingredient-edit-settings"
                        name="settings_yaml"
                        value=settings
                        errors=errors
                        rows=10
                        hint=SETTINGS_HINT
                        readonly=!editable
                    />
                    <TextArea
                        label="Env (YAML)"
                        id="ingredient-edit-env"
                        name="env_yaml"
                        value=env
                        errors=errors
                        rows=10
                        hint=ENV_HINT
                        readonly=!editable
                    />
                </div>
                {FieldSpec::new("Secret env keys", "ingredient-edit-secret-keys", "secret_keys", secret_keys, errors).autocomplete("off").hint(SECRET_HINT).disabled(!editable).view()}
                {FieldSpec::new("Notes", "ingredient-edit-notes", "notes", notes, errors).autocomplete("off").disabled(!editable).view()}
                {buttons}
            </form>
        </div>
    }
}

/// "Used by releases: #1, #4", kept current by the live channel.
#[component]
fn UsedBy(current: RwSignal<Option<Ingredient>>) -> impl IntoView {
    let links = move || {
        let ids = current.with(|i| {
            i.as_ref()
                .map(|i| i.used_by_releases.clone())
                .unwrap_or_default()
        });
        if ids.is_empty() {
            return view! { <span class="muted">"none yet"</span> }.into_any();
        }
        let last = ids.len() - 1;
        ids.into_iter()
            .enumerate()
            .map(|(i, id)| {
                view! {
                    <a href=release_href(id) data-id=id>
                        {format!("#{id}")}
                    </a>
                    {(i < last).then_some(", ")}
                }
            })
            .collect_any()
            .into_any()
    };
    view! {
        <div class="card">
            <p data-test="ingredient-used-by">"Used by releases: " {links}</p>
        </div>
    }
}

/// The saved values as the server parsed them.
#[component]
fn Parsed(current: RwSignal<Option<Ingredient>>) -> impl IntoView {
    let settings = Signal::derive(move || {
        current.with(|i| i.as_ref().map(|i| i.settings.clone()).unwrap_or_default())
    });
    let env = Signal::derive(move || {
        current.with(|i| i.as_ref().map(|i| i.env.clone()).unwrap_or_default())
    });
    let reveal_from =
        current.with_untracked(|i| i.as_ref().map(|i| RevealFrom::Ingredient(i.name.clone())));
    view! {
        <div class="cards">
            <div class="card">
                <h2>"Saved settings"</h2>
                <SettingsTable settings=settings test_id="ingredient-settings-parsed" />
            </div>
            <div class="card">
                <h2>"Saved env"</h2>
                <EnvTable env=env test_id="ingredient-env-parsed" reveal=reveal_from />
            </div>
        </div>
    }
}

/// Asks before deleting; the server says why when it refuses.
#[component]
fn IngredientDeleteDialog(
    name: String,
    asking: RwSignal<bool>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let toasts = use_toasts();
    let navigate = use_navigate();
    let busy = RwSignal::new(false);
    let name = StoredValue::new(name);
    let confirm = move |()| {
        let name = name.get_value();
        let navigate = navigate.clone();
        let deletion = Deletion {
            busy,
            toasts,
            kind: "Ingredient",
            name: name.clone(),
            error: Some(error),
        };
        spawn_delete(
            deletion,
            api::release::delete_ingredient(&name),
            move || navigate("/ingredients", Default::default()),
            move || {
                let _ = asking.try_set(false);
            },
        );
    };
    view! {
        <ConfirmDialog
            open=asking
            title=Signal::derive(move || format!("Delete ingredient {}?", name.get_value()))
            message="Releases made with it keep their values."
            confirm_label="Delete"
            danger=true
            busy=busy
            on_confirm=confirm
            on_cancel=move |()| asking.set(false)
        />
    }
}
