//! Endpoints of the fleet: squads, hosts, the snapshot, procs, their logs and actions.
//! Paths come from `vr_app::fleet::paths`, which percent-encodes names (grouped program names
//! contain `:`).

use vr_app::fleet::{
    ConnectionReport, Fleet, Host, HostPatch, LogChunk, LogQuery, NewHost, NewSquad,
    ProcActionReport, ProcActionRequest, ProcDetail, Squad, SquadPatch, TrustKey, paths,
};

use super::{Reply, delete, get, patch, post};

pub fn fleet() -> Reply<Fleet> {
    get(paths::FLEET)
}

pub fn create_squad(req: &NewSquad) -> Reply<Squad> {
    post(paths::SQUADS, req)
}

pub fn update_squad(name: &str, req: &SquadPatch) -> Reply<Squad> {
    patch(&paths::squad(name), req)
}

pub fn delete_squad(name: &str) -> Reply<()> {
    delete(&paths::squad(name))
}

pub fn create_host(req: &NewHost) -> Reply<Host> {
    post(paths::HOSTS, req)
}

pub fn update_host(name: &str, req: &HostPatch) -> Reply<Host> {
    patch(&paths::host(name), req)
}

pub fn delete_host(name: &str) -> Reply<()> {
    delete(&paths::host(name))
}

/// Connects to the host now; may take a few seconds.
pub fn test_host(name: &str) -> Reply<ConnectionReport> {
    post(&paths::host_test(name), &serde_json::json!({}))
}

/// Pins the key the host presents now (admins only).
pub fn trust_host_key(name: &str, fingerprint: &str) -> Reply<Host> {
    let body = TrustKey {
        fingerprint: fingerprint.to_string(),
    };
    post(&paths::host_trust(name), &body)
}

pub fn proc_detail(host: &str, name: &str) -> Reply<ProcDetail> {
    get(&paths::proc(host, name))
}

/// The query string (with its leading `?`) of a log read.
pub fn log_query_string(q: &LogQuery) -> String {
    let mut s = format!("?stream={}", q.stream.as_str());
    if let Some(offset) = q.offset {
        s.push_str(&format!("&offset={offset}"));
    }
    if let Some(bytes) = q.bytes {
        s.push_str(&format!("&bytes={bytes}"));
    }
    s
}

pub fn proc_log(host: &str, name: &str, q: &LogQuery) -> Reply<LogChunk> {
    get(&format!(
        "{}{}",
        paths::proc_log(host, name),
        log_query_string(q)
    ))
}

/// Runs a proc action; answers when every proc is done (progress arrives on the live channel).
pub fn proc_action(req: &ProcActionRequest) -> Reply<ProcActionReport> {
    post(paths::PROC_ACTIONS, req)
}
