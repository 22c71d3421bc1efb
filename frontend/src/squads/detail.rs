//! `/squads/:name`: one squad: rename it or change its description, its hosts with their
//! health, and the procs of those hosts shown like the dashboard's.

use crate::components::CollectAny;
use crate::components::CollectVec;
use crate::router::use_navigate;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::fleet::{Host, Squad, SquadPatch};
use vr_app::validate;

use crate::api;
use crate::busy::spawn_busy;
use crate::components::{FieldSpec, FormError, FormErrors, MissingNotice, use_toasts};
use crate::fleet::{FleetProcs, HealthBadge, use_fleet};
use crate::links::{host_href, new_host_href, squad_href};
use crate::session::use_session;
use crate::squads::{SquadDelete, SquadDeleteDialog};

#[component]
pub fn SquadPage() -> impl IntoView {
    let store = use_fleet();
    let session = use_session();
    let navigate = use_navigate();
    let name = crate::route::name_param();
    crate::route::title(move || format!("{} · Squad", name.get()));
    let squad_id = Memo::new(move |_| store.squad(&name.get()).map(|s| s.id));
    let hosts = Memo::new(move |_| {
        let name = name.get();
        store.with(|f| {
            let mut list: Vec<Host> = f
                .hosts
                .iter()
                .filter(|h| h.settings.squad.as_deref() == Some(name.as_str()))
                .cloned()
                .collect_vec();
            vr_app::order::sort_by(&mut list, |a, b| a.settings.name.cmp(&b.settings.name));
            list
        })
    });
    let procs = Memo::new(move |_| {
        hosts.with(|hosts| {
            store.with(|f| {
                f.procs
                    .iter()
                    .filter(|p| hosts.iter().any(|h| h.settings.name == p.host))
                    .cloned()
                    .collect_vec()
            })
        })
    });
    // Its swarms, for "dispatch every swarm on this squad".
    let swarms = crate::live::LiveData::follow(
        Vec::new(),
        api::swarm::swarms,
        crate::swarms::refetch_on_swarm_news,
    );
    provide_context(crate::fleet::table::SwarmsShown(Signal::derive(
        move || swarms.get(),
    )));
    let on_squad = Signal::derive(move || {
        let name = name.get();
        swarms.with(|l| {
            l.iter()
                .filter(|s| s.spec.squad == name)
                .cloned()
                .collect_vec()
        })
    });
    let flow = SquadDelete::new();
    let after_delete = Callback::new(move |_: String| navigate("/squads", Default::default()));

    let body = move || {
        if squad_id.get().is_none() {
            let text = if store.loaded() {
                format!("There is no squad named {}.", name.get())
            } else {
                "Loading…".to_string()
            };
            return view! { <MissingNotice test="squad-missing" text=text /> }.into_any();
        }
        let editable = session.can_deploy();
        let form = editable
            .then(|| {
                store.with_untracked(|f| {
                    f.squads
                        .iter()
                        .find(|s| Some(s.id) == squad_id.get_untracked())
                        .cloned()
                })
            })
            .flatten()
            .map(|s| view! { <SquadEditForm squad=s flow=flow /> });
        view! {
            {form}
            <div class="card" data-test="squad-hosts">
                <div class="card-head">
                    <h2>"Hosts"</h2>
                    {editable
                        .then(|| {
                            let href = new_host_href(&name.get_untracked());
                            view! { <a href=href>"Add a host to this squad"</a> }
                        })}
                </div>
                <HostList hosts=hosts />
            </div>
            <div class="card" data-test="squad-swarms">
                <h2>"Swarms"</h2>
                {editable.then(|| view! { <crate::swarms::DispatchShown shown=on_squad squad=Signal::derive(move || Some(name.get())) /> })}
            </div>
            <div class="card" data-test="squad-lost">
                <h2>"What its hosts lost"</h2>
                <LostList squad=name />
            </div>
            <div class="card">
                <h2>"Procs"</h2>
                <FleetProcs scope=procs empty="No procs on the hosts of this squad." />
            </div>
        }
        .into_any()
    };

    view! {
        <section class="page" data-test="squad" data-name=move || name.get()>
            <p>
                <a href="/squads">"← Squads"</a>
            </p>
            <h1 id="squad-title">{move || name.get()}</h1>
            <p class="muted">
                {move || store.squad(&name.get()).map(|s| s.description).unwrap_or_default()}
            </p>
            {body}
            <SquadDeleteDialog flow=flow on_deleted=after_delete />
        </section>
    }
}

