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
/// typing curl commands often do not); `then` completes each one's record.
fn both<H, T, M>(
    api: Api,
    method: Method,
    path: &str,
    summary: &'static str,
    handler: H,
    then: impl Fn(Api) -> Api,
) -> Api
where
    H: Handler<T, AppState> + Describe<M> + Clone,
    T: 'static,
{
    let with = format!("{}{path}/", vr_app::compat::PREFIX);
    let without = format!("{}{path}", vr_app::compat::PREFIX);
    let api = then(api.route(method.clone(), &with, summary, handler.clone()));
    then(api.route(method, &without, summary, handler))
}

/// Completes a record: the handler answers `R` with `status`.
fn answers<R: schemars::JsonSchema>(status: u16) -> impl Fn(Api) -> Api {
    move |api| api.returns::<R>(status)
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
    let api = both(
        api,
        Method::GET,
        resource::SWARMS,
        "VR: swarms, filtered as VR's client asks",
        swarms::list,
        answers::<List<VrSwarm>>(200),
    );
    let api = both(
        api,
        Method::POST,
        resource::SWARMS,
        "VR: add a swarm from VR's fields",
        swarms::create,
        answers::<VrSwarm>(201),
    );
    let api = both(
        api,
        Method::GET,
        &swarm,
        "VR: one swarm with its procs",
        swarms::detail,
        answers::<VrSwarm>(200),
    );
    let api = both(
        api,
        Method::PATCH,
        &swarm,
        "VR: change a swarm's version, squad, size, ingredients…",
        swarms::patch,
        answers::<VrSwarm>(202),
    );
    let api = both(
        api,
        Method::DELETE,
        &swarm,
        "VR: delete a swarm (its procs stay, as orphans)",
        swarms::delete,
        |a| a,
    );
    let api = both(
        api,
        Method::POST,
        &format!("{swarm}/swarm"),
        "VR: dispatch a swarm",
        swarms::dispatch,
        answers::<DispatchAccepted>(202),
    );
    let api = both(
        api,
        Method::GET,
        resource::BUILDS,
        "VR: builds",
        catalog::builds,
        answers::<List<VrBuild>>(200),
    );
    let api = both(
        api,
        Method::POST,
        resource::BUILDS,
        "VR: build an app at a tag",
        catalog::create_build,
        answers::<VrBuild>(201),
    );
    let api = both(
        api,
        Method::GET,
        &build,
        "VR: one build",
        catalog::build,
        answers::<VrBuild>(200),
    );
    let api = both(
        api,
        Method::POST,
        &format!("{build}/build"),
        "VR: start a build (one under way or done is kept)",
        catalog::start_build,
        answers::<VrBuild>(202),
    );
    let api = both(
        api,
        Method::GET,
        resource::RELEASES,
        "VR: releases",
        catalog::releases,
        answers::<List<VrRelease>>(200),
    );
    let api = both(
        api,
        Method::GET,
        &release,
        "VR: one release",
        catalog::release,
        answers::<VrRelease>(200),
    );
    let api = both(
        api,
        Method::POST,
        &format!("{release}/deploy"),
        "VR: deploy one proc of a release",
        catalog::deploy,
        answers::<catalog::DeployAccepted>(202),
    );
    let api = both(
        api,
        Method::GET,
        resource::APPS,
        "VR: apps",
        catalog::apps,
        answers::<List<VrApp>>(200),
    );
    let api = both(
        api,
        Method::GET,
        &format!("{}/{{name}}", resource::APPS),
        "VR: one app",
        catalog::app,
        answers::<VrApp>(200),
    );
    let api = both(
        api,
        Method::GET,
        resource::SQUADS,
        "VR: squads",
        catalog::squads,
        answers::<List<VrSquad>>(200),
    );
    let api = both(
        api,
        Method::GET,
        &format!("{}/{{key}}", resource::SQUADS),
        "VR: one squad, by id or name",
        catalog::squad,
        answers::<VrSquad>(200),
    );
    let api = both(
        api,
        Method::GET,
        resource::HOSTS,
        "VR: hosts with their procs",
        catalog::hosts,
        answers::<List<VrHost>>(200),
    );
    let api = both(
        api,
        Method::GET,
        &format!("{}/{{name}}", resource::HOSTS),
        "VR: one host with its procs",
        catalog::host,
        answers::<VrHost>(200),
    );
    let api = both(
        api,
        Method::GET,
        resource::INGREDIENTS,
        "VR: ingredients",
        catalog::ingredients,
        answers::<List<VrIngredient>>(200),
    );
    let api = both(
        api,
        Method::GET,
        &format!("{}/{{key}}", resource::INGREDIENTS),
        "VR: one ingredient, by id or name",
        catalog::ingredient,
        answers::<VrIngredient>(200),
    );
    let api = both(
        api,
        Method::GET,
        &format!("{}/latest", resource::TESTRUNS),
        "VR: the newest uptest results",
        catalog::latest_testrun,
        answers::<VrTestRun>(200),
    );
    api.map_router(|r| r.route_layer(middleware::from_fn_with_state(state, auth::authenticate)))
}
