//! The dispatch planner (SPEC §3.4 steps 2–3): from a swarm's target and the squad's hosts as
//! the snapshot shows them, which of the swarm's procs to keep, where to start new ones (and on
//! which port), and which to retire. Pure: the dispatch job reads the inputs and carries the
//! plan out.
//!
//! A proc belongs to the swarm only by the swarm id in its `proc.json`: procs of other swarms
//! (even of the same release) and unmanaged procs are never kept, moved or retired. Hosts that
//! cannot be used (inactive, unreachable, Supervisor down, key changed) get no new procs and
//! their procs are left alone: what runs there is not known.

use crate::fleet::{Proc, ProcRef};
use crate::supervisor::ProcState;
use serde::{Deserialize, Serialize};

pub use crate::swarm::Placement;

/// What the swarm wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub swarm_id: i64,
    /// The swarm's app and config name now: procs of the swarm made for another (the swarm was
    /// edited since) are stale, whatever release they run.
    pub app: String,
    pub config: String,
    /// The release its procs must run; others of the swarm are stale.
    pub release_hash: String,
    pub proc_type: String,
    /// Procs wanted (ignored for [`Placement::OnePerHost`]).
    pub size: u32,
    pub placement: Placement,
    /// False for workers: every proc gets port 0, so at most one per host (the port is part of
    /// the program's name).
    pub uses_ports: bool,
}

/// One host of the squad as the planner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostView {
    pub name: String,
    /// Active and answering: new procs may go here and its procs may be retired.
    pub usable: bool,
    /// In the swarm's squad. A host outside it (the swarm moved to another squad, or the host
    /// left it) only has the swarm's procs retired.
    pub in_squad: bool,
    /// The host's port range, inclusive.
    pub port_min: u16,
    pub port_max: u16,
    /// Every proc on the host in the snapshot.
    pub procs: Vec<Proc>,
    /// Ports promised to jobs in flight on this host.
    pub reserved: Vec<u16>,
}

/// A proc to start.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NewProc {
    pub host: String,
    /// 0 for workers.
    pub port: u16,
}

/// The plan of one dispatch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Plan {
    /// Procs of the swarm at its release, running, that stay.
    pub keep: Vec<ProcRef>,
    pub start: Vec<NewProc>,
    /// Procs of the swarm that go once the new ones pass their uptests: stale ones (another
    /// release), ones of this release that do not run, and any beyond the size or the spread.
    pub retire: Vec<ProcRef>,
    /// Procs that were wanted but found no usable host with room.
    pub short: u32,
}

impl Plan {
    /// Nothing to do: the swarm matches.
    pub fn is_empty(&self) -> bool {
        self.start.is_empty() && self.retire.is_empty()
    }
}

/// Where a proc stands with regard to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    NotOurs,
    /// Of this release and running (or starting).
    Current,
    /// Of the swarm but not to keep: another release or proc type, or not running.
    Stale,
}

fn standing(target: &Target, p: &Proc) -> Standing {
    let Some(meta) = p
        .meta
        .as_ref()
        .filter(|m| m.swarm_id == Some(target.swarm_id))
    else {
        return Standing::NotOurs;
    };
    let runs = matches!(p.state, ProcState::Running | ProcState::Starting);
    let same_identity = meta.made_as(&target.app, &target.proc_type, &target.config);
    if runs && meta.release_hash == target.release_hash && same_identity {
        Standing::Current
    } else {
        Standing::Stale
    }
}

fn proc_ref(p: &Proc) -> ProcRef {
    ProcRef {
        host: p.host.clone(),
        name: p.name.clone(),
    }
}

/// One usable host while planning.
struct Slot<'a> {
    host: &'a HostView,
    /// Procs of this swarm it will hold (kept and planned).
    ours: u32,
    /// Procs it will hold in all, for the tie-break.
    all: usize,
    /// Ports taken: by any proc there, reserved, or planned.
    taken: Vec<u16>,
}

