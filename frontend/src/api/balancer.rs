//! Endpoints of balancers and their pools (`vr_app::balancer::paths`).

use vr_app::balancer::{Balancer, BalancerSpec, paths};

use super::{ApiError, delete, get, post, post_empty_json, put};

pub async fn list() -> Result<Vec<Balancer>, ApiError> {
    get(paths::BALANCERS).await
}

pub async fn create(spec: &BalancerSpec) -> Result<Balancer, ApiError> {
    post(paths::BALANCERS, spec).await
}

pub async fn replace(name: &str, spec: &BalancerSpec) -> Result<Balancer, ApiError> {
    put(&paths::balancer(name), spec).await
}

pub async fn remove(name: &str) -> Result<(), ApiError> {
    delete(&paths::balancer(name)).await
}

/// Writes the pool's recorded nodes to every balancer host again.
pub async fn reapply(name: &str, pool: &str) -> Result<Balancer, ApiError> {
    post_empty_json(&paths::reapply(name, pool)).await
}
