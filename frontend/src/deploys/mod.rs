//! Deploys as the UI shows them: a live list of the newest ([`feed`]), the status badge and
//! the one deploy table ([`table`]), and a proc's latest uptest results ([`uptests`]).

pub mod feed;
pub mod table;
pub mod uptests;

pub use feed::DeployFeed;
pub use table::{DeployStatusBadge, DeployTable};
pub use uptests::UptestResults;

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

/// How long a step or an uptest ran: `850 ms`, `2.4 s`, `1m 12s`.
pub fn run_time(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1000..=59_999 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{}m {}s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// `0` means the proc binds no port.
pub fn port_text(port: u16) -> String {
    if port == 0 {
        "none".to_string()
    } else {
        port.to_string()
    }
}
