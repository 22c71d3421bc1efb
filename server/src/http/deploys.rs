//! Deploys of one proc. The work runs as a job (`jobs::Deploys`); handlers start it and read
//! its record.

use super::error::ApiResult;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::principal::Principal;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use vr_app::deploy::{DeployRequest, Deployment, UptestQuery, UptestResult};

#[derive(Debug, Default, serde::Deserialize, schemars::JsonSchema)]
pub struct ListQuery {
    #[serde(default)]
    limit: Option<u32>,
}

/// 202: the deploy runs; its steps arrive as live `Deploy` messages.
pub async fn start(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<DeployRequest>,
) -> ApiResult<(StatusCode, Json<Deployment>)> {
    let d = state.deploys.request(&p.username, req).await?;
    Ok((StatusCode::ACCEPTED, Json(d)))
}

pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<Deployment>>> {
    Ok(Json(state.deploys.list(q.limit.unwrap_or(100)).await?))
}

pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Deployment>> {
    Ok(Json(state.deploys.get(id).await?))
}

/// The latest uptest results, per proc.
pub async fn uptests(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<UptestQuery>,
) -> ApiResult<Json<Vec<UptestResult>>> {
    Ok(Json(state.store.uptests(q).await?))
}
