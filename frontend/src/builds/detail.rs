//! `/builds/:id`: one build: what was built from what, where and how it ended, its Procfile and
//! default env, the artifact, a rebuild button, and the log followed while it runs. The build
//! itself is replaced by each live `Build` message about it.

use std::collections::BTreeMap;

use crate::components::CollectAny;
use crate::router::use_navigate;
use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::build::{Build, BuildRequest, BuildStatus, paths};
use vr_app::live::{Merge, replace_record};
use vr_app::time::{format_age, format_utc};

use crate::api;
use crate::builds::table::duration;
use crate::builds::{BuildLogView, BuildStatusBadge};
use crate::busy::spawn_busy;
use crate::clock::use_clock;
use crate::components::{
    CopyButton, EmptyRow, MissingNotice, NumberedPage, numbered_missing_text, use_toasts,
};
use crate::links::{app_href, build_href};
use crate::live::LiveData;
use crate::session::use_session;

#[component]
pub fn BuildPage() -> impl IntoView {
    view! {
        <NumberedPage
            kind="Build"
            back=("/builds", "Builds")
            test="build"
            view=|id| view! { <BuildView id=id /> }.into_any()
        />
    }
}

#[component]
fn BuildView(id: i64) -> impl IntoView {
    // Replaced by each live `Build` message about it.
    let build = LiveData::follow(
        None,
        move || async move { api::build::build(id).await.map(Some) },
        move |slot: &mut Option<Build>, message: &LiveMessage| match message {
            LiveMessage::Build { build } => replace_record(slot, build, |b| b.id, id),
            _ => Merge::Ignored,
        },
    );
    let status = Memo::new(move |_| build.with(|b| b.as_ref().map(|b| b.status)));

    let body = move || {
        if build.with(Option::is_some) {
            return view! {
                <BuildFacts current=build.signal() />
                <BuildOutputs current=build.signal() />
            }
            .into_any();
        }
        let text = numbered_missing_text("build", id, build.error());
        view! { <MissingNotice test="build-missing" text=text /> }.into_any()
    };

    view! {
        <div class="title-row">
            <h1 id="build-title">{format!("Build #{id}")}</h1>
            {move || status.get().map(|s| view! { <BuildStatusBadge status=s /> })}
        </div>
        {body}
        <div class="card">
            <BuildLogView id=id status=status />
        </div>
    }
}

/// What was built from what, where, when, and how it ended.
#[component]
fn BuildFacts(current: Signal<Option<Build>>) -> impl IntoView {
    let clock = use_clock();
    let session = use_session();
    let dash = || "—".to_string();
    let when = move |at: Option<i64>| match at {
        Some(t) => format!("{} ({})", format_utc(t), format_age(clock.now(), t)),
        None => "—".to_string(),
    };
    move || {
        current.get().map(|b| {
            let status = b.status;
            let sha = b.sha256.clone();
            let took = {
                let b = b.clone();
                move || duration(&b, clock.now()).unwrap_or_else(dash)
            };
            let buildpack = match (&b.buildpack, &b.buildpack_commit) {
                (Some(url), Some(commit)) => format!("{url} @ {commit}"),
                (Some(url), None) => url.clone(),
                (None, _) if b.prebuilt => "— (uploaded)".to_string(),
                (None, _) => dash(),
            };
            let origin = match (b.reused_from, b.prebuilt) {
                (Some(from), _) => view! {
                    <a href=build_href(from) data-test="build-reused">
                        {format!("reuses the artifact of build #{from}")}
                    </a>
                }
                .into_any(),
                (None, true) => view! { <span data-test="build-uploaded">"uploaded, not built"</span> }.into_any(),
                (None, false) => view! { <span>"built"</span> }.into_any(),
            };
            let (created, started, finished) = (b.created_at, b.started_at, b.finished_at);
            let error = (status == BuildStatus::Failed).then(|| {
                view! {
                    <div class="form-error" role="alert" id="build-error">
                        {b.error.clone().unwrap_or_else(|| "The build failed without a reason.".to_string())}
                    </div>
                }
            });
            let artifact = (status == BuildStatus::Succeeded).then(|| {
                view! {
                    <a
                        class="btn"
                        id="build-artifact"
                        href=paths::build_artifact(b.id)
                        download=format!("{}-{}.tar.gz", b.app, b.id)
                    >
                        "Download artifact"
                    </a>
                }
            });
            let rebuild = (session.can_deploy() && !b.prebuilt)
                .then(|| view! { <RebuildButton app=b.app.clone() version=b.version.clone() /> });
            view! {
                {error}
                <div class="card" data-test="build-facts">
                    <div class="card-head">
                        <h2>"Details"</h2>
                        <div class="button-row">{artifact} {rebuild}</div>
                    </div>
                    <dl class="facts">
                        <dt>"Status"</dt>
                        <dd id="build-status" data-status=status.as_str()>
                            <BuildStatusBadge status=status />
                        </dd>
                        <dt>"App"</dt>
                        <dd>
                            <a href=app_href(&b.app)>{b.app.clone()}</a>
                        </dd>
                        <dt>"Version"</dt>
                        <dd class="mono">{b.version.clone()}</dd>
                        <dt>"Commit"</dt>
                        <dd class="mono" id="build-commit">{b.commit.clone().unwrap_or_else(dash)}</dd>
                        <dt>"Origin"</dt>
                        <dd>{origin}</dd>
                        <dt>"Buildpack"</dt>
                        <dd class="mono" id="build-buildpack">{buildpack}</dd>
                        <dt>"Host"</dt>
                        <dd id="build-host">{b.host.clone().unwrap_or_else(dash)}</dd>
                        <dt>"Stack"</dt>
                        <dd class="mono" id="build-stack">
                            {b.stack.as_ref().map_or_else(|| "the builder's own OS".to_string(), |s| s.short())}
                        </dd>
                        <dt>"SHA-256"</dt>
                        <dd>
                            {match sha {
                                Some(sha) => view! {
                                    <span class="mono" id="build-sha256">{sha.clone()}</span>
                                    " "
                                    <CopyButton text=sha id="build-sha256-copy" />
                                }
                                .into_any(),
                                None => dash().into_any(),
                            }}
                        </dd>
                        <dt>"Size"</dt>
                        <dd id="build-size">{b.size.map(vr_app::time::bytes).unwrap_or_else(dash)}</dd>
                        <dt>"Requested by"</dt>
                        <dd>{b.requested_by.clone()}</dd>
                        <dt>"Created"</dt>
                        <dd>{move || when(Some(created))}</dd>
                        <dt>"Started"</dt>
                        <dd>{move || when(started)}</dd>
                        <dt>"Finished"</dt>
                        <dd>{move || when(finished)}</dd>
                        <dt>"Took"</dt>
                        <dd>{took}</dd>
                    </dl>
                </div>
            }
        })
    }
}

