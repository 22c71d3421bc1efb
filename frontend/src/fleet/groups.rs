//! Which procs a filter shows, and how they are grouped: app → swarm (config and proc type)
//! → procs, with unmanaged procs in one group at the end. Pure, so every page groups alike.

use std::collections::BTreeMap;

use vr_app::fleet::{Fleet, Proc};
use vr_app::supervisor::ProcState;

/// What the filter box and the state menu ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcQuery {
    /// Case-insensitive substring of name, host, squad, state, app or config.
    pub text: String,
    pub state: Option<ProcState>,
}

impl ProcQuery {
    /// True when `p` (on a host in `squad`) passes the query.
    pub fn matches(&self, p: &Proc, squad: Option<&str>) -> bool {
        if self.state.is_some_and(|s| s != p.state) {
            return false;
        }
        let needle = self.text.trim().to_lowercase();
        if needle.is_empty() {
            return true;
        }
        let has = |s: &str| s.to_lowercase().contains(&needle);
        has(&p.name)
            || has(&p.host)
            || squad.is_some_and(has)
            || has(p.state.as_str())
            || p.meta
                .as_ref()
                .is_some_and(|m| has(&m.app) || has(&m.config))
    }
}

/// The procs of `fleet` that `scope` keeps and `query` matches.
pub fn select(fleet: &Fleet, scope: &[Proc], query: &ProcQuery) -> Vec<Proc> {
    scope
        .iter()
        .filter(|p| {
            let squad = fleet
                .hosts
                .iter()
                .find(|h| h.settings.name == p.host)
                .and_then(|h| h.settings.squad.as_deref());
            query.matches(p, squad)
        })
        .cloned()
        .collect()
}

/// One swarm: the procs of one app sharing config and proc type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmGroup {
    /// `config-proc_type`.
    pub key: String,
    /// `config · proc_type`.
    pub label: String,
    pub procs: Vec<Proc>,
}

/// One app and its swarms; `app` is `None` for the unmanaged group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppGroup {
    pub app: Option<String>,
    pub swarms: Vec<SwarmGroup>,
}

/// Groups `procs` by app (sorted), then swarm (sorted); procs by host, then name. Unmanaged
/// procs come last, as one swarm-less group.
pub fn group(procs: &[Proc]) -> Vec<AppGroup> {
    let mut apps: BTreeMap<String, BTreeMap<String, SwarmGroup>> = BTreeMap::new();
    let mut unmanaged = Vec::new();
    for p in procs {
        match &p.meta {
            Some(m) => {
                let key = format!("{}-{}", m.config, m.proc_type);
                apps.entry(m.app.clone())
                    .or_default()
                    .entry(key.clone())
                    .or_insert_with(|| SwarmGroup {
                        key,
                        label: format!("{} · {}", m.config, m.proc_type),
                        procs: Vec::new(),
                    })
                    .procs
                    .push(p.clone());
            }
            None => unmanaged.push(p.clone()),
        }
    }
    let by_place = |a: &Proc, b: &Proc| a.host.cmp(&b.host).then_with(|| a.name.cmp(&b.name));
    let mut groups: Vec<AppGroup> = apps
        .into_iter()
        .map(|(app, swarms)| AppGroup {
            app: Some(app),
            swarms: swarms
                .into_values()
                .map(|mut s| {
                    s.procs.sort_by(by_place);
                    s
                })
                .collect(),
        })
        .collect();
    if !unmanaged.is_empty() {
        unmanaged.sort_by(by_place);
        groups.push(AppGroup {
            app: None,
            swarms: vec![SwarmGroup {
                key: String::new(),
                label: String::new(),
                procs: unmanaged,
            }],
        });
    }
    groups
}
