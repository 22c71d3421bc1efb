//! `/buildpacks`: the ordered list that detection walks, with moving, deleting and adding.

mod add;

use crate::components::CollectVec;
use crate::components::Show;
use leptos::prelude::*;
use vr_app::build::{Buildpack, BuildpackPatch};

use crate::api;
use crate::apps::Catalog;
use crate::busy::{Deletion, spawn_busy, spawn_delete};
use crate::components::{Column, ConfirmDialog, DataTable, use_toasts};
use crate::session::use_session;

/// A buildpack with its place in the detection order.
#[derive(Debug, Clone, PartialEq)]
struct Placed {
    index: usize,
    last: bool,
    buildpack: Buildpack,
}

#[component]
pub fn BuildpacksPage() -> impl IntoView {
    crate::route::title(|| "Buildpacks".to_string());
    let session = use_session();
    let toasts = use_toasts();
    let catalog = Catalog::follow();
    // One change at a time: moves and deletes share this guard.
    let busy = RwSignal::new(false);
    let asking = RwSignal::new(None::<Buildpack>);
    let delete_error = RwSignal::new(None::<String>);

    // Swaps the orders of the buildpacks at `upper` and `upper + 1` (two PATCHes).
    let swap = move |upper: usize| {
        let pair = catalog
            .buildpacks
            .with_untracked(|list| Some((list.get(upper)?.clone(), list.get(upper + 1)?.clone())));
        let Some((a, b)) = pair else {
            return;
        };
        spawn_busy(busy, async move {
            let (a_order, b_order) = if a.order == b.order {
                // Equal orders would stay equal after a swap; put the lower one just below.
                (b.order + 1, a.order)
            } else {
                (b.order, a.order)
            };
            let first = BuildpackPatch {
                order: Some(a_order),
                ..Default::default()
            };
            let second = BuildpackPatch {
                order: Some(b_order),
                ..Default::default()
            };
            let result = match api::build::update_buildpack(a.id, &first).await {
                Ok(moved) => {
                    catalog.put_buildpack(moved);
                    api::build::update_buildpack(b.id, &second).await
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(moved) => catalog.put_buildpack(moved),
                Err(e) => {
                    toasts.error(format!("Could not reorder the buildpacks: {e}"));
                    // Show what the server has now, whatever half of the swap happened.
                    catalog.reload();
                }
            }
        });
    };

    let confirm_delete = move |()| {
        let Some(buildpack) = asking.get_untracked() else {
            return;
        };
        let deletion = Deletion {
            busy,
            toasts,
            kind: "Buildpack",
            name: buildpack.url,
            error: Some(delete_error),
        };
        let id = buildpack.id;
        spawn_delete(
            deletion,
            api::build::delete_buildpack(id),
            move || catalog.remove_buildpack(id),
            move || {
                let _ = asking.try_set(None);
            },
        );
    };

    // Rows carry their place, which the move buttons need; the order is detection's, so the
    // columns do not sort.
    let rows = Memo::new(move |_| {
        catalog.buildpacks.with(|list| {
            let count = list.len();
            list.iter()
                .enumerate()
                .map(|(index, b)| Placed {
                    index,
                    last: index + 1 == count,
                    buildpack: b.clone(),
                })
                .collect_vec()
        })
    });
    let columns = vec![
        Column::new("Order", |p: &Placed| p.buildpack.order.to_string())
            .class("num")
            .unsorted(),
        Column::new("URL", |p: &Placed| p.buildpack.url.clone())
            .class("mono")
            .unsorted(),
        Column::new("Description", |p: &Placed| p.buildpack.description.clone()).unsorted(),
        Column::new("", |_: &Placed| String::new())
            .cell(move |p: &Placed| {
                let (index, last, ask) = (p.index, p.last, p.buildpack.clone());
                session.can_deploy().then(|| {
                    view! {
                        <div class="button-row">
                            <button
                                type="button"
                                class="btn btn-small"
                                data-test="buildpack-up"
                                title="Try this one earlier"
                                disabled=move || busy.get() || index == 0
                                on:click=crate::ev::click(move |_| {
                                    if let Some(upper) = index.checked_sub(1) {
                                        swap(upper);
                                    }
                                })
                            >
                                "↑"
                            </button>
                            <button
                                type="button"
                                class="btn btn-small"
                                data-test="buildpack-down"
                                title="Try this one later"
                                disabled=move || busy.get() || last
                                on:click=crate::ev::click(move |_| swap(index))
                            >
                                "↓"
                            </button>
                            <button
                                type="button"
                                class="btn btn-small btn-danger-outline"
                                data-test="buildpack-delete"
                                disabled=move || busy.get()
                                on:click=crate::ev::click(move |_| asking.set(Some(ask.clone())))
                            >
                                "Delete"
                            </button>
                        </div>
                    }
                })
            })
            .class("actions")
            .unsorted(),
    ];
    let row_attrs = |p: &Placed| {
        vec![
            ("data-test", "buildpack-row".to_string()),
            ("data-url", p.buildpack.url.clone()),
            ("data-order", p.buildpack.order.to_string()),
        ]
    };

    view! {
        <section class="page" data-test="buildpacks">
            <h1>"Buildpacks"</h1>
            <p class="muted">
                "Builds try these top to bottom until one detects the app, unless the app pins one. "
                "A " <code>"#ref"</code> " after a URL pins the buildpack's branch, tag or commit."
            </p>
            {move || catalog.error().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
            {move || {
                delete_error
                    .get()
                    .map(|e| {
                        view! { <div class="form-error" role="alert" data-test="buildpack-error">{e}</div> }
                    })
            }}
            <Show when=move || session.can_deploy()>
                <add::AddBuildpack catalog=catalog />
            </Show>
            <div class="card">
                <h2>"Detection order"</h2>
                <DataTable
                    rows=rows
                    columns=columns
                    empty="No buildpacks yet."
                    loading=Signal::derive(move || !catalog.loaded())
                    filterable=false
                    row_attrs=row_attrs
                    test_id="buildpacks-table"
                />
            </div>
            <ConfirmDialog
                open=Signal::derive(move || asking.with(Option::is_some))
                title=Signal::derive(move || {
                    format!(
                        "Delete buildpack {}?",
                        asking.with(|b| b.as_ref().map(|b| b.url.clone()).unwrap_or_default()),
                    )
                })
                message="A buildpack that an app pins cannot be deleted."
                confirm_label="Delete"
                danger=true
                busy=busy
                on_confirm=confirm_delete
                on_cancel=move |()| asking.set(None)
            />
        </section>
    }
}
