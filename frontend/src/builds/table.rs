//! How builds are drawn: the status badge, short forms of commits and buildpack URLs, and the
//! one build table used by the Builds page and each app's page.

use leptos::prelude::*;
use vr_app::build::{Build, BuildStatus};
use vr_app::time::{bytes, format_age, format_utc, run_length};

use crate::clock::use_clock;
use crate::components::{EmptyRow, loading_or};
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

/// A table of `builds` (newest first as given).
#[component]
pub fn BuildTable(
    #[prop(into)] builds: Signal<Vec<Build>>,
    #[prop(into)] loaded: Signal<bool>,
    /// Shown when the list is empty once loaded.
    #[prop(default = "No builds yet.")]
    empty: &'static str,
) -> impl IntoView {
    let rows = move || {
        let list = builds.get();
        if list.is_empty() {
            let text = loading_or(loaded.get(), empty);
            return view! { <EmptyRow colspan=10 text=text /> }.into_any();
        }
        list.into_iter()
            .map(|b| view! { <BuildRow item=b /> })
            .collect_view()
            .into_any()
    };
    view! {
        <div class="table-scroll">
            <table data-test="builds-table">
                <thead>
                    <tr>
                        <th scope="col">"Build"</th>
                        <th scope="col">"App"</th>
                        <th scope="col">"Version"</th>
                        <th scope="col">"Commit"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Buildpack"</th>
                        <th scope="col" class="num">"Size"</th>
                        <th scope="col">"Took"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Note"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn BuildRow(item: Build) -> impl IntoView {
    let build = item;
    let clock = use_clock();
    let id = build.id;
    let created = build.created_at;
    let commit = build
        .commit
        .as_deref()
        .map(short_commit)
        .map(str::to_string);
    let buildpack = build.buildpack.clone().map(|url| {
        let name = buildpack_name(&url);
        view! { <span title=url>{name}</span> }
    });
    let size = build.size.map(bytes);
    let took = {
        let build = build.clone();
        move || duration(&build, clock.now())
    };
    let note = match (build.reused_from, build.prebuilt) {
        (Some(from), _) => Some(
            view! {
                <a href=build_href(from) class="muted" data-test="build-reused">
                    {format!("reused #{from}")}
                </a>
            }
            .into_any(),
        ),
        (None, true) => Some(
            view! { <span class="muted" data-test="build-uploaded">"uploaded"</span> }.into_any(),
        ),
        (None, false) => None,
    };
    view! {
        <tr data-test="build-row" data-id=id data-status=build.status.as_str()>
            <td>
                <a href=build_href(id)>{format!("#{id}")}</a>
            </td>
            <td>
                <a href=app_href(&build.app)>{build.app.clone()}</a>
            </td>
            <td class="mono">{build.version.clone()}</td>
            <td class="mono" title=build.commit.clone()>{commit}</td>
            <td>
                <BuildStatusBadge status=build.status />
            </td>
            <td class="truncate">{buildpack}</td>
            <td class="num nowrap">{size}</td>
            <td class="nowrap">{took}</td>
            <td class="nowrap" title=format_utc(created)>
                {move || format_age(clock.now(), created)}
            </td>
            <td class="nowrap">{note}</td>
        </tr>
    }
}
