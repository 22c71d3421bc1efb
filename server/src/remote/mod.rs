//! Everything that happens on hosts. Architecture invariant: this is the only module that names
//! `ssh2` or builds shell command lines; callers pass typed values and get typed results.

pub mod shell;
pub mod ssh;

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
}
