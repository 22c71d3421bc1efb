//! Orphans (SPEC §3.6): procs vr deployed for a swarm that no longer owns them — the swarm was
//! deleted, or its app, proc type, config name or squad changed since they were made. A proc
//! deployed by hand (no swarm) is "manual", not an orphan; unmanaged programs never are.

use serde::{Deserialize, Serialize};

use crate::fleet::{Host, Proc};
use crate::supervisor::ProcState;
use crate::swarm::SwarmSpec;

/// One orphaned proc and why it is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Orphan {
    pub host: String,
    pub name: String,
    pub port: u16,
    pub state: ProcState,
    pub swarm_id: i64,
    /// The swarm's name as the proc was made (`app-config-proc`).
    pub swarm: String,
    /// What no longer matches, e.g. `swarm #4 was deleted` or `config prod → canary`.
    pub why: String,
}

/// The orphans among `procs`, given the swarms that exist (`(id, spec)`) and the hosts.
pub fn find(procs: &[Proc], hosts: &[Host], swarms: &[(i64, SwarmSpec)]) -> Vec<Orphan> {
    let mut out = Vec::new();
    for p in procs {
        let Some(meta) = &p.meta else { continue };
        let Some(id) = meta.swarm_id else { continue };
        let made_as = crate::swarm::swarm_name(&meta.app, &meta.config, &meta.proc_type);
        let why = match swarms.iter().find(|(s, _)| *s == id) {
            None => format!("swarm #{id} was deleted"),
            Some((_, spec)) => {
                let squad = hosts
                    .iter()
                    .find(|h| h.settings.name == p.host)
                    .and_then(|h| h.settings.squad.clone())
                    .unwrap_or_default();
                let changes: Vec<String> = [
                    ("app", meta.app.as_str(), spec.app.as_str()),
                    ("proc", meta.proc_type.as_str(), spec.proc_type.as_str()),
                    ("config", meta.config.as_str(), spec.config.as_str()),
                    ("squad", squad.as_str(), spec.squad.as_str()),
                ]
                .into_iter()
                .filter(|(_, was, now)| was != now)
                .map(|(what, was, now)| {
                    if what == "squad" {
                        format!("host {} is not in squad {now}", p.host)
                    } else {
                        format!("{what} {was} → {now}")
                    }
                })
                .collect();
                if changes.is_empty() {
                    continue;
                }
                format!("swarm #{id} changed: {}", changes.join(", "))
            }
        };
        out.push(Orphan {
            host: p.host.clone(),
            name: p.name.clone(),
            port: meta.port,
            state: p.state,
            swarm_id: id,
            swarm: made_as,
            why,
        });
    }
    crate::order::sort_by(&mut out, |a, b| {
        a.host.cmp(&b.host).then_with(|| a.name.cmp(&b.name))
    });
    out
}

/// What `POST /api/orphans/clean` takes: the orphans to drain and destroy (none named: all).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct CleanRequest {
    pub procs: Vec<crate::fleet::ProcRef>,
}

pub mod paths {
    pub const ORPHANS: &str = "/api/orphans";
    pub const CLEAN: &str = "/api/orphans/clean";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn made_for(swarm: Option<i64>, config: &str) -> Proc {
        let mut p = fixtures::proc(
            "a",
            &format!("shop-{config}-web"),
            Some(("shop", config, "web")),
            ProcState::Running,
        );
        if let Some(m) = p.meta.as_mut() {
            m.swarm_id = swarm;
            m.port = 5000;
        }
        p
    }

    fn spec(config: &str, squad: &str) -> SwarmSpec {
        SwarmSpec {
            app: "shop".into(),
            proc_type: "web".into(),
            config: config.into(),
            squad: squad.into(),
            ..SwarmSpec::default()
        }
    }

    #[test]
    fn orphans_are_procs_no_swarm_owns_as_they_are() {
        let hosts = vec![fixtures::host("a", Some("eu"))];
        let unmanaged = fixtures::proc("a", "cron", None, ProcState::Running);
        let procs = vec![
            made_for(Some(1), "prod"), // matches swarm 1
            made_for(Some(2), "prod"), // swarm 2 is now "canary"
            made_for(Some(3), "prod"), // swarm 3 was deleted
            made_for(Some(4), "prod"), // swarm 4 moved to squad us
            made_for(None, "prod"),    // manual
            unmanaged,
        ];
        let swarms = vec![
            (1, spec("prod", "eu")),
            (2, spec("canary", "eu")),
            (4, spec("prod", "us")),
        ];
        let found = find(&procs, &hosts, &swarms);
        let whys: Vec<(i64, &str)> = found.iter().map(|o| (o.swarm_id, o.why.as_str())).collect();
        assert_eq!(
            whys,
            [
                (2, "swarm #2 changed: config prod → canary"),
                (3, "swarm #3 was deleted"),
                (4, "swarm #4 changed: host a is not in squad us"),
            ]
        );
        assert!(
            found
                .iter()
                .all(|o| o.port == 5000 && o.swarm == "shop-prod-web")
        );
    }
}
