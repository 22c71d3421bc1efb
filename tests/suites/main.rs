//! The single integration test binary of `vr`: one binary links once, so adding a suite costs a
//! module here, not another minute of linking. Each module is one area of behaviour.

mod api_doc;
mod balancers;
mod builds;
mod cli;
mod deploys;
mod fleet;
mod harness_selftest;
mod hostloss;
mod hosts_hardening;
mod http_edge;
mod logs;
mod metrics;
mod notify;
mod orphans;
mod readme;
mod releases;
mod remote_ssh;
mod secrets;
mod server_process;
mod stacks;
mod swarms;
mod ui_browser;
mod ui_builds;
mod ui_fleet;
mod ui_size;
mod vr_compat;
