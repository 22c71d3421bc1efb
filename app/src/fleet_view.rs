//! What the UI may say about procs, and which it shows: a proc is only as current as its
//! host's last poll (a proc on a host that does not answer is *stale*: its last known state,
//! when it was last seen, its clock stopped, counted apart); which procs a filter shows; and
//! how they are grouped: app → swarm (config and proc type) → procs, with unmanaged procs in
//! one group at the end. Pure, so every page (and any later client) shows them alike.

use std::collections::BTreeMap;

use crate::fleet::{Fleet, Health, Host, Proc};
use crate::supervisor::{ProcState, lasting_description};
use crate::time::{format_age, span};

/// The label of a stale proc, where a fresh one shows its Supervisor state.
pub const STALE: &str = "STALE";

/// What may be claimed about a proc's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// Its host answered the last poll: the state is current.
    Live(ProcState),
    /// Its host did not (unreachable, Supervisor down, key changed, inactive, not polled yet):
    /// `last` is what it was when last seen at `seen_at`.
    Stale {
        last: ProcState,
        seen_at: i64,
        health: Health,
    },
}

impl Shown {
    /// `RUNNING`, …, or [`STALE`].
    pub fn label(self) -> &'static str {
        match self {
            Shown::Live(s) => s.as_str(),
            Shown::Stale { .. } => STALE,
        }
    }

    /// The state last read, current or not.
    pub fn last_state(self) -> ProcState {
        match self {
            Shown::Live(s) | Shown::Stale { last: s, .. } => s,
        }
    }

    pub fn is_stale(self) -> bool {
        matches!(self, Shown::Stale { .. })
    }

    /// The clock that proc times are read against: now, or the moment it was last seen.
    pub fn clock(self, now: i64) -> i64 {
        match self {
            Shown::Live(_) => now,
            Shown::Stale { seen_at, .. } => now.min(seen_at),
        }
    }

    /// `host unreachable — last seen 2m ago (RUNNING)` for a stale proc.
    pub fn stale_text(self, now: i64) -> Option<String> {
        let Shown::Stale {
            last,
            seen_at,
            health,
        } = self
        else {
            return None;
        };
        let why = match health {
            Health::Inactive => "host inactive",
            Health::KeyChanged => "host key changed",
            Health::SupervisorDown => "Supervisor not answering",
            Health::Unknown => "host not polled yet",
            Health::Ok | Health::Unreachable => "host unreachable",
        };
        Some(format!(
            "{why} — last seen {} as {last}",
            format_age(now, seen_at)
        ))
    }
}

/// The host `p` runs on.
pub fn host_of<'a>(fleet: &'a Fleet, p: &Proc) -> Option<&'a Host> {
    fleet.hosts.iter().find(|h| h.settings.name == p.host)
}

/// What may be claimed about `p`, on `host` as last polled.
pub fn shown(p: &Proc, host: Option<&Host>) -> Shown {
    let health = host.map_or(Health::Unknown, |h| h.status.health);
    if health == Health::Ok {
        return Shown::Live(p.state);
    }
    // A proc unchanged since its last record was still seen at every good poll after it.
    let last_ok = host.and_then(|h| h.status.last_ok_at);
    let seen_at = match last_ok {
        Some(ok) if p.state != ProcState::Missing => p.last_seen_at.max(ok),
        _ => p.last_seen_at,
    };
    Shown::Stale {
        last: p.state,
        seen_at,
        health,
    }
}

/// How long the proc has run, or been in its state: `up 3m 5s`, `for 2h 1m`. A stale proc's
/// clock stops when it was last seen.
pub fn uptime_text(p: &Proc, shown: Shown, now: i64) -> String {
    let at = shown.clock(now);
    match (p.state, p.started_at) {
        (ProcState::Running, Some(started)) => format!("up {}", span(at - started)),
        _ => format!("for {}", span(at - p.state_since)),
    }
}

/// The description that stays true (see [`lasting_description`]).
pub fn description(p: &Proc) -> &str {
    lasting_description(&p.description)
}

/// What the dashboard says of a proc the kernel killed for going past its memory limit.
pub fn memory_note(p: &Proc) -> Option<String> {
    match p.oom_kills {
        0 => None,
        1 => Some("killed for memory".to_string()),
        n => Some(format!("killed for memory ×{n}")),
    }
}

/// Procs per current state (trouble first) and, apart, how many are stale.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateCounts {
    pub live: Vec<(ProcState, usize)>,
    pub stale: usize,
}

