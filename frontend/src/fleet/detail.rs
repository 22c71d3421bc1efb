//! `ProcDetailPanel` (`#proc-detail`): everything known about the selected proc, its state
//! history, its log, and start / stop / restart / destroy buttons.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use vr_app::fleet::{Health, Proc, ProcAction, ProcRef, StateChange};
use vr_app::time::{format_age, format_utc};

use crate::api;
use crate::clock::use_clock;
use crate::components::ConfirmDialog;
use crate::deploys::UptestResults;
use crate::fleet::actions::{ActionOutcome, ActionRun, action_title};
use crate::fleet::health::StateBadge;
use crate::fleet::log::ProcLog;
use crate::fleet::store::use_fleet;
use crate::fleet::table::{stale_text, uptime_text};
use crate::session::use_session;

/// The panel of the proc in `selected`, if any; closing clears it.
#[component]
pub fn ProcDetailPanel(selected: RwSignal<Option<ProcRef>>) -> impl IntoView {
    // Only a different proc rebuilds the panel (and restarts its log).
    let current = Memo::new(move |_| selected.get());
    move || {
        current.get().map(|r| {
            view! { <ProcPanel target=r on_close=move |()| selected.set(None) /> }
        })
    }
}

#[component]
fn ProcPanel(target: ProcRef, #[prop(into)] on_close: Callback<()>) -> impl IntoView {
    let store = use_fleet();
    let clock = use_clock();
    let session = use_session();
    let ProcRef { host, name } = target.clone();

    let proc = {
        let (host, name) = (host.clone(), name.clone());
        Memo::new(move |_| store.proc(&host, &name))
    };
    let health = {
        let host = host.clone();
        Memo::new(move |_| {
            store
                .host(&host)
                .map_or(Health::Unknown, |h| h.status.health)
        })
    };

    // The history is fetched again whenever the proc enters a new state.
    let history = RwSignal::new(Vec::<StateChange>::new());
    let history_error = RwSignal::new(None::<String>);
    let state_key = Memo::new(move |_| proc.with(|p| p.as_ref().map(|p| (p.state, p.state_since))));
    {
        let (host, name) = (host.clone(), name.clone());
        Effect::watch(
            move || state_key.get(),
            move |_, _, _| {
                let (host, name) = (host.clone(), name.clone());
                spawn_local(async move {
                    match api::fleet::proc_detail(&host, &name).await {
                        Ok(detail) => {
                            let _ = history.try_set(detail.history);
                            let _ = history_error.try_set(None);
                        }
                        Err(e) => {
                            let _ = history_error.try_set(Some(e.message));
                        }
                    }
                });
            },
            true,
        );
    }

    let run = ActionRun::new();
    let pending = RwSignal::new(None::<ProcAction>);
    let confirm = {
        let target = target.clone();
        move |()| {
            if let Some(action) = pending.get_untracked() {
                pending.set(None);
                run.start(action, vec![target.clone()]);
            }
        }
    };
    let busy = run.busy();
    let pending_action = Memo::new(move |_| pending.get());
    let managed = move || proc.with(|p| p.as_ref().is_some_and(Proc::managed));
    let action_button = move |action: ProcAction, id: &'static str| {
        let destroy = action == ProcAction::Destroy;
        view! {
            <button
                type="button"
                id=id
                class=if destroy { "btn btn-small btn-danger-outline" } else { "btn btn-small" }
                disabled=move || busy.get() || proc.with(Option::is_none) || (destroy && !managed())
                title=move || {
                    (destroy && !managed()).then_some("Only procs deployed by vr can be destroyed.")
                }
                on:click=move |_| pending.set(Some(action))
            >
                {action_title(action)}
            </button>
        }
    };

    let title_name = name.clone();
    let host_link = crate::links::host_href(&host);
    let host_label = host.clone();
    let confirm_title = {
        let name = name.clone();
        Signal::derive(move || {
            pending
                .get()
                .map(|a| format!("{} {}?", action_title(a), name))
                .unwrap_or_default()
        })
    };
    let confirm_message = {
        let (host, name) = (host.clone(), name.clone());
        Signal::derive(move || match pending.get() {
            Some(ProcAction::Destroy) => format!(
                "Destroy {name} on {host}: stop it, remove it from Supervisor and delete its \
                 config and folder. This cannot be undone."
            ),
            Some(action) => format!("{} {name} on {host}?", action_title(action)),
            None => String::new(),
        })
    };

    view! {
        <aside
            class="card detail proc-detail"
            id="proc-detail"
            data-host=host.clone()
            data-name=name.clone()
        >
            <div class="card-head">
                <h2 class="mono">{title_name}</h2>
                <button
                    type="button"
                    class="btn btn-small"
                    id="proc-detail-close"
                    aria-label="Close detail"
                    on:click=move |_| on_close.run(())
                >
                    "Close"
                </button>
            </div>
            <p>
                "on " <A href=host_link>{host_label}</A>
            </p>
            {move || {
                proc.get()
                    .map(|p| {
                        view! {
                            <div class="proc-state-line">
                                <StateBadge state=p.state />
                                <span class="muted">{p.description.clone()}</span>
                            </div>
                        }
                    })
            }}
            {move || {
                let last_seen = proc.with(|p| p.as_ref().map(|p| p.last_seen_at))?;
                stale_text(health.get(), last_seen, clock.now())
                    .map(|t| view! { <p class="stale" data-test="stale">{t}</p> })
            }}
            <Show when=move || session.can_deploy()>
                <div class="button-row proc-actions">
                    {action_button(ProcAction::Start, "proc-start")}
                    {action_button(ProcAction::Stop, "proc-stop")}
                    {action_button(ProcAction::Restart, "proc-restart")}
                    {action_button(ProcAction::Destroy, "proc-destroy")}
                </div>
                <ActionOutcome run=run />
            </Show>
            {move || match proc.get() {
                Some(p) => view! { <ProcFacts proc=p /> }.into_any(),
                None => {
                    view! {
                        <p class="notice" data-test="proc-gone">
                            "This proc is no longer on its host."
                        </p>
                    }
                        .into_any()
                }
            }}
            <h3>"State history"</h3>
            {move || history_error.get().map(|e| view! { <p class="field-error">{e}</p> })}
            <ul class="state-history" data-test="proc-history">
                {move || {
                    let list = history.get();
                    if list.is_empty() {
                        return view! { <li class="muted">"No changes recorded."</li> }.into_any();
                    }
                    list.into_iter()
                        .map(|c| {
                            view! {
                                <li data-state=c.state.as_str()>
                                    <span class="nowrap muted" title=format_utc(c.at)>
                                        {move || format_age(clock.now(), c.at)}
                                    </span>
                                    " "
                                    <StateBadge state=c.state />
                                    " "
                                    <span class="muted">{c.description.clone()}</span>
                                </li>
                            }
                        })
                        .collect_view()
                        .into_any()
                }}
            </ul>
            <h3>"Uptests"</h3>
            <UptestResults host=host.clone() program=name.clone() />
            <h3>"Log"</h3>
            <ProcLog host=host.clone() name=name.clone() />
        </aside>
        // Rebuilt per action, so the button says what it does and only start is not red.
        {move || {
            pending_action
                .get()
                .map(|action| {
                    view! {
                        <ConfirmDialog
                            open=true
                            title=confirm_title
                            message=confirm_message
                            confirm_label=action_title(action)
                            danger=action != ProcAction::Start
                            busy=busy
                            on_confirm=confirm.clone()
                            on_cancel=move |()| pending.set(None)
                        />
                    }
                })
        }}
    }
}

