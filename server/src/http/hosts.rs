//! Squads and hosts: configuration of the fleet. Changes need a deployer or admin (the
//! middleware keeps viewers out); trusting a changed host key needs an admin.

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath};
use super::principal::Principal;
use crate::clock::now_ms;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use std::sync::Arc;
use vr_app::api::{LiveMessage, Outcome};
use vr_app::fleet::{
    ConnectionReport, Health, Host, HostPatch, HostSettings, NewHost, NewSquad, Squad, SquadPatch,
    TrustKey, defaults,
};
use vr_app::{Role, validate};

fn fleet_changed(state: &AppState) {
    let _ = state.live.send(LiveMessage::Fleet);
}

pub async fn list_squads(State(state): State<AppState>) -> ApiResult<Json<Vec<Squad>>> {
    Ok(Json(state.store.list_squads().await?))
}

pub async fn get_squad(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<Squad>> {
    Ok(Json(state.store.squad(name).await?))
}

pub async fn create_squad(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<NewSquad>,
) -> ApiResult<(StatusCode, Json<Squad>)> {
    validate::squad_name("name", &req.name)?;
    validate::label_or_empty("description", &req.description)?;
    let squad = state.store.create_squad(req, now_ms()).await?;
    state
        .record(
            &p.username,
            "squad.create",
            &format!("squad:{}", squad.name),
            Outcome::Ok,
            &squad.description,
        )
        .await;
    fleet_changed(&state);
    Ok((StatusCode::CREATED, Json(squad)))
}

pub async fn update_squad(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
    ApiJson(patch): ApiJson<SquadPatch>,
) -> ApiResult<Json<Squad>> {
    if let Some(n) = &patch.name {
        validate::squad_name("name", n)?;
    }
    if let Some(d) = &patch.description {
        validate::label_or_empty("description", d)?;
    }
    let squad = state.store.update_squad(name.clone(), patch).await?;
    let detail = if squad.name == name {
        "edited".to_string()
    } else {
        format!("renamed from {name}")
    };
    state
        .record(
            &p.username,
            "squad.update",
            &format!("squad:{}", squad.name),
            Outcome::Ok,
            &detail,
        )
        .await;
    fleet_changed(&state);
    Ok(Json(squad))
}

pub async fn delete_squad(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.store.delete_squad(name.clone()).await?;
    state
        .record(
            &p.username,
            "squad.delete",
            &format!("squad:{name}"),
            Outcome::Ok,
            "",
        )
        .await;
    fleet_changed(&state);
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_hosts(State(state): State<AppState>) -> ApiResult<Json<Vec<Host>>> {
    Ok(Json(state.store.list_hosts().await?))
}

pub async fn get_host(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<Host>> {
    Ok(Json(state.store.host(name).await?))
}

fn settings_of(req: NewHost) -> HostSettings {
    let address = req.address.trim().to_string();
    HostSettings {
        name: req.name.unwrap_or_else(|| address.clone()),
        address,
        port: req.port.unwrap_or(defaults::SSH_PORT),
        user: req.user.unwrap_or_else(|| defaults::SSH_USER.to_string()),
        squad: req.squad.filter(|s| !s.is_empty()),
        active: req.active.unwrap_or(true),
        builder: req.builder.unwrap_or(false),
        supervisorctl: req.supervisorctl.filter(|s| !s.trim().is_empty()),
        supervisor_socket: req.supervisor_socket.filter(|s| !s.is_empty()),
        include_dir: req.include_dir.filter(|s| !s.is_empty()),
        apps_root: req.apps_root.filter(|s| !s.is_empty()),
        port_min: req.port_min,
        port_max: req.port_max,
        notes: req.notes.unwrap_or_default(),
    }
}

pub async fn create_host(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<NewHost>,
) -> ApiResult<(StatusCode, Json<Host>)> {
    let settings = settings_of(req);
    validate::host_settings(&settings)?;
    let host = state.store.create_host(settings, now_ms()).await?;
    let s = &host.settings;
    state
        .record(
            &p.username,
            "host.create",
            &format!("host:{}", s.name),
            Outcome::Ok,
            &format!(
                "{}@{}:{}, squad {}",
                s.user,
                s.address,
                s.port,
                s.squad.as_deref().unwrap_or("none")
            ),
        )
        .await;
    fleet_changed(&state);
    Ok((StatusCode::CREATED, Json(host)))
}

pub async fn update_host(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
    ApiJson(patch): ApiJson<HostPatch>,
) -> ApiResult<Json<Host>> {
    let (host, changes) = state
        .store
        .edit_host(name, move |current| {
            let (next, changes) = patch.apply(current);
            validate::host_settings(&next)?;
            Ok((next, changes))
        })
        .await?;
    if changes.is_empty() {
        return Ok(Json(host));
    }
    state.fleet.forget_session(host.id);
    state
        .record(
            &p.username,
            "host.update",
            &format!("host:{}", host.settings.name),
            Outcome::Ok,
            &changes.join("; "),
        )
        .await;
    fleet_changed(&state);
    Ok(Json(host))
}

pub async fn delete_host(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let host = state.store.host(name.clone()).await?;
    state.store.delete_host(host.id).await?;
    state.fleet.forget_session(host.id);
    state.deploys.forget_session(host.id);
    state
        .record(
            &p.username,
            "host.delete",
            &format!("host:{name}"),
            Outcome::Ok,
            "",
        )
        .await;
    let _ = state.live.send(LiveMessage::HostRemoved { name });
    fleet_changed(&state);
    Ok(StatusCode::NO_CONTENT)
}

/// Connects now and reports what it found. The fleet service does the SSH work on its own
/// threads under the host's deadline.
pub async fn test_host(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<ConnectionReport>> {
    let host = state.store.host(name.clone()).await?;
    let report = state.fleet.test_connection(&host).await;
    let detail = match (&report.error, &report.supervisor_version) {
        (Some(e), _) => e.clone(),
        (None, v) => format!(
            "supervisor {} via {}, {} procs, {} ms",
            v.as_deref().unwrap_or("?"),
            report.via.as_deref().unwrap_or("?"),
            report.proc_count.unwrap_or(0),
            report.elapsed_ms
        ),
    };
    let outcome = if report.ok {
        Outcome::Ok
    } else {
        Outcome::Failed
    };
    state
        .record(
            &p.username,
            "host.test",
            &format!("host:{name}"),
            outcome,
            &detail,
        )
        .await;
    Ok(Json(report))
}

/// Pins the key the host presents now, replacing the old one. The admin sends the fingerprint
/// they checked, and it must be the one the host presented, so nothing else gets trusted.
pub async fn trust_host_key(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
    ApiJson(req): ApiJson<TrustKey>,
) -> ApiResult<Json<Host>> {
    p.require(Role::Admin)?;
    let host = state.store.host(name.clone()).await?;
    if host.status.health != Health::KeyChanged {
        return Err(ApiError::Conflict {
            field: None,
            message: format!("host {name} has not presented a changed key; nothing to trust"),
        });
    }
    if host.status.presented_key.as_deref() != Some(req.fingerprint.as_str()) {
        return Err(ApiError::Conflict {
            field: Some("fingerprint".into()),
            message: format!(
                "host {name} presents {}, not {}",
                host.status.presented_key.as_deref().unwrap_or("no key"),
                req.fingerprint
            ),
        });
    }
    let pinned = state
        .store
        .pin_host_key(
            host.id,
            host.host_key.clone(),
            req.fingerprint.clone(),
            now_ms(),
        )
        .await?;
    if !pinned {
        return Err(ApiError::Conflict {
            field: None,
            message: format!("the key of host {name} changed meanwhile; look again"),
        });
    }
    state.fleet.forget_session(host.id);
    state
        .record(
            &p.username,
            "host.trust_key",
            &format!("host:{name}"),
            Outcome::Ok,
            &format!(
                "{} → {}",
                host.host_key.as_deref().unwrap_or("none"),
                req.fingerprint
            ),
        )
        .await;
    let fresh = state.store.host_by_id(host.id).await?;
    // Poll at once so the host turns healthy without waiting for the next round.
    let fleet = Arc::clone(&state.fleet);
    let polled = fresh.clone();
    tokio::spawn(async move { fleet.refresh(&polled).await });
    fleet_changed(&state);
    Ok(Json(fresh))
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct HygieneQuery {
    /// Unpacked builds unused for longer than this are deleted.
    #[serde(default = "default_days")]
    days: u32,
}

fn default_days() -> u32 {
    7
}

/// Cleans a host: proc folders Supervisor no longer knows, builds no proc used for `days`.
pub async fn clean_host(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
    super::extract::ApiQuery(q): super::extract::ApiQuery<HygieneQuery>,
) -> ApiResult<Json<Vec<String>>> {
    let host = state.store.host(name.clone()).await?;
    let in_flight = state.store.deploys_in_flight(name.clone()).await?;
    let removed = state.fleet.hygiene(&host, q.days, in_flight).await?;
    state
        .record(
            &p.username,
            "host.clean",
            &format!("host:{name}"),
            Outcome::Ok,
            &if removed.is_empty() {
                "nothing to remove".to_string()
            } else {
                removed.join("; ")
            },
        )
        .await;
    Ok(Json(removed))
}
