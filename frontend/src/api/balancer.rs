//! Endpoints of balancers and their pools (`vr_app::balancer::paths`).

use vr_app::balancer::{Balancer, BalancerSpec, paths};

use super::{Reply, delete, get, post, post_empty_json, put};

pub fn list() -> Reply<Vec<Balancer>> {
    get(paths::BALANCERS)
}

pub fn create(spec: &BalancerSpec) -> Reply<Balancer> {
    post(paths::BALANCERS, spec)
}

pub fn replace(name: &str, spec: &BalancerSpec) -> Reply<Balancer> {
    put(&paths::balancer(name), spec)
}

pub fn remove(name: &str) -> Reply<()> {
    delete(&paths::balancer(name))
}

/// Writes the pool's recorded nodes to every balancer host again.
pub fn reapply(name: &str, pool: &str) -> Reply<Balancer> {
    post_empty_json(&paths::reapply(name, pool))
}
