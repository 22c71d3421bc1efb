//! `ProcFacts`: what is known about one proc — Supervisor's view (as of its host's last good
//! poll), then what vr deployed (managed procs only).

use leptos::prelude::*;
use vr_app::fleet::{Proc, ProcMeta};
use vr_app::fleet_view::{Shown, description, uptime_text};
use vr_app::time::{format_age, format_utc};

use crate::clock::use_clock;

fn or_dash(s: &str) -> String {
    if s.is_empty() {
        "—".to_string()
    } else {
        s.to_string()
    }
}

#[component]
pub fn ProcFacts(proc: Proc, #[prop(into)] shown: Signal<Shown>) -> impl IntoView {
    let clock = use_clock();
    let timing = proc.clone();
    let state_line = move || {
        let s = shown.get();
        format!("{}, {}", s.label(), uptime_text(&timing, s, clock.now()))
    };
    let state_since = proc.state_since;
    let when = move |at: i64| format!("{} ({})", format_utc(at), format_age(clock.now(), at));
    let last_seen = move || match shown.get() {
        Shown::Live(_) => "at the last poll (its host answers)".to_string(),
        Shown::Stale { seen_at, .. } => when(seen_at),
    };
    view! {
        <dl class="facts" data-test="proc-facts">
            <dt>"Name"</dt>
            <dd class="mono">{proc.name.clone()}</dd>
            <dt>"Host"</dt>
            <dd>{proc.host.clone()}</dd>
            <dt>"State"</dt>
            <dd>{state_line}</dd>
            <dt>"Description"</dt>
            <dd>{or_dash(description(&proc))}</dd>
            <dt>"PID"</dt>
            <dd class="mono">{proc.pid.map_or_else(|| "—".to_string(), |p| p.to_string())}</dd>
            <dt>"Started"</dt>
            <dd>{proc.started_at.map_or_else(|| "—".to_string(), format_utc)}</dd>
            <dt>"In state since"</dt>
            <dd>{move || when(state_since)}</dd>
            <dt>"Last seen"</dt>
            <dd>{last_seen}</dd>
            <dt>"Expected"</dt>
            <dd>{if proc.expected { "yes: vr expects it on this host" } else { "no" }}</dd>
            <dt>"Managed"</dt>
            <dd>{if proc.managed() { "yes" } else { "no: not deployed by vr" }}</dd>
            {proc.meta.clone().map(|m| view! { <MetaFacts meta=m /> })}
        </dl>
    }
}

#[component]
fn MetaFacts(meta: ProcMeta) -> impl IntoView {
    let m = meta;
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
            {or_dash(&m.deployed_by)}
            {(m.deployed_at > 0).then(|| format!(", {}", format_utc(m.deployed_at)))}
        </dd>
    }
}
