//! The fleet snapshot, procs, their logs, and proc actions.

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::principal::Principal;
use crate::fleet::select::select;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use vr_app::fleet::{
    Fleet, Host, LogChunk, LogQuery, Proc, ProcAction, ProcActionReport, ProcActionRequest,
    ProcDetail, ProcFilter,
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
        chunk.text = vr_app::secret::redact(&chunk.text, &r.config.secret_values());
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
    let mut report = act_draining(&state, &p.username, req.action, targets.clone()).await?;
    // A started proc goes back into its pool only once its uptests pass.
    if matches!(req.action, ProcAction::Start | ProcAction::Restart) {
        for r in report.results.iter_mut().filter(|r| r.ok) {
            let Some((host, proc)) = targets
                .iter()
                .find(|(h, p)| h.settings.name == r.host && p.name == r.name)
            else {
                continue;
            };
            if proc.meta.as_ref().and_then(|m| m.swarm_id).is_none() {
                continue;
            }
            match state.deploys.uptest_proc(host, &proc.name).await? {
                Some(Ok(_)) => {
                    if let Some(pool) = state.pools.restore(host, proc).await? {
                        r.message.push_str(&format!(
                            "\nuptests passed; back in its pool. {}",
                            pool.describe()
                        ));
                    }
                }
                Some(Err(why)) => {
                    r.message.push_str(&format!(
                        "\nuptests failed, so it stays out of its pool: {why}"
                    ));
                }
                None => {}
            }
        }
    }
    Ok(Json(report))
}

/// Runs `action` on `targets`; when it stops procs, the routed ones leave their pools (and
/// drain) first, and each one's drain line goes before what the action said of it.
pub(super) async fn act_draining(
    state: &AppState,
    actor: &str,
    action: ProcAction,
    targets: Vec<(Host, Proc)>,
) -> ApiResult<ProcActionReport> {
    let drained = if matches!(
        action,
        ProcAction::Stop | ProcAction::Restart | ProcAction::Destroy
    ) {
        state.pools.drain(&targets).await?
    } else {
        Vec::new()
    };
    let mut report = state.fleet.proc_action(actor, action, targets).await;
    for r in report.results.iter_mut() {
        if let Some(d) = drained
            .iter()
            .find(|d| d.starts_with(&format!("{} ", r.name)))
        {
            r.message = format!("{d}\n{}", r.message);
        }
    }
    Ok(report)
}
