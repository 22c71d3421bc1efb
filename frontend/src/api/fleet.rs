//! Endpoints of the fleet: squads, hosts, the snapshot, procs, their logs and actions.
//! Paths come from `vr_app::fleet::paths`, which percent-encodes names (grouped program names
//! contain `:`).

use vr_app::fleet::{
    ConnectionReport, Fleet, Host, HostPatch, LogChunk, LogQuery, NewHost, NewSquad,
    ProcActionReport, ProcActionRequest, ProcDetail, Squad, SquadPatch, TrustKey, paths,
};

use super::{ApiError, delete, get, patch, post};

pub async fn fleet() -> Result<Fleet, ApiError> {
    get(paths::FLEET).await
}

pub async fn create_squad(req: &NewSquad) -> Result<Squad, ApiError> {
    post(paths::SQUADS, req).await
}

pub async fn update_squad(name: &str, req: &SquadPatch) -> Result<Squad, ApiError> {
    patch(&paths::squad(name), req).await
}

pub async fn delete_squad(name: &str) -> Result<(), ApiError> {
    delete(&paths::squad(name)).await
}

pub async fn create_host(req: &NewHost) -> Result<Host, ApiError> {
    post(paths::HOSTS, req).await
}

pub async fn update_host(name: &str, req: &HostPatch) -> Result<Host, ApiError> {
    patch(&paths::host(name), req).await
}

pub async fn delete_host(name: &str) -> Result<(), ApiError> {
    delete(&paths::host(name)).await
}

/// Connects to the host now; may take a few seconds.
pub async fn test_host(name: &str) -> Result<ConnectionReport, ApiError> {
    post(&paths::host_test(name), &serde_json::json!({})).await
}

/// Pins the key the host presents now (admins only).
pub async fn trust_host_key(name: &str, fingerprint: &str) -> Result<Host, ApiError> {
    let body = TrustKey {
        fingerprint: fingerprint.to_string(),
    };
    post(&paths::host_trust(name), &body).await
}

pub async fn proc_detail(host: &str, name: &str) -> Result<ProcDetail, ApiError> {
    get(&paths::proc(host, name)).await
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

pub async fn proc_log(host: &str, name: &str, q: &LogQuery) -> Result<LogChunk, ApiError> {
    get(&format!(
        "{}{}",
        paths::proc_log(host, name),
        log_query_string(q)
    ))
    .await
}

/// Runs a proc action; answers when every proc is done (progress arrives on the live channel).
pub async fn proc_action(req: &ProcActionRequest) -> Result<ProcActionReport, ApiError> {
    post(paths::PROC_ACTIONS, req).await
}
