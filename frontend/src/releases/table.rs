//! The one release table, used by the Releases page and the app page.

use leptos::prelude::*;
use vr_app::release::Release;
use vr_app::time::{format_age, format_utc};

use crate::clock::use_clock;
use crate::components::{EmptyRow, loading_or};
use crate::links::{app_href, build_href, ingredient_href, release_href};

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
            return view! { <EmptyRow colspan=8 text=text /> }.into_any();
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
                        <th scope="col">"Hash"</th>
                        <th scope="col">"Build"</th>
                        <th scope="col">"Ingredients"</th>
                        <th scope="col">"Run as"</th>
                        <th scope="col">"Created by"</th>
                        <th scope="col">"Created"</th>
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
    let (id, build_id, created) = (release.id, release.build_id, release.created_at);
    view! {
        <tr data-test="release-row" data-id=id data-hash=release.hash.clone()>
            <td>
                <a href=release_href(id)>{format!("#{id}")}</a>
            </td>
            <td>
                <a href=app_href(&release.app)>{release.app.clone()}</a>
            </td>
            <td class="mono">{release.hash.clone()}</td>
            <td>
                <a href=build_href(build_id)>{format!("#{build_id}")}</a>
            </td>
            <td>{ingredient_links(&release.ingredients)}</td>
            <td class="mono">{release.config.run_as.clone()}</td>
            <td>{release.created_by.clone()}</td>
            <td class="nowrap" title=format_utc(created)>
                {move || format_age(clock.now(), created)}
            </td>
        </tr>
    }
}
