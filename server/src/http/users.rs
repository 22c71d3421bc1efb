//! User administration (admins only).

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath};
use super::principal::Principal;
use super::session::hash_password;
use crate::clock::now_ms;
use crate::state::AppState;
use crate::store::NewUserRecord;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use vr_app::api::{LiveMessage, NewUser, Outcome, User, UserPatch};
use vr_app::{Role, validate};

pub async fn list(State(state): State<AppState>, p: Principal) -> ApiResult<Json<Vec<User>>> {
    p.require(Role::Admin)?;
    Ok(Json(state.store.list_users().await?))
}

pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    p.require(Role::Admin)?;
    validate::username("username", &req.username)?;
    validate::password("password", &req.password)?;
    let user = state
        .store
        .create_user(NewUserRecord {
            username: req.username,
            password_hash: hash_password(req.password).await?,
            role: req.role,
            now: now_ms(),
        })
        .await?;
    state
        .record(
            &p.username,
            "user.create",
            &format!("user:{}", user.username),
            Outcome::Ok,
            &format!("role {}", user.role),
        )
        .await;
    let _ = state.live.send(LiveMessage::Users);
    Ok((StatusCode::CREATED, Json(user)))
}

pub async fn update(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> ApiResult<Json<User>> {
    p.require(Role::Admin)?;
    if id == p.user_id && patch.disabled == Some(true) {
        return Err(ApiError::Conflict {
            field: Some("disabled".into()),
            message: "you cannot disable your own account; ask another admin".into(),
        });
    }
    let password_hash = match patch.password {
        Some(pw) => {
            validate::password("password", &pw)?;
            Some(hash_password(pw).await?)
        }
        None => None,
    };
    let mut changes = Vec::new();
    if let Some(role) = patch.role {
        changes.push(format!("role {role}"));
    }
    if password_hash.is_some() {
        changes.push("password reset".to_string());
    }
    if let Some(d) = patch.disabled {
        changes.push(if d { "disabled" } else { "enabled" }.to_string());
    }
    let user = state
        .store
        .update_user(id, patch.role, password_hash, patch.disabled)
        .await?;
    state
        .record(
            &p.username,
            "user.update",
            &format!("user:{}", user.username),
            Outcome::Ok,
            &changes.join(", "),
        )
        .await;
    let _ = state.live.send(LiveMessage::Users);
    Ok(Json(user))
}

pub async fn delete(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    p.require(Role::Admin)?;
    if id == p.user_id {
        return Err(ApiError::Conflict {
            field: None,
            message: "you cannot delete your own account; ask another admin".into(),
        });
    }
    let user = state.store.delete_user(id).await?;
    state
        .record(
            &p.username,
            "user.delete",
            &format!("user:{}", user.username),
            Outcome::Ok,
            "",
        )
        .await;
    let _ = state.live.send(LiveMessage::Users);
    Ok(StatusCode::NO_CONTENT)
}
