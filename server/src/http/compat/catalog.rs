//! `/api/v1/` apps, squads, hosts (with their procs), ingredients, builds (create and start),
//! releases (and their `deploy/`), and `testruns/latest`: vr's records in VR's shapes.

use super::{Params, answer};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::principal::Principal;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde_json::{Map, Value};
use vr_app::build::{BuildQuery, BuildRequest};
use vr_app::compat::{self, resource};
use vr_app::deploy::UptestQuery;
use vr_app::release::{Release, ReleaseQuery};

/// One page of `all` at `/api/v1/{res}/`, the query checked against `filters`.
fn page<T: Serialize>(
    all: Vec<T>,
    res: &str,
    params: &Params,
    filters: &[&str],
) -> ApiResult<Response> {
    let page = compat::page_of(params, filters)?;
    let path = format!("{}{res}/", compat::PREFIX);
    Ok(answer(
        StatusCode::OK,
        None,
        &compat::list(all, page, &path, params),
    ))
}

/// The value of filter `key`, when given and not empty.
fn filter<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
    params.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn ok<T: Serialize>(body: &T) -> ApiResult<Response> {
    Ok(answer(StatusCode::OK, None, body))
}

pub async fn apps(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<Params>,
) -> ApiResult<Response> {
    let axum::Json(all) = crate::http::apps::list_apps(State(state)).await?;
    let name = filter(&params, "name");
    let out = all
        .iter()
        .filter(|a| name.is_none_or(|n| n == a.name))
        .map(compat::vr_app)
        .collect();
    page(out, resource::APPS, &params, &["name"])
}

