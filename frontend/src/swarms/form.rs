//! The swarm form (`/swarms/new`, and editing on a swarm's page), in three tabs: general (what
//! runs where), config (settings, env, ingredients, and a preview of the merged config with the
//! layer each key comes from) and routing (the balancer pool). An error shows its tab. Saving
//! changes nothing on hosts; "Save & dispatch" also queues a dispatch and opens it.

use crate::components::CollectVec;
use crate::components::Show;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::swarm::{DispatchRequest, Placement, Swarm, SwarmSpec};

use crate::api;
use crate::busy::spawn_submit;
use crate::components::{
    Check, FieldSpec, FormError, FormErrors, TextArea, tab_button, use_toasts,
};
use crate::links::{dispatch_href, swarm_href};
use crate::router::{NavigateOptions, use_navigate};

/// The form's tabs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    General,
    Config,
    Routing,
}

impl Tab {
    /// The tab holding the input of request field `field`.
    fn of(field: &str) -> Tab {
        match field {
            "settings_yaml" | "env_yaml" | "ingredients" | "secret_keys" => Tab::Config,
            "pool" | "balancer" => Tab::Routing,
            _ => Tab::General,
        }
    }
}

/// The inputs; cheap to copy.
#[derive(Clone, Copy)]
struct Inputs {
    app: RwSignal<String>,
    version: RwSignal<String>,
    proc_type: RwSignal<String>,
    config: RwSignal<String>,
    squad: RwSignal<String>,
    size: RwSignal<String>,
    batch: RwSignal<String>,
    heal: RwSignal<String>,
    one_per_host: RwSignal<bool>,
    sandbox: RwSignal<bool>,
    stack: RwSignal<String>,
    uses_ports: RwSignal<bool>,
    keep_failed: RwSignal<bool>,
    settings: RwSignal<String>,
    env: RwSignal<String>,
    ingredients: RwSignal<String>,
    pool: RwSignal<String>,
    balancer: RwSignal<String>,
}

impl Inputs {
    fn of(s: &SwarmSpec) -> Inputs {
        let text = |v: &str| RwSignal::new(v.to_string());
        Inputs {
            app: text(&s.app),
            version: text(&s.version),
            proc_type: text(&s.proc_type),
            config: text(&s.config),
            squad: text(&s.squad),
            size: text(&s.size.to_string()),
            batch: text(&s.batch_size.to_string()),
            heal: text(&s.heal_after_secs.to_string()),
            one_per_host: RwSignal::new(s.placement == Placement::OnePerHost),
            sandbox: RwSignal::new(s.runner == vr_app::release::Runner::Sandbox),
            stack: text(s.stack.as_deref().unwrap_or_default()),
            uses_ports: RwSignal::new(s.uses_ports),
            keep_failed: RwSignal::new(s.keep_failed),
            settings: text(&s.settings_yaml),
            env: text(&s.env_yaml),
            ingredients: text(&s.ingredients.join(", ")),
            pool: text(s.pool.as_deref().unwrap_or_default()),
            balancer: text(s.balancer.as_deref().unwrap_or_default()),
        }
    }

    /// The spec the inputs say, on top of `base` (what the form does not edit stays); the
    /// numbers are checked here, the rest by the server, each error under its input.
    fn spec(&self, base: &SwarmSpec, errors: &FormErrors) -> Option<SwarmSpec> {
        let number = |field: &'static str, v: RwSignal<String>, max: u32| {
            let text = v.get_untracked();
            let text = if text.trim().is_empty() {
                "0".to_string()
            } else {
                text
            };
            vr_app::validate::whole_number(field, text.trim(), 0, u64::from(max))
                .map(|n| u32::try_from(n).unwrap_or(0))
                .map_err(|e| errors.set_invalid(&e))
                .ok()
        };
        let size = number("size", self.size, vr_app::swarm::MAX_SIZE);
        let batch = number("batch_size", self.batch, vr_app::swarm::MAX_SIZE);
        let heal = number("heal_after_secs", self.heal, vr_app::swarm::MAX_HEAL_AFTER);
        let words = |v: RwSignal<String>| v.get_untracked().trim().to_string();
        let optional = |v: RwSignal<String>| Some(words(v)).filter(|t| !t.is_empty());
        Some(SwarmSpec {
            app: words(self.app),
            version: words(self.version),
            proc_type: words(self.proc_type),
            config: words(self.config),
            squad: words(self.squad),
            size: size?,
            batch_size: batch?,
            heal_after_secs: heal?,
            placement: if self.one_per_host.get_untracked() {
                Placement::OnePerHost
            } else {
                Placement::Spread
            },
            uses_ports: self.uses_ports.get_untracked(),
            keep_failed: self.keep_failed.get_untracked(),
            runner: if self.sandbox.get_untracked() {
                vr_app::release::Runner::Sandbox
            } else {
                vr_app::release::Runner::Plain
            },
            settings_yaml: self.settings.get_untracked(),
            env_yaml: self.env.get_untracked(),
            ingredients: self
                .ingredients
                .get_untracked()
                .split(',')
                .map(str::trim)
                .filter(|i| !i.is_empty())
                .map(str::to_string)
                .collect_vec(),
            pool: optional(self.pool),
            balancer: optional(self.balancer),
            stack: optional(self.stack),
            ..base.clone()
        })
    }
}

