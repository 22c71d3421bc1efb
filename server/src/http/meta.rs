//! Health, version and the server's SSH public key.

use super::error::ApiResult;
use super::principal::Principal;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use vr_app::api::{Health, SshKey, VersionInfo};

pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

pub async fn version(State(state): State<AppState>) -> ApiResult<Json<VersionInfo>> {
    Ok(Json(VersionInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        schema_version: state.store.schema_version().await?,
    }))
}

pub async fn ssh_key(State(state): State<AppState>, _p: Principal) -> Json<SshKey> {
    Json(SshKey {
        public_key: state.ssh.public_key.clone(),
        fingerprint: state.ssh.fingerprint.clone(),
    })
}

/// `GET /metrics`: Prometheus' text format.
pub async fn metrics(State(state): State<AppState>) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let text = crate::metrics::render(&state).await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}
