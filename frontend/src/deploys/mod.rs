//! Deploys as the UI shows them: a live list of the newest ([`feed`]), the status badge and
//! the one deploy table ([`table`]).

pub mod feed;
pub mod table;

pub use feed::DeployFeed;
pub use table::{DeployStatusBadge, DeployTable};

use vr_app::deploy::Deployment;

use crate::format;

/// A link to a deploy's page.
pub fn deploy_href(id: i64) -> String {
    format!("/deploys/{id}")
}

/// The deploy form, with `release` chosen.
pub fn new_deploy_href(release: i64) -> String {
    format!("/deploy?release={release}")
}

/// How long the deploy ran: finished − created, or created → now while it is still running.
pub fn duration(deploy: &Deployment, now_ms: i64) -> String {
    let end = deploy.finished_at.unwrap_or(now_ms);
    format::span(end - deploy.created_at)
}

/// `0` means the proc binds no port.
pub fn port_text(port: u16) -> String {
    if port == 0 {
        "none".to_string()
    } else {
        port.to_string()
    }
}