impl Slot<'_> {
    fn free_port(&self) -> Option<u16> {
        (self.host.port_min..=self.host.port_max).find(|p| !self.taken.contains(p))
    }

    /// Room for one more proc of the swarm, with the port it would get.
    fn room(&self, target: &Target, cap: u32) -> Option<u16> {
        if self.ours >= cap {
            return None;
        }
        if target.uses_ports {
            self.free_port()
        } else {
            Some(0)
        }
    }
}

/// The plan that makes `hosts` hold what `target` wants.
pub fn plan(target: &Target, hosts: &[HostView]) -> Plan {
    let mut out = Plan::default();
    // The swarm's procs on usable hosts outside its squad all go.
    for h in hosts.iter().filter(|h| h.usable && !h.in_squad) {
        out.retire.extend(
            h.procs
                .iter()
                .filter(|p| standing(target, p) != Standing::NotOurs)
                .map(proc_ref),
        );
    }
    let usable: Vec<&HostView> = hosts.iter().filter(|h| h.usable && h.in_squad).collect();
    let size = match target.placement {
        Placement::Spread => target.size,
        Placement::OnePerHost => u32::try_from(usable.len()).unwrap_or(u32::MAX),
    };
    // Workers have port 0 in their names: one per host at most. Spread never puts more than
    // its share on a host.
    let per_host = match target.placement {
        Placement::OnePerHost => 1,
        Placement::Spread if !target.uses_ports => 1,
        Placement::Spread => {
            let n = u32::try_from(usable.len()).unwrap_or(u32::MAX).max(1);
            size.div_ceil(n)
        }
    };

    let mut slots: Vec<Slot<'_>> = Vec::with_capacity(usable.len());
    let mut current: Vec<(usize, &Proc)> = Vec::new();
    for host in &usable {
        let index = slots.len();
        let mut taken: Vec<u16> = host.reserved.clone();
        for p in &host.procs {
            if let Some(m) = p.meta.as_ref()
                && m.port != 0
                && p.state != ProcState::Missing
            {
                taken.push(m.port);
            }
            match standing(target, p) {
                Standing::Current => current.push((index, p)),
                Standing::Stale => out.retire.push(proc_ref(p)),
                Standing::NotOurs => {}
            }
        }
        slots.push(Slot {
            host,
            ours: 0,
            all: host.procs.len(),
            taken,
        });
    }

    // Keep current procs up to the share of their host and the size, oldest first (the
    // lowest port or name breaks ties, so the same inputs always give the same plan).
    crate::order::sort_by(&mut current, |(_, a), (_, b)| {
        a.started_at
            .cmp(&b.started_at)
            .then_with(|| a.name.cmp(&b.name))
    });
    let mut kept = 0u32;
    for (index, p) in current {
        let slot = &mut slots[index];
        if kept < size && slot.ours < per_host {
            slot.ours += 1;
            kept += 1;
            out.keep.push(proc_ref(p));
        } else {
            out.retire.push(proc_ref(p));
        }
    }

    // Place the rest where there are fewest of this swarm, then fewest procs, then by name.
    let mut placed = kept;
    while placed < size {
        let best = slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.room(target, per_host).map(|port| (i, port)))
            .min_by(|(a, _), (b, _)| {
                let (a, b) = (&slots[*a], &slots[*b]);
                a.ours
                    .cmp(&b.ours)
                    .then(a.all.cmp(&b.all))
                    .then_with(|| a.host.name.cmp(&b.host.name))
            });
        let Some((index, port)) = best else {
            out.short = size - placed;
            break;
        };
        let slot = &mut slots[index];
        slot.ours += 1;
        slot.all += 1;
        if port != 0 {
            slot.taken.push(port);
        }
        out.start.push(NewProc {
            host: slot.host.name.clone(),
            port,
        });
        placed += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use proptest::prelude::*;

    fn ours(host: &str, port: u16, hash: &str, state: ProcState, swarm: i64) -> Proc {
        let mut p = fixtures::proc(
            host,
            &format!("shop-{hash}-web-{port}"),
            Some(("shop", "prod", "web")),
            state,
        );
        if let Some(m) = p.meta.as_mut() {
            m.swarm_id = Some(swarm);
            m.release_hash = hash.to_string();
            m.port = port;
        }
        p
    }

    fn host(name: &str, procs: Vec<Proc>) -> HostView {
        HostView {
            name: name.into(),
            usable: true,
            in_squad: true,
            port_min: 5000,
            port_max: 5009,
            procs,
            reserved: Vec::new(),
        }
    }

    fn target(size: u32) -> Target {
        Target {
            swarm_id: 1,
            app: "shop".into(),
            config: "prod".into(),
            release_hash: "new".into(),
            proc_type: "web".into(),
            size,
            placement: Placement::Spread,
            uses_ports: true,
        }
    }

    #[test]
    fn a_first_dispatch_spreads_over_free_ports() {
        let hosts = [
            host("a", vec![ours("a", 5000, "x", ProcState::Running, 2)]),
            host("b", vec![]),
        ];
        let p = plan(&target(3), &hosts);
        assert!(p.keep.is_empty() && p.retire.is_empty() && p.short == 0);
        // b is emptier overall, so it gets the first; the other swarm's port 5000 is skipped.
        assert_eq!(
            p.start,
            vec![
                NewProc {
                    host: "b".into(),
                    port: 5000
                },
                NewProc {
                    host: "a".into(),
                    port: 5001
                },
                NewProc {
                    host: "b".into(),
                    port: 5001
                },
            ]
        );
    }

    #[test]
    fn a_new_release_starts_new_procs_and_retires_the_old_ones() {
        let hosts = [
            host("a", vec![ours("a", 5000, "old", ProcState::Running, 1)]),
            host("b", vec![ours("b", 5000, "old", ProcState::Running, 1)]),
        ];
        let p = plan(&target(2), &hosts);
        assert_eq!(p.retire.len(), 2);
        assert_eq!(
            p.start,
            vec![
                NewProc {
                    host: "a".into(),
                    port: 5001
                },
                NewProc {
                    host: "b".into(),
                    port: 5001
                },
            ]
        );
    }

    #[test]
    fn reserved_ports_and_unusable_hosts_are_avoided() {
        let mut a = host("a", vec![]);
        a.reserved = vec![5000, 5001];
        let mut down = host(
            "down",
            vec![ours("down", 5000, "old", ProcState::Running, 1)],
        );
        down.usable = false;
        let p = plan(&target(1), &[a, down]);
        assert_eq!(
            p.start,
            vec![NewProc {
                host: "a".into(),
                port: 5002
            }]
        );
        // What runs on a host that does not answer is left alone.
        assert!(p.retire.is_empty());
    }

    #[test]
    fn an_identity_change_replaces_the_swarms_procs_and_a_squad_change_empties_the_old_hosts() {
        // Same release, but made when the swarm's config name was "staging".
        let mut renamed = ours("a", 5000, "new", ProcState::Running, 1);
        if let Some(m) = renamed.meta.as_mut() {
            m.config = "staging".into();
        }
        let p = plan(&target(1), &[host("a", vec![renamed])]);
        assert_eq!(p.retire.len(), 1);
        assert_eq!(p.start.len(), 1);
        // A host that left the squad: its procs of the swarm go, it gets none, and another
        // swarm's proc there stays.
        let mut gone = host(
            "old",
            vec![
                ours("old", 5000, "new", ProcState::Running, 1),
                ours("old", 5001, "new", ProcState::Running, 2),
            ],
        );
        gone.in_squad = false;
        let p = plan(&target(1), &[gone, host("b", vec![])]);
        assert_eq!(
            p.retire,
            vec![ProcRef {
                host: "old".into(),
                name: "shop-new-web-5000".into()
            }]
        );
        assert_eq!(
            p.start,
            vec![NewProc {
                host: "b".into(),
                port: 5000
            }]
        );
    }

    #[test]
    fn workers_get_one_per_host_and_port_zero() {
        let hosts = [host("a", vec![]), host("b", vec![]), host("c", vec![])];
        let t = Target {
            placement: Placement::OnePerHost,
            uses_ports: false,
            size: 0,
            ..target(0)
        };
        let p = plan(&t, &hosts);
        assert_eq!(p.start.len(), 3);
        assert!(p.start.iter().all(|n| n.port == 0));
        // A port-0 spread swarm larger than its squad is short, not doubled up.
        let t = Target {
            uses_ports: false,
            ..target(5)
        };
        let p = plan(&t, &hosts);
        assert_eq!((p.start.len(), p.short), (3, 2));
    }

    #[test]
    fn scaling_down_retires_from_the_fullest_host_first() {
        let hosts = [
            host(
                "a",
                vec![
                    ours("a", 5000, "new", ProcState::Running, 1),
                    ours("a", 5001, "new", ProcState::Running, 1),
                ],
            ),
            host("b", vec![ours("b", 5000, "new", ProcState::Running, 1)]),
        ];
        let p = plan(&target(2), &hosts);
        assert!(p.start.is_empty());
        assert_eq!(p.keep.len(), 2);
        assert_eq!(p.retire.len(), 1);
        assert_eq!(p.retire[0].host, "a");
        // Size 0 retires them all.
        let p = plan(&target(0), &hosts);
        assert_eq!((p.keep.len(), p.retire.len()), (0, 3));
    }

    // ---- Properties -------------------------------------------------------------------------

    /// A proc on host `h` of a random kind: this swarm (current or stale, running or not),
    /// another swarm with the same release, or unmanaged.
    fn arb_proc(h: String) -> impl Strategy<Value = Proc> {
        (0u8..6, 5000u16..5006, any::<bool>()).prop_map(move |(kind, port, runs)| {
            let state = if runs {
                ProcState::Running
            } else {
                ProcState::Fatal
            };
            match kind {
                0 | 1 => ours(&h, port, "new", state, 1),
                2 => ours(&h, port, "old", state, 1),
                3 => ours(&h, port, "new", state, 2),
                4 => fixtures::proc(&h, &format!("loose-{port}"), None, state),
                _ => {
                    let mut p = ours(&h, port, "new", state, 1);
                    p.name = format!("{}-x", p.name);
                    p
                }
            }
        })
    }

    fn arb_hosts() -> impl Strategy<Value = Vec<HostView>> {
        (1usize..5).prop_flat_map(|n| {
            (0..n)
                .map(|i| {
                    let name = format!("h{i}");
                    (
                        proptest::collection::vec(arb_proc(name.clone()), 0..5),
                        any::<bool>(),
                        proptest::collection::vec(5000u16..5008, 0..3),
                        5003u16..5012,
                    )
                        .prop_map(
                            move |(mut procs, usable, reserved, port_max)| {
                                // One program name per host, as Supervisor has it.
                                let mut seen = std::collections::HashSet::new();
                                procs.retain(|p| seen.insert(p.name.clone()));
                                HostView {
                                    name: name.clone(),
                                    usable: usable || i == 0,
                                    in_squad: true,
                                    port_min: 5000,
                                    port_max,
                                    procs,
                                    reserved,
                                }
                            },
                        )
                })
                .collect::<Vec<_>>()
        })
    }

    fn arb_target() -> impl Strategy<Value = Target> {
        (0u32..9, any::<bool>(), any::<bool>()).prop_map(|(size, one_per_host, uses_ports)| {
            Target {
                size,
                placement: if one_per_host {
                    Placement::OnePerHost
                } else {
                    Placement::Spread
                },
                uses_ports: uses_ports && !one_per_host,
                ..target(size)
            }
        })
    }

    /// The hosts once the plan is carried out: retired procs gone, new ones running.
    fn applied(t: &Target, hosts: &[HostView], p: &Plan) -> Vec<HostView> {
        hosts
            .iter()
            .map(|h| {
                let mut h = h.clone();
                h.procs.retain(|x| !p.retire.contains(&proc_ref(x)));
                for n in p.start.iter().filter(|n| n.host == h.name) {
                    let mut x = ours(
                        &h.name,
                        n.port,
                        &t.release_hash,
                        ProcState::Running,
                        t.swarm_id,
                    );
                    x.name = format!("new-{}-{}", t.release_hash, n.port);
                    h.procs.push(x);
                }
                h
            })
            .collect()
    }

    proptest! {
        #[test]
        fn plans_keep_their_promises(t in arb_target(), hosts in arb_hosts()) {
            let p = plan(&t, &hosts);
            let usable: Vec<&HostView> = hosts.iter().filter(|h| h.usable).collect();
            let size = match t.placement {
                Placement::Spread => t.size,
                Placement::OnePerHost => usable.len() as u32,
            };
            // Never more than the size; what is missing is reported.
            let total = (p.keep.len() + p.start.len()) as u32;
            prop_assert!(total <= size);
            prop_assert_eq!(total + p.short, size);
            for h in &hosts {
                let ours_here = |r: &ProcRef| r.host == h.name;
                if !h.usable {
                    // Unusable hosts: nothing starts, nothing is touched.
                    prop_assert!(!p.start.iter().any(|n| n.host == h.name));
                    prop_assert!(!p.retire.iter().any(ours_here));
                    prop_assert!(!p.keep.iter().any(ours_here));
                    continue;
                }
                // No port twice on a host, none outside its range, none taken or reserved.
                let mut ports: Vec<u16> = p.start.iter().filter(|n| n.host == h.name && n.port != 0).map(|n| n.port).collect();
                let before = ports.len();
                ports.sort_unstable();
                ports.dedup();
                prop_assert_eq!(ports.len(), before);
                for port in &ports {
                    prop_assert!((h.port_min..=h.port_max).contains(port));
                    prop_assert!(!h.reserved.contains(port));
                    prop_assert!(!h.procs.iter().any(|x| x.state != ProcState::Missing && x.meta.as_ref().is_some_and(|m| m.port == *port)));
                }
                if !t.uses_ports {
                    prop_assert!(p.start.iter().filter(|n| n.host == h.name).all(|n| n.port == 0));
                }
            }
            // Only this swarm's procs are kept or retired: never another swarm's, never unmanaged.
            let all: Vec<&Proc> = hosts.iter().flat_map(|h| h.procs.iter()).collect();
            for r in p.keep.iter().chain(p.retire.iter()) {
                let x = all.iter().find(|x| x.host == r.host && x.name == r.name);
                prop_assert!(x.is_some_and(|x| x.meta.as_ref().is_some_and(|m| m.swarm_id == Some(t.swarm_id))), "{:?}", r);
            }

            let after = applied(&t, &hosts, &p);
            let count = |h: &HostView| h.procs.iter().filter(|x| standing(&t, x) == Standing::Current).count() as u32;
            for h in after.iter().filter(|h| h.usable) {
                match t.placement {
                    // One per host never puts two on a host.
                    Placement::OnePerHost => prop_assert!(count(h) <= 1),
                    Placement::Spread if !t.uses_ports => prop_assert!(count(h) <= 1),
                    // Even: no host beyond its share.
                    Placement::Spread => prop_assert!(count(h) <= size.div_ceil(usable.len() as u32)),
                }
            }
            // Once carried out, the swarm matches: planning again changes nothing. When it was
            // short (ports held by the procs it retires), the next plan only adds what was missing.
            let again = plan(&t, &after);
            if p.short == 0 {
                prop_assert!(again.is_empty(), "{:?}", again);
            } else {
                prop_assert!(again.retire.is_empty(), "{:?}", again);
                prop_assert!(again.start.len() as u32 <= p.short, "{:?}", again);
            }
        }
    }
}
