//! Long work with a durable record: builds now (and deploys later). Each job's row in the store
//! is its state; at start-up, jobs a stopped server left unfinished are failed, never left
//! "running".

pub mod build;
pub mod deploy;
pub mod dispatch;
pub mod pools;
pub mod stacks;

pub use build::{BuildConfig, Builds};
pub use deploy::Deploys;
pub use dispatch::Dispatches;
pub use pools::Pools;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The request cannot be served now (no builder host…): HTTP 409.
    #[error("{0}")]
    Refused(String),
    /// The input is wrong (an upload that is not a build…): HTTP 400.
    #[error("{0}")]
    Invalid(String),
    /// A field of the request is wrong: HTTP 400 naming it.
    #[error("{field}: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
}
