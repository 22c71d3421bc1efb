//! The one release table, used by the Releases page and the app page: each release with the
//! version and commit it builds, where it runs now (hosts, procs, whether they run; stale while
//! a host does not answer), and a Deploy action.

use crate::components::CollectAny;
use leptos::prelude::*;
use vr_app::fleet_view::{placement_text, placements};
use vr_app::release::Release;
use vr_app::time::format_utc;

use crate::builds::short_commit;
use crate::components::{Age, Column, DataTable, SortKey};
use crate::fleet::use_fleet;
use crate::links::{
    app_href, build_href, host_href, ingredient_href, new_deploy_href, release_href,
};
use crate::session::use_session;

/// A table of `releases` (newest first as given; sortable).
#[component]
pub fn ReleaseTable(
    #[prop(into)] releases: Signal<Vec<Release>>,
    #[prop(into)] loaded: Signal<bool>,
    /// Shown when the list is empty once loaded.
    #[prop(default = "No releases yet.")]
    empty: &'static str,
) -> impl IntoView {
    let session = use_session();
    let columns = vec![
        Column::new("Release", |r: &Release| format!("#{}", r.id))
            .sort_by(|r: &Release| SortKey::Int(r.id))
            .cell(|r: &Release| view! { <a href=release_href(r.id)>{format!("#{}", r.id)}</a> }),
        Column::new("App", |r: &Release| r.app.clone())
            .cell(|r: &Release| view! { <a href=app_href(&r.app)>{r.app.clone()}</a> }),
        Column::new("Version", |r: &Release| r.version.clone())
            .cell(|r: &Release| {
                let commit = r.commit.as_deref().map(|c| short_commit(c).to_string());
                view! {
                    <span class="mono" title=format!("hash {}", r.hash)>
                        {r.version.clone()}
                        {commit.map(|c| view! { <span class="muted">" @ " {c}</span> })}
                    </span>
                }
            }),
        Column::new("Runs on", |_: &Release| String::new())
            .cell(|r: &Release| view! { <RunsOn id=r.id /> })
            .unsorted(),
        Column::new("Build", |r: &Release| format!("#{}", r.build_id))
            .sort_by(|r: &Release| SortKey::Int(r.build_id))
            .cell(|r: &Release| {
                view! { <a href=build_href(r.build_id)>{format!("#{}", r.build_id)}</a> }
            }),
        Column::new("Ingredients", |r: &Release| r.ingredients.join(" "))
            .cell(|r: &Release| ingredient_links(&r.ingredients)),
        Column::new("Run as", |r: &Release| r.config.run_as.clone().unwrap_or_default())
            .class("mono"),
        Column::new("Created", |r: &Release| format_utc(r.created_at))
            .sort_by(|r: &Release| SortKey::Int(r.created_at))
            .cell(|r: &Release| {
                let title = format!("{} by {}", format_utc(r.created_at), r.created_by);
                view! { <Age at=r.created_at title=title /> }
            })
            .class("nowrap"),
        Column::new("", |_: &Release| String::new())
            .cell(move |r: &Release| {
                let id = r.id;
                move || {
                    session.can_deploy().then(|| {
                        view! {
                            <a class="btn btn-small" href=new_deploy_href(id) data-test="release-deploy">
                                "Deploy…"
                            </a>
                        }
                    })
                }
            })
            .unsorted(),
    ];
    let row_attrs = |r: &Release| {
        vec![
            ("data-test", "release-row".to_string()),
            ("data-id", r.id.to_string()),
            ("data-hash", r.hash.clone()),
        ]
    };
    view! {
        <DataTable
            rows=releases
            columns=columns
            empty=empty
            loading=Signal::derive(move || !loaded.get())
            filterable=false
            row_attrs=row_attrs
            test_id="releases-table"
        />
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
        .collect_any()
}

/// Where release `id` runs now, one line per host, following the fleet live; marked running
/// (`data-running`) while any of its procs is known to run.
#[component]
pub fn RunsOn(id: i64) -> impl IntoView {
    let store = use_fleet();
    let runs = Memo::new(move |_| store.with(|f| placements(f, id)));
    let running = move || runs.with(|r| r.iter().any(|p| p.running > 0));
    let lines = move || {
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
            .collect_any()
            .into_any()
    };
    view! {
        <div
            data-test="release-runs"
            data-running=move || if running() { "true" } else { "false" }
            class:is-running=running
        >
            {lines}
        </div>
    }
}
