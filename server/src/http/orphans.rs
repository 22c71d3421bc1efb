//! Orphans: procs vr deployed for a swarm that no longer owns them (`vr_app::orphans`). Listing
//! reads the snapshot; cleaning drains them from any pool and destroys them, only those that
//! are orphans at that moment.

use super::error::{ApiError, ApiResult};
use super::extract::ApiJson;
use super::principal::Principal;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use vr_app::fleet::{Host, Proc, ProcAction, ProcActionReport};
use vr_app::orphans::{CleanRequest, Orphan, find};

async fn orphans(state: &AppState) -> ApiResult<(Vec<Orphan>, vr_app::fleet::Fleet)> {
    let fleet = state.store.fleet().await?;
    let swarms: Vec<(i64, vr_app::swarm::SwarmSpec)> = state
        .store
        .list_swarms()
        .await?
        .into_iter()
        .map(|s| (s.id, s.spec))
        .collect();
    Ok((find(&fleet.procs, &fleet.hosts, &swarms), fleet))
}

pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<Orphan>>> {
    Ok(Json(orphans(&state).await?.0))
}

/// Drains and destroys the orphans named (all of them when none is named); a named proc that
/// is not an orphan is refused, and nothing is done.
pub async fn clean(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<CleanRequest>,
) -> ApiResult<Json<ProcActionReport>> {
    let (all, fleet) = orphans(&state).await?;
    if let Some(r) = req
        .procs
        .iter()
        .find(|r| !all.iter().any(|o| o.host == r.host && o.name == r.name))
    {
        return Err(ApiError::Conflict {
            field: Some("procs".into()),
            message: format!(
                "{} on {} is not an orphan (its swarm owns it, or it is gone): nothing was cleaned",
                r.name, r.host
            ),
        });
    }
    let chosen: Vec<&Orphan> = all
        .iter()
        .filter(|o| {
            req.procs.is_empty()
                || req
                    .procs
                    .iter()
                    .any(|r| r.host == o.host && r.name == o.name)
        })
        .collect();
    let targets: Vec<(Host, Proc)> = chosen
        .iter()
        .filter_map(|o| {
            let host = fleet.hosts.iter().find(|h| h.settings.name == o.host)?;
            let proc = fleet
                .procs
                .iter()
                .find(|p| p.host == o.host && p.name == o.name)?;
            Some((host.clone(), proc.clone()))
        })
        .collect();
    if targets.is_empty() {
        return Ok(Json(ProcActionReport {
            batch: String::new(),
            results: Vec::new(),
        }));
    }
    let report =
        super::procs::act_draining(&state, &p.username, ProcAction::Destroy, targets).await?;
    Ok(Json(report))
}
