//! `/api/v1/swarms/`: list with VR's filters, create, detail, PATCH, delete, and
//! `swarm/` (dispatch) — each through vr's own swarm handlers and dispatch job.

use super::{Params, answer};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::principal::Principal;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use vr_app::compat::{
    self, DispatchAccepted, SWARM_FILTERS, SwarmChanges, SwarmFilter, VrSwarm, resource,
};
use vr_app::fleet::Fleet;
use vr_app::swarm::{DeleteQuery, DispatchRequest, Placement, SaveQuery, Swarm, SwarmSpec};

/// What turns native swarms into VR's: squad ids, ingredient ids, the snapshot.
struct Context {
    squads: BTreeMap<String, i64>,
    ingredients: BTreeMap<String, i64>,
    fleet: Fleet,
}

impl Context {
    async fn load(state: &AppState) -> ApiResult<Context> {
        let fleet = state.store.fleet().await?;
        Ok(Context {
            squads: fleet
                .squads
                .iter()
                .map(|s| (s.name.clone(), s.id))
                .collect(),
            ingredients: state
                .store
                .list_ingredients()
                .await?
                .into_iter()
                .map(|i| (i.name, i.id))
                .collect(),
            fleet,
        })
    }

    fn vr(&self, swarm: &Swarm) -> VrSwarm {
        let procs = self
            .fleet
            .procs
            .iter()
            .filter(|p| p.meta.as_ref().and_then(|m| m.swarm_id) == Some(swarm.id))
            .map(|p| {
                let host = self.fleet.hosts.iter().find(|h| h.settings.name == p.host);
                compat::vr_proc(p, host)
            })
            .collect();
        compat::vr_swarm(
            swarm,
            self.squads.get(&swarm.spec.squad).copied(),
            &self.ingredients,
            procs,
        )
    }

    /// `changes` with their squad and ingredients named as vr names them.
    fn resolve(&self, mut changes: SwarmChanges) -> ApiResult<SwarmChanges> {
        if let Some(squad) = &changes.squad {
            changes.squad = Some(name_of(&self.squads, squad, "squad", "squad")?);
        }
        if let Some(list) = &changes.ingredients {
            changes.ingredients = Some(
                list.iter()
                    .map(|k| name_of(&self.ingredients, k, "ingredients", "ingredient"))
                    .collect::<ApiResult<_>>()?,
            );
        }
        Ok(changes)
    }
}

/// The name `key` (an id or a name) stands for among `ids` (name → id).
fn name_of(ids: &BTreeMap<String, i64>, key: &str, field: &str, what: &str) -> ApiResult<String> {
    let pairs: Vec<(&String, &i64)> = ids.iter().collect();
    compat::by_key(&pairs, key, |(_, id)| **id, |(name, _)| name.as_str())
        .map(|(name, _)| (*name).clone())
        .ok_or_else(|| ApiError::invalid(field, format!("there is no {what} {key}")))
}

async fn view(state: &AppState, ctx: &Context, id: i64) -> ApiResult<VrSwarm> {
    let swarm = crate::swarms::view(state.store.swarm(id).await?, &ctx.fleet).await?;
    Ok(ctx.vr(&swarm))
}

pub async fn list(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<Params>,
) -> ApiResult<Response> {
    let page = compat::page_of(&params, &SWARM_FILTERS)?;
    let filter = SwarmFilter::from_params(&params)?;
    let ctx = Context::load(&state).await?;
    let mut out = Vec::new();
    for row in state.store.list_swarms().await? {
        if filter.keeps(&row.spec, ctx.squads.get(&row.spec.squad).copied()) {
            out.push(ctx.vr(&crate::swarms::view(row, &ctx.fleet).await?));
        }
    }
    out.sort_by(|a, b| a.shortname.cmp(&b.shortname).then(a.id.cmp(&b.id)));
    let path = format!("{}{}/", compat::PREFIX, resource::SWARMS);
    Ok(answer(
        StatusCode::OK,
        None,
        &compat::list(out, page, &path, &params),
    ))
}

pub async fn detail(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let ctx = Context::load(&state).await?;
    Ok(answer(StatusCode::OK, None, &view(&state, &ctx, id).await?))
}

pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let changes = compat::swarm_changes(&body)?;
    changes.check_complete()?;
    let ctx = Context::load(&state).await?;
    // VR's swarms were spread web procs; workers are made with vr's own API (one-per-host).
    let mut spec = SwarmSpec {
        uses_ports: true,
        placement: Placement::Spread,
        ..SwarmSpec::default()
    };
    ctx.resolve(changes)?.apply(&mut spec);
    let (_, axum::Json(created)) = crate::http::swarms::create(
        State(state.clone()),
        p,
        ApiQuery(SaveQuery::default()),
        ApiJson(spec),
    )
    .await?;
    // Saving changed no squad, ingredient or proc: the context read before still holds.
    let vr = ctx.vr(&created);
    Ok(answer(StatusCode::CREATED, Some(&vr.resource_uri), &vr))
}

pub async fn patch(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let changes = compat::swarm_changes(&body)?;
    let ctx = Context::load(&state).await?;
    let mut spec = state.store.swarm(id).await?.spec;
    ctx.resolve(changes)?.apply(&mut spec);
    let axum::Json(saved) = crate::http::swarms::replace(
        State(state.clone()),
        p,
        ApiPath(id),
        ApiQuery(SaveQuery::default()),
        ApiJson(spec),
    )
    .await?;
    Ok(answer(StatusCode::ACCEPTED, None, &ctx.vr(&saved)))
}

pub async fn delete(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DeleteQuery>,
) -> ApiResult<StatusCode> {
    crate::http::swarms::delete(State(state), p, ApiPath(id), ApiQuery(q)).await
}

/// 202: vr's durable dispatch of the swarm as it is saved (VR's client PATCHes first).
pub async fn dispatch(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let d = state
        .dispatches
        .request(&p.username, id, DispatchRequest::default())
        .await?;
    Ok(answer(
        StatusCode::ACCEPTED,
        Some(&vr_app::swarm::paths::dispatch(d.id)),
        &DispatchAccepted {
            swarm_id: d.id,
            dispatch_uri: vr_app::swarm::paths::dispatch(d.id),
        },
    ))
}
