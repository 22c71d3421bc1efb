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
    }
}
