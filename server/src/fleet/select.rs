//! Choosing procs from the snapshot by filter: the shared meaning of `vr procs … REGEX --host
//! REGEX`, `GET /api/procs` and filtered proc actions.

use regex::Regex;
use vr_app::fleet::{Fleet, Host, Proc, ProcFilter};
use vr_app::validate::Invalid;

/// Longest regex accepted, so a request cannot make the server compile something huge.
const MAX_PATTERN: usize = 1000;

fn compile(field: &'static str, pattern: Option<&str>) -> Result<Option<Regex>, Invalid> {
    let Some(p) = pattern.filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    if p.len() > MAX_PATTERN {
        return Err(Invalid::new(
            field,
            format!("must be at most {MAX_PATTERN} bytes"),
        ));
    }
    regex::RegexBuilder::new(p)
        .size_limit(1 << 20)
        .build()
        .map(Some)
        .map_err(|e| Invalid::new(field, format!("not a valid regex: {e}")))
}

/// The procs matching every given part of `filter`, each with its host. Regexes search (are not
/// anchored): `web` matches `shop-prod-web`; anchor with `^…$` for exact names.
pub fn select(fleet: &Fleet, filter: &ProcFilter) -> Result<Vec<(Host, Proc)>, Invalid> {
    let pattern = compile("pattern", filter.pattern.as_deref())?;
    let host_re = compile("host", filter.host.as_deref())?;
    let mut out = Vec::new();
    for p in &fleet.procs {
        let Some(host) = fleet.hosts.iter().find(|h| h.settings.name == p.host) else {
            continue;
        };
        let ok = pattern.as_ref().is_none_or(|r| r.is_match(&p.match_key()))
            && host_re.as_ref().is_none_or(|r| r.is_match(&p.host))
            && filter
                .squad
                .as_ref()
                .is_none_or(|s| host.settings.squad.as_ref() == Some(s))
            && filter.state.is_none_or(|s| p.state == s);
        if ok {
            out.push((host.clone(), p.clone()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vr_app::fixtures::{host, proc};
    use vr_app::supervisor::ProcState;

    fn fleet() -> Fleet {
        Fleet {
            hosts: vec![host("web1", Some("web")), host("db1", None)],
            procs: vec![
                proc(
                    "web1",
                    "shop-1-prod-x-web-5000",
                    Some(("shop", "prod", "web")),
                    ProcState::Running,
                ),
                proc(
                    "web1",
                    "shop-1-prod-x-worker-0",
                    Some(("shop", "prod", "worker")),
                    ProcState::Fatal,
                ),
                proc(
                    "db1",
                    "blog-2-dev-y-web-5001",
                    Some(("blog", "dev", "web")),
                    ProcState::Running,
                ),
                proc("db1", "legacy_cron", None, ProcState::Running),
            ],
            squads: vec![],
        }
    }

    fn names(f: &ProcFilter) -> Vec<String> {
        select(&fleet(), f)
            .unwrap_or_default()
            .into_iter()
            .map(|(_, p)| p.name)
            .collect()
    }

    #[test]
    fn filters_combine() {
        assert_eq!(names(&ProcFilter::default()).len(), 4);
        let f = |pattern: &str| ProcFilter {
            pattern: Some(pattern.into()),
            ..Default::default()
        };
        assert_eq!(
            names(&f("^shop-prod-web$|^blog")),
            ["shop-1-prod-x-web-5000", "blog-2-dev-y-web-5001"]
        );
        assert_eq!(names(&f("legacy")), ["legacy_cron"]);
        // Managed procs match on app-config-proc, not on the program name.
        assert!(names(&f("x-web")).is_empty());
        let by_host = ProcFilter {
            host: Some("^db".into()),
            state: Some(ProcState::Running),
            ..Default::default()
        };
        assert_eq!(names(&by_host), ["blog-2-dev-y-web-5001", "legacy_cron"]);
        let by_squad = ProcFilter {
            squad: Some("web".into()),
            state: Some(ProcState::Fatal),
            ..Default::default()
        };
        assert_eq!(names(&by_squad), ["shop-1-prod-x-worker-0"]);
    }

    #[test]
    fn bad_regexes_name_their_field() {
        let err = select(
            &fleet(),
            &ProcFilter {
                host: Some("(".into()),
                ..Default::default()
            },
        )
        .err();
        assert_eq!(err.map(|e| e.field), Some("host"));
    }
}
