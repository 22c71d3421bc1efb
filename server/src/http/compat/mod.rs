//! Velociraptor's `/api/v1/` (SPEC §4): the subset its Python client and scripts use, in
//! Tastypie's shapes. Every handler reads VR's request with `vr_app::compat`, calls vr's own
//! handler (so checks, events and jobs are the same as the native API's) and answers in VR's
//! words. Authentication is VR's: HTTP Basic with a username and password (throttled as a
//! sign-in is) or an API token as the password; a bearer token works too.

mod auth;
mod catalog;
mod swarms;

use super::openapi::describe::Describe;
use super::openapi::{Access, Api};
use crate::state::AppState;
use axum::handler::Handler;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::BTreeMap;
use vr_app::compat::{Refused, resource};

use super::error::ApiError;

impl From<Refused> for ApiError {
    fn from(r: Refused) -> Self {
        ApiError::Invalid {
            field: Some(r.field),
            message: r.message,
        }
    }
}

/// Query parameters as VR's client sends them (repeated keys: the last wins).
type Params = BTreeMap<String, String>;

/// `status` with `body` and, for a created object, its `Location` (VR's client loads it).
fn answer<T: Serialize>(status: StatusCode, location: Option<&str>, body: &T) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    if let Some(loc) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    r
}

/// `/api/v1/{path}` with and without its last slash (VR's client always sends it; people
/// typing curl commands often do not).
fn both<H, T, M>(api: Api, method: Method, path: &str, summary: &'static str, handler: H) -> Api
where
    H: Handler<T, AppState> + Describe<M> + Clone,
    T: 'static,
{
    let with = format!("{}{path}/", vr_app::compat::PREFIX);
    let without = format!("{}{path}", vr_app::compat::PREFIX);
    api.route(method.clone(), &with, summary, handler.clone())
        .route(method, &without, summary, handler)
}

/// [`both`], answering `T` with `status`.
fn both_returning<R: schemars::JsonSchema, H, T, M>(
    api: Api,
    method: Method,
    path: &str,
    summary: &'static str,
    handler: H,
    status: u16,
) -> Api
where
    H: Handler<T, AppState> + Describe<M> + Clone,
    T: 'static,
{
    let with = format!("{}{path}/", vr_app::compat::PREFIX);
    let without = format!("{}{path}", vr_app::compat::PREFIX);
    api.route(method.clone(), &with, summary, handler.clone())
        .returns::<R>(status)
        .route(method, &without, summary, handler)
        .returns::<R>(status)
}

pub fn routes(state: AppState) -> Api {
    use vr_app::compat::{
        DispatchAccepted, List, VrApp, VrBuild, VrHost, VrIngredient, VrRelease, VrSquad, VrSwarm,
        VrTestRun,
    };
    let swarm = format!("{}/{{id}}", resource::SWARMS);
    let build = format!("{}/{{id}}", resource::BUILDS);
    let release = format!("{}/{{id}}", resource::RELEASES);
    let api = Api::new(Access::Basic);
    let api = both_returning::<List<VrSwarm>, _, _, _>(
        api,
        Method::GET,
        resource::SWARMS,
        "VR: swarms, filtered as VR's client asks",
        swarms::list,
        200,
    );
    let api = both_returning::<VrSwarm, _, _, _>(
        api,
        Method::POST,
        resource::SWARMS,
        "VR: add a swarm from VR's fields",
        swarms::create,
        201,
    );
    let api = both_returning::<VrSwarm, _, _, _>(
        api,
        Method::GET,
        &swarm,
        "VR: one swarm with its procs",
        swarms::detail,
        200,
    );
    let api = both_returning::<VrSwarm, _, _, _>(
        api,
        Method::PATCH,
        &swarm,
        "VR: change a swarm's version, squad, size, ingredients…",
        swarms::patch,
        202,
    );
    let api = both(
        api,
        Method::DELETE,
        &swarm,
        "VR: delete a swarm (its procs stay, as orphans)",
        swarms::delete,
    );
    let api = both_returning::<DispatchAccepted, _, _, _>(
        api,
        Method::POST,
        &format!("{swarm}/swarm"),
        "VR: dispatch a swarm",
        swarms::dispatch,
        202,
    );
    let api = both_returning::<List<VrBuild>, _, _, _>(
        api,
        Method::GET,
        resource::BUILDS,
        "VR: builds",
        catalog::builds,
        200,
    );
    let api = both_returning::<VrBuild, _, _, _>(
        api,
        Method::POST,
        resource::BUILDS,
        "VR: build an app at a tag",
        catalog::create_build,
        201,
    );
    let api = both_returning::<VrBuild, _, _, _>(
        api,
        Method::GET,
        &build,
        "VR: one build",
        catalog::build,
        200,
    );
    let api = both_returning::<VrBuild, _, _, _>(
        api,
        Method::POST,
        &format!("{build}/build"),
        "VR: start a build (one under way or done is kept)",
        catalog::start_build,
        202,
    );
    let api = both_returning::<List<VrRelease>, _, _, _>(
        api,
        Method::GET,
        resource::RELEASES,
        "VR: releases",
        catalog::releases,
        200,
    );
    let api = both_returning::<VrRelease, _, _, _>(
        api,
        Method::GET,
        &release,
        "VR: one release",
        catalog::release,
        200,
    );
    let api = both_returning::<catalog::DeployAccepted, _, _, _>(
        api,
        Method::POST,
        &format!("{release}/deploy"),
        "VR: deploy one proc of a release",
        catalog::deploy,
        202,
    );
    let api = both_returning::<List<VrApp>, _, _, _>(
        api,
        Method::GET,
        resource::APPS,
        "VR: apps",
        catalog::apps,
        200,
    );
    let api = both_returning::<VrApp, _, _, _>(
        api,
        Method::GET,
        &format!("{}/{{name}}", resource::APPS),
        "VR: one app",
        catalog::app,
        200,
    );
    let api = both_returning::<List<VrSquad>, _, _, _>(
        api,
        Method::GET,
        resource::SQUADS,
        "VR: squads",
        catalog::squads,
        200,
    );
    let api = both_returning::<VrSquad, _, _, _>(
        api,
        Method::GET,
        &format!("{}/{{key}}", resource::SQUADS),
        "VR: one squad, by id or name",
        catalog::squad,
        200,
    );
    let api = both_returning::<List<VrHost>, _, _, _>(
        api,
        Method::GET,
        resource::HOSTS,
        "VR: hosts with their procs",
        catalog::hosts,
        200,
    );
    let api = both_returning::<VrHost, _, _, _>(
        api,
        Method::GET,
        &format!("{}/{{name}}", resource::HOSTS),
        "VR: one host with its procs",
        catalog::host,
        200,
    );
    let api = both_returning::<List<VrIngredient>, _, _, _>(
        api,
        Method::GET,
        resource::INGREDIENTS,
        "VR: ingredients",
        catalog::ingredients,
        200,
    );
    let api = both_returning::<VrIngredient, _, _, _>(
        api,
        Method::GET,
        &format!("{}/{{key}}", resource::INGREDIENTS),
        "VR: one ingredient, by id or name",
        catalog::ingredient,
        200,
    );
    let api = both_returning::<VrTestRun, _, _, _>(
        api,
        Method::GET,
        &format!("{}/latest", resource::TESTRUNS),
        "VR: the newest uptest results",
        catalog::latest_testrun,
        200,
    );
    api.map_router(|r| r.route_layer(middleware::from_fn_with_state(state, auth::authenticate)))
}
