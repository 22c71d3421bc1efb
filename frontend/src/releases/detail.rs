//! `/releases/:id`: one release: its hash, app, build, ingredients in merge order, run-as,
//! memory limit, volumes, merged settings and env, and a diff against another release of the
//! same app. A release never changes, so it is fetched once (and again after a reconnect).

use crate::components::CollectAny;
use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::live::Merge;
use vr_app::release::Release;
use vr_app::time::{format_age, format_utc};

use super::diff::ReleaseCompare;
use crate::api;

use crate::clock::use_clock;
use crate::components::{CopyButton, EmptyRow, MissingNotice, NumberedPage, numbered_missing_text};

use crate::links::{app_href, build_href, new_deploy_href};
use crate::live::LiveData;
use crate::releases::table::{RunsOn, ingredient_links};
use crate::releases::values::{EnvTable, RevealFrom, SettingsTable};
use crate::session::use_session;

#[component]
pub fn ReleasePage() -> impl IntoView {
    view! {
        <NumberedPage
            kind="Release"
            back=("/releases", "Releases")
            test="release"
            view=|id| view! { <ReleaseView id=id /> }.into_any()
        />
    }
}

#[component]
fn ReleaseView(id: i64) -> impl IntoView {
    // A release never changes once made: fetched when the channel is open (and again after a
    // reconnect, which answers the same release).
    let data = LiveData::follow(
        None,
        move || async move { api::release::release(id).await.map(Some) },
        |_: &mut Option<Release>, _: &LiveMessage| Merge::Ignored,
    );
    let release = data.signal();

    // Built once per release: the same release answered again must not reset the picker.
    let loaded = Memo::new(move |_| release.with(Option::is_some));
    let body = move || {
        if !loaded.get() {
            let text = numbered_missing_text("release", id, data.error());
            return view! { <MissingNotice test="release-missing" text=text /> }.into_any();
        }
        let Some(r) = release.get_untracked() else {
            return ().into_any();
        };
        view! {
            <ReleaseFacts release=r.clone() />
            <ReleaseValues release=r.clone() />
            <ReleaseCompare release=r />
        }
        .into_any()
    };

    let session = use_session();
    let deploy = move || {
        session.can_deploy().then(|| {
            view! {
                <a class="btn btn-primary" id="release-deploy" href=new_deploy_href(id)>
                    "Deploy…"
                </a>
            }
        })
    };
    view! {
        <div class="title-row">
            <h1 id="release-title">{format!("Release #{id}")}</h1>
            {deploy}
        </div>
        <div class="card" data-test="release-where">
            <h2>"Runs on"</h2>
            <RunsOn id=id />
        </div>
        {body}
    }
}

/// Where it comes from and how it runs.
#[component]
fn ReleaseFacts(release: Release) -> impl IntoView {
    let clock = use_clock();
    let r = release;
    let created = r.created_at;
    let ingredients = if r.ingredients.is_empty() {
        view! { <span class="muted">"none"</span> }.into_any()
    } else {
        ingredient_links(&r.ingredients).into_any()
    };
    let all = format!("/releases?app={}", api::encode(&r.app));
    let hash = r.hash.clone();
    view! {
        <div class="card" data-test="release-facts">
            <div class="card-head">
                <h2>"Details"</h2>
                <a href=all>"Releases of this app"</a>
            </div>
            <dl class="facts">
                <dt>"Hash"</dt>
                <dd>
                    <span class="mono" id="release-hash">{hash.clone()}</span>
                    " "
                    <CopyButton text=hash id="release-hash-copy" />
                </dd>
                <dt>"App"</dt>
                <dd>
                    <a href=app_href(&r.app) id="release-app-link">{r.app.clone()}</a>
                </dd>
                <dt>"Build"</dt>
                <dd>
                    <a href=build_href(r.build_id) id="release-build-link">
                        {format!("#{}", r.build_id)}
                    </a>
                </dd>
                <dt>"Ingredients"</dt>
                <dd data-test="release-ingredient-order">{ingredients}</dd>
                <dt>"Run as"</dt>
                <dd class="mono" data-test="release-run-as">
                    {r.config.run_as.clone().unwrap_or_else(|| "default".to_string())}
                </dd>
                <dt>"Memory limit"</dt>
                <dd data-test="release-mem">
                    {r.config.mem_limit_mb.map_or_else(|| "none".to_string(), |mb| format!("{mb} MB"))}
                </dd>
                <dt>"CPU weight"</dt>
                <dd data-test="release-cpu">
                    {r.config.cpu_weight.map_or_else(|| "default (100)".to_string(), |w| w.to_string())}
                </dd>
                <dt>"Runner"</dt>
                <dd data-test="release-runner">{r.config.runner.as_str()}</dd>
                <dt>"Stack"</dt>
                <dd class="mono" data-test="release-stack">
                    {r.config.stack.as_ref().map_or_else(|| "the host's own OS".to_string(), |s| s.short())}
                </dd>
                <dt>"Created by"</dt>
                <dd>{r.created_by.clone()}</dd>
                <dt>"Created"</dt>
                <dd>{move || format!("{} ({})", format_utc(created), format_age(clock.now(), created))}</dd>
            </dl>
        </div>
    }
}

/// Volumes, merged settings and env.
#[component]
fn ReleaseValues(release: Release) -> impl IntoView {
    let release_id = release.id;
    let volumes = if release.config.volumes.is_empty() {
        view! { <EmptyRow colspan=2 text="No volumes." /> }.into_any()
    } else {
        release
            .config
            .volumes
            .iter()
            .map(|v| {
                view! {
                    <tr data-test="release-volume">
                        <td class="mono">{v.host_dir.clone()}</td>
                        <td class="mono">{v.mount_dir.clone()}</td>
                    </tr>
                }
            })
            .collect_any()
            .into_any()
    };
    let settings = Signal::stored(release.config.settings.clone());
    let env = Signal::stored(release.config.env.clone());
    view! {
        <div class="card">
            <h2>"Volumes"</h2>
            <div class="table-scroll">
                <table data-test="release-volumes">
                    <thead>
                        <tr>
                            <th scope="col">"Host directory"</th>
                            <th scope="col">"Mounted at"</th>
                        </tr>
                    </thead>
                    <tbody>{volumes}</tbody>
                </table>
            </div>
        </div>
        <div class="cards">
            <div class="card">
                <h2>"Settings"</h2>
                <SettingsTable settings=settings test_id="release-settings" />
            </div>
            <div class="card">
                <h2>"Env"</h2>
                <EnvTable env=env test_id="release-env" reveal=Some(RevealFrom::Release(release_id)) />
            </div>
        </div>
    }
}