/// The facts of one proc: Supervisor's view, then what vr deployed (managed procs only).
#[component]
fn ProcFacts(proc: Proc) -> impl IntoView {
    let clock = use_clock();
    let timing = proc.clone();
    let uptime = move || uptime_text(&timing, clock.now());
    let state_since = proc.state_since;
    let last_seen = proc.last_seen_at;
    let when = move |at: i64| format!("{} ({})", format_utc(at), format_age(clock.now(), at));
    let meta = proc.meta.clone().map(|m| {
        view! {
            <dt>"App"</dt>
            <dd>{m.app}</dd>
            <dt>"Version"</dt>
            <dd class="mono">{m.version}</dd>
            <dt>"Config"</dt>
            <dd>{m.config}</dd>
            <dt>"Proc type"</dt>
            <dd>{m.proc_type}</dd>
            <dt>"Port"</dt>
            <dd class="mono">{m.port}</dd>
            <dt>"Release"</dt>
            <dd class="mono">
                {m.release_id.map(|id| format!("#{id} ")).unwrap_or_default()} {m.release_hash}
            </dd>
            <dt>"Swarm"</dt>
            <dd>{m.swarm_id.map_or_else(|| "—".to_string(), |id| format!("#{id}"))}</dd>
            <dt>"Deployed"</dt>
            <dd>
                {if m.deployed_by.is_empty() { "—".to_string() } else { m.deployed_by }}
                {(m.deployed_at > 0).then(|| format!(", {}", format_utc(m.deployed_at)))}
            </dd>
        }
    });
    view! {
        <dl class="facts" data-test="proc-facts">
            <dt>"Name"</dt>
            <dd class="mono">{proc.name.clone()}</dd>
            <dt>"Host"</dt>
            <dd>{proc.host.clone()}</dd>
            <dt>"State"</dt>
            <dd>{proc.state.as_str()} ", " {uptime}</dd>
            <dt>"Description"</dt>
            <dd>{if proc.description.is_empty() { "—".to_string() } else { proc.description.clone() }}</dd>
            <dt>"PID"</dt>
            <dd class="mono">{proc.pid.map_or_else(|| "—".to_string(), |p| p.to_string())}</dd>
            <dt>"Started"</dt>
            <dd>{proc.started_at.map_or_else(|| "—".to_string(), format_utc)}</dd>
            <dt>"In state since"</dt>
            <dd>{move || when(state_since)}</dd>
            <dt>"Last seen"</dt>
            <dd>{move || when(last_seen)}</dd>
            <dt>"Expected"</dt>
            <dd>{if proc.expected { "yes: vr expects it on this host" } else { "no" }}</dd>
            <dt>"Managed"</dt>
            <dd>{if proc.managed() { "yes" } else { "no: not deployed by vr" }}</dd>
            {meta}
        </dl>
    }
}
