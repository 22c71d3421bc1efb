//! Squads: the list with create and delete (`/squads`) and one squad's page (`/squads/:name`).
//! Host membership is read from the hosts themselves, so it follows live changes.

mod create;
mod detail;

pub use detail::SquadPage;

use crate::components::Show;
use leptos::prelude::*;
use vr_app::fleet::Squad;

use crate::api;
use crate::busy::{Deletion, spawn_delete};
use crate::components::{Column, ConfirmDialog, DataTable, SortKey, use_toasts};
use crate::fleet::use_fleet;
use crate::links::squad_href;
use crate::session::use_session;

/// The Squads page's shared delete flow: the confirmation, and the refusal (409 when hosts
/// are still in the squad) shown on the page as well as in a toast.
#[derive(Debug, Clone, Copy)]
pub struct SquadDelete {
    pub asking: RwSignal<Option<String>>,
    pub busy: RwSignal<bool>,
    pub error: RwSignal<Option<String>>,
}

impl SquadDelete {
    pub fn new() -> Self {
        SquadDelete {
            asking: RwSignal::new(None),
            busy: RwSignal::new(false),
            error: RwSignal::new(None),
        }
    }
}

impl Default for SquadDelete {
    fn default() -> Self {
        Self::new()
    }
}

/// The confirmation dialog of `flow`; `on_deleted` runs after the server deleted the squad.
#[component]
pub fn SquadDeleteDialog(
    flow: SquadDelete,
    #[prop(optional, into)] on_deleted: Option<Callback<String>>,
) -> impl IntoView {
    let store = use_fleet();
    let toasts = use_toasts();
    let confirm = move |()| {
        let Some(name) = flow.asking.get_untracked() else {
            return;
        };
        let deletion = Deletion {
            busy: flow.busy,
            toasts,
            kind: "Squad",
            name: name.clone(),
            error: Some(flow.error),
        };
        let sent = name.clone();
        spawn_delete(
            deletion,
            api::fleet::delete_squad(&sent),
            move || {
                store.remove_squad(&name);
                if let Some(done) = on_deleted {
                    done.run(name);
                }
            },
            move || {
                let _ = flow.asking.try_set(None);
            },
        );
    };
    view! {
        {move || {
            flow.error
                .get()
                .map(|e| view! { <div class="form-error" role="alert" data-test="squad-error">{e}</div> })
        }}
        <ConfirmDialog
            open=Signal::derive(move || flow.asking.with(Option::is_some))
            title=Signal::derive(move || {
                format!("Delete squad {}?", flow.asking.get().unwrap_or_default())
            })
            message="Only an empty squad can be deleted; move its hosts elsewhere first."
            confirm_label="Delete"
            danger=true
            busy=flow.busy
            on_confirm=confirm
            on_cancel=move |()| flow.asking.set(None)
        />
    }
}

#[component]
pub fn SquadsPage() -> impl IntoView {
    crate::route::title(|| "Squads".to_string());
    let store = use_fleet();
    let session = use_session();
    let flow = SquadDelete::new();
    let squads = Memo::new(move |_| {
        store.with(|f| {
            let mut list = f.squads.clone();
            vr_app::order::sort_by(&mut list, |a, b| a.name.cmp(&b.name));
            list
        })
    });
    let columns = vec![
        Column::new("Name", |q: &Squad| q.name.clone()).cell(|q: &Squad| {
            view! { <a href=squad_href(&q.name)>{q.name.clone()}</a> }
        }),
        Column::new("Description", |q: &Squad| q.description.clone()),
        Column::new("Hosts", |q: &Squad| q.hosts.len().to_string())
            .sort_by(|q: &Squad| SortKey::Int(i64::try_from(q.hosts.len()).unwrap_or(i64::MAX)))
            .class("num"),
        Column::new("", |_: &Squad| String::new())
            .cell(move |q: &Squad| {
                let name = q.name.clone();
                view! {
                    <Show when=move || session.can_deploy()>
                        <button
                            type="button"
                            class="btn btn-small btn-danger-outline"
                            data-test="squad-delete"
                            disabled=move || flow.busy.get()
                            on:click={
                                let name = name.clone();
                                move |_| flow.asking.set(Some(name.clone()))
                            }
                        >
                            "Delete"
                        </button>
                    </Show>
                }
            })
            .class("actions")
            .unsorted(),
    ];
    let row_attrs = |q: &Squad| {
        vec![
            ("data-test", "squad-row".to_string()),
            ("data-name", q.name.clone()),
        ]
    };
    view! {
        <section class="page" data-test="squads">
            <h1>"Squads"</h1>
            {move || store.error().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
            <div class="card">
                <h2>"All squads"</h2>
                <SquadDeleteDialog flow=flow />
                <DataTable
                    rows=squads
                    columns=columns
                    empty="No squads yet."
                    loading=Signal::derive(move || !store.loaded())
                    row_attrs=row_attrs
                    test_id="squads-table"
                />
            </div>
            <Show when=move || session.can_deploy()>
                <create::CreateSquad />
            </Show>
        </section>
    }
}