#[component]
fn HostList(#[prop(into)] hosts: Signal<Vec<Host>>) -> impl IntoView {
    move || {
        let list = hosts.get();
        if list.is_empty() {
            return view! { <p class="muted">"No hosts in this squad."</p> }.into_any();
        }
        let items = list
            .into_iter()
            .map(|h| {
                let name = h.settings.name.clone();
                view! {
                    <li data-test="squad-host" data-name=name.clone() data-health=h.status.health.as_str()>
                        <a href=host_href(&name)>{name.clone()}</a>
                        " "
                        <HealthBadge status=h.status.clone() />
                        {h.status.error.clone().map(|e| view! { <span class="stale">{e}</span> })}
                    </li>
                }
            })
            .collect_any();
        view! { <ul class="squad-host-list">{items}</ul> }.into_any()
    }
}

/// The squad's hosts that do not answer (or are inactive) and the procs they held when last
/// seen, per swarm: those no longer count, and dispatching the squad's swarms replaces them.
#[component]
fn LostList(#[prop(into)] squad: Signal<String>) -> impl IntoView {
    let store = use_fleet();
    let clock = crate::clock::use_clock();
    let lost = Memo::new(move |_| store.with(|f| vr_app::fleet_view::lost(f, &squad.get())));
    move || {
        let list = lost.get();
        if list.is_empty() {
            return view! { <p class="muted">"Every host of this squad answers."</p> }.into_any();
        }
        let items = list
            .into_iter()
            .map(|l| {
                let name = l.host.settings.name.clone();
                let since = l.host.status.error_since;
                let groups = l
                    .groups
                    .into_iter()
                    .map(|(label, swarm, n)| {
                        let text = format!("{label} ({n})");
                        match swarm {
                            Some(id) => view! { <a href=crate::links::swarm_href(id)>{text}</a> " " }.into_any(),
                            None => view! { <span>{text}</span> " " }.into_any(),
                        }
                    })
                    .collect_any();
                view! {
                    <li data-test="lost-host" data-name=name.clone() data-procs=l.procs.to_string()>
                        <a href=host_href(&name)>{name.clone()}</a>
                        " "
                        <HealthBadge status=l.host.status.clone() />
                        {move || since.map(|t| format!(" for {}", vr_app::time::span(clock.now() - t)))}
                        {format!(": {} proc{} when last seen — ", l.procs, if l.procs == 1 { "" } else { "s" })}
                        {groups}
                    </li>
                }
            })
            .collect_any();
        view! {
            <ul class="squad-host-list">{items}</ul>
            <p class="muted">"These procs no longer count: dispatching every swarm on this squad re-creates them on the hosts that answer."</p>
        }
        .into_any()
    }
}

/// Rename or re-describe the squad; a rename moves the page to the new name.
#[component]
fn SquadEditForm(squad: Squad, flow: SquadDelete) -> impl IntoView {
    let store = use_fleet();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let name = RwSignal::new(squad.name.clone());
    let description = RwSignal::new(squad.description.clone());
    let original = StoredValue::new(squad);
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let old = original.get_value();
        let new_name = name.get_untracked().trim().to_string();
        let new_description = description.get_untracked().trim().to_string();
        if let Err(invalid) = validate::squad_name("name", &new_name) {
            errors.set_invalid(&invalid);
            return;
        }
        let patch = SquadPatch {
            name: (new_name != old.name).then_some(new_name),
            description: (new_description != old.description).then_some(new_description),
        };
        if patch == SquadPatch::default() {
            toasts.success("Nothing to save: no field changed.");
            return;
        }
        let navigate = navigate.clone();
        spawn_busy(busy, async move {
            match api::fleet::update_squad(&old.name, &patch).await {
                Ok(updated) => {
                    let renamed = updated.name != old.name;
                    toasts.success(format!("Squad {} saved.", updated.name));
                    original.set_value(updated.clone());
                    let href = squad_href(&updated.name);
                    store.put_squad(updated, Some(&old.name));
                    if renamed {
                        navigate(&href, Default::default());
                    }
                }
                Err(e) => errors.set_api(&e),
            }
        });
    };
    let delete_name = original.with_value(|s| s.name.clone());
    view! {
        <div class="card" data-test="squad-edit">
            <h2>"Settings"</h2>
            <form class="form form-inline" on:submit=crate::ev::submit(submit) novalidate=true>
                <FormError errors=errors />
                {FieldSpec::new("Name", "squad-edit-name", "name", name, errors).autocomplete("off").view()}
                {FieldSpec::new("Description", "squad-edit-description", "description", description, errors).autocomplete("off").view()}
                <button
                    type="submit"
                    class="btn btn-primary"
                    id="squad-save"
                    disabled=move || busy.get()
                >
                    "Save"
                </button>
                <button
                    type="button"
                    class="btn btn-danger-outline"
                    id="squad-delete"
                    disabled=move || flow.busy.get()
                    on:click=crate::ev::click(move |_| flow.asking.set(Some(delete_name.clone())))
                >
                    "Delete squad"
                </button>
            </form>
        </div>
    }
}
