//! The selects of the deploy form: the release, a proc type of its build's Procfile, and an
//! active host. Each keeps `selected` on its options as well as the select's value: options that
//! arrive after the value was set would otherwise show the first one.

use crate::components::CollectAny;
use crate::components::CollectVec;
use leptos::prelude::*;
use vr_app::fleet::Health;
use vr_app::release::Release;

use super::chosen::Chosen;
use crate::components::FormErrors;
use crate::fleet::health::health_label;
use crate::fleet::use_fleet;
use crate::releases::ReleaseFeed;

/// `#12 shop 0123456789ab`.
fn release_label(r: &Release) -> String {
    format!("#{} {} {}", r.id, r.app, r.hash)
}

/// The error under field `name`, else `hint` if any.
#[component]
pub fn FieldNote(
    errors: FormErrors,
    name: &'static str,
    #[prop(into)] hint: Signal<Option<String>>,
) -> impl IntoView {
    move || match errors.field(name) {
        Some(m) => view! { <p class="field-error" data-field=name>{m}</p> }.into_any(),
        None => hint
            .get()
            .map(|h| view! { <p class="field-hint">{h}</p> })
            .into_any(),
    }
}

#[component]
pub fn ReleaseSelect(
    value: RwSignal<String>,
    feed: ReleaseFeed,
    chosen: Chosen,
    errors: FormErrors,
) -> impl IntoView {
    errors.register("release_id");
    let options = move || {
        let current = value.get();
        let mut list = feed.releases().get();
        // A release older than the list (e.g. from `?release=`) stays choosable.
        if let Some(r) = chosen.release.get()
            && !list.iter().any(|l| l.id == r.id)
        {
            list.push(r);
        }
        list.into_iter()
            .map(|r| {
                let id = r.id.to_string();
                let selected = id == current;
                view! { <option value=id selected=selected>{release_label(&r)}</option> }
            })
            .collect_any()
    };
    let prompt = move || {
        if feed.loaded() {
            "(choose a release)"
        } else {
            "Loading…"
        }
    };
    let hint = Signal::derive(move || {
        chosen
            .error()
            .or_else(|| Some("The newest releases of every app.".to_string()))
    });
    view! {
        <div class="field" class:field-invalid=move || errors.field("release_id").is_some()>
            <label for="deploy-release">"Release"</label>
            <select
                id="deploy-release"
                name="release_id"
                prop:value=move || value.get()
                on:change=crate::ev::change(move |ev| value.set(event_target_value(&ev)))
            >
                <option value="" selected=move || value.with(String::is_empty)>
                    {prompt}
                </option>
                {options}
            </select>
            <FieldNote errors=errors name="release_id" hint=hint />
        </div>
    }
}

/// `web` when the Procfile has it, else its first type.
fn default_proc(types: &[String]) -> String {
    types
        .iter()
        .find(|t| *t == "web")
        .or_else(|| types.first())
        .cloned()
        .unwrap_or_default()
}

#[component]
pub fn ProcSelect(value: RwSignal<String>, chosen: Chosen, errors: FormErrors) -> impl IntoView {
    errors.register("proc_type");
    // Another Procfile: keep the type if it has it, else pick one (not while the next loads).
    crate::effects::effect(move || {
        if chosen.loading() {
            return;
        }
        let types: Vec<String> = chosen.procfile.with(|p| p.keys().cloned().collect_vec());
        if !types.contains(&value.get_untracked()) {
            value.set(default_proc(&types));
        }
    });
    let options = move || {
        let current = value.get();
        chosen
            .procfile
            .get()
            .into_iter()
            .map(|(kind, command)| {
                let selected = kind == current;
                view! {
                    <option value=kind.clone() title=command selected=selected>
                        {kind.clone()}
                    </option>
                }
            })
            .collect_any()
    };
    let prompt = move || {
        if chosen.loading() {
            "Loading…"
        } else if chosen.release.with(Option::is_none) {
            "(choose a release first)"
        } else if chosen.procfile.with(|p| p.is_empty()) {
            "(the build has no Procfile)"
        } else {
            "(choose a proc type)"
        }
    };
    let hint = Signal::derive(move || {
        let current = value.get();
        chosen.procfile.with(|p| p.get(&current).cloned())
    });
    view! {
        <div class="field" class:field-invalid=move || errors.field("proc_type").is_some()>
            <label for="deploy-proc">"Proc type"</label>
            <select
                id="deploy-proc"
                name="proc_type"
                prop:value=move || value.get()
                on:change=crate::ev::change(move |ev| value.set(event_target_value(&ev)))
            >
                <option value="" selected=move || value.with(String::is_empty)>
                    {prompt}
                </option>
                {options}
            </select>
            <FieldNote errors=errors name="proc_type" hint=hint />
        </div>
    }
}

#[component]
pub fn HostSelect(value: RwSignal<String>, errors: FormErrors) -> impl IntoView {
    errors.register("host");
    let store = use_fleet();
    // Only active hosts get new procs.
    let hosts = Memo::new(move |_| {
        store.with(|f| {
            let mut list: Vec<(String, Option<String>, Health)> = f
                .hosts
                .iter()
                .filter(|h| h.settings.active)
                .map(|h| {
                    (
                        h.settings.name.clone(),
                        h.settings.squad.clone(),
                        h.status.health,
                    )
                })
                .collect_vec();
            vr_app::order::sort_by(&mut list, |a, b| a.0.cmp(&b.0));
            list
        })
    });
    let options = move || {
        let current = value.get();
        hosts
            .get()
            .into_iter()
            .map(|(name, squad, health)| {
                let selected = name == current;
                let mut label = match squad {
                    Some(s) => format!("{name} ({s})"),
                    None => name.clone(),
                };
                // A deploy there would fail at its first step: say so before it is chosen.
                if health != Health::Ok {
                    label.push_str(&format!(" — {}", health_label(health)));
                }
                view! {
                    <option value=name selected=selected data-health=health.as_str()>
                        {label}
                    </option>
                }
            })
            .collect_any()
    };
    // The chosen host's port range, when it has one.
    let port_range = Signal::derive(move || {
        let host = store.host(&value.get())?;
        let (low, high) = (host.settings.port_min?, host.settings.port_max?);
        Some(format!("Its ports: {low}–{high}."))
    });
    let prompt = move || {
        if !store.loaded() {
            "Loading…"
        } else if hosts.with(Vec::is_empty) {
            "(no active hosts)"
        } else {
            "(choose a host)"
        }
    };
    view! {
        <div class="field" class:field-invalid=move || errors.field("host").is_some()>
            <label for="deploy-host">"Host"</label>
            <select
                id="deploy-host"
                name="host"
                prop:value=move || value.get()
                on:change=crate::ev::change(move |ev| value.set(event_target_value(&ev)))
            >
                <option value="" selected=move || value.with(String::is_empty)>
                    {prompt}
                </option>
                {options}
            </select>
            <FieldNote errors=errors name="host" hint=port_range />
        </div>
    }
}
