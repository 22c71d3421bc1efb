//! Velociraptor's `/api/v1/` (SPEC §4): the subset its Python client and scripts use, in
//! Tastypie's shapes. Every handler reads VR's request with `vr_app::compat`, calls vr's own
//! handler (so checks, events and jobs are the same as the native API's) and answers in VR's
//! words. Authentication is VR's: HTTP Basic with a username and password (throttled as a
//! sign-in is) or an API token as the password; a bearer token works too.

mod auth;
mod catalog;
mod swarms;

use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
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
fn both(r: Router<AppState>, path: &str, m: MethodRouter<AppState>) -> Router<AppState> {
    let with = format!("{}{path}/", vr_app::compat::PREFIX);
    let without = format!("{}{path}", vr_app::compat::PREFIX);
    r.route(&with, m.clone()).route(&without, m)
}

pub fn routes(state: AppState) -> Router<AppState> {
    let r = Router::new();
    let r = both(r, resource::SWARMS, get(swarms::list).post(swarms::create));
    let r = both(
        r,
        &format!("{}/{{id}}", resource::SWARMS),
        get(swarms::detail)
            .patch(swarms::patch)
            .delete(swarms::delete),
    );
    let r = both(
        r,
        &format!("{}/{{id}}/swarm", resource::SWARMS),
        post(swarms::dispatch),
    );
    let r = both(
        r,
        resource::BUILDS,
        get(catalog::builds).post(catalog::create_build),
    );
    let r = both(
        r,
        &format!("{}/{{id}}", resource::BUILDS),
        get(catalog::build),
    );
    let r = both(
        r,
        &format!("{}/{{id}}/build", resource::BUILDS),
        post(catalog::start_build),
    );
    let r = both(r, resource::RELEASES, get(catalog::releases));
    let r = both(
        r,
        &format!("{}/{{id}}", resource::RELEASES),
        get(catalog::release),
    );
    let r = both(
        r,
        &format!("{}/{{id}}/deploy", resource::RELEASES),
        post(catalog::deploy),
    );
    let r = both(r, resource::APPS, get(catalog::apps));
    let r = both(
        r,
        &format!("{}/{{name}}", resource::APPS),
        get(catalog::app),
    );
    let r = both(r, resource::SQUADS, get(catalog::squads));
    let r = both(
        r,
        &format!("{}/{{key}}", resource::SQUADS),
        get(catalog::squad),
    );
    let r = both(r, resource::HOSTS, get(catalog::hosts));
    let r = both(
        r,
        &format!("{}/{{name}}", resource::HOSTS),
        get(catalog::host),
    );
    let r = both(r, resource::INGREDIENTS, get(catalog::ingredients));
    let r = both(
        r,
        &format!("{}/{{key}}", resource::INGREDIENTS),
        get(catalog::ingredient),
    );
    let r = both(
        r,
        &format!("{}/latest", resource::TESTRUNS),
        get(catalog::latest_testrun),
    );
    r.route_layer(middleware::from_fn_with_state(state, auth::authenticate))
}
