//! The one release table, used by the Releases page and the app page: each release with the
//! version and commit it builds, where it runs now (hosts, procs, whether they run; stale while
//! a host does not answer), and a Deploy action.

use leptos::prelude::*;
use vr_app::fleet_view::{placement_text, placements};
use vr_app::release::Release;
use vr_app::time::{format_age, format_utc};

use crate::builds::short_commit;
use crate::clock::use_clock;
use crate::components::{EmptyRow, loading_or};
use crate::fleet::use_fleet;
use crate::links::{
    app_href, build_href, host_href, ingredient_href, new_deploy_href, release_href,
};
use crate::session::use_session;

/// A table of `releases` (newest first as given).
#[component]
pub fn ReleaseTable(
    #[prop(into)] releases: Signal<Vec<Release>>,
    #[prop(into)] loaded: Signal<bool>,
    /// Shown when the list is empty once loaded.
    #[prop(default = "No releases yet.")]
    empty: &'static str,
) -> impl IntoView {
    let rows = move || {
        let list = releases.get();
        if list.is_empty() {
            let text = loading_or(loaded.get(), empty);
            return view! { <EmptyRow colspan=9 text=text /> }.into_any();
        }
        list.into_iter()
            .map(|r| view! { <ReleaseRow item=r /> })
            .collect_view()
            .into_any()
    };
    view! {
        <div class="table-scroll">
            <table data-test="releases-table">
                <thead>
                    <tr>
                        <th scope="col">"Release"</th>
                        <th scope="col">"App"</th>
                        <th scope="col">"Version"</th>
                        <th scope="col">"Runs on"</th>
                        <th scope="col">"Build"</th>
                        <th scope="col">"Ingredients"</th>
                        <th scope="col">"Run as"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col"></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// Ingredient names as links, in merge order.
pub fn ingredient_links(names: &[String]) -> impl IntoView + use<> {
    let last = names.len().saturating_sub(1);
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            view! {
                <a href=ingredient_href(name)>{name.clone()}</a>
                {(i < last).then_some(" → ")}
            }
        })
        .collect_view()
}

#[component]
fn ReleaseRow(item: Release) -> impl IntoView {
    let release = item;
    let clock = use_clock();
    let store = use_fleet();
    let session = use_session();
    let (id, build_id, created) = (release.id, release.build_id, release.created_at);
    let runs = Memo::new(move |_| store.with(|f| placements(f, id)));
    let runs_cell = move || {
        let list = runs.get();
        if list.is_empty() {
            return view! { <span class="muted">"not running"</span> }.into_any();
        }
        list.into_iter()
            .map(|p| {
                let text = placement_text(&p);
                let stale = p.stale > 0;
                view! {
                    <span class="runs-on" class:is-stale=stale>
                        <a href=host_href(&p.host)>{p.host.clone()}</a>
                        " "
                        <span class="muted">{text}</span>
                    </span>
                }
            })
            .collect_view()
            .into_any()
    };
    let commit = release
        .commit
        .as_deref()
        .map(|c| short_commit(c).to_string());
    view! {
        <tr
            data-test="release-row"
            data-id=id
            data-hash=release.hash.clone()
            data-running=move || if runs.with(|r| r.iter().any(|p| p.running > 0)) { "true" } else { "false" }
            class:is-running=move || runs.with(|r| r.iter().any(|p| p.running > 0))
        >
            <td>
                <a href=release_href(id)>{format!("#{id}")}</a>
            </td>
            <td>
                <a href=app_href(&release.app)>{release.app.clone()}</a>
            </td>
            <td class="mono" title=format!("hash {}", release.hash)>
                {release.version.clone()}
                {commit.map(|c| view! { <span class="muted">" @ " {c}</span> })}
            </td>
            <td data-test="release-runs">{runs_cell}</td>
            <td>
                <a href=build_href(build_id)>{format!("#{build_id}")}</a>
            </td>
            <td>{ingredient_links(&release.ingredients)}</td>
            <td class="mono">{release.config.run_as.clone()}</td>
            <td class="nowrap" title=format!("{} by {}", format_utc(created), release.created_by)>
                {move || format_age(clock.now(), created)}
            </td>
            <td>
                {move || {
                    session
                        .can_deploy()
                        .then(|| {
                            view! {
                                <a class="btn btn-small" href=new_deploy_href(id) data-test="release-deploy">
                                    "Deploy…"
                                </a>
                            }
                        })
                }}
            </td>
        </tr>
    }
}
