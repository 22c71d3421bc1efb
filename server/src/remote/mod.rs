//! Everything that happens on hosts. Architecture invariant: this is the only module that names
//! `ssh2` or builds shell command lines; callers pass typed values and get typed results.

pub mod balancer;
pub mod build;
pub mod capabilities;
pub mod cgroup;
pub mod ctl;
pub mod deploy;
pub mod link;
pub mod sandbox;
pub mod shell;
pub mod ssh;
pub mod stack;
pub mod supervisor;
pub mod tails;
pub mod xmlrpc;

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("cannot connect to {target}: {message}")]
    Connect { target: String, message: String },
    #[error("{target} did not answer within {}s ({step})", .deadline.as_secs_f32())]
    Timeout {
        target: String,
        step: &'static str,
        deadline: Duration,
    },
    #[error("SSH handshake with {target} failed: {message}")]
    Handshake { target: String, message: String },
    #[error("{target} refused the server's key for user {user}: {message}")]
    Auth {
        target: String,
        user: String,
        message: String,
    },
    #[error("running a command on {target} failed: {message}")]
    Exec { target: String, message: String },
    #[error(
        "{target} presented host key {presented}, but {pinned} is pinned: refusing to connect. \
         If the host was reinstalled, an admin can trust the new key"
    )]
    HostKeyChanged {
        target: String,
        pinned: String,
        presented: String,
    },
    #[error("Supervisor on {target} did not answer: {message}")]
    Supervisor { target: String, message: String },
    #[error("cannot reach {path} on {target}: {message}")]
    Socket {
        target: String,
        path: String,
        message: String,
    },
    /// A command printed more than the server reads from one: it was stopped there.
    #[error("{target} sent more than {} MiB of output for one command; stopped reading", .limit / (1024 * 1024))]
    OutputTooLarge { target: String, limit: usize },
}

impl RemoteError {
    /// True when the SSH session itself failed (so it must be dropped and made again), as
    /// opposed to Supervisor failing behind a working session.
    pub fn is_transport(&self) -> bool {
        !matches!(
            self,
            RemoteError::Supervisor { .. } | RemoteError::Socket { .. }
        )
    }
}