/// Counts `procs` of `fleet`: stale ones are not counted in any state.
pub fn count_shown(fleet: &Fleet, procs: &[Proc]) -> StateCounts {
    let mut counts = StateCounts::default();
    for p in procs {
        match shown(p, host_of(fleet, p)) {
            Shown::Stale { .. } => counts.stale += 1,
            Shown::Live(s) => match counts.live.iter_mut().find(|(c, _)| *c == s) {
                Some((_, n)) => *n += 1,
                None => counts.live.push((s, 1)),
            },
        }
    }
    crate::order::sort_by_key(&mut counts.live, |(s, _)| s.rank());
    counts
}

/// Where a release runs on one host, as far as the UI may tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub host: String,
    /// Its procs there.
    pub procs: usize,
    /// Of those, known to be RUNNING now.
    pub running: usize,
    /// Of those, on a host that does not answer.
    pub stale: usize,
}

/// Every host that has procs of release `release_id`, by host name.
pub fn placements(fleet: &Fleet, release_id: i64) -> Vec<Placement> {
    let mut by_host: BTreeMap<&str, Placement> = BTreeMap::new();
    for p in &fleet.procs {
        if p.meta.as_ref().and_then(|m| m.release_id) != Some(release_id) {
            continue;
        }
        let entry = by_host.entry(p.host.as_str()).or_insert_with(|| Placement {
            host: p.host.clone(),
            procs: 0,
            running: 0,
            stale: 0,
        });
        entry.procs += 1;
        match shown(p, host_of(fleet, p)) {
            Shown::Live(ProcState::Running) => entry.running += 1,
            Shown::Stale { .. } => entry.stale += 1,
            Shown::Live(_) => {}
        }
    }
    by_host.into_values().collect()
}

/// `2 running`, `1 of 2 running`, `1 stale` — one host's line.
pub fn placement_text(p: &Placement) -> String {
    let mut parts = Vec::new();
    if p.running == p.procs {
        parts.push(format!("{} running", p.running));
    } else {
        parts.push(format!("{} of {} running", p.running, p.procs));
    }
    if p.stale > 0 {
        parts.push(format!("{} stale", p.stale));
    }
    parts.join(", ")
}

/// What the state menu and the count badges narrow to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateFilter {
    /// Fresh procs in this state.
    Is(ProcState),
    /// Procs whose host did not answer.
    Stale,
}

impl StateFilter {
    /// `RUNNING`, …, `MISSING` or `STALE`, as the URL and the menu carry it.
    pub fn as_str(self) -> &'static str {
        match self {
            StateFilter::Is(s) => s.as_str(),
            StateFilter::Stale => STALE,
        }
    }

    /// Case-insensitive; `None` for an unknown word.
    pub fn parse(word: &str) -> Option<StateFilter> {
        if word.eq_ignore_ascii_case(STALE) {
            return Some(StateFilter::Stale);
        }
        ProcState::parse_any(word).map(StateFilter::Is)
    }

    fn admits(self, shown: Shown) -> bool {
        match (self, shown) {
            (StateFilter::Is(want), Shown::Live(s)) => want == s,
            (StateFilter::Stale, Shown::Stale { .. }) => true,
            _ => false,
        }
    }
}

/// What the filter box and the state menu ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcQuery {
    /// Case-insensitive substring of name, host, squad, shown state, app or config.
    pub text: String,
    pub state: Option<StateFilter>,
}

impl ProcQuery {
    /// True when `p` (on a host in `squad`, shown as `shown`) passes the query.
    pub fn matches(&self, p: &Proc, squad: Option<&str>, shown: Shown) -> bool {
        if self.state.is_some_and(|f| !f.admits(shown)) {
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
            || has(shown.label())
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
            let host = host_of(fleet, p);
            let squad = host.and_then(|h| h.settings.squad.as_deref());
            query.matches(p, squad, shown(p, host))
        })
        .cloned()
        .collect()
}

/// One swarm: the procs whose `proc.json` names the same swarm; procs deployed one by one
/// (no swarm) group by config and proc type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmGroup {
    /// `swarm-ID`, or `config-proc_type` for procs of no swarm.
    pub key: String,
    /// `config · proc_type`, with ` · swarm #ID` for a swarm's.
    pub label: String,
    pub swarm_id: Option<i64>,
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
                let (key, label) = match m.swarm_id {
                    Some(id) => (
                        format!("swarm-{id}"),
                        format!("{} · {} · swarm #{id}", m.config, m.proc_type),
                    ),
                    None => (
                        format!("{}-{}", m.config, m.proc_type),
                        format!("{} · {}", m.config, m.proc_type),
                    ),
                };
                apps.entry(m.app.clone())
                    .or_default()
                    .entry(key.clone())
                    .or_insert_with(|| SwarmGroup {
                        key,
                        label,
                        swarm_id: m.swarm_id,
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
                    crate::order::sort_by(&mut s.procs, by_place);
                    s
                })
                .collect(),
        })
        .collect();
    if !unmanaged.is_empty() {
        crate::order::sort_by(&mut unmanaged, by_place);
        groups.push(AppGroup {
            app: None,
            swarms: vec![SwarmGroup {
                key: String::new(),
                label: String::new(),
                swarm_id: None,
                procs: unmanaged,
            }],
        });
    }
    groups
}