pub async fn app(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Response> {
    let axum::Json(app) = crate::http::apps::get_app(State(state), ApiPath(name)).await?;
    ok(&compat::vr_app(&app))
}

pub async fn squads(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<Params>,
) -> ApiResult<Response> {
    let name = filter(&params, "name");
    let out = state
        .store
        .list_squads()
        .await?
        .iter()
        .filter(|s| name.is_none_or(|n| n == s.name))
        .map(compat::vr_squad)
        .collect();
    page(out, resource::SQUADS, &params, &["name"])
}

/// A squad by id (as its resource URI names it) or by name.
pub async fn squad(
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Response> {
    let all = state.store.list_squads().await?;
    let found = compat::by_key(&all, &key, |s| s.id, |s| &s.name)
        .ok_or_else(|| ApiError::NotFound(format!("squad {key}")))?;
    ok(&compat::vr_squad(found))
}

pub async fn hosts(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<Params>,
) -> ApiResult<Response> {
    let fleet = state.store.fleet().await?;
    let squad = filter(&params, "squad__name");
    let squad_id = |name: &Option<String>| {
        fleet
            .squads
            .iter()
            .find(|s| Some(&s.name) == name.as_ref())
            .map(|s| s.id)
    };
    let out = fleet
        .hosts
        .iter()
        .filter(|h| squad.is_none_or(|s| h.settings.squad.as_deref() == Some(s)))
        .map(|h| compat::vr_host(h, squad_id(&h.settings.squad), &fleet.procs))
        .collect();
    page(out, resource::HOSTS, &params, &["squad__name"])
}

pub async fn host(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Response> {
    let fleet = state.store.fleet().await?;
    let h = fleet
        .hosts
        .iter()
        .find(|h| h.settings.name == name)
        .ok_or_else(|| ApiError::NotFound(format!("host {name}")))?;
    let squad_id = fleet
        .squads
        .iter()
        .find(|s| Some(&s.name) == h.settings.squad.as_ref())
        .map(|s| s.id);
    ok(&compat::vr_host(h, squad_id, &fleet.procs))
}

/// Every ingredient (secret values masked) with the ids of the swarms that use it.
async fn vr_ingredients(state: &AppState) -> ApiResult<Vec<compat::VrIngredient>> {
    let axum::Json(all) = crate::http::releases::list_ingredients(State(state.clone())).await?;
    let swarms = state.store.list_swarms().await?;
    let by_name =
        compat::swarms_by_ingredient(&swarms.iter().map(|s| (s.id, &s.spec)).collect::<Vec<_>>());
    Ok(all
        .iter()
        .map(|i| {
            let ids: Vec<i64> = by_name
                .get(&i.name)
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default();
            compat::vr_ingredient(i, &ids)
        })
        .collect())
}

pub async fn ingredients(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<Params>,
) -> ApiResult<Response> {
    let name = filter(&params, "name");
    let out = vr_ingredients(&state)
        .await?
        .into_iter()
        .filter(|i| name.is_none_or(|n| n == i.name))
        .collect();
    page(out, resource::INGREDIENTS, &params, &["name"])
}

/// An ingredient by id (as its resource URI names it) or by name.
pub async fn ingredient(
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Response> {
    let all = vr_ingredients(&state).await?;
    let found = compat::by_key(&all, &key, |i| i.id, |i| &i.name)
        .ok_or_else(|| ApiError::NotFound(format!("ingredient {key}")))?;
    ok(found)
}

pub async fn builds(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<Params>,
) -> ApiResult<Response> {
    let q = BuildQuery {
        app: filter(&params, "app__name").map(str::to_string),
        limit: Some(1000),
    };
    let axum::Json(all) = crate::http::apps::list_builds(State(state), ApiQuery(q)).await?;
    let out = all.iter().map(compat::vr_build).collect();
    page(out, resource::BUILDS, &params, &["app__name"])
}

pub async fn build(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let axum::Json(b) = crate::http::apps::get_build(State(state), ApiPath(id)).await?;
    ok(&compat::vr_build(&b))
}

/// `POST /api/v1/builds/` (`app`, `tag`): vr starts the build at once (or joins the one of the
/// same commit), so the `build/` VR's client posts next finds it under way.
pub async fn create_build(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let req = compat::build_request(&body)?;
    let (_, axum::Json(b)) = crate::http::apps::start_build(State(state), p, ApiJson(req)).await?;
    let vr = compat::vr_build(&b);
    Ok(answer(StatusCode::CREATED, Some(&vr.resource_uri), &vr))
}

/// `POST /api/v1/builds/{id}/build/`, 202: a build under way or done is left as it is; a failed
/// or expired one is built again (same app and version).
pub async fn start_build(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let b = state.store.build(id).await?;
    let b = if b.status.in_progress() || b.status == vr_app::build::BuildStatus::Succeeded {
        b
    } else {
        let req = BuildRequest {
            app: b.app,
            version: b.version,
            force: true,
            stack: b.stack.map(|s| s.name),
        };
        crate::http::apps::start_build(State(state), p, ApiJson(req))
            .await?
            .1
            .0
    };
    let vr = compat::vr_build(&b);
    Ok(answer(StatusCode::ACCEPTED, Some(&vr.resource_uri), &vr))
}

fn yaml_text<T: Serialize>(value: &T) -> ApiResult<String> {
    serde_yaml_ng::to_string(value).map_err(|e| ApiError::Internal(format!("rendering YAML: {e}")))
}

/// `release` (masked) as VR shows it: its settings and env as YAML.
fn vr_release(release: &Release) -> ApiResult<compat::VrRelease> {
    Ok(compat::vr_release(
        release,
        yaml_text(&release.config.settings)?,
        yaml_text(&release.config.env)?,
    ))
}

pub async fn releases(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<Params>,
) -> ApiResult<Response> {
    let q = ReleaseQuery {
        app: filter(&params, "app__name").map(str::to_string),
        limit: Some(1000),
    };
    let axum::Json(all) = crate::http::releases::list_releases(State(state), ApiQuery(q)).await?;
    let out = all.iter().map(vr_release).collect::<ApiResult<Vec<_>>>()?;
    page(out, resource::RELEASES, &params, &["app__name"])
}

pub async fn release(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let axum::Json(r) = crate::http::releases::get_release(State(state), ApiPath(id)).await?;
    ok(&vr_release(&r)?)
}

/// The answer to `POST /api/v1/releases/{id}/deploy/` (202).
#[derive(Serialize, schemars::JsonSchema)]
pub struct DeployAccepted {
    deploy_id: i64,
    deploy_uri: String,
}

/// `POST /api/v1/releases/{id}/deploy/` (`host`, `port`, `proc`, `config_name`), 202: vr's
/// deploy job (port checked, build copied, uptests before it counts as done).
pub async fn deploy(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let req = compat::deploy_request(id, &body)?;
    let (_, axum::Json(d)) = crate::http::deploys::start(State(state), p, ApiJson(req)).await?;
    let uri = vr_app::deploy::paths::deploy(d.id);
    Ok(answer(
        StatusCode::ACCEPTED,
        Some(&uri),
        &DeployAccepted {
            deploy_id: d.id,
            deploy_uri: uri.clone(),
        },
    ))
}

/// `GET /api/v1/testruns/latest/`: the newest uptest result of every proc.
pub async fn latest_testrun(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<Params>,
) -> ApiResult<Response> {
    compat::page_of(&params, &[])?;
    let results = state.store.uptests(UptestQuery::default()).await?;
    ok(&compat::vr_testrun(&results))
}
