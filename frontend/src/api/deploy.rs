//! Endpoints of deploys (`vr_app::deploy::paths`).

use vr_app::deploy::{DeployRequest, Deployment, UptestResult, paths, uptest_paths};

use super::{Reply, encode, get, post};

/// The newest `limit` deploys, newest first.
pub fn deploys(limit: u32) -> Reply<Vec<Deployment>> {
    get(&format!("{}?limit={limit}", paths::DEPLOYS))
}

pub fn deploy(id: i64) -> Reply<Deployment> {
    get(&paths::deploy(id))
}

/// Starts deploying one proc (202, status `running`): the work goes on in the background and
/// its steps arrive as live `Deploy` messages. A port already taken, a proc type missing from
/// the Procfile (400, with the field) or an unreachable host (409) is refused at once.
pub fn start_deploy(req: &DeployRequest) -> Reply<Deployment> {
    post(paths::DEPLOYS, req)
}

/// The latest uptest results of the proc `program` on `host` (its newest run); empty when it
/// never ran any or has none.
pub fn uptests(host: &str, program: &str) -> Reply<Vec<UptestResult>> {
    get(&format!(
        "{}?host={}&program={}",
        uptest_paths::UPTESTS,
        encode(host),
        encode(program)
    ))
}
