//! How builds are drawn: the status badge, short forms of commits and buildpack URLs, and the
//! one build table used by the Builds page and each app's page.

use leptos::prelude::*;
use vr_app::build::{Build, BuildStatus};
use vr_app::time::{bytes, format_utc, run_length};

use crate::clock::use_clock;
use crate::components::{Age, Column, DataTable, SortKey, int_key};
use crate::links::{app_href, build_href};

/// The first 12 characters of a commit id (enough to be unique in practice).
pub fn short_commit(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// The last path segment of a buildpack URL, without `.git`, with its `#ref` if any:
/// `https://github.com/heroku/heroku-buildpack-python.git#v1` → `heroku-buildpack-python#v1`.
pub fn buildpack_name(url: &str) -> String {
    let (path, fragment) = match url.split_once('#') {
        Some((path, fragment)) => (path, Some(fragment)),
        None => (url, None),
    };
    let path = path.trim_end_matches('/');
    let last = path.rsplit(['/', ':']).next().unwrap_or(path);
    let last = last.strip_suffix(".git").unwrap_or(last);
    let name = if last.is_empty() { path } else { last };
    match fragment {
        Some(f) => format!("{name}#{f}"),
        None => name.to_string(),
    }
}

/// How long the build ran: finished − started, or started → now while it is still running.
pub fn duration(build: &Build, now_ms: i64) -> Option<String> {
    let started = build.started_at?;
    if build.finished_at.is_none() && !build.status.in_progress() {
        return None;
    }
    Some(run_length(started, build.finished_at, now_ms))
}

/// The badge class of a status: pending and expired grey, running blue, succeeded green,
/// failed red.
fn status_class(status: BuildStatus) -> &'static str {
    match status {
        BuildStatus::Pending | BuildStatus::Expired => "badge badge-stopped",
        BuildStatus::Running => "badge badge-info",
        BuildStatus::Succeeded => "badge badge-good",
        BuildStatus::Failed => "badge badge-bad",
    }
}

/// A build's status as a coloured pill.
#[component]
pub fn BuildStatusBadge(status: BuildStatus) -> impl IntoView {
    view! {
        <span class=status_class(status) data-status=status.as_str()>
            {status.as_str()}
        </span>
    }
}

/// A table of `builds` (newest first as given; every column sorts).
#[component]
pub fn BuildTable(
    #[prop(into)] builds: Signal<Vec<Build>>,
    #[prop(into)] loaded: Signal<bool>,
    /// Shown when the list is empty once loaded.
    #[prop(default = "No builds yet.")]
    empty: &'static str,
) -> impl IntoView {
    let clock = use_clock();
    let columns = vec![
        Column::new("Build", |b: &Build| format!("#{}", b.id))
            .sort_by(|b: &Build| SortKey::Int(b.id))
            .cell(|b: &Build| view! { <a href=build_href(b.id)>{format!("#{}", b.id)}</a> }),
        Column::new("App", |b: &Build| b.app.clone())
            .cell(|b: &Build| view! { <a href=app_href(&b.app)>{b.app.clone()}</a> }),
        Column::new("Version", |b: &Build| b.version.clone()).class("mono"),
        Column::new("Commit", |b: &Build| {
            b.commit
                .as_deref()
                .map(short_commit)
                .unwrap_or_default()
                .to_string()
        })
        .class("mono"),
        Column::new("Status", |b: &Build| b.status.as_str().to_string())
            .cell(|b: &Build| view! { <BuildStatusBadge status=b.status /> }),
        Column::new("Buildpack", |b: &Build| {
            b.buildpack
                .as_deref()
                .map(buildpack_name)
                .unwrap_or_default()
        })
        .class("truncate"),
        Column::new("Size", |b: &Build| b.size.map(bytes).unwrap_or_default())
            .sort_by(|b: &Build| int_key(b.size.and_then(|n| i64::try_from(n).ok())))
            .class("num nowrap"),
        Column::new("Took", |b: &Build| {
            b.started_at
                .zip(b.finished_at)
                .map(|(s, f)| run_length(s, Some(f), f))
                .unwrap_or_default()
        })
        .sort_by(|b: &Build| int_key(b.started_at.zip(b.finished_at).map(|(s, f)| f - s)))
        .cell(move |b: &Build| {
            let b = b.clone();
            move || duration(&b, clock.now())
        })
        .class("nowrap"),
        Column::new("Created", |b: &Build| format_utc(b.created_at))
            .sort_by(|b: &Build| SortKey::Int(b.created_at))
            .cell(|b: &Build| view! { <Age at=b.created_at /> })
            .class("nowrap"),
        Column::new("Note", |b: &Build| match (b.reused_from, b.prebuilt) {
            (Some(from), _) => format!("reused #{from}"),
            (None, true) => "uploaded".to_string(),
            (None, false) => String::new(),
        })
        .cell(|b: &Build| match (b.reused_from, b.prebuilt) {
            (Some(from), _) => view! {
                <a href=build_href(from) class="muted" data-test="build-reused">
                    {format!("reused #{from}")}
                </a>
            }
            .into_any(),
            (None, true) => {
                view! { <span class="muted" data-test="build-uploaded">"uploaded"</span> }
                    .into_any()
            }
            (None, false) => ().into_any(),
        })
        .class("nowrap"),
    ];
    let row_attrs = |b: &Build| {
        vec![
            ("data-test", "build-row".to_string()),
            ("data-id", b.id.to_string()),
            ("data-status", b.status.as_str().to_string()),
        ]
    };
    view! {
        <DataTable
            rows=builds
            columns=columns
            empty=empty
            loading=Signal::derive(move || !loaded.get())
            filterable=false
            row_attrs=row_attrs
            test_id="builds-table"
        />
    }
}
