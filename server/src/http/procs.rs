//! The fleet snapshot, procs, their logs, and proc actions.

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::principal::Principal;
use crate::fleet::select::select;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use vr_app::fleet::{
    Fleet, LogChunk, LogQuery, Proc, ProcActionReport, ProcActionRequest, ProcDetail, ProcFilter,
};

pub async fn fleet(State(state): State<AppState>) -> ApiResult<Json<Fleet>> {
    Ok(Json(state.store.fleet().await?))
}

pub async fn list(
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<ProcFilter>,
) -> ApiResult<Json<Vec<Proc>>> {
    let fleet = state.store.fleet().await?;
    let procs = select(&fleet, &filter)?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    Ok(Json(procs))
}

pub async fn detail(
    State(state): State<AppState>,
    ApiPath((host, name)): ApiPath<(String, String)>,
) -> ApiResult<Json<ProcDetail>> {
    Ok(Json(state.store.proc_detail(host, name).await?))
}

/// Reads the log from the host through the fleet service (its session and deadline).
pub async fn log(
    State(state): State<AppState>,
    ApiPath((host, name)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<LogQuery>,
) -> ApiResult<Json<LogChunk>> {
    let host = state.store.host(host).await?;
    // Only programs the snapshot knows: a typo gets a 404, not a round trip to the host.
    let detail = state
        .store
        .proc_detail(host.settings.name.clone(), name.clone())
        .await?;
    let mut chunk = state.fleet.tail(&host, &name, &query).await?;
    // A proc may print its env: its release's secrets never reach a reader of its log.
    if let Some(release_id) = detail.proc.meta.and_then(|m| m.release_id)
        && let Ok(r) = state.store.release(release_id).await
    {
        let secrets: Vec<String> = r
            .config
            .secret_keys
            .iter()
            .filter_map(|k| r.config.env.get(k).cloned())
            .collect();
        chunk.text = vr_app::secret::redact(&chunk.text, &secrets);
    }
    Ok(Json(chunk))
}

pub async fn act(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<ProcActionRequest>,
) -> ApiResult<Json<ProcActionReport>> {
    let fleet = state.store.fleet().await?;
    let targets = match (&req.filter, req.procs.is_empty()) {
        (Some(_), false) => {
            return Err(ApiError::invalid(
                "procs",
                "give either procs or a filter, not both",
            ));
        }
        (None, true) => {
            return Err(ApiError::invalid(
                "procs",
                "name the procs to act on, or give a filter",
            ));
        }
        (Some(filter), true) => select(&fleet, filter)?,
        (None, false) => {
            let mut targets = Vec::with_capacity(req.procs.len());
            for r in &req.procs {
                let host = fleet
                    .hosts
                    .iter()
                    .find(|h| h.settings.name == r.host)
                    .ok_or_else(|| ApiError::NotFound(format!("host {}", r.host)))?;
                let proc = fleet
                    .procs
                    .iter()
                    .find(|p| p.host == r.host && p.name == r.name)
                    .ok_or_else(|| ApiError::NotFound(format!("proc {} on {}", r.name, r.host)))?;
                targets.push((host.clone(), proc.clone()));
            }
            targets
        }
    };
    if targets.is_empty() {
        return Err(ApiError::NotFound("a proc matching the filter".into()));
    }
    Ok(Json(
        state
            .fleet
            .proc_action(&p.username, req.action, targets)
            .await,
    ))
}
