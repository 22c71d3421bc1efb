//! The configuration fields of the "new release" form: own settings and env (YAML), secret
//! keys, ingredients in merge order, volumes, run-as and a memory limit.

use leptos::prelude::*;

use super::draft::Draft;
use super::picker::IngredientPicker;
use super::volumes::VolumesEditor;
use crate::components::{FieldSpec, FormErrors, TextArea};
use crate::ingredients::IngredientList;

#[component]
pub fn ReleaseFields(
    draft: Draft,
    errors: FormErrors,
    ingredients: IngredientList,
) -> impl IntoView {
    view! {
        <div class="form-row">
            <TextArea
                label="Settings (YAML)"
                id="release-settings"
                name="settings_yaml"
                value=draft.settings_yaml
                errors=errors
                placeholder="workers: 4\nfeatures:\n  search: true"
                hint="A YAML mapping; these win over every ingredient."
            />
            <TextArea
                label="Env (YAML)"
                id="release-env"
                name="env_yaml"
                value=draft.env_yaml
                errors=errors
                placeholder="LOG_LEVEL: info"
                hint="A YAML mapping of names to strings; these win over the build's env and every ingredient."
            />
        </div>
        {FieldSpec::new("Secret env keys", "release-secret-keys", "secret_keys", draft.secret_keys, errors).autocomplete("off").placeholder("e.g. DB_PASSWORD, API_TOKEN").hint("Their values reach the proc but are shown masked everywhere; keys an ingredient marks stay secret.").view()}
        <div class="form-row">
            <IngredientPicker draft=draft ingredients=ingredients errors=errors />
            <VolumesEditor draft=draft errors=errors />
        </div>
        <div class="form-row">
            {FieldSpec::new("Run as", "release-run-as", "run_as", draft.run_as, errors).autocomplete("off").placeholder("(default)").hint("A Unix user on the host; empty for the default.").view()}
            {FieldSpec::new("Memory limit (MB)", "release-mem", "mem_limit_mb", draft.mem_mb, errors).autocomplete("off").numeric().placeholder("(none)").view()}
            {FieldSpec::new("CPU weight", "release-cpu", "cpu_weight", draft.cpu_weight, errors).autocomplete("off").numeric().placeholder("100").hint("Its share of CPU against other procs: 1 to 10000, 100 is the default.").view()}
        </div>
        <label class="check">
            <input type="checkbox" id="release-sandbox"
                prop:checked=move || draft.sandbox.get()
                on:change=crate::ev::change(move |ev| draft.sandbox.set(event_target_checked(&ev))) />
            "Run each proc in a sandbox (bubblewrap: the build read-only at /app, only its home and volumes writable)"
        </label>
    }
}