/// A host of a squad that does not answer (or was marked inactive), and what it held when
/// last seen: its procs no longer count for their swarms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostHost {
    pub host: Host,
    /// Per swarm (or manual group): `app · config · proc type`, the swarm, how many procs.
    pub groups: Vec<(String, Option<i64>, usize)>,
    pub procs: usize,
}

/// The hosts of `squad` that lost their procs for now, by name.
pub fn lost(fleet: &Fleet, squad: &str) -> Vec<LostHost> {
    fleet
        .hosts
        .iter()
        .filter(|h| {
            h.settings.squad.as_deref() == Some(squad)
                && !matches!(h.status.health, Health::Ok | Health::Unknown)
        })
        .map(|h| {
            let procs: Vec<Proc> = fleet
                .procs
                .iter()
                .filter(|p| p.host == h.settings.name)
                .cloned()
                .collect();
            let groups = group(&procs)
                .into_iter()
                .flat_map(|g| {
                    let app = g.app;
                    g.swarms.into_iter().map(move |s| {
                        let label = match &app {
                            Some(a) => format!("{a} · {}", s.label),
                            None => "unmanaged".to_string(),
                        };
                        (label, s.swarm_id, s.procs.len())
                    })
                })
                .collect();
            LostHost {
                host: h.clone(),
                groups,
                procs: procs.len(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{self, proc};
    use crate::fleet::{Health, Host};

    #[test]
    fn a_proc_killed_for_memory_says_so_and_how_often() {
        let mut p = proc(
            "h",
            "hog",
            Some(("a", "c", "t")),
            crate::supervisor::ProcState::Fatal,
        );
        assert_eq!(memory_note(&p), None);
        p.oom_kills = 1;
        assert_eq!(memory_note(&p).as_deref(), Some("killed for memory"));
        p.oom_kills = 4;
        assert_eq!(memory_note(&p).as_deref(), Some("killed for memory ×4"));
    }

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
    fn procs_group_by_the_swarm_their_proc_json_names() {
        let with = |host: &str, name: &str, swarm: Option<i64>| {
            let mut p = fixtures::proc(
                host,
                name,
                Some(("shop", "prod", "web")),
                ProcState::Running,
            );
            if let Some(m) = p.meta.as_mut() {
                m.swarm_id = swarm;
            }
            p
        };
        // Two swarms of the same app, config and proc type (on two squads), and a proc
        // deployed by hand: three groups, not one.
        let procs = [
            with("a", "p1", Some(3)),
            with("b", "p2", Some(4)),
            with("a", "p3", Some(3)),
            with("c", "p4", None),
        ];
        let groups = group(&procs);
        let swarms: Vec<(&str, Option<i64>, usize)> = groups[0]
            .swarms
            .iter()
            .map(|s| (s.label.as_str(), s.swarm_id, s.procs.len()))
            .collect();
        assert_eq!(
            swarms,
            [
                ("prod · web", None, 1),
                ("prod · web · swarm #3", Some(3), 2),
                ("prod · web · swarm #4", Some(4), 1),
            ]
        );
    }

    #[test]
    fn the_filter_matches_names_hosts_squads_states_apps_and_configs() {
        let f = sample();
        let names = |text: &str, state: Option<ProcState>| -> Vec<String> {
            let q = ProcQuery {
                text: text.into(),
                state: state.map(StateFilter::Is),
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

    #[test]
    fn procs_on_a_host_that_does_not_answer_are_stale_with_stopped_clocks() {
        let mut f = sample();
        f.hosts[0].status.health = Health::Unreachable; // b1
        f.hosts[0].status.last_ok_at = Some(50_000);
        f.procs[0].started_at = Some(10_000);
        f.procs[0].last_seen_at = 20_000;
        let p = &f.procs[0];
        let look = shown(p, host_of(&f, p));
        assert_eq!(
            look,
            Shown::Stale {
                last: ProcState::Running,
                seen_at: 50_000,
                health: Health::Unreachable
            }
        );
        assert_eq!(look.label(), "STALE");
        // The clock stops at the last good poll: the same uptime an hour later.
        assert_eq!(uptime_text(p, look, 60_000), "up 40s");
        assert_eq!(uptime_text(p, look, 3_660_000), "up 40s");
        assert_eq!(
            look.stale_text(110_000).as_deref(),
            Some("host unreachable — last seen 1m ago as RUNNING")
        );
        // A fresh proc's clock runs.
        let q = &f.procs[2];
        let fresh = shown(q, host_of(&f, q));
        assert_eq!(fresh, Shown::Live(ProcState::Running));
        assert_eq!(fresh.stale_text(0), None);

        // Counted apart: b1's RUNNING shop-web-2 and cron are not RUNNING any more.
        let counts = count_shown(&f, &f.procs);
        assert_eq!(counts.stale, 2);
        assert_eq!(
            counts.live,
            vec![
                (ProcState::Missing, 1),
                (ProcState::Fatal, 1),
                (ProcState::Running, 1)
            ]
        );
        // The state menu: RUNNING shows only what is known to run; STALE the rest.
        let names = |filter: StateFilter| -> Vec<String> {
            let q = ProcQuery {
                text: String::new(),
                state: Some(filter),
            };
            select(&f, &f.procs, &q)
                .into_iter()
                .map(|p| p.name)
                .collect()
        };
        assert_eq!(names(StateFilter::Is(ProcState::Running)), ["shop-worker"]);
        assert_eq!(names(StateFilter::Stale), ["shop-web-2", "cron"]);
        assert_eq!(StateFilter::parse("stale"), Some(StateFilter::Stale));
        assert_eq!(
            StateFilter::parse("missing"),
            Some(StateFilter::Is(ProcState::Missing))
        );
        assert_eq!(StateFilter::parse("nope"), None);
    }

    #[test]
    fn a_missing_proc_keeps_the_time_it_went_missing_and_unknown_hosts_are_stale() {
        let mut f = sample();
        f.hosts[1].status.health = Health::Inactive; // a1
        f.hosts[1].status.last_ok_at = Some(90_000);
        f.procs[3].last_seen_at = 30_000; // blog-web, MISSING
        let p = &f.procs[3];
        let look = shown(p, host_of(&f, p));
        assert!(matches!(
            look,
            Shown::Stale {
                seen_at: 30_000,
                ..
            }
        ));
        assert!(
            look.stale_text(40_000)
                .unwrap_or_default()
                .starts_with("host inactive")
        );
        let orphan = proc("gone", "x", None, ProcState::Running);
        assert!(shown(&orphan, host_of(&f, &orphan)).is_stale());
    }

    #[test]
    fn a_running_description_does_not_carry_a_frozen_uptime() {
        let mut p = proc("a1", "w", None, ProcState::Running);
        p.description = "pid 42, uptime 0:00:03".into();
        assert_eq!(description(&p), "pid 42");
    }

    #[test]
    fn a_release_is_placed_on_the_hosts_that_run_its_procs() {
        let mut f = sample();
        f.hosts[0].status.health = Health::Unreachable; // b1
        for (i, rel) in [(0, 7), (1, 7), (2, 8)] {
            if let Some(m) = f.procs[i].meta.as_mut() {
                m.release_id = Some(rel);
            }
        }
        let seven = placements(&f, 7);
        assert_eq!(
            seven,
            vec![
                Placement {
                    host: "a1".into(),
                    procs: 1,
                    running: 0,
                    stale: 0
                },
                Placement {
                    host: "b1".into(),
                    procs: 1,
                    running: 0,
                    stale: 1
                },
            ]
        );
        assert_eq!(placement_text(&seven[0]), "0 of 1 running");
        assert_eq!(placement_text(&seven[1]), "0 of 1 running, 1 stale");
        let eight = placements(&f, 8);
        assert_eq!(placement_text(&eight[0]), "1 running");
        assert!(placements(&f, 9).is_empty());
    }

    #[test]
    fn a_squad_lists_what_its_silent_hosts_held() {
        let mut fleet = sample();
        fleet.hosts.push(host("b2", Some("web")));
        fleet.hosts[0].status.health = Health::Unreachable;
        let mut p = proc(
            "b1",
            "shop-web-3",
            Some(("shop", "prod", "web")),
            ProcState::Running,
        );
        if let Some(m) = p.meta.as_mut() {
            m.swarm_id = Some(7);
        }
        fleet.procs.push(p);
        let found = lost(&fleet, "web");
        assert_eq!(found.len(), 1, "b2 answers, a1 is in no squad");
        assert_eq!(found[0].host.settings.name, "b1");
        assert_eq!(found[0].procs, 3);
        assert_eq!(
            found[0].groups,
            [
                ("shop · prod · web".to_string(), None, 1),
                ("shop · prod · web · swarm #7".to_string(), Some(7), 1),
                ("unmanaged".to_string(), None, 1),
            ]
        );
        fleet.hosts[0].status.health = Health::Ok;
        assert!(lost(&fleet, "web").is_empty());
    }
}
