//! Endpoints of swarms and dispatches (`vr_app::swarm::paths`).

use vr_app::swarm::{
    Dispatch, DispatchRequest, RollbackRequest, Swarm, SwarmSpec, TAKE_DOWN, TAKE_POOL, paths,
};

use super::{Reply, delete, get, post};

pub fn swarms() -> Reply<Vec<Swarm>> {
    get(paths::SWARMS)
}

pub fn swarm(id: i64) -> Reply<Swarm> {
    get(&paths::swarm(id))
}

/// The query that confirms taking the pool over, when `take_pool`.
fn take(take_pool: bool) -> &'static str {
    if take_pool { TAKE_POOL } else { "" }
}

pub fn create(spec: &SwarmSpec, take_pool: bool) -> Reply<Swarm> {
    post(&format!("{}{}", paths::SWARMS, take(take_pool)), spec)
}

pub fn replace(id: i64, spec: &SwarmSpec, take_pool: bool) -> Reply<Swarm> {
    super::put(&format!("{}{}", paths::swarm(id), take(take_pool)), spec)
}

/// The merged config a dispatch of `spec` would release now (`editing`: the swarm it edits).
pub fn preview(spec: &SwarmSpec, editing: Option<i64>) -> Reply<vr_app::release::ReleasePreview> {
    let query = editing.map(|id| format!("?id={id}")).unwrap_or_default();
    post(&format!("{}{query}", paths::PREVIEW), spec)
}

/// Deletes the swarm; `take_down` drains and destroys its procs first.
pub fn remove(id: i64, take_down: bool) -> Reply<()> {
    let query = if take_down { TAKE_DOWN } else { "" };
    delete(&format!("{}{query}", paths::swarm(id)))
}

/// Queues a dispatch (202); its steps arrive as live `Dispatch` messages.
pub fn dispatch(id: i64, req: &DispatchRequest) -> Reply<Dispatch> {
    post(&paths::dispatch_swarm(id), req)
}

pub fn rollback(id: i64, req: &RollbackRequest) -> Reply<Dispatch> {
    post(&paths::rollback(id), req)
}

pub fn dispatches(swarm: i64) -> Reply<Vec<Dispatch>> {
    get(&format!("{}?swarm={swarm}&limit=50", paths::DISPATCHES))
}

pub fn get_dispatch(id: i64) -> Reply<Dispatch> {
    get(&paths::dispatch(id))
}

pub fn cancel(id: i64) -> Reply<Dispatch> {
    super::post_empty_json(&paths::cancel(id))
}
