//! The config preview: what a release made from the form would hold, which layer (build,
//! ingredient, own) each key came from, its hash, and how it differs from what runs now (the
//! release the app's procs run, else its newest). Nothing is stored to show it.

use crate::components::CollectVec;
use crate::components::Show;
use leptos::prelude::*;
use vr_app::release::{Release, ReleaseDiff, ReleasePreview, diff};

use super::base::Base;
use crate::releases::diff::DiffTable;

use crate::releases::values::SourcedTable;

#[component]
pub fn PreviewPanel(
    preview: ReleasePreview,
    /// The build the preview was asked for.
    build_id: i64,
    /// What the preview is compared with.
    base: Option<Base>,
    /// The form changed since this preview was asked for.
    #[prop(into)]
    stale: Signal<bool>,
) -> impl IntoView {
    let compare = base.map(|b| {
        let candidate = Release {
            id: 0,
            build_id,
            hash: preview.hash.clone(),
            config: preview.config.clone(),
            ..b.compare.clone()
        };
        let differences = diff(&b.compare, &candidate);
        let heading = if b.running {
            format!("Against what runs now (#{})", b.compare.id)
        } else {
            format!(
                "Against the newest release (#{}; none runs now)",
                b.compare.id
            )
        };
        let labels = (format!("#{} now", b.compare.id), "This preview".to_string());
        view! {
            <h3 data-test="preview-compare-heading">{heading}</h3>
            <DiffTable
                diff=ReleaseDiff {
                    a: b.compare,
                    b: candidate,
                    differences,
                }
                labels=labels
            />
        }
    });
    let config = preview.config;
    let volumes = if config.volumes.is_empty() {
        "none".to_string()
    } else {
        config
            .volumes
            .iter()
            .map(|v| format!("{} → {}", v.host_dir, v.mount_dir))
            .collect_vec()
            .join(", ")
    };
    view! {
        <div class="card" data-test="release-preview" data-hash=preview.hash.clone()>
            <div class="card-head">
                <h2>"Preview"</h2>
                <Show when=move || stale.get()>
                    <span class="preview-stale" data-test="release-preview-stale">
                        "The form changed since: preview again to see the result."
                    </span>
                </Show>
            </div>
            <dl class="facts">
                <dt>"Hash"</dt>
                <dd class="mono" id="release-preview-hash">{preview.hash.clone()}</dd>
                <dt>"Run as"</dt>
                <dd class="mono">{config.run_as.clone().unwrap_or_else(|| "default".to_string())}</dd>
                <dt>"Memory limit"</dt>
                <dd>{config.mem_limit_mb.map_or_else(|| "none".to_string(), |mb| format!("{mb} MB"))}</dd>
                <dt>"Volumes"</dt>
                <dd class="mono">{volumes}</dd>
            </dl>
            {compare}
            <h3>"Settings"</h3>
            <SourcedTable
                keys=preview.settings_from
                test_id="preview-settings"
                plain=false
                empty="No settings."
            />
            <h3>"Env"</h3>
            <SourcedTable
                keys=preview.env_from
                test_id="preview-env"
                plain=true
                empty="No env vars."
            />
        </div>
    }
}
