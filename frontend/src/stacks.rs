//! `/stacks`: the OS images builds compile in and sandboxed procs run on (issue 16), each
//! image of each stack, which one new builds use, and how many releases run on it. Images are
//! uploaded with the CLI (`vr stack upload NAME FILE`): a root filesystem is too big for a form.

use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::live::Merge;
use vr_app::stack::{StackImage, paths};
use vr_app::time::{bytes, format_utc};

use crate::api;
use crate::components::{Column, DataTable};
use crate::live::LiveData;

/// Uploads announce themselves with the apps' message.
fn refetch_on_news<T>(_: &mut T, message: &LiveMessage) -> Merge {
    match message {
        LiveMessage::Apps | LiveMessage::Releases => Merge::Refetch,
        _ => Merge::Ignored,
    }
}

async fn fetch() -> Result<Vec<StackImage>, api::ApiError> {
    api::get(paths::STACKS).await
}

#[component]
pub fn StacksPage() -> impl IntoView {
    crate::route::title(|| "Stacks".to_string());
    let list = LiveData::follow(Vec::new(), fetch, refetch_on_news);
    let columns = vec![
        Column::new("Stack", |i: &StackImage| i.stack.clone()),
        Column::new("Image", |i: &StackImage| {
            i.sha256[..i.sha256.len().min(12)].to_string()
        })
        .class("mono"),
        Column::new("Status", |i: &StackImage| {
            if i.current {
                "current".to_string()
            } else {
                i.status.as_str().to_string()
            }
        }),
        Column::new("Size", |i: &StackImage| bytes(i.size)).class("num"),
        Column::new("Releases", |i: &StackImage| i.used_by_releases.to_string()).class("num"),
        Column::new("Uploaded", |i: &StackImage| {
            format!("{} by {}", format_utc(i.created_at), i.created_by)
        }),
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
            <div class="card">
                <DataTable
                    rows=list.signal()
                    columns=columns
                    empty="No stacks yet."
                    loading=Signal::derive(move || !list.loaded())
                    row_attrs=|i: StackImage| vec![("data-test", "stack-row".to_string()), ("data-stack", i.stack), ("data-current", i.current.to_string())]
                    test_id="stacks-table"
                />
            </div>
        </section>
    }
}
