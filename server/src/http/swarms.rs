//! Swarms and their dispatches. Dispatching runs as a job (`jobs::Dispatches`); handlers queue
//! it and read its record.

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::principal::Principal;
use crate::clock::now_ms;
use crate::state::AppState;
use crate::swarms;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use vr_app::api::{LiveMessage, Outcome};
use vr_app::release::ReleasePreview;
use vr_app::swarm::{
    DeleteQuery, Dispatch, DispatchQuery, DispatchRequest, PreviewQuery, RollbackRequest,
    SaveQuery, Swarm, SwarmSpec,
};

fn swarms_changed(state: &AppState) {
    let _ = state.live.send(LiveMessage::Swarms);
}

pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<Swarm>>> {
    let fleet = state.store.fleet().await?;
    let mut out = Vec::new();
    for row in state.store.list_swarms().await? {
        out.push(swarms::view(row, &fleet).await?);
    }
    Ok(Json(out))
}

pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Swarm>> {
    let fleet = state.store.fleet().await?;
    Ok(Json(
        swarms::view(state.store.swarm(id).await?, &fleet).await?,
    ))
}

pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<SaveQuery>,
    ApiJson(spec): ApiJson<SwarmSpec>,
) -> ApiResult<(StatusCode, Json<Swarm>)> {
    let (spec, taken) = swarms::check_saving(&state.store, spec, None, q.take_pool).await?;
    let row = state
        .store
        .create_swarm(spec, p.username.clone(), now_ms())
        .await?;
    take_pool_over(&state, &p, &row, taken).await?;
    let swarm = swarms::view(row, &state.store.fleet().await?).await?;
    state
        .record(
            &p.username,
            "swarm.create",
            &format!("swarm:{}", swarm.name),
            Outcome::Ok,
            &format!(
                "{} × {} on squad {} at {}",
                swarm.spec.size, swarm.spec.proc_type, swarm.spec.squad, swarm.spec.version
            ),
        )
        .await;
    swarms_changed(&state);
    Ok((StatusCode::CREATED, Json(swarm)))
}

/// What a dispatch's release step would make of `spec` now: each settings and env key with the
/// layer it comes from (secret values masked). Checked as saving it would be; changes nothing.
pub async fn preview(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PreviewQuery>,
    ApiJson(spec): ApiJson<SwarmSpec>,
) -> ApiResult<Json<ReleasePreview>> {
    let current = match q.id {
        Some(id) => Some(state.store.swarm(id).await?),
        None => None,
    };
    let (spec, _) = swarms::check_saving(&state.store, spec, current.as_ref(), true).await?;
    let build = swarms::preview_build(&state.store, &spec, current.as_ref())
        .await?
        .ok_or_else(|| ApiError::Conflict {
            field: Some("app".into()),
            message: format!(
                "{} has no successful build yet to preview with: the swarm's first dispatch builds it",
                spec.app
            ),
        })?;
    let mut preview = crate::releases::resolve(&state.store, &spec.release_request(build))
        .await?
        .0;
    vr_app::secret::mask_preview(&mut preview);
    Ok(Json(preview))
}

/// Replaces the swarm's settings; it changes nothing on hosts until it is dispatched.
pub async fn replace(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<SaveQuery>,
    ApiJson(spec): ApiJson<SwarmSpec>,
) -> ApiResult<Json<Swarm>> {
    let current = state.store.swarm(id).await?;
    let (spec, taken) =
        swarms::check_saving(&state.store, spec, Some(&current), q.take_pool).await?;
    let row = state.store.update_swarm(id, spec, now_ms()).await?;
    take_pool_over(&state, &p, &row, taken).await?;
    let swarm = swarms::view(row, &state.store.fleet().await?).await?;
    state
        .record(
            &p.username,
            "swarm.edit",
            &format!("swarm:{}", swarm.name),
            Outcome::Ok,
            &format!("swarm #{id}"),
        )
        .await;
    swarms_changed(&state);
    Ok(Json(swarm))
}

