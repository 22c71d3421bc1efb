//! Endpoints of deploys (`vr_app::deploy::paths`).

use vr_app::deploy::{DeployRequest, Deployment, UptestResult, paths, uptest_paths};

use super::{ApiError, encode, get, post};

/// The newest `limit` deploys, newest first.
pub async fn deploys(limit: u32) -> Result<Vec<Deployment>, ApiError> {
    get(&format!("{}?limit={limit}", paths::DEPLOYS)).await
}

pub async fn deploy(id: i64) -> Result<Deployment, ApiError> {
    get(&paths::deploy(id)).await
}

/// Starts deploying one proc (202, status `running`): the work goes on in the background and
/// its steps arrive as live `Deploy` messages. A port already taken, a proc type missing from
/// the Procfile (400, with the field) or an unreachable host (409) is refused at once.
pub async fn start_deploy(req: &DeployRequest) -> Result<Deployment, ApiError> {
    post(paths::DEPLOYS, req).await
}

/// The latest uptest results of the proc `program` on `host` (its newest run); empty when it
/// never ran any or has none.
pub async fn uptests(host: &str, program: &str) -> Result<Vec<UptestResult>, ApiError> {
    get(&format!(
        "{}?host={}&program={}",
        uptest_paths::UPTESTS,
        encode(host),
        encode(program)
    ))
    .await
}
