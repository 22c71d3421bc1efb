//! Which procs a filter shows, and how they are grouped: app → swarm (config and proc type)
//! → procs, with unmanaged procs in one group at the end. Pure, so every page (and any later
//! client) groups alike.

use std::collections::BTreeMap;

use crate::fleet::{Fleet, Proc};
use crate::supervisor::ProcState;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{self, proc};
    use crate::fleet::{Health, Host};

    fn host(name: &str, squad: Option<&str>) -> Host {
        let mut h = fixtures::host(name, squad);
        h.status.health = Health::Ok;
        h
    }

    fn sample() -> Fleet {
        Fleet {
            hosts: vec![host("b1", Some("web")), host("a1", None)],
            procs: vec![
                proc(
                    "b1",
                    "shop-web-2",
                    Some(("shop", "prod", "web")),
                    ProcState::Running,
                ),
                proc(
                    "a1",
                    "shop-web-1",
                    Some(("shop", "prod", "web")),
                    ProcState::Fatal,
                ),
                proc(
                    "a1",
                    "shop-worker",
                    Some(("shop", "prod", "worker")),
                    ProcState::Running,
                ),
                proc(
                    "a1",
                    "blog-web",
                    Some(("blog", "dev", "web")),
                    ProcState::Missing,
                ),
                proc("b1", "cron", None, ProcState::Running),
            ],
            squads: vec![],
        }
    }

    #[test]
    fn groups_apps_then_swarms_with_unmanaged_last() {
        let f = sample();
        let groups = group(&f.procs);
        type Shape<'a> = Vec<(Option<&'a str>, Vec<(&'a str, Vec<&'a str>)>)>;
        let shape: Shape<'_> = groups
            .iter()
            .map(|g| {
                (
                    g.app.as_deref(),
                    g.swarms
                        .iter()
                        .map(|s| {
                            (
                                s.key.as_str(),
                                s.procs.iter().map(|p| p.name.as_str()).collect(),
                            )
                        })
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                (Some("blog"), vec![("dev-web", vec!["blog-web"])]),
                (
                    Some("shop"),
                    vec![
                        ("prod-web", vec!["shop-web-1", "shop-web-2"]),
                        ("prod-worker", vec!["shop-worker"])
                    ]
                ),
                (None, vec![("", vec!["cron"])]),
            ]
        );
        assert_eq!(groups[1].swarms[0].label, "prod · web");
    }

    #[test]
    fn the_filter_matches_names_hosts_squads_states_apps_and_configs() {
        let f = sample();
        let names = |text: &str, state: Option<ProcState>| -> Vec<String> {
            let q = ProcQuery {
                text: text.into(),
                state,
            };
            select(&f, &f.procs, &q)
                .into_iter()
                .map(|p| p.name)
                .collect()
        };
        assert_eq!(names("", None).len(), 5);
        // "web" is in three names and is b1's squad, which also holds `cron`.
        assert_eq!(
            names("WEB", Some(ProcState::Running)),
            ["shop-web-2", "cron"]
        );
        assert_eq!(names("web", None).len(), 4);
        assert_eq!(names("  b1 ", None), ["shop-web-2", "cron"]); // host
        assert_eq!(names("missing", None), ["blog-web"]); // state
        assert_eq!(names("dev", None), ["blog-web"]); // config
        assert_eq!(names("blog", None), ["blog-web"]); // app
        assert!(names("nothing", None).is_empty());
    }
}