#[component]
pub fn NewSwarmPage() -> impl IntoView {
    crate::route::title(|| "New swarm".to_string());
    let blank = SwarmSpec {
        uses_ports: true,
        size: 1,
        ..SwarmSpec::default()
    };
    view! {
        <section class="page" data-test="new-swarm">
            <p>
                <a href="/swarms">"← Swarms"</a>
            </p>
            <h1>"New swarm"</h1>
            <SwarmForm base=blank editing=None />
        </section>
    }
}

/// The form, starting from `base`; `editing` is the swarm it replaces (none: a new one).
#[component]
pub fn SwarmForm(base: SwarmSpec, editing: Option<Swarm>) -> impl IntoView {
    let toasts = use_toasts();
    let navigate = use_navigate();
    let inputs = Inputs::of(&base);
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);
    let then_dispatch = RwSignal::new(false);
    // Offered once the server said another swarm routes the pool (VR's "pool hijack").
    let take_pool = RwSignal::new(false);
    let pool_taken = Memo::new(move |_| {
        errors
            .field("pool")
            .is_some_and(|m| m.contains("already routes pool"))
    });
    let id = editing.as_ref().map(|s| s.id);
    let tab = RwSignal::new(Tab::General);
    crate::effects::effect(move || {
        if let Some(field) = errors.first_field() {
            tab.set(Tab::of(&field));
        }
    });
    let preview_base = base.clone();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let Some(spec) = inputs.spec(&base, &errors) else {
            return;
        };
        let dispatch = then_dispatch.get_untracked();
        let take = take_pool.get_untracked();
        let navigate = navigate.clone();
        spawn_submit(
            busy,
            errors,
            async move {
                let saved = match id {
                    Some(id) => api::swarm::replace(id, &spec, take).await?,
                    None => api::swarm::create(&spec, take).await?,
                };
                let queued = if dispatch {
                    Some(api::swarm::dispatch(saved.id, &DispatchRequest::default()).await?)
                } else {
                    None
                };
                Ok((saved, queued))
            },
            move |(saved, queued)| {
                toasts.success(format!("Swarm {} saved.", saved.name));
                let to = match queued {
                    Some(d) => dispatch_href(d.id),
                    None => swarm_href(saved.id),
                };
                navigate(&to, NavigateOptions::default());
            },
        );
    };
    let f = |label, id, name, value| FieldSpec::new(label, id, name, value, errors);
    view! {
        <form class="form card" on:submit=crate::ev::submit(submit) novalidate=true id="swarm-form">
            <FormError errors=errors />
            <div class="tabs" role="tablist" aria-label="Swarm settings">
                {tab_button(tab, Tab::General, "swarm-tab-general", "General")}
                {tab_button(tab, Tab::Config, "swarm-tab-config", "Config")}
                {tab_button(tab, Tab::Routing, "swarm-tab-routing", "Routing")}
            </div>
            <div role="tabpanel" aria-labelledby="swarm-tab-general" hidden=move || tab.get() != Tab::General>
            <div class="field-row">
                {f("App", "swarm-app", "app", inputs.app).required().view()}
                {f("Version", "swarm-version", "version", inputs.version)
                    .placeholder("tag, branch or commit")
                    .required()
                    .view()}
                {f("Proc type", "swarm-proc", "proc_type", inputs.proc_type)
                    .placeholder("web")
                    .required()
                    .view()}
                {f("Config name", "swarm-config", "config", inputs.config)
                    .placeholder("prod")
                    .required()
                    .view()}
                {f("Squad", "swarm-squad", "squad", inputs.squad).required().view()}
            </div>
            <div class="field-row">
                {f("Size", "swarm-size", "size", inputs.size).numeric().view()}
                {f("Batch size", "swarm-batch", "batch_size", inputs.batch)
                    .numeric()
                    .hint("New procs per round; 0 = all at once.")
                    .view()}
                {f("Self-heal after (s)", "swarm-heal", "heal_after_secs", inputs.heal)
                    .numeric()
                    .hint("Dispatch by itself when a host with its procs is unreachable this long; 0 = off.")
                    .view()}
                <Check
                    label="One per host"
                    id="swarm-one-per-host"
                    value=inputs.one_per_host
                    hint="On every active host of the squad (workers); the size follows the squad."
                    disabled=Signal::default()
                />
                <Check
                    label="Binds a port"
                    id="swarm-uses-ports"
                    value=inputs.uses_ports
                    hint="Off for workers: their procs get port 0."
                    disabled=Signal::default()
                />
                <Check
                    label="In a sandbox"
                    id="swarm-sandbox"
                    value=inputs.sandbox
                    hint="Each proc under bubblewrap: the build read-only at /app, only its home and volumes writable, nothing else of the host's (the hosts need bubblewrap)."
                    disabled=Signal::default()
                />
                {f("Stack", "swarm-stack", "stack", inputs.stack).placeholder("(the app's)").hint("An OS image from the Stacks page (sandbox only): builds compile in it, procs run on it.").view()}
                <Check
                    label="Keep failed procs"
                    id="swarm-keep-failed"
                    value=inputs.keep_failed
                    hint="Leave new procs whose uptests failed, for debugging."
                    disabled=Signal::default()
                />
            </div>
            </div>
            <div role="tabpanel" aria-labelledby="swarm-tab-config" hidden=move || tab.get() != Tab::Config>
            <TextArea
                label="Settings (YAML)"
                id="swarm-settings"
                name="settings_yaml"
                value=inputs.settings
                errors=errors
                hint="A YAML mapping; wins over every ingredient."
            />
            <TextArea
                label="Env (YAML)"
                id="swarm-env"
                name="env_yaml"
                value=inputs.env
                errors=errors
                hint="A YAML mapping of names to strings; secret values show masked and are kept when left so."
            />
            {f("Ingredients", "swarm-ingredients", "ingredients", inputs.ingredients)
                .hint("Names, comma-separated, merged in this order.")
                .view()}
            <ConfigPreview inputs=inputs base=preview_base id=id />
            </div>
            <div role="tabpanel" aria-labelledby="swarm-tab-routing" hidden=move || tab.get() != Tab::Routing>
            <div class="field-row">
                {f("Pool", "swarm-pool", "pool", inputs.pool).view()}
                {f("Balancer", "swarm-balancer", "balancer", inputs.balancer).view()}
            </div>
            <Show when=move || pool_taken.get() || take_pool.get()>
                <Check
                    label="Take the pool over"
                    id="swarm-take-pool"
                    value=take_pool
                    hint="The swarm that routes it now loses it: its procs leave the pool at this swarm's next dispatch."
                    disabled=Signal::stored(false)
                />
            </Show>
            </div>
            <div class="form-actions">
                <button
                    type="submit"
                    class="btn"
                    id="swarm-save"
                    disabled=move || busy.get()
                    on:click=crate::ev::click(move |_| then_dispatch.set(false))
                >
                    "Save"
                </button>
                <button
                    type="submit"
                    class="btn btn-primary"
                    id="swarm-save-dispatch"
                    disabled=move || busy.get()
                    on:click=crate::ev::click(move |_| then_dispatch.set(true))
                >
                    "Save & dispatch"
                </button>
            </div>
        </form>
    }
}

