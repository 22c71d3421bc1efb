//! `/balancers`: every balancer with its pools — the nodes vr routes there, the swarm that owns
//! each pool, what each balancer host holds (drift) and Re-apply — and, for admins, the form
//! that adds or edits one.

use crate::components::CollectAny;
use crate::components::CollectVec;
use crate::components::Show;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::balancer::{Balancer, BalancerKind, BalancerSpec, PoolView};
use vr_app::live::Merge;

use crate::api;
use crate::busy::{Deletion, spawn_busy, spawn_delete, spawn_submit};
use crate::components::{
    Column, ConfirmDialog, DataTable, Fact, Facts, FieldSpec, FormError, FormErrors, StatusBadge,
    use_toasts,
};
use crate::live::LiveData;
use crate::session::use_session;

/// Pools change with balancer edits and with every dispatch's route step.
fn refetch_on_news<T>(_: &mut T, message: &LiveMessage) -> Merge {
    match message {
        LiveMessage::Balancers | LiveMessage::Swarms => Merge::Refetch,
        _ => Merge::Ignored,
    }
}

#[component]
pub fn BalancersPage() -> impl IntoView {
    crate::route::title(|| "Balancers".to_string());
    let session = use_session();
    let list = LiveData::follow(Vec::new(), api::balancer::list, refetch_on_news);
    // The balancer the form edits (its current name), or none for a new one.
    let editing: RwSignal<Option<Balancer>> = RwSignal::new(None);
    let deleting: RwSignal<Option<String>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let toasts = use_toasts();
    let confirm_delete = move |()| {
        let Some(name) = deleting.get_untracked() else {
            return;
        };
        let deletion = Deletion {
            busy,
            toasts,
            kind: "Balancer",
            name: name.clone(),
            error: None,
        };
        spawn_delete(
            deletion,
            api::balancer::remove(&name),
            move || list.reload(),
            move || {
                let _ = deleting.try_set(None);
            },
        );
    };
    let cards = move || {
        let all = list.get();
        if all.is_empty() && list.loaded() {
            return view! {
                <p class="muted" data-test="balancers-empty">
                    "No balancers yet. A swarm with a pool is routed through one."
                </p>
            }
            .into_any();
        }
        all.into_iter()
            .map(|b| balancer_card(b, editing, deleting, list))
            .collect_any()
            .into_any()
    };
    view! {
        <section class="page" data-test="balancers">
            <h1>"Balancers"</h1>
            {move || list.error_text().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
            {cards}
            <ConfirmDialog
                open=Signal::derive(move || deleting.with(Option::is_some))
                title=Signal::derive(move || {
                    format!("Delete balancer {}?", deleting.get().unwrap_or_default())
                })
                message="Its pool files stay on its hosts. A balancer a swarm routes to cannot be deleted."
                confirm_label="Delete"
                danger=true
                busy=busy
                on_confirm=confirm_delete
                on_cancel=move |()| deleting.set(None)
            />
            <Show when=move || session.is_admin()>
                <BalancerForm editing=editing list=list />
            </Show>
        </section>
    }
}

fn balancer_card(
    b: Balancer,
    editing: RwSignal<Option<Balancer>>,
    deleting: RwSignal<Option<String>>,
    list: LiveData<Vec<Balancer>>,
) -> impl IntoView {
    let session = use_session();
    let s = &b.spec;
    let facts = vec![
        Fact::text("Kind", s.kind.as_str()),
        Fact::text("Hosts", s.hosts.join(", ")),
        Fact::mono("Pool folder", s.pool_dir()),
        Fact::mono("Validate", s.validate_line()),
        Fact::mono("Reload", s.reload_line()),
        Fact::mono("Pid file", s.pid_file_path()),
        Fact::text("Drain", format!("{} ms", s.drain_ms)),
    ];
    let name = s.name.clone();
    let pools = Signal::stored(b.pools.clone());
    let actions = session.is_admin().then(|| {
        let (edit, del) = (b.clone(), name.clone());
        view! {
            <div class="actions-row">
                <button type="button" class="btn btn-small" data-test="balancer-edit"
                    on:click=crate::ev::click(move |_| editing.set(Some(edit.clone())))>"Edit"</button>
                <button type="button" class="btn btn-small btn-danger-outline" data-test="balancer-delete"
                    on:click=crate::ev::click(move |_| deleting.set(Some(del.clone())))>"Delete"</button>
            </div>
        }
    });
    let columns = pool_columns(name.clone(), list);
    view! {
        <div class="card" data-test="balancer" data-name=name.clone()>
            <div class="card-head">
                <h2>{name.clone()}</h2>
                {actions}
            </div>
            <Facts facts=facts />
            <h3>"Pools"</h3>
            <DataTable
                rows=pools
                columns=columns
                empty="No pool yet: a swarm's first dispatch writes its pool here."
                row_attrs=|p: &PoolView| {
                    vec![
                        ("data-test", "pool-row".to_string()),
                        ("data-name", p.pool.clone()),
                        ("data-drift", p.drift().to_string()),
                    ]
                }
                test_id="pools-table"
            />
        </div>
    }
}

fn pool_columns(balancer: String, list: LiveData<Vec<Balancer>>) -> Vec<Column<PoolView>> {
    let session = use_session();
    let toasts = use_toasts();
    let busy = RwSignal::new(false);
    vec![
        Column::new("Pool", |p: &PoolView| p.pool.clone()).class("mono"),
        Column::new("Swarm", |p: &PoolView| {
            p.swarm.clone().unwrap_or_else(|| "(none)".into())
        }),
        Column::new("Nodes", |p: &PoolView| {
            if p.nodes.is_empty() {
                "none (empty pool)".into()
            } else {
                p.nodes
                    .iter()
                    .map(|n| format!("{}:{}", n.address, n.port))
                    .collect_vec()
                    .join(" ")
            }
        })
        .class("mono"),
        Column::new("On its hosts", |p: &PoolView| {
            p.hosts
                .iter()
                .map(|h| {
                    let state = if h.applied == p.wanted {
                        "holds it"
                    } else {
                        "behind"
                    };
                    let why = h.message.lines().next().unwrap_or_default();
                    format!("{}: {state} ({why})", h.host)
                })
                .collect_vec()
                .join("; ")
        }),
        Column::new("State", |p: &PoolView| {
            if p.drift() { "drift" } else { "applied" }.to_string()
        })
        .cell(|p: &PoolView| {
            let state = if p.drift() { "drift" } else { "applied" };
            view! { <StatusBadge state=state.to_string() /> }
        }),
        Column::new("", |_: &PoolView| String::new())
            .cell(move |p: &PoolView| {
                let (balancer, pool) = (balancer.clone(), p.pool.clone());
                let apply = move |_| {
                    let (balancer, pool) = (balancer.clone(), pool.clone());
                    spawn_busy(busy, async move {
                        match api::balancer::reapply(&balancer, &pool).await {
                            Ok(b) => {
                                let drift = b.pools.iter().any(|p| p.pool == pool && p.drift());
                                if drift {
                                    toasts.error(format!(
                                        "Pool {pool} is still not on every host of {balancer}."
                                    ));
                                } else {
                                    toasts.success(format!("Pool {pool} applied on every host."));
                                }
                                list.reload();
                            }
                            Err(e) => toasts.error(format!("Re-applying {pool}: {e}")),
                        }
                    });
                };
                view! {
                    <Show when=move || session.can_deploy()>
                        <button type="button" class="btn btn-small" data-test="pool-reapply"
                            disabled=move || busy.get() on:click=crate::ev::click(apply.clone())>"Re-apply"</button>
                    </Show>
                }
            })
            .class("actions")
            .unsorted(),
    ]
}

/// Add a balancer, or edit the one `editing` holds.
#[component]
fn BalancerForm(
    editing: RwSignal<Option<Balancer>>,
    list: LiveData<Vec<Balancer>>,
) -> impl IntoView {
    let toasts = use_toasts();
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);
    let text = || RwSignal::new(String::new());
    let (name, kind, hosts, pool_dir, validate, reload, pid_file, drain) = (
        text(),
        text(),
        text(),
        text(),
        text(),
        text(),
        text(),
        text(),
    );
    let fill = move |s: &BalancerSpec| {
        name.set(s.name.clone());
        kind.set(s.kind.as_str().to_string());
        hosts.set(s.hosts.join(", "));
        pool_dir.set(s.pool_dir.clone());
        validate.set(s.validate_cmd.clone());
        reload.set(s.reload_cmd.clone());
        pid_file.set(s.pid_file.clone());
        drain.set(s.drain_ms.to_string());
    };
    fill(&BalancerSpec::default());
    crate::effects::effect(move || {
        if let Some(b) = editing.get() {
            fill(&b.spec);
        }
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let Ok(drain_ms) = drain.get_untracked().trim().parse::<u64>() else {
            errors.set_field("drain_ms", "must be a whole number of milliseconds");
            return;
        };
        let spec = BalancerSpec {
            name: name.get_untracked().trim().to_string(),
            kind: BalancerKind::parse(&kind.get_untracked()).unwrap_or_default(),
            hosts: hosts
                .get_untracked()
                .split([',', ' '])
                .filter(|h| !h.is_empty())
                .map(str::to_string)
                .collect_vec(),
            pool_dir: pool_dir.get_untracked().trim().to_string(),
            validate_cmd: validate.get_untracked().trim().to_string(),
            reload_cmd: reload.get_untracked().trim().to_string(),
            pid_file: pid_file.get_untracked().trim().to_string(),
            drain_ms,
        };
        if let Err(invalid) = spec.validate() {
            errors.set_invalid(&invalid);
            return;
        }
        let current = editing.get_untracked().map(|b| b.spec.name);
        spawn_submit(
            busy,
            errors,
            async move {
                match &current {
                    Some(old) => api::balancer::replace(old, &spec).await,
                    None => api::balancer::create(&spec).await,
                }
            },
            move |b| {
                toasts.success(format!("Balancer {} saved.", b.spec.name));
                editing.set(None);
                fill(&BalancerSpec::default());
                list.reload();
            },
        );
    };
    let kinds = BalancerKind::ALL
        .into_iter()
        .map(|k| view! { <option value=k.as_str()>{k.as_str()}</option> })
        .collect_any();
    view! {
        <div class="card" id="balancer-form-section">
            <h2>{move || match editing.get() {
                Some(b) => format!("Edit balancer {}", b.spec.name),
                None => "New balancer".to_string(),
            }}</h2>
            <form class="form" on:submit=crate::ev::submit(submit) novalidate=true>
                <FormError errors=errors />
                {FieldSpec::new("Name", "balancer-name", "name", name, errors).autocomplete("off").placeholder("e.g. edge").view()}
                <div class="field">
                    <label for="balancer-kind">"Kind"</label>
                    <select id="balancer-kind" prop:value=move || kind.get()
                        on:change=crate::ev::change(move |ev| kind.set(event_target_value(&ev)))>{kinds}</select>
                </div>
                {FieldSpec::new("Hosts", "balancer-hosts", "hosts", hosts, errors).autocomplete("off").hint("Hosts vr knows that run the balancer, separated by commas.").view()}
                {FieldSpec::new("Pool folder", "balancer-pool-dir", "pool_dir", pool_dir, errors).autocomplete("off").hint("Empty: the kind's (nginx: /etc/nginx/conf.d).").view()}
                {FieldSpec::new("Validate command", "balancer-validate", "validate_cmd", validate, errors).autocomplete("off").hint("Empty: the kind's (nginx -t).").view()}
                {FieldSpec::new("Reload command", "balancer-reload", "reload_cmd", reload, errors).autocomplete("off").hint("Empty: the kind's (nginx -s reload).").view()}
                {FieldSpec::new("Pid file", "balancer-pid-file", "pid_file", pid_file, errors).autocomplete("off").hint("After a reload vr waits for the workers the master had to finish. Empty: the kind's (nginx: /run/nginx.pid).").view()}
                {FieldSpec::new("Drain (ms)", "balancer-drain", "drain_ms", drain, errors).numeric().hint("How long a proc out of its pool runs on before it stops.").view()}
                <div class="actions-row">
                    <button type="submit" class="btn btn-primary" id="balancer-save" disabled=move || busy.get()>"Save balancer"</button>
                    <Show when=move || editing.with(Option::is_some)>
                        <button type="button" class="btn" on:click=crate::ev::click(move |_| {
                            editing.set(None);
                            fill(&BalancerSpec::default());
                        })>"Cancel"</button>
                    </Show>
                </div>
            </form>
        </div>
    }
}
