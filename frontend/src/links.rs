//! Every in-app link, in one place, so pages and shared tables never import each other for a URL.

use vr_app::fleet::path_segment;

/// An app's page.
pub fn app_href(name: &str) -> String {
    format!("/apps/{}", path_segment(name))
}

/// A build's page.
pub fn build_href(id: i64) -> String {
    format!("/builds/{id}")
}

/// The builds list of one app.
pub fn app_builds_href(app: &str) -> String {
    format!("/builds{}", vr_app::query::query_string([("app", app)]))
}

/// The releases list of one app.
pub fn app_releases_href(app: &str) -> String {
    format!("/releases{}", vr_app::query::query_string([("app", app)]))
}

/// A release's page.
pub fn release_href(id: i64) -> String {
    format!("/releases/{id}")
}

/// An ingredient's page.
pub fn ingredient_href(name: &str) -> String {
    format!("/ingredients/{}", path_segment(name))
}

/// A host's page.
pub fn host_href(name: &str) -> String {
    format!("/hosts/{}", path_segment(name))
}

/// The add-host form, with `squad` chosen.
pub fn new_host_href(squad: &str) -> String {
    format!("/hosts/new?squad={}", path_segment(squad))
}

/// A squad's page.
pub fn squad_href(name: &str) -> String {
    format!("/squads/{}", path_segment(name))
}

/// A deploy's page.
pub fn deploy_href(id: i64) -> String {
    format!("/deploys/{id}")
}

/// The deploy form, with `release` chosen.
pub fn new_deploy_href(release: i64) -> String {
    format!("/deploy?release={release}")
}

/// The page of an activity event's object, when it has one.
pub fn object_href(object: &str) -> Option<String> {
    use vr_app::object::{ObjectRef, parse_object};
    Some(match parse_object(object)? {
        ObjectRef::App(name) => app_href(&name),
        ObjectRef::Build(id) => build_href(id),
        ObjectRef::Release(id) => release_href(id),
        ObjectRef::Host(name) => host_href(&name),
        ObjectRef::Squad(name) => squad_href(&name),
        ObjectRef::Ingredient(name) => ingredient_href(&name),
        ObjectRef::Proc(p) => format!(
            "/{}",
            vr_app::query::query_string([("proc", vr_app::query::proc_param(&p).as_str())])
        ),
        ObjectRef::User(_) => "/users".to_string(),
    })
}

/// A swarm's page.
pub fn swarm_href(id: i64) -> String {
    format!("/swarms/{id}")
}

/// A dispatch's page.
pub fn dispatch_href(id: i64) -> String {
    format!("/dispatches/{id}")
}

/// The merged live log of one swarm's procs.
pub fn swarm_logs_href(id: i64) -> String {
    format!("/logs?swarm={id}")
}

/// The merged live log of exactly these procs (by program name).
pub fn logs_of_href(names: &[&str]) -> String {
    let only = names.join(",");
    format!(
        "/logs{}",
        vr_app::query::query_string([("only", only.as_str())])
    )
}