/// What the release step would make of the form now: each settings and env key with the layer
/// it comes from (build, an ingredient, the swarm), secret values masked. Asked on demand: it
/// needs the app to have been built once.
#[component]
fn ConfigPreview(inputs: Inputs, base: SwarmSpec, id: Option<i64>) -> impl IntoView {
    use crate::releases::values::SourcedTable;
    // Its own errors: a bad value is named here, next to the preview that could not be made.
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);
    let shown = RwSignal::new(None::<vr_app::release::ReleasePreview>);
    let base = StoredValue::new(base);
    let ask = move |_| {
        errors.clear();
        let Some(spec) = base.with_value(|b| inputs.spec(b, &errors)) else {
            return;
        };
        spawn_submit(busy, errors, api::swarm::preview(&spec, id), move |p| {
            shown.set(Some(p))
        });
    };
    view! {
        <div class="config-preview" data-test="swarm-preview">
            <button type="button" class="btn" id="swarm-preview" disabled=move || busy.get() on:click=crate::ev::click(ask)>
                "Preview the merged config"
            </button>
            <FormError errors=errors />
            {move || {
                shown
                    .get()
                    .map(|p| {
                        view! {
                            <h3>"Settings"</h3>
                            <SourcedTable keys=p.settings_from test_id="swarm-preview-settings" plain=false empty="No settings." />
                            <h3>"Env"</h3>
                            <SourcedTable keys=p.env_from test_id="swarm-preview-env" plain=true empty="No env." />
                        }
                    })
            }}
        </div>
    }
}
