//! `/buildpacks`: the ordered list that detection walks, with moving, deleting and adding.

mod add;

use leptos::prelude::*;
use vr_app::build::{Buildpack, BuildpackPatch};

use crate::api;
use crate::apps::Catalog;
use crate::busy::spawn_busy;
use crate::components::{ConfirmDialog, EmptyRow, loading_or, use_toasts};
use crate::session::use_session;

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
        delete_error.set(None);
        spawn_busy(busy, async move {
            match api::build::delete_buildpack(buildpack.id).await {
                Ok(()) => {
                    catalog.remove_buildpack(buildpack.id);
                    toasts.success(format!("Buildpack {} deleted.", buildpack.url));
                }
                Err(e) => {
                    toasts.error(format!("Could not delete {}: {e}", buildpack.url));
                    let _ = delete_error.try_set(Some(e.message));
                }
            }
            let _ = asking.try_set(None);
        });
    };

    let rows = move || {
        let list = catalog.buildpacks.get();
        if list.is_empty() {
            let text = loading_or(catalog.loaded(), "No buildpacks yet.");
            return view! { <EmptyRow colspan=4 text=text /> }.into_any();
        }
        let last = list.len() - 1;
        list.into_iter()
            .enumerate()
            .map(|(index, b)| {
                let ask = b.clone();
                let actions = session.can_deploy().then(|| {
                    view! {
                        <div class="button-row">
                            <button
                                type="button"
                                class="btn btn-small"
                                data-test="buildpack-up"
                                title="Try this one earlier"
                                disabled=move || busy.get() || index == 0
                                on:click=move |_| {
                                    if let Some(upper) = index.checked_sub(1) {
                                        swap(upper);
                                    }
                                }
                            >
                                "↑"
                            </button>
                            <button
                                type="button"
                                class="btn btn-small"
                                data-test="buildpack-down"
                                title="Try this one later"
                                disabled=move || busy.get() || index == last
                                on:click=move |_| swap(index)
                            >
                                "↓"
                            </button>
                            <button
                                type="button"
                                class="btn btn-small btn-danger-outline"
                                data-test="buildpack-delete"
                                disabled=move || busy.get()
                                on:click=move |_| asking.set(Some(ask.clone()))
                            >
                                "Delete"
                            </button>
                        </div>
                    }
                });
                view! {
                    <tr data-test="buildpack-row" data-url=b.url.clone() data-order=b.order>
                        <td class="num">{b.order}</td>
                        <td class="mono">{b.url.clone()}</td>
                        <td>{b.description.clone()}</td>
                        <td class="actions">{actions}</td>
                    </tr>
                }
            })
            .collect_view()
            .into_any()
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
                <div class="table-scroll">
                    <table data-test="buildpacks-table">
                        <thead>
                            <tr>
                                <th scope="col" class="num">"Order"</th>
                                <th scope="col">"URL"</th>
                                <th scope="col">"Description"</th>
                                <th scope="col"></th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
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
