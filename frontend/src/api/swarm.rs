//! Endpoints of swarms and dispatches (`vr_app::swarm::paths`).

use vr_app::swarm::{
    Dispatch, DispatchRequest, RollbackRequest, Swarm, SwarmSpec, TAKE_DOWN, TAKE_POOL, paths,
};

use super::{ApiError, delete, get, post};

pub async fn swarms() -> Result<Vec<Swarm>, ApiError> {
    get(paths::SWARMS).await
}

pub async fn swarm(id: i64) -> Result<Swarm, ApiError> {
    get(&paths::swarm(id)).await
}

/// The query that confirms taking the pool over, when `take_pool`.
fn take(take_pool: bool) -> &'static str {
    if take_pool { TAKE_POOL } else { "" }
}

pub async fn create(spec: &SwarmSpec, take_pool: bool) -> Result<Swarm, ApiError> {
    post(&format!("{}{}", paths::SWARMS, take(take_pool)), spec).await
}

pub async fn replace(id: i64, spec: &SwarmSpec, take_pool: bool) -> Result<Swarm, ApiError> {
    super::put(&format!("{}{}", paths::swarm(id), take(take_pool)), spec).await
}

/// The merged config a dispatch of `spec` would release now (`editing`: the swarm it edits).
pub async fn preview(
    spec: &SwarmSpec,
    editing: Option<i64>,
) -> Result<vr_app::release::ReleasePreview, ApiError> {
    let query = editing.map(|id| format!("?id={id}")).unwrap_or_default();
    post(&format!("{}{query}", paths::PREVIEW), spec).await
}

/// Deletes the swarm; `take_down` drains and destroys its procs first.
pub async fn remove(id: i64, take_down: bool) -> Result<(), ApiError> {
    let query = if take_down { TAKE_DOWN } else { "" };
    delete(&format!("{}{query}", paths::swarm(id))).await
}

/// Queues a dispatch (202); its steps arrive as live `Dispatch` messages.
pub async fn dispatch(id: i64, req: &DispatchRequest) -> Result<Dispatch, ApiError> {
    post(&paths::dispatch_swarm(id), req).await
}

pub async fn rollback(id: i64, req: &RollbackRequest) -> Result<Dispatch, ApiError> {
    post(&paths::rollback(id), req).await
}

pub async fn dispatches(swarm: i64) -> Result<Vec<Dispatch>, ApiError> {
    get(&format!("{}?swarm={swarm}&limit=50", paths::DISPATCHES)).await
}

pub async fn get_dispatch(id: i64) -> Result<Dispatch, ApiError> {
    get(&paths::dispatch(id)).await
}

pub async fn cancel(id: i64) -> Result<Dispatch, ApiError> {
    super::post_empty_json(&paths::cancel(id)).await
}
