//! Quick actions on a host: move it to a squad or out of one, mark it active or inactive,
//! delete it.

use crate::components::CollectAny;
use crate::components::Show;
use crate::router::use_navigate;
use leptos::prelude::*;
use vr_app::fleet::{Host, HostPatch};

use crate::api;
use crate::busy::{Deletion, spawn_busy, spawn_delete};
use crate::components::{ConfirmDialog, use_toasts};
use crate::fleet::use_fleet;

#[component]
pub fn QuickActions(#[prop(into)] host: Signal<Option<Host>>) -> impl IntoView {
    let store = use_fleet();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let busy = RwSignal::new(false);
    let deleting = RwSignal::new(false);
    let target_squad = RwSignal::new(String::new());

    let name = move || {
        host.with(|h| {
            h.as_ref()
                .map(|h| h.settings.name.clone())
                .unwrap_or_default()
        })
    };
    // A memo, so polls that change only the host's status do not reset the move menu.
    let squad =
        Memo::new(move |_| host.with(|h| h.as_ref().and_then(|h| h.settings.squad.clone())));
    let squad = move || squad.get();
    let active = move || host.with(|h| h.as_ref().is_some_and(|h| h.settings.active));
    // The move menu starts at the host's current squad.
    crate::effects::effect(move || target_squad.set(squad().unwrap_or_default()));

    let apply = move |patch: HostPatch, done: String| {
        let name = name();
        spawn_busy(busy, async move {
            match api::fleet::update_host(&name, &patch).await {
                Ok(updated) => {
                    store.put_host(updated);
                    toasts.success(done);
                }
                Err(e) => toasts.error(format!("Could not change {name}: {e}")),
            }
        });
    };
    let move_to = move |_| {
        let to = target_squad.get_untracked();
        if to.is_empty() || Some(&to) == squad().as_ref() {
            return;
        }
        let done = format!("{} moved to squad {to}.", name());
        apply(
            HostPatch {
                squad: Some(Some(to)),
                ..Default::default()
            },
            done,
        );
    };
    let unsquad = move |_| {
        let done = format!("{} removed from its squad.", name());
        apply(
            HostPatch {
                squad: Some(None),
                ..Default::default()
            },
            done,
        );
    };
    let toggle = move |_| {
        let now_active = !active();
        let done = format!(
            "{} marked {}.",
            name(),
            if now_active { "active" } else { "inactive" }
        );
        apply(
            HostPatch {
                active: Some(now_active),
                ..Default::default()
            },
            done,
        );
    };
    let delete = move |()| {
        let name = name();
        let navigate = navigate.clone();
        let deletion = Deletion {
            busy,
            toasts,
            kind: "Host",
            name: name.clone(),
            error: None,
        };
        let sent = name.clone();
        spawn_delete(
            deletion,
            api::fleet::delete_host(&sent),
            move || {
                store.remove_host(&name);
                navigate("/hosts", Default::default());
            },
            move || {
                let _ = deleting.try_set(false);
            },
        );
    };

    let options = move || {
        store
            .squad_names()
            .into_iter()
            .map(|n| view! { <option value=n.clone()>{n.clone()}</option> })
            .collect_any()
    };
    view! {
        <div class="card" data-test="host-quick-actions">
            <h2>"Actions"</h2>
            <div class="button-row">
                <label for="host-move-squad">"Squad"</label>
                <select
                    id="host-move-squad"
                    prop:value=move || target_squad.get()
                    on:change=crate::ev::change(move |ev| target_squad.set(event_target_value(&ev)))
                >
                    <option value="" disabled=true>
                        "(choose a squad)"
                    </option>
                    {options}
                </select>
                <button
                    type="button"
                    class="btn btn-small"
                    id="host-move"
                    disabled=move || {
                        busy.get() || target_squad.with(String::is_empty)
                            || Some(target_squad.get()) == squad()
                    }
                    on:click=crate::ev::click(move_to)
                >
                    "Move"
                </button>
                <Show when=move || squad().is_some()>
                    <button
                        type="button"
                        class="btn btn-small"
                        id="host-unsquad"
                        disabled=move || busy.get()
                        on:click=crate::ev::click(unsquad)
                    >
                        "Remove from squad"
                    </button>
                </Show>
            </div>
            <div class="button-row quick-row">
                <button
                    type="button"
                    class="btn btn-small"
                    id="host-toggle-active"
                    disabled=move || busy.get()
                    on:click=crate::ev::click(toggle)
                >
                    {move || if active() { "Mark inactive" } else { "Mark active" }}
                </button>
                <button
                    type="button"
                    class="btn btn-small btn-danger-outline"
                    id="host-delete"
                    disabled=move || busy.get()
                    on:click=crate::ev::click(move |_| deleting.set(true))
                >
                    "Delete host"
                </button>
            </div>
            <ConfirmDialog
                open=deleting
                title=Signal::derive(move || format!("Delete host {}?", name()))
                message=Signal::derive(move || {
                    format!("vr forgets {} and stops polling it. This cannot be undone.", name())
                })
                confirm_label="Delete"
                danger=true
                busy=busy
                on_confirm=delete
                on_cancel=move |()| deleting.set(false)
            />
        </div>
    }
}