/// The Procfile and the buildpack's default env.
#[component]
fn BuildOutputs(current: Signal<Option<Build>>) -> impl IntoView {
    let procfile = Signal::derive(move || {
        current.with(|b| b.as_ref().map(|b| b.procfile.clone()).unwrap_or_default())
    });
    let env = Signal::derive(move || {
        current.with(|b| b.as_ref().map(|b| b.env.clone()).unwrap_or_default())
    });
    view! {
        <div class="cards">
            <div class="card">
                <h2>"Procfile"</h2>
                <PairTable
                    pairs=procfile
                    key_header="Type"
                    value_header="Command"
                    test_id="build-procfile"
                    empty="No Procfile entries."
                />
            </div>
            <div class="card">
                <h2>"Default env"</h2>
                <PairTable
                    pairs=env
                    key_header="Name"
                    value_header="Value"
                    test_id="build-env"
                    empty="No default env vars."
                />
            </div>
        </div>
    }
}

/// A two-column table of a map.
#[component]
fn PairTable(
    #[prop(into)] pairs: Signal<BTreeMap<String, String>>,
    key_header: &'static str,
    value_header: &'static str,
    test_id: &'static str,
    empty: &'static str,
) -> impl IntoView {
    let rows = move || {
        let map = pairs.get();
        if map.is_empty() {
            return view! { <EmptyRow colspan=2 text=empty /> }.into_any();
        }
        map.into_iter()
            .map(|(k, v)| {
                view! {
                    <tr data-key=k.clone()>
                        <td class="mono nowrap">{k.clone()}</td>
                        <td class="mono">{v}</td>
                    </tr>
                }
            })
            .collect_any()
            .into_any()
    };
    view! {
        <div class="table-scroll">
            <table data-test=test_id>
                <thead>
                    <tr>
                        <th scope="col">{key_header}</th>
                        <th scope="col">{value_header}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// Builds the same app and version again, even if that commit was built already.
#[component]
fn RebuildButton(app: String, version: String) -> impl IntoView {
    let toasts = use_toasts();
    let navigate = use_navigate();
    let busy = RwSignal::new(false);
    let request = StoredValue::new(BuildRequest {
        app,
        version,
        force: true,
        stack: None,
    });
    let rebuild = move |_| {
        let navigate = navigate.clone();
        let request = request.get_value();
        spawn_busy(busy, async move {
            match api::build::start_build(&request).await {
                Ok(build) => navigate(&build_href(build.id), Default::default()),
                Err(e) => toasts.error(format!("Could not start the build: {e}")),
            }
        });
    };
    view! {
        <button
            type="button"
            class="btn btn-primary"
            id="build-rebuild"
            disabled=move || busy.get()
            on:click=crate::ev::click(rebuild)
        >
            {crate::components::flag_text(busy, "Starting…", "Rebuild")}
        </button>
    }
}
