//! Ready-made values for tests in every crate (feature `fixtures`; never in a release build).

use crate::fleet::{Host, HostSettings, HostStatus, Proc, ProcMeta};
use crate::supervisor::ProcState;

/// Default settings of a host named `name` (address the same), optionally in `squad`.
pub fn host_settings(name: &str, squad: Option<&str>) -> HostSettings {
    HostSettings {
        name: name.into(),
        address: name.into(),
        port: 22,
        user: "root".into(),
        squad: squad.map(str::to_string),
        active: true,
        builder: false,
        supervisorctl: None,
        supervisor_socket: None,
        include_dir: None,
        apps_root: None,
        port_min: None,
        port_max: None,
        notes: String::new(),
    }
}

pub fn host(name: &str, squad: Option<&str>) -> Host {
    Host {
        id: 0,
        settings: host_settings(name, squad),
        host_key: None,
        host_key_pinned_at: None,
        status: HostStatus::default(),
        created_at: 0,
    }
}

/// `proc.json` of a proc `vr` deployed.
pub fn meta(app: &str, config: &str, proc_type: &str, port: u16) -> ProcMeta {
    ProcMeta {
        app: app.into(),
        version: "1.0".into(),
        config: config.into(),
        proc_type: proc_type.into(),
        port,
        release_id: None,
        release_hash: "abc123".into(),
        swarm_id: None,
        deployed_by: "test".into(),
        deployed_at: 0,
    }
}

/// A proc on `host`; managed (and expected) when `app` gives `(app, config, proc_type)`.
pub fn proc(host: &str, name: &str, app: Option<(&str, &str, &str)>, state: ProcState) -> Proc {
    Proc {
        host: host.into(),
        name: name.into(),
        state,
        description: String::new(),
        pid: None,
        started_at: None,
        meta: app.map(|(app, config, proc_type)| meta(app, config, proc_type, 5000)),
        expected: app.is_some(),
        state_since: 0,
        last_seen_at: 0,
        oom_kills: 0,
    }
}

/// A successful build of `app` at 1.0 with a `web` proc type.
pub fn build(id: i64, app: &str) -> crate::build::Build {
    crate::build::Build {
        id,
        app: app.into(),
        version: "1.0".into(),
        commit: Some("0123abcd".into()),
        status: crate::build::BuildStatus::Succeeded,
        error: None,
        buildpack: None,
        buildpack_commit: None,
        host: Some("builder".into()),
        sha256: Some("ff".into()),
        size: Some(1024),
        procfile: [("web".to_string(), "./run".to_string())].into(),
        env: Default::default(),
        prebuilt: false,
        reused_from: None,
        requested_by: "test".into(),
        created_at: 1,
        started_at: Some(2),
        finished_at: Some(3),
        stack: None,
    }
}

/// A finished deploy of `app`'s web proc to `host`, with one step.
pub fn deployment(id: i64, app: &str, host: &str) -> crate::deploy::Deployment {
    crate::deploy::Deployment {
        id,
        release_id: 1,
        app: app.into(),
        proc_type: "web".into(),
        config: "prod".into(),
        host: host.into(),
        port: 5000,
        program: format!("{app}-1.0-prod-abc123-web-5000"),
        status: crate::deploy::DeployStatus::Succeeded,
        error: None,
        steps: vec![crate::deploy::DeployStep {
            name: crate::deploy::DeployStepKind::CopyBuild,
            ok: true,
            message: String::new(),
            ms: 12,
        }],
        requested_by: "test".into(),
        created_at: 1,
        finished_at: Some(2),
    }
}

/// A web swarm of 2 procs of `shop` (config `prod`) on squad `eu`.
pub fn swarm_spec() -> crate::swarm::SwarmSpec {
    crate::swarm::SwarmSpec {
        app: "shop".into(),
        version: "v1".into(),
        proc_type: "web".into(),
        config: "prod".into(),
        squad: "eu".into(),
        size: 2,
        uses_ports: true,
        ..crate::swarm::SwarmSpec::default()
    }
}
