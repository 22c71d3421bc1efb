//! Balancers and their pools. Creating, editing and deleting one needs an admin (its validate
//! and reload commands run on its hosts); re-applying a pool needs a deployer.

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath};
use super::principal::Principal;
use crate::clock::now_ms;
use crate::state::AppState;
use crate::store::StoreError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use vr_app::api::{LiveMessage, Outcome};
use vr_app::balancer::{Balancer, BalancerSpec};
use vr_app::validate::Invalid;

fn balancers_changed(state: &AppState) {
    let _ = state.live.send(LiveMessage::Balancers);
}

/// Fills in which swarm routes each pool.
async fn with_owners(state: &AppState, mut list: Vec<Balancer>) -> ApiResult<Vec<Balancer>> {
    let swarms = state.store.list_swarms().await?;
    for b in &mut list {
        for p in &mut b.pools {
            p.swarm =
                crate::swarms::pool_owner(&swarms, &b.spec.name, &p.pool).map(|s| s.spec.name());
        }
    }
    Ok(list)
}

async fn one(state: &AppState, name: String) -> ApiResult<Balancer> {
    let b = state.store.balancer(name).await?;
    Ok(with_owners(state, vec![b]).await?.remove(0))
}

/// Checks the spec and that every host it names is one vr knows.
async fn check(state: &AppState, spec: &BalancerSpec) -> ApiResult<()> {
    spec.validate()?;
    for h in &spec.hosts {
        if let Err(StoreError::NotFound { .. }) = state.store.host(h.clone()).await {
            return Err(Invalid::new(
                "hosts",
                format!("there is no host {h}; add it under Hosts first"),
            )
            .into());
        }
    }
    Ok(())
}

pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<Balancer>>> {
    let list = state.store.list_balancers().await?;
    Ok(Json(with_owners(&state, list).await?))
}

pub async fn get(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<Balancer>> {
    Ok(Json(one(&state, name).await?))
}

pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(spec): ApiJson<BalancerSpec>,
) -> ApiResult<(StatusCode, Json<Balancer>)> {
    check(&state, &spec).await?;
    let b = state
        .store
        .create_balancer(spec, p.username.clone(), now_ms())
        .await?;
    state
        .record(
            &p.username,
            "balancer.create",
            &format!("balancer:{}", b.spec.name),
            Outcome::Ok,
            &format!("{} on {}", b.spec.kind.as_str(), b.spec.hosts.join(", ")),
        )
        .await;
    balancers_changed(&state);
    Ok((StatusCode::CREATED, Json(one(&state, b.spec.name).await?)))
}

pub async fn replace(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
    ApiJson(spec): ApiJson<BalancerSpec>,
) -> ApiResult<Json<Balancer>> {
    check(&state, &spec).await?;
    if spec.name != name {
        refuse_if_routed(&state, &name, "renamed").await?;
    }
    let b = state.store.update_balancer(name, spec, now_ms()).await?;
    state
        .record(
            &p.username,
            "balancer.edit",
            &format!("balancer:{}", b.spec.name),
            Outcome::Ok,
            &format!("{} on {}", b.spec.kind.as_str(), b.spec.hosts.join(", ")),
        )
        .await;
    balancers_changed(&state);
    Ok(Json(one(&state, b.spec.name).await?))
}

/// A balancer a swarm routes to cannot go (or change name) under it.
async fn refuse_if_routed(state: &AppState, name: &str, what: &str) -> ApiResult<()> {
    let swarms = state.store.list_swarms().await?;
    if let Some(s) = swarms
        .iter()
        .find(|s| s.spec.balancer.as_deref() == Some(name))
    {
        return Err(ApiError::Conflict {
            field: None,
            message: format!(
                "swarm {} routes pool {} on balancer {name}, so it cannot be {what}: change \
                 that swarm's pool first",
                s.spec.name(),
                s.spec.pool.as_deref().unwrap_or("")
            ),
        });
    }
    Ok(())
}

pub async fn delete(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    refuse_if_routed(&state, &name, "deleted").await?;
    state.store.delete_balancer(name.clone()).await?;
    state
        .record(
            &p.username,
            "balancer.delete",
            &format!("balancer:{name}"),
            Outcome::Ok,
            "its pool files were left on its hosts",
        )
        .await;
    balancers_changed(&state);
    Ok(StatusCode::NO_CONTENT)
}

/// Writes the pool's recorded nodes to every balancer host again; answers the balancer with
/// each host's result.
pub async fn reapply(
    State(state): State<AppState>,
    p: Principal,
    ApiPath((name, pool)): ApiPath<(String, String)>,
) -> ApiResult<Json<Balancer>> {
    let report = state.pools.reapply(&name, &pool).await?;
    let ok = !report.refused() && report.behind().is_empty();
    state
        .record(
            &p.username,
            "pool.apply",
            &format!("balancer:{name}"),
            if ok { Outcome::Ok } else { Outcome::Failed },
            &report.describe(),
        )
        .await;
    Ok(Json(one(&state, name).await?))
}
