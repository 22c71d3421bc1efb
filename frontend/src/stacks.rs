//! `/stacks`: the OS images builds compile in and sandboxed procs run on (issue 16), each
//! image of each stack, which one new builds use, and how many releases run on it. Images are
//! uploaded with the CLI (`vr stack upload NAME FILE`): a root filesystem is too big for a form.

use crate::components::CollectVec;
use crate::components::Show;
use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::live::Merge;
use vr_app::stack::{StackImage, paths};
use vr_app::time::{bytes, format_utc};

use crate::api;
use crate::busy::{spawn_local, spawn_submit};
use crate::components::{Column, DataTable, FieldSpec, FormError, FormErrors};
use crate::live::LiveData;
use crate::session::use_session;
use leptos::ev::SubmitEvent;
use vr_app::build::BuildLog;
use vr_app::stack::{NewStackBuild, StackSource};

/// Uploads announce themselves with the apps' message.
fn refetch_on_news<T>(_: &mut T, message: &LiveMessage) -> Merge {
    match message {
        LiveMessage::Apps | LiveMessage::Releases => Merge::Refetch,
        _ => Merge::Ignored,
    }
}

fn fetch() -> api::Reply<Vec<StackImage>> {
    api::get(paths::STACKS)
}

#[component]
pub fn StacksPage() -> impl IntoView {
    crate::route::title(|| "Stacks".to_string());
    let session = use_session();
    let list = LiveData::follow(Vec::new(), fetch, refetch_on_news);
    // The image whose build log is shown.
    let following = RwSignal::new(None::<i64>);
    let columns = vec![
        Column::new("Stack", |i: &StackImage| i.stack.clone()),
        Column::new("Image", |i: &StackImage| {
            let sha = i.sha256.as_deref().unwrap_or("-");
            sha[..sha.len().min(12)].to_string()
        })
        .class("mono"),
        Column::new("Status", |i: &StackImage| {
            if i.current {
                "current".to_string()
            } else {
                i.status.as_str().to_string()
            }
        }),
        Column::new("Size", |i: &StackImage| {
            i.size.map(bytes).unwrap_or_default()
        })
        .class("num"),
        Column::new("Recipe", |i: &StackImage| {
            i.error.as_ref().map_or_else(
                || i.recipe.clone(),
                |e| format!("{} — failed: {e}", i.recipe),
            )
        }),
        Column::new("Releases", |i: &StackImage| i.used_by_releases.to_string()).class("num"),
        Column::new("Made", |i: &StackImage| {
            format!("{} by {}", format_utc(i.created_at), i.created_by)
        }),
        Column::new("", |_: &StackImage| String::new())
            .cell(move |i: &StackImage| {
                let id = i.id;
                (i.source == StackSource::Mmdebstrap).then(|| {
                    view! {
                        <button type="button" class="btn btn-small" data-test="stack-log-open"
                            on:click=crate::ev::click(move |_| following.set(Some(id)))>"Log"</button>
                    }
                })
            })
            .unsorted(),
    ];
    view! {
        <section class="page" data-test="stacks">
            <h1>"Stacks"</h1>
            <p class="muted">
                "OS images: an app that names a stack compiles in its current image, and its procs run with it as / (sandbox runner). "
                "Upload one with " <code>"vr stack upload NAME FILE.tar.gz"</code>
                " (a root filesystem with /bin/sh and setpriv, e.g. made by mmdebstrap). Old images no release uses expire."
            </p>
            {move || list.error_text().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
            <Show when=move || session.can_deploy()>
                <BuildImage following=following />
            </Show>
            {move || following.get().map(|id| view! {
                <div class="card">
                    <h2>{format!("Build log of image #{id}")}</h2>
                    <ImageLog id=id />
                </div>
            })}
            <div class="card">
                <DataTable
                    rows=list.signal()
                    columns=columns
                    empty="No stacks yet."
                    loading=Signal::derive(move || !list.loaded())
                    row_attrs=|i: &StackImage| vec![("data-test", "stack-row".to_string()), ("data-stack", i.stack.clone()), ("data-current", i.current.to_string())]
                    test_id="stacks-table"
                />
            </div>
        </section>
    }
}

/// "Build an image": mmdebstrap on a builder host; its log is shown once it starts.
#[component]
fn BuildImage(following: RwSignal<Option<i64>>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let suite = RwSignal::new("bookworm".to_string());
    let packages = RwSignal::new(String::new());
    let variant = RwSignal::new(String::new());
    let mirror = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let stack = name.get_untracked().trim().to_string();
        let recipe = NewStackBuild {
            suite: suite.get_untracked().trim().to_string(),
            packages: packages
                .get_untracked()
                .split([',', ' '])
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect_vec(),
            variant: variant.get_untracked().trim().to_string(),
            mirror: mirror.get_untracked().trim().to_string(),
        };
        if errors.show_invalid(&[vr_app::stack::check_name("name", &stack), recipe.validate()]) {
            return;
        }
        spawn_submit(
            busy,
            errors,
            api::post::<_, StackImage>(&paths::stack_build(&stack), &recipe),
            move |image| following.set(Some(image.id)),
        );
    };
    view! {
        <div class="card" id="stack-build-section">
            <h2>"Build an image"</h2>
            <form class="form form-inline" on:submit=crate::ev::submit(submit) novalidate=true>
                <FormError errors=errors />
                {FieldSpec::new("Stack", "stack-name", "name", name, errors).autocomplete("off").placeholder("e.g. bookworm_py").view()}
                {FieldSpec::new("Suite", "stack-suite", "suite", suite, errors).autocomplete("off").view()}
                {FieldSpec::new("Packages", "stack-packages", "packages", packages, errors).autocomplete("off").placeholder("python3, curl").view()}
                {FieldSpec::new("Variant", "stack-variant", "variant", variant, errors).autocomplete("off").placeholder("minbase").view()}
                {FieldSpec::new("Mirror", "stack-mirror", "mirror", mirror, errors).autocomplete("off").placeholder("(mmdebstrap's default)").view()}
                <button type="submit" class="btn btn-primary" id="stack-build" disabled=move || busy.get()>
                    "Build with mmdebstrap"
                </button>
            </form>
        </div>
    }
}

/// How often a shown build log is read while the build goes on.
const LOG_POLL_MS: u32 = 700;

/// An image build's log, read from where it was until it is complete.
#[component]
fn ImageLog(id: i64) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let complete = RwSignal::new(false);
    let offset = StoredValue::new(0u64);
    let reading = StoredValue::new(false);
    let read = move || {
        if complete.get_untracked() || reading.get_value() {
            return;
        }
        reading.set_value(true);
        spawn_local(async move {
            let at = offset.get_value();
            if let Ok(piece) =
                api::get::<BuildLog>(&format!("{}?offset={at}", paths::image_log(id))).await
            {
                offset.set_value(piece.offset);
                if !piece.text.is_empty() {
                    let _ = text.try_update(|t| t.push_str(&piece.text));
                }
                let _ = complete.try_set(piece.complete);
            }
            reading.set_value(false);
        });
    };
    read();
    crate::clock::every(
        std::time::Duration::from_millis(u64::from(LOG_POLL_MS)),
        read,
    );
    view! {
        <pre class="log" data-test="stack-log" data-complete=move || complete.get().to_string()>
            {move || text.get()}
        </pre>
    }
}
