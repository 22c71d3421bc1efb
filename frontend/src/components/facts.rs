//! `Facts`: a definition list of (label, value) lines, the one way detail panels list what is
//! known about an object. Built from data, so the list's view code exists once.

use crate::components::CollectAny;
use leptos::prelude::*;

/// One line: a label and its value (text, or any view for links, badges and live values).
pub struct Fact {
    label: &'static str,
    value: AnyView,
    class: &'static str,
}

impl Fact {
    pub fn text(label: &'static str, value: impl Into<String>) -> Fact {
        let value: String = value.into();
        Fact {
            label,
            value: value.into_any(),
            class: "",
        }
    }

    /// In the monospace font (ids, hashes, paths).
    pub fn mono(label: &'static str, value: impl Into<String>) -> Fact {
        Fact {
            class: "mono",
            ..Fact::text(label, value)
        }
    }

    pub fn view(label: &'static str, value: impl IntoView + 'static) -> Fact {
        Fact {
            label,
            value: value.into_any(),
            class: "",
        }
    }
}

#[component]
pub fn Facts(facts: Vec<Fact>, #[prop(optional)] test: &'static str) -> impl IntoView {
    let lines = facts
        .into_iter()
        .map(|f| {
            view! {
                <dt>{f.label}</dt>
                <dd class=f.class>{f.value}</dd>
            }
        })
        .collect_any();
    view! { <dl class="facts" data-test=test>{lines}</dl> }
}
