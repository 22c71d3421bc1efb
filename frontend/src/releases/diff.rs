//! A release compared with another of the same app. The other one is the base: a key only in
//! this release is *added*, only in the other *removed*, in both with different values
//! *changed* (as a diff from the other to this one reads).

use crate::busy::spawn_local;
use crate::components::CollectAny;
use crate::components::Show;
use leptos::prelude::*;
use serde_json::Value;
use vr_app::release::{Difference, Release, ReleaseDiff};

use crate::api;
use crate::components::EmptyRow;
use crate::releases::ReleaseFeed;
use crate::releases::values::{json_text, plain_text};
use crate::route::UrlParam;

/// `added`, `removed` or `changed` (also the row's class suffix and `data-change`).
fn change(d: &Difference) -> &'static str {
    match (&d.a, &d.b) {
        (Some(_), None) => "added",
        (None, Some(_)) => "removed",
        _ => "changed",
    }
}

/// A value of `section` as text: env values and the run-as user are plain strings.
fn value_text(section: &str, value: &Value) -> String {
    match section {
        "env" | "run_as" => plain_text(value),
        _ => json_text(value),
    }
}

fn value_cell(section: &str, value: Option<&Value>) -> impl IntoView + use<> {
    match value {
        None => view! { <td class="muted">"—"</td> }.into_any(),
        Some(v) => {
            let text = value_text(section, v);
            if text.contains('\n') {
                view! {
                    <td>
                        <pre class="value-block">{text}</pre>
                    </td>
                }
                .into_any()
            } else {
                view! { <td class="mono">{text}</td> }.into_any()
            }
        }
    }
}

/// The picker of the other release and the table of differences.
#[component]
pub fn ReleaseCompare(release: Release) -> impl IntoView {
    let this = release.id;
    let feed = ReleaseFeed::follow(Signal::stored(Some(release.app.clone())));
    // The release compared with is in the URL (`?compare=ID`): a reload or a link shows the diff.
    let compare = UrlParam::new("compare");
    let other = Signal::derive(move || compare.value.get().unwrap_or_default());
    let diff = RwSignal::new(None::<ReleaseDiff>);
    let error = RwSignal::new(None::<String>);
    let loading = RwSignal::new(false);
    let generation = StoredValue::new(0u64);
    crate::effects::effect(move || {
        let chosen = other.get();
        generation.update_value(|g| *g += 1);
        let asked_in = generation.get_value();
        diff.set(None);
        error.set(None);
        let Ok(b) = chosen.parse::<i64>() else {
            loading.set(false);
            return;
        };
        loading.set(true);
        spawn_local(async move {
            let result = api::release::compare_releases(this, b).await;
            if generation.try_get_value() != Some(asked_in) {
                return;
            }
            let _ = loading.try_set(false);
            match result {
                Ok(d) => {
                    let _ = diff.try_set(Some(d));
                }
                Err(e) => {
                    let _ = error.try_set(Some(e.into_message()));
                }
            }
        });
    });
    let on_pick = move |ev| compare.replace(Some(event_target_value(&ev)));

    let options = move || {
        let current = other.get();
        feed.releases()
            .get()
            .into_iter()
            .filter(|r| r.id != this)
            .map(|r| {
                let value = r.id.to_string();
                let selected = value == current;
                let label = format!("#{} · {} · {}", r.id, r.version, r.hash);
                view! { <option value=value selected=selected>{label}</option> }
            })
            .collect_any()
    };
    let prompt = move || {
        if !feed.loaded() {
            "Loading…"
        } else if feed
            .releases()
            .with(|list| list.iter().all(|r| r.id == this))
        {
            "(no other release of this app)"
        } else {
            "(choose a release)"
        }
    };

    view! {
        <div class="card" data-test="release-compare-card">
            <h2>"Compare"</h2>
            <div class="filters">
                <div class="field">
                    <label for="release-compare">"Against"</label>
                    <select id="release-compare" prop:value=move || other.get() on:change=crate::ev::change(on_pick)>
                        <option value="" selected=move || other.with(String::is_empty)>
                            {prompt}
                        </option>
                        {options}
                    </select>
                </div>
                <p class="muted">
                    "Added: only in this release. Removed: only in the other. Changed: in both, different."
                </p>
            </div>
            {move || feed.error().map(|e| view! { <p class="field-error">{e}</p> })}
            {move || error.get().map(|e| view! { <p class="field-error" data-test="release-diff-error">{e}</p> })}
            <Show when=move || loading.get()>
                <p class="muted">"Comparing…"</p>
            </Show>
            {move || diff.get().map(|d| view! { <DiffTable diff=d /> })}
        </div>
    }
}

#[component]
pub fn DiffTable(
    diff: ReleaseDiff,
    /// Column headings of the two sides; by default "This release (#a)" and "#b".
    #[prop(optional)]
    labels: Option<(String, String)>,
) -> impl IntoView {
    let (a, b) = (diff.a.id, diff.b.id);
    let (a_label, b_label) =
        labels.unwrap_or_else(|| (format!("This release (#{a})"), format!("#{b}")));
    let rows = if diff.differences.is_empty() {
        view! { <EmptyRow colspan=4 text="No differences." /> }.into_any()
    } else {
        diff.differences
            .into_iter()
            .map(|d| {
                let kind = change(&d);
                let a_cell = value_cell(&d.section, d.a.as_ref());
                let b_cell = value_cell(&d.section, d.b.as_ref());
                view! {
                    <tr
                        data-test="diff-row"
                        data-section=d.section.clone()
                        data-key=d.key.clone()
                        data-change=kind
                        class=format!("diff-{kind}")
                    >
                        <td class="nowrap">{d.section.clone()}</td>
                        <td class="mono nowrap">
                            {d.key.clone()}
                            {d.secret.then(|| view! { " " <span class="badge" data-test="diff-secret">"secret changed"</span> })}
                        </td>
                        {a_cell}
                        {b_cell}
                    </tr>
                }
            })
            .collect_any()
            .into_any()
    };
    view! {
        <div class="table-scroll">
            <table data-test="release-diff" data-a=a data-b=b>
                <thead>
                    <tr>
                        <th scope="col">"Section"</th>
                        <th scope="col">"Key"</th>
                        <th scope="col">{a_label}</th>
                        <th scope="col">{b_label}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
