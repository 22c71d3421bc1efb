//! The `vr` server as a library, so the integration tests can drive its parts directly.
//! `main.rs` is only the entry point.
#![forbid(unsafe_code)]

pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod events;
pub mod fleet;
pub mod http;
pub mod jobs;
pub mod keys;
pub mod metrics;
pub mod notify;
pub mod releases;
pub mod remote;
pub mod retention;
pub mod serve;
pub mod slots;
pub mod state;
pub mod store;
pub mod swarms;
pub mod throttle;
pub mod yaml;
