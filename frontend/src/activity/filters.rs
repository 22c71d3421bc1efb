//! The activity filters: what is in force lives in the URL (`?actor=&action=&q=`), the inputs
//! follow it (so Back restores them), and Apply, Clear or "only this actor/action" change it.

use crate::router::NavigateOptions;
use crate::router::use_navigate;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::api::{Event, EventQuery};
use vr_app::query::query_string;

use crate::route::UrlParam;

fn non_empty(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// The inputs and the query in force; cheap to copy.
#[derive(Clone, Copy)]
pub struct Filters {
    actor: RwSignal<String>,
    action: RwSignal<String>,
    text: RwSignal<String>,
    /// The query the list shows (from the URL).
    pub applied: Memo<EventQuery>,
    set: Callback<EventQuery>,
}

impl Filters {
    /// Follows the current URL's filters.
    pub fn from_url() -> Filters {
        let (url_actor, url_action, url_text) = (
            UrlParam::new("actor"),
            UrlParam::new("action"),
            UrlParam::new("q"),
        );
        let applied = Memo::new(move |_| EventQuery {
            actor: url_actor.value.get(),
            action: url_action.value.get(),
            q: url_text.value.get(),
            ..Default::default()
        });
        let (actor, action, text) = (
            RwSignal::new(String::new()),
            RwSignal::new(String::new()),
            RwSignal::new(String::new()),
        );
        crate::effects::effect(move || {
            let q = applied.get();
            actor.set(q.actor.unwrap_or_default());
            action.set(q.action.unwrap_or_default());
            text.set(q.q.unwrap_or_default());
        });
        let navigate = use_navigate();
        let set = Callback::new(move |q: EventQuery| {
            let query = query_string([
                ("actor", q.actor.as_deref().unwrap_or_default()),
                ("action", q.action.as_deref().unwrap_or_default()),
                ("q", q.q.as_deref().unwrap_or_default()),
            ]);
            navigate(&format!("/activity{query}"), NavigateOptions::default());
        });
        Filters {
            actor,
            action,
            text,
            applied,
            set,
        }
    }

    /// Puts what the inputs hold in force.
    pub fn apply_inputs(&self) {
        self.set.run(EventQuery {
            actor: non_empty(self.actor.get_untracked()),
            action: non_empty(self.action.get_untracked()),
            q: non_empty(self.text.get_untracked()),
            ..Default::default()
        });
    }

    /// Narrows to `event`'s actor (or its action), keeping the other filters.
    pub fn narrow_to(&self, event: &Event, by_actor: bool) {
        if by_actor {
            self.actor.set(event.actor.clone());
        } else {
            self.action.set(event.action.clone());
        }
        self.apply_inputs();
    }
}

/// The filter form.
#[component]
pub fn FilterForm(filters: Filters) -> impl IntoView {
    let Filters {
        actor,
        action,
        text,
        set,
        ..
    } = filters;
    let apply = move |ev: SubmitEvent| {
        ev.prevent_default();
        filters.apply_inputs();
    };
    let input = move |id: &'static str,
                      label: &'static str,
                      kind: &'static str,
                      hint: &'static str,
                      value: RwSignal<String>,
                      grow: bool| {
        view! {
            <div class="field" class:grow=grow>
                <label for=id>{label}</label>
                <input
                    id=id
                    type=kind
                    placeholder=hint
                    prop:value=move || value.get()
                    on:input=crate::ev::input(move |ev| value.set(event_target_value(&ev)))
                />
            </div>
        }
    };
    view! {
        <form class="card filters" on:submit=crate::ev::submit(apply) data-test="activity-filters">
            {input("filter-actor", "Actor", "text", "username or system", actor, false)}
            {input("filter-action", "Action starts with", "text", "e.g. user.", action, false)}
            {input("filter-q", "Text", "search", "in object or detail", text, true)}
            <div class="filter-actions">
                <button type="submit" class="btn btn-primary" id="filter-apply">
                    "Apply"
                </button>
                <button
                    type="button"
                    class="btn"
                    id="filter-clear"
                    on:click=crate::ev::click(move |_| set.run(EventQuery::default()))
                >
                    "Clear"
                </button>
            </div>
        </form>
    }
}
