//! `ProcFacts`: what is known about one proc — Supervisor's view (as of its host's last good
//! poll), then what vr deployed (managed procs only).

use leptos::prelude::*;
use vr_app::fleet::{Proc, ProcMeta};
use vr_app::fleet_view::{Shown, description, uptime_text};
use vr_app::time::{format_age, format_utc};

use crate::clock::use_clock;
use crate::components::{Fact, Facts};

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
    let mut facts = vec![
        Fact::mono("Name", proc.name.clone()),
        Fact::text("Host", proc.host.clone()),
        Fact::view("State", state_line),
        Fact::text("Description", or_dash(description(&proc))),
        Fact::mono(
            "PID",
            proc.pid.map_or_else(|| "—".to_string(), |p| p.to_string()),
        ),
        Fact::text(
            "Started",
            proc.started_at.map_or_else(|| "—".to_string(), format_utc),
        ),
        Fact::view("In state since", move || when(state_since)),
        Fact::view("Last seen", last_seen),
        Fact::text(
            "Expected",
            if proc.expected {
                "yes: vr expects it on this host"
            } else {
                "no"
            },
        ),
        Fact::text(
            "Managed",
            if proc.managed() {
                "yes"
            } else {
                "no: not deployed by vr"
            },
        ),
    ];
    if let Some(m) = proc.meta.clone() {
        facts.extend(meta_facts(m));
    }
    view! { <Facts facts=facts test="proc-facts" /> }
}

/// What vr deployed.
fn meta_facts(m: ProcMeta) -> Vec<Fact> {
    vec![
        Fact::text("App", m.app),
        Fact::mono("Version", m.version),
        Fact::text("Config", m.config),
        Fact::text("Proc type", m.proc_type),
        Fact::mono("Port", m.port.to_string()),
        Fact::mono(
            "Release",
            format!(
                "{}{}",
                m.release_id.map(|id| format!("#{id} ")).unwrap_or_default(),
                m.release_hash
            ),
        ),
        Fact::text(
            "Swarm",
            m.swarm_id
                .map_or_else(|| "—".to_string(), |id| format!("#{id}")),
        ),
        Fact::text(
            "Deployed",
            format!(
                "{}{}",
                or_dash(&m.deployed_by),
                if m.deployed_at > 0 {
                    format!(", {}", format_utc(m.deployed_at))
                } else {
                    String::new()
                }
            ),
        ),
    ]
}
