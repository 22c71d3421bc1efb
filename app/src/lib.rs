//! Pure shared types and logic for `vr`, linked by both the server and the WASM frontend.
//!
//! Architecture invariant: this crate does no I/O (no files, sockets, clocks or randomness) and
//! builds for `wasm32-unknown-unknown`. Everything here is plain data and pure functions.
#![forbid(unsafe_code)]

pub mod api;
pub mod balancer;
pub mod build;
pub mod compat;
pub mod deploy;
pub mod error;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod fleet;
pub mod fleet_view;
pub mod isolation;
pub mod json;
pub mod live;
pub mod logs;
pub mod metrics;
pub mod notify;
pub mod object;
pub mod order;
pub mod orphans;
pub mod page;
pub mod plan;
pub mod query;
pub mod release;
pub mod role;
pub mod secret;
pub mod stack;
pub mod supervisor;
pub mod swarm;
pub mod validate;

pub use error::{ErrorBody, ErrorDetail};
pub use role::Role;
pub mod time;
