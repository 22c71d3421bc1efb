//! The "build a version" form of an app's page; a started build opens its own page.

use crate::router::use_navigate;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::build::BuildRequest;
use vr_app::validate;

use crate::api;

use crate::busy::spawn_busy;
use crate::components::{FieldSpec, FormError, FormErrors};
use crate::links::build_href;

#[component]
pub fn StartBuild(app: String) -> impl IntoView {
    let navigate = use_navigate();
    let version = RwSignal::new(String::new());
    let force = RwSignal::new(false);
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);
    let app = StoredValue::new(app);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let request = BuildRequest {
            app: app.get_value(),
            version: version.get_untracked().trim().to_string(),
            force: force.get_untracked(),
            stack: None,
        };
        if let Err(invalid) = validate::git_ref("version", &request.version) {
            errors.set_invalid(&invalid);
            return;
        }
        let navigate = navigate.clone();
        spawn_busy(busy, async move {
            match api::build::start_build(&request).await {
                // A build of the same version already under way is answered instead; either way
                // its page shows what happens.
                Ok(build) => navigate(&build_href(build.id), Default::default()),
                Err(e) => errors.set_api(&e),
            }
        });
    };

    view! {
        <div class="card" data-test="app-build">
            <h2>"Build"</h2>
            <form class="form form-inline" on:submit=crate::ev::submit(submit) novalidate=true>
                <FormError errors=errors />
                {FieldSpec::new("Version", "build-version", "version", version, errors).autocomplete("off").placeholder("tag, branch or commit").view()}
                <div class="field field-check">
                    <label class="check" for="build-force">
                        <input
                            type="checkbox"
                            id="build-force"
                            prop:checked=move || force.get()
                            on:change=crate::ev::change(move |ev| force.set(event_target_checked(&ev)))
                        />
                        "rebuild even if this commit was built"
                    </label>
                </div>
                <button
                    type="submit"
                    class="btn btn-primary"
                    id="build-start"
                    disabled=move || busy.get()
                >
                    {crate::components::flag_text(busy, "Starting…", "Build")}
                </button>
            </form>
        </div>
    }
}
