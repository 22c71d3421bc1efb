//! A user's own API tokens.

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath};
use super::principal::Principal;
use crate::auth;
use crate::clock::now_ms;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use vr_app::api::{ApiToken, CreatedToken, NewToken, Outcome, TOKEN_MAX_DAYS};
use vr_app::validate;

pub(super) async fn issue(
    state: &AppState,
    user_id: i64,
    username: &str,
    name: &str,
    expires_in_days: Option<u32>,
) -> ApiResult<CreatedToken> {
    if let Some(days) = expires_in_days
        && !(1..=TOKEN_MAX_DAYS).contains(&days)
    {
        return Err(ApiError::invalid(
            "expires_in_days",
            format!("must be 1 to {TOKEN_MAX_DAYS} days, or absent for a token that never expires"),
        ));
    }
    let now = now_ms();
    let expires_at = expires_in_days.map(|d| now + i64::from(d) * 86_400_000);
    let secret = auth::new_api_token();
    let prefix: String = secret.chars().take(auth::TOKEN_PREFIX.len() + 4).collect();
    let token = state
        .store
        .create_token(
            user_id,
            name.to_string(),
            prefix,
            auth::secret_hash(&secret),
            now,
            expires_at,
        )
        .await?;
    state
        .record(
            username,
            "token.create",
            &format!("token:{}", token.id),
            Outcome::Ok,
            &match expires_in_days {
                Some(d) => format!("name {name:?}, expires in {d} days"),
                None => format!("name {name:?}, never expires"),
            },
        )
        .await;
    Ok(CreatedToken { token, secret })
}

pub async fn list(State(state): State<AppState>, p: Principal) -> ApiResult<Json<Vec<ApiToken>>> {
    Ok(Json(state.store.list_tokens(p.user_id).await?))
}

pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    validate::label("name", &req.name)?;
    let created = issue(
        &state,
        p.user_id,
        &p.username,
        req.name.trim(),
        req.expires_in_days,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revokes the API token this request is authenticated with (what `vr logout` uses).
pub async fn revoke_current(State(state): State<AppState>, p: Principal) -> ApiResult<StatusCode> {
    let hash = p.token_hash.clone().ok_or_else(|| ApiError::Invalid {
        field: None,
        message: "this request is not authenticated with an API token".into(),
    })?;
    let token = state.store.delete_token_by_hash(p.user_id, hash).await?;
    state
        .record(
            &p.username,
            "token.revoke",
            &format!("token:{}", token.id),
            Outcome::Ok,
            &format!("name {:?} (signed out)", token.name),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn revoke(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let token = state.store.delete_token(p.user_id, id).await?;
    state
        .record(
            &p.username,
            "token.revoke",
            &format!("token:{}", token.id),
            Outcome::Ok,
            &format!("name {:?}", token.name),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}
