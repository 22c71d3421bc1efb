//! How configuration values are written: settings as JSON (so `"1"` and `1` differ on
//! screen as they do in the proc), env values as the plain strings they are, and which layer a
//! merged key came from.

use crate::components::CollectVec;
use std::collections::BTreeMap;

use crate::components::CollectAny;
use leptos::prelude::*;
use serde_json::{Map, Value};
use vr_app::release::{Layer, Sourced};
use vr_app::secret::MASK;

use crate::api;
use crate::busy::spawn_busy;
use crate::components::EmptyRow;
use crate::links::ingredient_href;
use crate::session::use_session;

/// Where a masked value can be revealed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevealFrom {
    Release(i64),
    Ingredient(String),
}

/// A secret value: masked, with a Reveal button for deployers that asks the server for it (an
/// event records who did).
#[component]
fn SecretValue(key: String, from: RevealFrom) -> impl IntoView {
    let session = use_session();
    let shown = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let key = StoredValue::new(key);
    let from = StoredValue::new(from);
    let reveal = move |_| {
        let (key, from) = (key.get_value(), from.get_value());
        spawn_busy(busy, async move {
            let answer = match &from {
                RevealFrom::Release(id) => api::release::reveal_release_secret(*id, &key).await,
                RevealFrom::Ingredient(name) => {
                    api::release::reveal_ingredient_secret(name, &key).await
                }
            };
            match answer {
                Ok(r) => {
                    let _ = shown.try_set(Some(r.value));
                    let _ = error.try_set(None);
                }
                Err(e) => {
                    let _ = error.try_set(Some(e.into_message()));
                }
            }
        });
    };
    view! {
        <td class="secret" data-secret="true">
            {move || match shown.get() {
                Some(v) => view! { <span class="mono" data-test="secret-revealed">{v}</span> }.into_any(),
                None => view! { <span class="mono muted">{MASK}</span> " " <span class="badge">"secret"</span> }.into_any(),
            }}
            {move || {
                (session.can_deploy() && shown.with(Option::is_none))
                    .then(|| {
                        view! {
                            " "
                            <button
                                type="button"
                                class="btn btn-small"
                                data-test="secret-reveal"
                                disabled=move || busy.get()
                                on:click=crate::ev::click(reveal)
                            >
                                "Reveal"
                            </button>
                        }
                    })
            }}
            {move || error.get().map(|e| view! { <span class="form-error">{e}</span> })}
        </td>
    }
}

/// A value as JSON: one line for scalars, indented for objects and arrays.
pub fn json_text(value: &Value) -> String {
    let text = if value.is_object() || value.is_array() {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    text.unwrap_or_default()
}

/// A string as itself, anything else as JSON (env values, run-as).
pub fn plain_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => json_text(other),
    }
}

/// `build`, `ingredient NAME` or `own`; also the rows' `data-from`.
pub fn layer_text(layer: &Layer) -> String {
    layer.label()
}

/// A value cell: `<pre>` when it spans lines.
fn value_cell(text: String) -> impl IntoView {
    if text.contains('\n') {
        view! {
            <td>
                <pre class="value-block">{text}</pre>
            </td>
        }
        .into_any()
    } else {
        view! { <td class="mono">{text}</td> }.into_any()
    }
}

/// The layer a key came from, the ingredient's name linked.
fn layer_cell(layer: Layer) -> impl IntoView {
    match layer {
        Layer::Ingredient(name) => view! {
            <td class="nowrap">
                "ingredient " <a href=ingredient_href(&name)>{name.clone()}</a>
            </td>
        }
        .into_any(),
        other => view! { <td class="nowrap muted">{layer_text(&other)}</td> }.into_any(),
    }
}

/// Settings as a key / JSON value table; rows carry `data-key`.
#[component]
pub fn SettingsTable(
    #[prop(into)] settings: Signal<Map<String, Value>>,
    test_id: &'static str,
    #[prop(default = "No settings.")] empty: &'static str,
) -> impl IntoView {
    let pairs = Signal::derive(move || {
        settings.with(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), json_text(v)))
                .collect_vec()
        })
    });
    view! { <KeyValueTable key_header="Key" pairs=pairs test_id=test_id empty=empty /> }
}

/// Env vars as a name / value table; rows carry `data-key`. Masked (secret) values get a
/// Reveal button when `reveal` says where from.
#[component]
pub fn EnvTable(
    #[prop(into)] env: Signal<BTreeMap<String, String>>,
    test_id: &'static str,
    #[prop(default = "No env vars.")] empty: &'static str,
    #[prop(default = None)] reveal: Option<RevealFrom>,
) -> impl IntoView {
    let pairs = Signal::derive(move || {
        env.with(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect_vec()
        })
    });
    view! {
        <KeyValueTable key_header="Name" pairs=pairs test_id=test_id empty=empty reveal=reveal />
    }
}

/// Keys and their written values, in order; rows carry `data-key`.
#[component]
fn KeyValueTable(
    key_header: &'static str,
    pairs: Signal<Vec<(String, String)>>,
    test_id: &'static str,
    empty: &'static str,
    #[prop(default = None)] reveal: Option<RevealFrom>,
) -> impl IntoView {
    let reveal = StoredValue::new(reveal);
    let rows = move || {
        let pairs = pairs.get();
        if pairs.is_empty() {
            return view! { <EmptyRow colspan=2 text=empty /> }.into_any();
        }
        pairs
            .into_iter()
            .map(|(k, v)| {
                let cell = match reveal.get_value() {
                    Some(from) if v == MASK => {
                        view! { <SecretValue key=k.clone() from=from /> }.into_any()
                    }
                    _ => value_cell(v).into_any(),
                };
                view! {
                    <tr data-key=k.clone()>
                        <td class="mono nowrap">{k.clone()}</td>
                        {cell}
                    </tr>
                }
            })
            .collect_any()
            .into_any()
    };
    view! {
        <div class="table-scroll">
            <table data-test=test_id>
                <thead>
                    <tr>
                        <th scope="col">{key_header}</th>
                        <th scope="col">"Value"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// Merged keys with the layer each came from; rows carry `data-key` and `data-from`.
/// `plain` writes string values as themselves (env) instead of as JSON (settings).
#[component]
pub fn SourcedTable(
    keys: Vec<Sourced>,
    test_id: &'static str,
    plain: bool,
    empty: &'static str,
) -> impl IntoView {
    let rows = if keys.is_empty() {
        view! { <EmptyRow colspan=3 text=empty /> }.into_any()
    } else {
        keys.into_iter()
            .map(|s| {
                let text = if plain {
                    plain_text(&s.value)
                } else {
                    json_text(&s.value)
                };
                let from = layer_text(&s.from);
                view! {
                    <tr data-key=s.key.clone() data-from=from>
                        <td class="mono nowrap">{s.key.clone()}</td>
                        {value_cell(text)}
                        {layer_cell(s.from)}
                    </tr>
                }
            })
            .collect_any()
            .into_any()
    };
    view! {
        <div class="table-scroll">
            <table data-test=test_id>
                <thead>
                    <tr>
                        <th scope="col">"Key"</th>
                        <th scope="col">"Value"</th>
                        <th scope="col">"From"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