/// The swarm `taken` from loses its pool to `row` (the operator confirmed the takeover).
async fn take_pool_over(
    state: &AppState,
    p: &Principal,
    row: &crate::store::SwarmRow,
    taken: Option<crate::store::SwarmRow>,
) -> ApiResult<()> {
    let Some(owner) = taken else {
        return Ok(());
    };
    let name = owner.spec.name();
    swarms::release_pool(&state.store, owner, now_ms()).await?;
    state
        .record(
            &p.username,
            "swarm.edit",
            &format!("swarm:{name}"),
            Outcome::Ok,
            &format!(
                "pool {} on {} taken over by swarm {}",
                row.spec.pool.as_deref().unwrap_or(""),
                row.spec.balancer.as_deref().unwrap_or(""),
                row.spec.name()
            ),
        )
        .await;
    Ok(())
}

/// Deletes the swarm; its procs stay where they are (they become orphans).
pub async fn delete(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DeleteQuery>,
) -> ApiResult<StatusCode> {
    let row = state.store.swarm(id).await?;
    let detail = if q.take_down {
        let n = take_down(&state, &p, id).await?;
        format!("swarm #{id}; its {n} proc(s) were drained and destroyed")
    } else {
        format!("swarm #{id}; its procs were left running (listed as orphans)")
    };
    state.store.delete_swarm(id).await?;
    state
        .record(
            &p.username,
            "swarm.delete",
            &format!("swarm:{}", row.spec.name()),
            Outcome::Ok,
            &detail,
        )
        .await;
    swarms_changed(&state);
    Ok(StatusCode::NO_CONTENT)
}

/// Drains and destroys every proc of swarm `id`; how many. If one could not be destroyed the
/// swarm is kept (409 naming it), so nothing it made is left without an owner by accident.
async fn take_down(state: &AppState, p: &Principal, id: i64) -> ApiResult<usize> {
    // Refused before anything is destroyed, as the delete itself would be.
    let newest = state.store.list_dispatches(Some(id), 20).await?;
    if newest.iter().any(|d| d.status.in_flight()) {
        return Err(super::error::ApiError::Conflict {
            field: None,
            message: format!(
                "swarm {id} has a dispatch in flight: cancel it or wait for it to end"
            ),
        });
    }
    let fleet = state.store.fleet().await?;
    let targets: Vec<(vr_app::fleet::Host, vr_app::fleet::Proc)> = fleet
        .procs
        .iter()
        .filter(|pr| pr.meta.as_ref().and_then(|m| m.swarm_id) == Some(id))
        .filter_map(|pr| {
            let host = fleet.hosts.iter().find(|h| h.settings.name == pr.host)?;
            Some((host.clone(), pr.clone()))
        })
        .collect();
    let n = targets.len();
    if n == 0 {
        return Ok(0);
    }
    let report = super::procs::act_draining(
        state,
        &p.username,
        vr_app::fleet::ProcAction::Destroy,
        targets,
    )
    .await?;
    let bad: Vec<String> = report
        .results
        .iter()
        .filter(|r| !r.ok)
        .map(|r| format!("{} on {}: {}", r.name, r.host, r.message))
        .collect();
    if !bad.is_empty() {
        return Err(super::error::ApiError::Conflict {
            field: None,
            message: format!(
                "the swarm was kept: {} of its {n} proc(s) could not be taken down: {}",
                bad.len(),
                bad.join("; ")
            ),
        });
    }
    Ok(n)
}

/// 202: the dispatch is queued; its steps arrive as live `Dispatch` messages.
pub async fn dispatch(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<DispatchRequest>,
) -> ApiResult<(StatusCode, Json<Dispatch>)> {
    let d = state.dispatches.request(&p.username, id, req).await?;
    Ok((StatusCode::ACCEPTED, Json(d)))
}

/// 202: the rollback's dispatch is queued.
pub async fn rollback(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<RollbackRequest>,
) -> ApiResult<(StatusCode, Json<Dispatch>)> {
    let d = state.dispatches.rollback(&p.username, id, req).await?;
    swarms_changed(&state);
    Ok((StatusCode::ACCEPTED, Json(d)))
}

pub async fn list_dispatches(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DispatchQuery>,
) -> ApiResult<Json<Vec<Dispatch>>> {
    Ok(Json(
        state
            .dispatches
            .list(q.swarm, q.limit.unwrap_or(100))
            .await?,
    ))
}

pub async fn get_dispatch(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Dispatch>> {
    Ok(Json(state.dispatches.get(id).await?))
}

pub async fn cancel(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Dispatch>> {
    Ok(Json(state.dispatches.cancel(&p.username, id).await?))
}
